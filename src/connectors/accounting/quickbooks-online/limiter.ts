// A small rate-aware gate for one realm and app, so Settle stays inside Intuit's published limits
// instead of learning them from 429s: at most 10 requests in flight, 10 per second, 500 per minute, and
// 40 batch calls per minute (catalogue.ts). Every QboApi call goes through one; connectors for the same realm
// in one process share it via `limiterFor(realmId)`. Across processes the 429 handling still applies.
import { QBO_CATALOGUE } from './catalogue.ts';

export interface QboLimiterOptions {
  readonly concurrent: number;
  readonly perMinute: number;
  /** Starts per second (Intuit: 10 per realm and app). */
  readonly perSecond?: number;
  readonly batchPerMinute: number;
  readonly windowMs: number;
  readonly now?: () => number;
}

const L = QBO_CATALOGUE.limits;
const PER_SECOND_WINDOW_MS = 1100;
export const DEFAULT_LIMITER_OPTIONS: QboLimiterOptions = {
  concurrent: L.concurrentPerRealmAndApp,
  perMinute: L.requestsPerMinutePerRealm,
  perSecond: L.requestsPerSecondPerRealmAndApp,
  batchPerMinute: L.batchRequestsPerMinutePerRealmAndApp,
  windowMs: 60_000,
};

export class QboRequestLimiter {
  private active = 0;
  private readonly starts: number[] = [];
  private readonly batchStarts: number[] = [];
  private wakers: (() => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly opts: QboLimiterOptions = DEFAULT_LIMITER_OPTIONS) {
    this.now = opts.now ?? Date.now;
  }

  get inFlight(): number {
    return this.active;
  }

  /** This process's use of the limits right now (the connections page shows it beside Intuit's figures). */
  usage(): { lastMinute: number; batchLastMinute: number; inFlight: number; limits: QboLimiterOptions } {
    const now = this.now();
    prune(this.starts, now - this.opts.windowMs);
    prune(this.batchStarts, now - this.opts.windowMs);
    return { lastMinute: this.starts.length, batchLastMinute: this.batchStarts.length, inFlight: this.active, limits: this.opts };
  }

  async run<T>(kind: 'call' | 'batch', fn: () => Promise<T>): Promise<T> {
    await this.acquire(kind);
    try {
      return await fn();
    } finally {
      this.active -= 1;
      this.wake();
    }
  }

  private async acquire(kind: 'call' | 'batch'): Promise<void> {
    for (;;) {
      const now = this.now();
      prune(this.starts, now - this.opts.windowMs);
      prune(this.batchStarts, now - this.opts.windowMs);
      const rateFull = this.starts.length >= this.opts.perMinute;
      const perSecond = this.opts.perSecond ?? Infinity;
      const lastSecond = this.starts.length >= perSecond ? this.starts[this.starts.length - perSecond]! : null;
      // Counted over 1.1 s, not 1 s: requests bunch up in transit, and Intuit counts arrivals.
      const secondFull = lastSecond !== null && lastSecond > now - PER_SECOND_WINDOW_MS;
      const batchFull = kind === 'batch' && this.batchStarts.length >= this.opts.batchPerMinute;
      if (this.active < this.opts.concurrent && !rateFull && !secondFull && !batchFull) {
        this.active += 1;
        this.starts.push(now);
        if (kind === 'batch') this.batchStarts.push(now);
        return;
      }
      let waitMs = Infinity;
      if (rateFull) waitMs = Math.min(waitMs, this.starts[0]! + this.opts.windowMs - now);
      if (batchFull) waitMs = Math.min(waitMs, this.batchStarts[0]! + this.opts.windowMs - now);
      if (secondFull) waitMs = Math.min(waitMs, lastSecond + PER_SECOND_WINDOW_MS - now);
      await new Promise<void>((resolve) => {
        this.wakers.push(resolve);
        if (Number.isFinite(waitMs)) setTimeout(resolve, Math.max(1, waitMs)).unref();
      });
    }
  }

  private wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }
}

function prune(list: number[], before: number): void {
  while (list.length > 0 && list[0]! <= before) list.shift();
}

const shared = new Map<string, QboRequestLimiter>();

/** The process-wide limiter for a realm (Intuit counts per realm and app). */
export function limiterFor(realmId: string): QboRequestLimiter {
  let l = shared.get(realmId);
  if (!l) {
    l = new QboRequestLimiter();
    shared.set(realmId, l);
  }
  return l;
}
