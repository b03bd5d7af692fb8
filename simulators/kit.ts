// Shared machinery for the vendor simulators: fault injection, published rate limits and the
// `/_sim/*` control surface that tests, benchmarks and the demo use to steer a simulator.
// The vendor-facing routes of each simulator follow the vendor's published description; nothing
// under /_sim exists at the real vendor.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly body?: unknown; readonly headers?: Record<string, string> }
  | { readonly kind: 'timeout' } // never answer (the client's timeout fires)
  | { readonly kind: 'drop' } // destroy the socket without an answer
  | { readonly kind: 'latency'; readonly ms: number }; // answer normally, late

export interface FaultRule {
  readonly method?: string; // default: any
  readonly pathPattern?: string; // RegExp source matched against the path; default: any
  readonly fault: Fault;
  times: number; // how many matching requests it applies to
  /**
   * Gone after this long even if not all used (default: until used). A vendor's bad moment is a window of
   * time: a fault that waited minutes for the next request would fire long after its moment — and a client
   * that backs off 60 s after each 429 would meet every queued one in turn, for ever.
   */
  readonly ttlMs?: number;
}

/** Queue of injected faults; each matching request consumes one application of the first rule that matches. */
export class Faults {
  private rules: (FaultRule & { expiresAt?: number })[] = [];
  add(rule: FaultRule): void {
    this.rules.push({ ...rule, ...(rule.ttlMs !== undefined ? { expiresAt: Date.now() + rule.ttlMs } : {}) });
  }
  clear(): void {
    this.rules = [];
  }
  take(method: string, path: string): Fault | null {
    const now = Date.now();
    this.rules = this.rules.filter((r) => r.expiresAt === undefined || r.expiresAt > now);
    const i = this.rules.findIndex(
      (r) => (!r.method || r.method.toUpperCase() === method.toUpperCase()) && (!r.pathPattern || new RegExp(r.pathPattern).test(path)),
    );
    if (i < 0) return null;
    const rule = this.rules[i]!;
    rule.times -= 1;
    if (rule.times <= 0) this.rules.splice(i, 1);
    return rule.fault;
  }
}

/** Sliding-window limiter: at most `limit` requests per `windowMs` per key. */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}
  take(key: string, now = Date.now()): { ok: true } | { ok: false; retryAfterMs: number } {
    const from = now - this.windowMs;
    const list = (this.hits.get(key) ?? []).filter((t) => t > from);
    if (list.length >= this.limit) {
      this.hits.set(key, list);
      return { ok: false, retryAfterMs: Math.max(1, list[0]! + this.windowMs - now) };
    }
    list.push(now);
    this.hits.set(key, list);
    return { ok: true };
  }
  reset(): void {
    this.hits.clear();
  }
}

/** Counts requests per "METHOD /path-template" so tests and benchmarks can assert call volumes. */
export class CallLog {
  readonly counts = new Map<string, number>();
  /** Answers sent per HTTP status (vendor routes only): a benchmark's "429s served". */
  readonly statuses = new Map<number, number>();
  record(method: string, route: string): void {
    const k = `${method} ${route}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }
  total(prefix = ''): number {
    let n = 0;
    for (const [k, v] of this.counts) if (k.startsWith(prefix)) n += v;
    return n;
  }
  reset(): void {
    this.counts.clear();
    this.statuses.clear();
  }
}

export interface SimulatorBase {
  readonly app: FastifyInstance;
  readonly faults: Faults;
  readonly calls: CallLog;
}

/**
 * A Fastify app with the fault hook and the /_sim/faults control routes installed. Vendor routes
 * are added by each simulator. Faults apply to vendor routes only, never to /_sim.
 */
export function createSimulatorApp(): SimulatorBase {
  const app = Fastify({ logger: false, bodyLimit: 20 * 1024 * 1024 });
  const faults = new Faults();
  const calls = new CallLog();
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? req.url;
    if (path.startsWith('/_sim')) return;
    calls.record(req.method, req.routeOptions.url ?? path);
    const fault = faults.take(req.method, path);
    if (!fault) return;
    switch (fault.kind) {
      case 'latency':
        await new Promise((r) => setTimeout(r, fault.ms));
        return;
      case 'timeout':
        await new Promise((r) => setTimeout(r, 600_000).unref());
        return reply.hijack();
      case 'drop':
        req.raw.socket.destroy();
        return reply.hijack();
      case 'status':
        return reply
          .code(fault.status)
          .headers(fault.headers ?? {})
          .send(fault.body ?? { error: `injected ${fault.status}` });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    if (!req.url.startsWith('/_sim')) calls.statuses.set(reply.statusCode, (calls.statuses.get(reply.statusCode) ?? 0) + 1);
  });
  app.post('/_sim/faults', async (req) => {
    const rule = req.body as FaultRule;
    faults.add({ ...rule, times: rule.times ?? 1 });
    return { ok: true };
  });
  app.delete('/_sim/faults', async () => {
    faults.clear();
    return { ok: true };
  });
  app.get('/_sim/calls', async () => Object.fromEntries(calls.counts));
  app.delete('/_sim/calls', async () => {
    calls.reset();
    return { ok: true };
  });
  return { app, faults, calls };
}

export interface RunningSimulator {
  readonly baseUrl: string;
  close(): Promise<void>;
}

export async function listen(app: FastifyInstance, port = 0, host = '127.0.0.1'): Promise<string> {
  await app.listen({ port, host });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('simulator did not bind a TCP port');
  return `http://${host}:${addr.port}`;
}

/**
 * Latency a simulator adds to every vendor call, as a real vendor's round trip has it (benchmarks: a uniform
 * 100–300 ms): a fixed number of milliseconds, or `[min, max]` drawn uniformly per call. Default 0 (tests).
 */
export type Latency = number | readonly [number, number];

/** "200" or "100-300" (`settle simulator … --latency-ms`, SETTLE_SIM_LATENCY_MS); undefined when unset. */
export function parseLatency(text: string | undefined): Latency | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const m = /^\s*(\d+)\s*(?:[-,]\s*(\d+)\s*)?$/.exec(text);
  if (!m) throw new Error(`latency "${text}" is not milliseconds ("200") or a range ("100-300")`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi < lo) throw new Error(`latency "${text}": the range's end is below its start`);
  return hi === lo ? lo : [lo, hi];
}

export function drawLatency(l: Latency | undefined): number {
  if (l === undefined) return 0;
  if (typeof l === 'number') return Math.max(0, l);
  return Math.max(0, l[0] + Math.random() * (l[1] - l[0]));
}

/**
 * Delay every vendor call (not /_sim) by `current()` before it is handled. A preHandler: the request has
 * passed authentication and the vendor's limits, so the time counts against concurrency limits, as at the vendor.
 */
export function addLatency(app: FastifyInstance, current: () => Latency | undefined): void {
  app.addHook('preHandler', async (req) => {
    const ms = drawLatency(current());
    if (ms > 0 && !req.url.startsWith('/_sim')) await new Promise((r) => setTimeout(r, ms));
  });
}
