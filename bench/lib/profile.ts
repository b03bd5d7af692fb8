// Cheap attribution of where a long benchmark spends its time, without a profiler: every SQL statement
// this process sends (count and wall time spent awaiting it) and the time spent awaiting a vendor
// connector's pages. Statements are awaited one after another in the code measured, so "awaiting SQL"
// plus "awaiting the vendor" plus the rest (JavaScript on this thread) adds up to the wall time.
import pg from 'pg';

export interface SqlTally {
  statements: number;
  awaitingMs: number;
  /** The most frequent statement shapes (first 60 characters), to say which queries the count is made of. */
  readonly shapes: Map<string, { n: number; ms: number }>;
}

export function tallySql(): { tally: SqlTally; stop(): void } {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const tally: SqlTally = { statements: 0, awaitingMs: 0, shapes: new Map() };
  proto.query = function (this: unknown, ...args: unknown[]): unknown {
    const result = original.apply(this, args);
    if (!result || typeof (result as Promise<unknown>).then !== 'function') return result;
    const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | undefined)?.text ?? '?');
    const shape = text.replace(/\s+/g, ' ').slice(0, 60);
    const t0 = performance.now();
    const done = (): void => {
      const ms = performance.now() - t0;
      tally.statements++;
      tally.awaitingMs += ms;
      const s = tally.shapes.get(shape) ?? { n: 0, ms: 0 };
      s.n++;
      s.ms += ms;
      tally.shapes.set(shape, s);
    };
    (result as Promise<unknown>).then(done, done);
    return result;
  };
  return {
    tally,
    stop: () => {
      proto.query = original;
    },
  };
}

/** Wraps an object's async-generator method so the time spent awaiting each page is summed. */
export function timeAsyncGenerator<K extends string>(
  target: Record<K, (...a: never[]) => AsyncGenerator<unknown>>,
  method: K,
): { ms: () => number; restore(): void } {
  const original = target[method];
  let total = 0;
  const wrapped = function (this: unknown, ...args: never[]): AsyncGenerator<unknown> {
    const inner = original.apply(this, args);
    return (async function* () {
      for (;;) {
        const t0 = performance.now();
        const r = await inner.next();
        total += performance.now() - t0;
        if (r.done) return r.value;
        yield r.value;
      }
    })();
  };
  target[method] = wrapped as (typeof target)[K];
  return { ms: () => total, restore: () => void (target[method] = original) };
}

export function topShapes(t: SqlTally, n = 8): Record<string, string> {
  return Object.fromEntries(
    [...t.shapes.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, n)
      .map(([k, v]) => [k, `${v.n}×, ${Math.round(v.ms)} ms`]),
  );
}
