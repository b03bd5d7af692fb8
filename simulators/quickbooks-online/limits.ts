// Intuit's published throttles for the Accounting API (docs: developer.intuit.com … /learn/limits-and-throttles;
// specs/README.md §4): 500 requests per minute per realm, 10 requests per second per realm and app, 10
// concurrent requests per realm and app (the 2016 notice), and 40 batch requests per minute per realm and
// app (a batch holds at most 30 operations: routes.ts). Over any of them the answer is 429 with the
// ThrottleExceeded fault (faults.ts › throttleBody). Intuit sends no Retry-After; its guidance is to wait 60 s.
import { RateLimiter } from '../kit.ts';

export interface LimitOptions {
  readonly requestsPerMinute: number;
  /** Requests per second per realm and app (Intuit: 10). */
  readonly requestsPerSecond: number;
  readonly concurrentPerApp: number;
  readonly batchPerMinute: number;
  readonly windowMs: number;
}

export const PUBLISHED_LIMITS: LimitOptions = { requestsPerMinute: 500, requestsPerSecond: 10, concurrentPerApp: 10, batchPerMinute: 40, windowMs: 60_000 };

type Reason = 'rate' | 'perSecond' | 'concurrency' | 'batch';
export type Admission = { ok: true; release: () => void } | { ok: false; reason: Reason };

export class QboLimits {
  private perRealm: RateLimiter;
  private perSecond: RateLimiter;
  private batch: RateLimiter;
  private readonly inFlight = new Map<string, number>();
  /** Counts of 429s by reason (benchmarks and tests read these). */
  readonly throttled = { rate: 0, perSecond: 0, concurrency: 0, batch: 0 };

  constructor(private opts: LimitOptions = PUBLISHED_LIMITS) {
    this.perRealm = new RateLimiter(opts.requestsPerMinute, opts.windowMs);
    this.perSecond = new RateLimiter(opts.requestsPerSecond ?? PUBLISHED_LIMITS.requestsPerSecond, 1000);
    this.batch = new RateLimiter(opts.batchPerMinute, opts.windowMs);
  }

  get options(): LimitOptions {
    return this.opts;
  }

  configure(patch: Partial<LimitOptions>): void {
    this.opts = { ...this.opts, ...patch };
    this.perRealm = new RateLimiter(this.opts.requestsPerMinute, this.opts.windowMs);
    this.perSecond = new RateLimiter(this.opts.requestsPerSecond, 1000);
    this.batch = new RateLimiter(this.opts.batchPerMinute, this.opts.windowMs);
  }

  admit(realmId: string, appId: string, isBatch: boolean): Admission {
    const key = `${realmId}:${appId}`;
    const running = this.inFlight.get(key) ?? 0;
    if (running >= this.opts.concurrentPerApp) return this.reject('concurrency');
    if (isBatch && !this.batch.take(key).ok) return this.reject('batch');
    if (!this.perSecond.take(key).ok) return this.reject('perSecond');
    if (!this.perRealm.take(realmId).ok) return this.reject('rate');
    this.inFlight.set(key, running + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
      },
    };
  }

  private reject(reason: Reason): Admission {
    this.throttled[reason] += 1;
    return { ok: false, reason };
  }

  reset(): void {
    this.perRealm.reset();
    this.perSecond.reset();
    this.batch.reset();
    this.inFlight.clear();
    this.throttled.rate = this.throttled.perSecond = this.throttled.concurrency = this.throttled.batch = 0;
  }
}
