// Xero's API limits (docs: developer.xero.com/documentation/guides/oauth2/limits; specs/README.md §6):
// per tenant 5 calls in flight, 60 calls a minute, 5,000 calls a day; per app 10,000 calls a minute across
// tenants. Every answer carries X-DayLimit-Remaining, X-MinLimit-Remaining and X-AppMinLimit-Remaining;
// over a limit the answer is 429 with Retry-After (seconds) and X-Rate-Limit-Problem naming the limit
// (`concurrent`, `minute`, `daily`, `appminute`). Windows are rolling, on the simulator's clock (so
// /_sim/time can move a day on). A refused call does not count against the limits.
export interface XeroLimitOptions {
  readonly concurrent: number;
  readonly perMinute: number;
  readonly perDay: number;
  readonly appPerMinute: number;
}

export const PUBLISHED_LIMITS: XeroLimitOptions = { concurrent: 5, perMinute: 60, perDay: 5000, appPerMinute: 10_000 };

export type Problem = 'concurrent' | 'minute' | 'daily' | 'appminute';
export type Admission =
  { ok: true; headers: Record<string, string>; release: () => void } | { ok: false; problem: Problem; retryAfterSec: number; headers: Record<string, string> };

const MINUTE = 60_000;
const DAY = 86_400_000;

export class XeroLimits {
  private minute: number[] = [];
  private day: number[] = [];
  private app: number[] = [];
  private inFlight = 0;
  readonly throttled: Record<Problem, number> = { concurrent: 0, minute: 0, daily: 0, appminute: 0 };

  constructor(
    private opts: XeroLimitOptions,
    private readonly now: () => number,
  ) {}

  get options(): XeroLimitOptions {
    return this.opts;
  }

  configure(patch: Partial<XeroLimitOptions>): void {
    this.opts = { ...this.opts, ...patch };
  }

  reset(): void {
    this.minute = [];
    this.day = [];
    this.app = [];
    this.throttled.concurrent = this.throttled.minute = this.throttled.daily = this.throttled.appminute = 0;
  }

  private headers(): Record<string, string> {
    return {
      'x-daylimit-remaining': String(Math.max(0, this.opts.perDay - this.day.length)),
      'x-minlimit-remaining': String(Math.max(0, this.opts.perMinute - this.minute.length)),
      'x-appminlimit-remaining': String(Math.max(0, this.opts.appPerMinute - this.app.length)),
    };
  }

  admit(): Admission {
    const now = this.now();
    this.minute = this.minute.filter((t) => t > now - MINUTE);
    this.day = this.day.filter((t) => t > now - DAY);
    this.app = this.app.filter((t) => t > now - MINUTE);
    const refuse = (problem: Problem, untilMs: number): Admission => {
      this.throttled[problem] += 1;
      return { ok: false, problem, retryAfterSec: Math.max(1, Math.ceil(untilMs / 1000)), headers: this.headers() };
    };
    if (this.day.length >= this.opts.perDay) return refuse('daily', this.day[0]! + DAY - now);
    if (this.app.length >= this.opts.appPerMinute) return refuse('appminute', this.app[0]! + MINUTE - now);
    if (this.minute.length >= this.opts.perMinute) return refuse('minute', this.minute[0]! + MINUTE - now);
    if (this.inFlight >= this.opts.concurrent) return refuse('concurrent', 1000);
    this.minute.push(now);
    this.day.push(now);
    this.app.push(now);
    this.inFlight += 1;
    let released = false;
    return {
      ok: true,
      headers: this.headers(),
      release: () => {
        if (released) return;
        released = true;
        this.inFlight -= 1;
      },
    };
  }
}
