// Keeps Settle inside Xero's limits for one tenant (docs: developer.xero.com/documentation/guides/oauth2/limits):
// at most 5 calls in flight and 60 starts a minute counted here, and Xero's own figures read back from every
// answer — X-MinLimit-Remaining / X-AppMinLimit-Remaining at 0 hold new calls for a minute (other processes or
// apps used the rest), X-DayLimit-Remaining at 0 (or a 429 naming `daily`) makes every call fail fast as
// rate-limited until the day's window moves on, so postings wait as retryable instead of sleeping for hours.
export interface XeroLimiterOptions {
  readonly concurrent: number;
  readonly perMinute: number;
  readonly now?: () => number;
}

export const XERO_LIMITS = { concurrent: 5, perMinute: 60, perDay: 5000 } as const;

export class XeroLimiter {
  private active = 0;
  private starts: number[] = [];
  private heldUntil = 0;
  /** Until when Xero's daily allowance is used up (0: not known to be). */
  dayExhaustedUntil = 0;
  /** Xero's last stated figures, for the connections page and doctor. */
  readonly remaining: { minute: number | null; day: number | null; appMinute: number | null } = { minute: null, day: null, appMinute: null };
  private wakers: (() => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly opts: XeroLimiterOptions = XERO_LIMITS) {
    this.now = opts.now ?? Date.now;
  }

  /** Read the X-*Limit-Remaining headers of an answer. */
  observe(headers: Headers): void {
    const n = (h: string): number | null => {
      const v = headers.get(h);
      return v === null || v === '' || Number.isNaN(Number(v)) ? null : Number(v);
    };
    this.remaining.minute = n('x-minlimit-remaining');
    this.remaining.day = n('x-daylimit-remaining');
    this.remaining.appMinute = n('x-appminlimit-remaining');
    if (this.remaining.minute === 0 || this.remaining.appMinute === 0) this.hold(60_000);
    if (this.remaining.day === 0 && this.dayExhaustedUntil <= this.now()) this.dayExhaustedUntil = this.now() + 3_600_000;
  }

  /** Xero said wait (429 Retry-After): no call starts before then. */
  hold(ms: number): void {
    this.heldUntil = Math.max(this.heldUntil, this.now() + ms);
  }

  dailyExhausted(retryAfterMs: number | null): void {
    this.dayExhaustedUntil = this.now() + (retryAfterMs ?? 3_600_000);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.active -= 1;
      const w = this.wakers;
      this.wakers = [];
      for (const f of w) f();
    }
  }

  private async acquire(): Promise<void> {
    for (;;) {
      const now = this.now();
      this.starts = this.starts.filter((t) => t > now - 60_000);
      const minuteFull = this.starts.length >= this.opts.perMinute;
      if (this.active < this.opts.concurrent && !minuteFull && this.heldUntil <= now) {
        this.active += 1;
        this.starts.push(now);
        return;
      }
      let waitMs = Infinity;
      if (minuteFull) waitMs = this.starts[0]! + 60_000 - now;
      if (this.heldUntil > now) waitMs = Math.min(Number.isFinite(waitMs) ? Math.max(waitMs, this.heldUntil - now) : this.heldUntil - now);
      await new Promise<void>((resolve) => {
        this.wakers.push(resolve);
        if (Number.isFinite(waitMs)) setTimeout(resolve, Math.max(1, waitMs)).unref();
      });
    }
  }
}

const shared = new Map<string, XeroLimiter>();

/** The process-wide limiter for a tenant (Xero counts per tenant). */
export function xeroLimiterFor(tenantId: string): XeroLimiter {
  let l = shared.get(tenantId);
  if (!l) shared.set(tenantId, (l = new XeroLimiter()));
  return l;
}
