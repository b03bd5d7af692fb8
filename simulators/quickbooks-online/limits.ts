// Intuit's published throttles for the Accounting API (docs: developer.intuit.com … /learn/limits-and-throttles;
// specs/README.md §4): 500 requests per minute per realm, 10 concurrent requests per realm and app,
// and 40 batch requests per minute per realm and app. Over any of them the answer is 429 with the
// ThrottleExceeded fault. Intuit sends no Retry-After; its guidance is to wait 60 s.
import { RateLimiter } from '../kit.ts';

export interface LimitOptions {
  readonly requestsPerMinute: number;
  readonly concurrentPerApp: number;
  readonly batchPerMinute: number;
  readonly windowMs: number;
}

export const PUBLISHED_LIMITS: LimitOptions = { requestsPerMinute: 500, concurrentPerApp: 10, batchPerMinute: 40, windowMs: 60_000 };

export type Admission = { ok: true; release: () => void } | { ok: false; reason: 'rate' | 'concurrency' | 'batch' };

export class QboLimits {
  private perRealm: RateLimiter;
  private batch: RateLimiter;
  private readonly inFlight = new Map<string, number>();
  /** Counts of 429s by reason (benchmarks and tests read these). */
  readonly throttled = { rate: 0, concurrency: 0, batch: 0 };

  constructor(private opts: LimitOptions = PUBLISHED_LIMITS) {
    this.perRealm = new RateLimiter(opts.requestsPerMinute, opts.windowMs);
    this.batch = new RateLimiter(opts.batchPerMinute, opts.windowMs);
  }

  get options(): LimitOptions {
    return this.opts;
  }

  configure(patch: Partial<LimitOptions>): void {
    this.opts = { ...this.opts, ...patch };
    this.perRealm = new RateLimiter(this.opts.requestsPerMinute, this.opts.windowMs);
    this.batch = new RateLimiter(this.opts.batchPerMinute, this.opts.windowMs);
  }

  admit(realmId: string, appId: string, isBatch: boolean): Admission {
    const key = `${realmId}:${appId}`;
    const running = this.inFlight.get(key) ?? 0;
    if (running >= this.opts.concurrentPerApp) return this.reject('concurrency');
    if (isBatch && !this.batch.take(key).ok) return this.reject('batch');
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

  private reject(reason: 'rate' | 'concurrency' | 'batch'): Admission {
    this.throttled[reason] += 1;
    return { ok: false, reason };
  }

  reset(): void {
    this.perRealm.reset();
    this.batch.reset();
    this.inFlight.clear();
    this.throttled.rate = this.throttled.concurrency = this.throttled.batch = 0;
  }
}
