// The API budget broker. Autotask allows 10,000 requests per rolling hour per database — shared by every
// integration the MSP runs — and 3 concurrent requests per endpoint; going over slows or stops the whole
// tenant's API. The broker reads /V1.0/ThresholdInformation, keeps Settle's own use within `share` (25 %) of
// what the other integrations leave, holds at most `threadLimit` requests in flight per endpoint, and spends
// what it has by priority: a payment write-back before a poll of recent changes, before other reads, before a
// full sweep. Each tier below write-back may only use part of the allowance, so a write-back always finds
// budget left and waits at most for a thread slot.

import { retryDecision, VendorError } from '../../http.ts';

export type Priority = 'writeback' | 'recent' | 'other' | 'sweep';
const RANK: Readonly<Record<Priority, number>> = { writeback: 0, recent: 1, other: 2, sweep: 3 };
/** Part of the allowance each priority may use (the rest is kept for the ones above it). */
const TIER: Readonly<Record<Priority, number>> = { writeback: 1, recent: 0.9, other: 0.8, sweep: 0.6 };

export interface Threshold {
  readonly limit: number; // ExternalRequestThreshold
  readonly timeframeMinutes: number; // RequestThresholdTimeframe
  readonly used: number; // CurrentTimeframeRequestCount, all integrations
}

export interface BudgetOptions {
  /** Settle's share of what other integrations leave in the timeframe (0–1; default 0.25). */
  readonly share?: number;
  readonly threadLimit?: number;
  /** How often the threshold is read again while requests are being made (default 60 s). */
  readonly refreshMs?: number;
  readonly now?: () => number;
}

export interface BudgetState {
  readonly limit: number;
  readonly timeframeMinutes: number;
  /** Requests counted by Autotask for the database at the last read (all integrations). */
  readonly usedByAll: number;
  readonly usedByOthers: number;
  /** Settle's own requests in the rolling timeframe (this process). */
  readonly usedBySettle: number;
  readonly share: number;
  /** What Settle allows itself this timeframe: share × (limit − others' use). */
  readonly allowance: number;
  readonly remaining: number;
  readonly inFlight: number;
  readonly waiting: number;
  readonly checkedAt: string | null;
}

interface Waiter {
  readonly endpoint: string;
  readonly priority: Priority;
  readonly seq: number;
  readonly grant: () => void;
  readonly fail: (e: Error) => void;
}

export class BudgetClosed extends Error {
  override readonly name = 'BudgetClosed';
}

