// Cheap attribution of where a long benchmark spends its time, without a profiler: every SQL statement
// this process sends (count and time spent awaiting it) and the time spent awaiting a vendor connector's
// pages. The code measured may await several at once (the import stores two pages concurrently while it
// fetches the next), so summed waits can exceed the wall time; `overlap` splits the wall time itself by
// what was outstanding — SQL only, the vendor only, both, or neither (JavaScript on this thread alone).
import pg from 'pg';

/** Wall time by what was outstanding, since resetOverlap(). */
export const overlap = { sqlOnly: 0, vendorOnly: 0, both: 0, neither: 0 };
const outstanding = { sql: 0, vendor: 0 };
let lastMark = performance.now();

function mark(kind: 'sql' | 'vendor', delta: 1 | -1): void {
  const now = performance.now();
  const ms = now - lastMark;
  lastMark = now;
  if (outstanding.sql > 0 && outstanding.vendor > 0) overlap.both += ms;
  else if (outstanding.sql > 0) overlap.sqlOnly += ms;
  else if (outstanding.vendor > 0) overlap.vendorOnly += ms;
  else overlap.neither += ms;
  outstanding[kind] += delta;
}

export function resetOverlap(): void {
  overlap.sqlOnly = overlap.vendorOnly = overlap.both = overlap.neither = 0;
  lastMark = performance.now();
}

/** The split so far, rounded, closing the current stretch. */
export function overlapMs(): { sqlOnlyMs: number; vendorOnlyMs: number; bothMs: number; neitherMs: number } {
  mark('sql', 1);
  outstanding.sql -= 1;
  return {
    sqlOnlyMs: Math.round(overlap.sqlOnly),
    vendorOnlyMs: Math.round(overlap.vendorOnly),
    bothMs: Math.round(overlap.both),
    neitherMs: Math.round(overlap.neither),
  };
}

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
    mark('sql', 1);
    const done = (): void => {
      mark('sql', -1);
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
        mark('vendor', 1);
        const r = await inner.next().finally(() => mark('vendor', -1));
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
