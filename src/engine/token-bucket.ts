// Client-side pacing for bursts of processor calls (the autopay run): each call takes the next free slot on a
// timeline spaced 1/rate apart, so calls leave evenly at `ratePerSecond` however many workers ask at once.
// Evenly spaced — no burst allowance — because processors count requests in a sliding one-second window
// (Stripe: 100/s live, docs.stripe.com/rate-limits); a burst at a window edge is exactly what earns a 429.
// A 429 that still happens (other traffic on the same key) is retried by the connector after Retry-After
// (connectors/http.ts retryDecision) with the same idempotency key, so pacing is about throughput, never
// about correctness.

export class TokenBucket {
  private readonly intervalMs: number;
  private nextAt = 0;
  private taken = 0;

  constructor(
    readonly ratePerSecond: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError(`rate must be positive, got ${ratePerSecond}`);
    this.intervalMs = 1000 / ratePerSecond;
  }

  /** Resolves when the caller may send one request. */
  async take(): Promise<void> {
    const now = this.now();
    // A slot left unused in the past is not saved up: that would allow a burst later.
    const slot = Math.max(now, this.nextAt);
    this.nextAt = slot + this.intervalMs;
    this.taken += 1;
    const wait = slot - now;
    if (wait >= 1) await this.sleep(wait);
  }

  /** Push every later slot back (e.g. the processor asked us to wait). */
  pause(ms: number): void {
    this.nextAt = Math.max(this.nextAt, this.now() + ms);
  }

  get requests(): number {
    return this.taken;
  }
}