export class ApiBudget {
  /** Changed in place when the connection's setting changes (the hour's own use is kept). */
  share: number;
  readonly threadLimit: number;
  private readonly refreshMs: number;
  private readonly now: () => number;
  private threshold: Threshold | null = null;
  private othersAtRead = 0;
  private readAt = 0;
  private attemptAt = 0;
  private failures = 0;
  private reading: Promise<void> | null = null;
  private reader: (() => Promise<Threshold>) | null = null;
  private own: number[] = [];
  private readonly inFlight = new Map<string, number>();
  private waiters: Waiter[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(opts: BudgetOptions = {}) {
    const share = opts.share ?? 0.25;
    if (!(share > 0 && share <= 1)) throw new Error(`budget share ${share} is not between 0 and 1`);
    this.share = share;
    this.threadLimit = opts.threadLimit ?? 3;
    this.refreshMs = opts.refreshMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** How the broker reads ThresholdInformation (the API client sets it; that read counts as Settle's own). */
  setReader(read: () => Promise<Threshold>): void {
    this.reader = read;
  }

  private timeframeMs(): number {
    return (this.threshold?.timeframeMinutes ?? 60) * 60_000;
  }

  private ownInWindow(): number {
    const from = this.now() - this.timeframeMs();
    let i = 0;
    while (i < this.own.length && this.own[i]! <= from) i++;
    if (i > 0) this.own = this.own.slice(i);
    return this.own.length;
  }

  private allowance(): number {
    if (!this.threshold) return 0;
    return Math.floor(this.share * Math.max(0, this.threshold.limit - this.othersAtRead));
  }

  state(): BudgetState {
    const used = this.ownInWindow();
    const allowance = this.allowance();
    let inFlight = 0;
    for (const n of this.inFlight.values()) inFlight += n;
    return {
      limit: this.threshold?.limit ?? 0,
      timeframeMinutes: this.threshold?.timeframeMinutes ?? 60,
      usedByAll: this.threshold?.used ?? 0,
      usedByOthers: this.othersAtRead,
      usedBySettle: used,
      share: this.share,
      allowance,
      remaining: Math.max(0, allowance - used),
      inFlight,
      waiting: this.waiters.length,
      checkedAt: this.readAt ? new Date(this.readAt).toISOString() : null,
    };
  }

  /** Run one vendor call when budget and a thread slot allow it; `endpoint` is the object endpoint (e.g. invoices). */
  async run<T>(endpoint: string, priority: Priority, call: () => Promise<T>): Promise<T> {
    await this.admit(endpoint.toLowerCase(), priority);
    try {
      return await call();
    } finally {
      this.release(endpoint.toLowerCase());
    }
  }

  private admit(endpoint: string, priority: Priority): Promise<void> {
    if (this.closed) return Promise.reject(new BudgetClosed('the Autotask budget broker is closed'));
    return new Promise<void>((grant, fail) => {
      this.waiters.push({ endpoint, priority, seq: this.seq++, grant, fail });
      this.pump();
    });
  }

  private release(endpoint: string): void {
    const n = (this.inFlight.get(endpoint) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(endpoint);
    else this.inFlight.set(endpoint, n);
    this.pump();
  }

  /** Read the threshold when it is stale; the read itself takes a slot on its own endpoint and counts. */
  private refresh(): void {
    if (this.reading || !this.reader) return;
    const read = this.reader;
    const ep = 'thresholdinformation';
    this.inFlight.set(ep, (this.inFlight.get(ep) ?? 0) + 1);
    this.attemptAt = this.now();
    this.own.push(this.now());
    this.reading = read()
      .then((t) => {
        this.threshold = t;
        // Others' use: what Autotask counted less what Settle itself sent in the same window.
        this.othersAtRead = Math.max(0, t.used - this.ownInWindow());
        this.readAt = this.now();
      })
      .then(() => {
        this.failures = 0;
      })
      .catch((e: unknown) => {
        // Keep the last reading. With none, nothing can be granted: a refusal that will not pass on retry (bad
        // credentials) or a third failure in a row is handed to everything waiting; otherwise tried each second.
        this.failures += 1;
        if (this.threshold) return;
        const hopeless = e instanceof VendorError && retryDecision(e, 1, 2).retry === false;
        if (hopeless || this.failures >= 3) {
          this.failures = 0;
          this.attemptAt = 0; // the next request (perhaps with mended credentials) reads again at once
          for (const w of this.waiters.splice(0)) w.fail(e instanceof Error ? e : new Error(String(e)));
        }
      })
      .finally(() => {
        this.reading = null;
        this.release(ep);
      });
  }

  private pump(): void {
    if (this.closed) return;
    const stale = this.now() - this.attemptAt >= (this.threshold ? this.refreshMs : 1000);
    if (stale && this.waiters.length > 0) this.refresh();
    if (!this.threshold) return this.wakeIn(this.reading ? null : 1000);
    this.waiters.sort((a, b) => RANK[a.priority] - RANK[b.priority] || a.seq - b.seq);
    const allowance = this.allowance();
    let blockedByBudget = false;
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i]!;
      const used = this.ownInWindow();
      if (used >= Math.floor(allowance * TIER[w.priority])) {
        blockedByBudget = true;
        i++;
        continue;
      }
      const busy = this.inFlight.get(w.endpoint) ?? 0;
      if (busy >= this.threadLimit) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      this.inFlight.set(w.endpoint, busy + 1);
      this.own.push(this.now());
      w.grant();
    }
    if (blockedByBudget) {
      // Budget frees when Settle's oldest request leaves the window, or when a new reading raises the allowance.
      const oldest = this.own[0];
      const untilOldest = oldest === undefined ? this.refreshMs : oldest + this.timeframeMs() - this.now() + 1;
      const untilRead = this.attemptAt + this.refreshMs - this.now();
      this.wakeIn(Math.max(10, Math.min(untilOldest, untilRead)));
    }
  }

  private wakeIn(ms: number | null): void {
    if (ms === null || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, ms);
    this.timer.unref();
  }

  /** Refuse everything waiting and anything after (a connection removed, a test ending). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.waiters.splice(0)) w.fail(new BudgetClosed('the Autotask budget broker is closed'));
  }
}

const brokers = new Map<string, ApiBudget>();

/** The broker of one Autotask database in this process (keyed by the API user, which belongs to one database). */
export function budgetFor(key: string, opts: BudgetOptions = {}): ApiBudget {
  const k = key.toLowerCase();
  let b = brokers.get(k);
  if (!b) {
    b = new ApiBudget(opts);
    brokers.set(k, b);
  } else if (opts.share !== undefined && b.share !== opts.share) {
    if (!(opts.share > 0 && opts.share <= 1)) throw new Error(`budget share ${opts.share} is not between 0 and 1`);
    b.share = opts.share;
  }
  return b;
}

/** The broker's state for the connection page, when this process has one for `key`. */
export function budgetStateFor(key: string): BudgetState | null {
  return brokers.get(key.toLowerCase())?.state() ?? null;
}
