// Autotask's published limits (REST_Thresholds_Limits, ThreadLimiting): 10,000 requests per rolling hour per
// database, shared by every integration of the tenant, with latency added as use grows; and 3 concurrent
// requests per object endpoint per integration. Other integrations are simulated by `othersUsed` hits.

export interface LimitOptions {
  /** ExternalRequestThreshold: requests per timeframe per database (10,000). */
  readonly limit?: number;
  /** RequestThresholdTimeframe in minutes (60). */
  readonly timeframeMinutes?: number;
  /** Concurrent requests per endpoint (3). */
  readonly threadLimit?: number;
  /** Latency added at ≥ 50 % and ≥ 75 % of the threshold (vendor: 0.5 s and 1 s). */
  readonly latencyAtHalfMs?: number;
  readonly latencyAtThreeQuartersMs?: number;
}

export class ApiLimits {
  limit: number;
  timeframeMs: number;
  threadLimit: number;
  latencyAtHalfMs: number;
  latencyAtThreeQuartersMs: number;
  private hits: number[] = [];
  private readonly inFlight = new Map<string, number>();
  /** What was refused, for tests and benchmarks ("0 limit 429s served"). */
  readonly refused = { hourly: 0, thread: 0 };
  /** Requests served per integration code (Settle's own, apart from the simulated others). */
  served = 0;

  constructor(
    opts: LimitOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.limit = opts.limit ?? 10_000;
    this.timeframeMs = (opts.timeframeMinutes ?? 60) * 60_000;
    this.threadLimit = opts.threadLimit ?? 3;
    this.latencyAtHalfMs = opts.latencyAtHalfMs ?? 500;
    this.latencyAtThreeQuartersMs = opts.latencyAtThreeQuartersMs ?? 1000;
  }

  private prune(): void {
    const from = this.now() - this.timeframeMs;
    let i = 0;
    while (i < this.hits.length && this.hits[i]! <= from) i++;
    if (i > 0) this.hits = this.hits.slice(i);
  }

  /** Requests counted in the current rolling timeframe (all integrations). */
  count(): number {
    this.prune();
    return this.hits.length;
  }

  /** Other integrations of the same database spending `n` requests now. */
  addOthers(n: number): void {
    const t = this.now();
    for (let i = 0; i < n; i++) this.hits.push(t);
  }

  reset(): void {
    this.hits = [];
    this.refused.hourly = 0;
    this.refused.thread = 0;
    this.served = 0;
  }

  /** Count one request; false when the hour's threshold is reached (the vendor answers 429). */
  takeHourly(): boolean {
    if (this.count() >= this.limit) {
      this.refused.hourly += 1;
      return false;
    }
    this.hits.push(this.now());
    this.served += 1;
    return true;
  }

  /** Latency the vendor adds at the current level of use. */
  latencyMs(): number {
    const used = this.count() / this.limit;
    return used >= 0.75 ? this.latencyAtThreeQuartersMs : used >= 0.5 ? this.latencyAtHalfMs : 0;
  }

  enter(endpoint: string): boolean {
    const n = this.inFlight.get(endpoint) ?? 0;
    if (n >= this.threadLimit) {
      this.refused.thread += 1;
      return false;
    }
    this.inFlight.set(endpoint, n + 1);
    return true;
  }

  leave(endpoint: string): void {
    const n = (this.inFlight.get(endpoint) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(endpoint);
    else this.inFlight.set(endpoint, n);
  }
}
