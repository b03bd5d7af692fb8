// The API budget broker. Autotask allows 10,000 requests per rolling hour per database — shared by every
// integration the MSP runs — and 3 concurrent requests per endpoint; going over slows or stops the whole
// tenant's API. The broker reads /V1.0/ThresholdInformation, keeps Settle's own use within `share` (25 %) of
// what the other integrations leave, holds at most `threadLimit` requests in flight per endpoint, and spends
// what it has by priority: a payment write-back before a pay link written into an invoice (pay-link.ts), before
// a poll of recent changes, before other reads, before a full sweep. Each tier below write-back may only use part of the allowance, so a write-back always finds
// budget left and waits at most for a thread slot.

import { createHash } from 'node:crypto';
import { retryDecision, VendorError } from '../../http.ts';
import type { BudgetLedger, BudgetOptions, BudgetState, Threshold } from './budget-types.ts';

export type Priority = 'writeback' | 'link' | 'recent' | 'other' | 'sweep';
const RANK: Readonly<Record<Priority, number>> = { writeback: 0, link: 1, recent: 2, other: 3, sweep: 4 };
/**
 * Part of the allowance each priority may use (the rest is kept for the ones above it). Pay links come after
 * payment write-backs: a new invoice's link is wanted before the PSA e-mails it, but a payment already taken
 * must reach the PSA first, and a back catalogue of links must never spend what write-backs need.
 */
const TIER: Readonly<Record<Priority, number>> = { writeback: 1, link: 0.95, recent: 0.9, other: 0.8, sweep: 0.6 };

export type { BudgetLedger, BudgetOptions, BudgetState, Threshold } from './budget-types.ts';

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
  /** Calls this process has spent since it started (never pruned, unlike `own`): what went out after a mark. */
  private spentTotal = 0;
  private readonly inFlight = new Map<string, number>();
  private waiters: Waiter[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private ledger: BudgetLedger | null;
  private peerFailures = 0;
  private ledgerKey: string;
  private readonly peersMs: number;
  /** The other Settle processes' requests in the timeframe, as last read from the ledger. */
  private peers = 0;
  private peersAt = 0;
  private peersReading: Promise<void> | null = null;
  /** No grant since the last ledger reading (near the end of the allowance, each grant waits for a fresh one). */
  private peersFresh = false;
  private unrecorded: number[] = [];
  private recording: Promise<void> | null = null;

  constructor(opts: BudgetOptions = {}) {
    const share = opts.share ?? 0.25;
    if (!(share > 0 && share <= 1)) throw new Error(`budget share ${share} is not between 0 and 1`);
    this.share = share;
    this.threadLimit = opts.threadLimit ?? 3;
    this.refreshMs = opts.refreshMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.ledger = opts.ledger ?? null;
    this.ledgerKey = opts.ledgerKey ?? '';
    this.peersMs = opts.peersMs ?? 1000;
  }

  /** Share through another ledger (a restarted runtime in the same process); unrecorded use goes to the new one. */
  useLedger(ledger: BudgetLedger | null, key?: string): void {
    this.ledger = ledger;
    if (key !== undefined) this.ledgerKey = key;
    this.peersAt = 0;
    this.peerFailures = 0;
    if (!ledger) this.unrecorded = [];
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

  /** All of Settle's requests in the window: this process's and the other processes' (ledger). */
  private settleInWindow(): number {
    return this.ownInWindow() + this.peers;
  }

  /** Note a granted request: counted here at once, recorded in the ledger in batches. */
  private spend(): void {
    const t = this.now();
    this.own.push(t);
    this.spentTotal += 1;
    if (!this.ledger) return;
    this.unrecorded.push(t);
    if (!this.recording) this.recording = Promise.resolve().then(() => this.flushLedger());
  }

  private async flushLedger(): Promise<void> {
    try {
      while (this.unrecorded.length > 0 && this.ledger) {
        const batch = this.unrecorded.splice(0);
        // A failed write is tried again with the next batch: the other processes would otherwise undercount.
        await this.ledger.record(this.ledgerKey, batch).catch((e: unknown) => {
          this.unrecorded.unshift(...batch);
          throw e;
        });
      }
    } catch {
      // The database is unreachable: keep the batch, try again on the next grant.
    } finally {
      this.recording = null;
    }
  }

  /** This process's grants written to the ledger (those made so far), for a reading that must follow them. */
  private recorded(): Promise<void> {
    if (!this.recording && this.unrecorded.length > 0) this.recording = Promise.resolve().then(() => this.flushLedger());
    return this.recording ?? Promise.resolve();
  }

  /**
   * Read the other processes' use when stale; nothing is granted before the first reading. Our own grants are
   * recorded first: near the end of the allowance each grant waits for a reading, and a reading taken while
   * our last grants were still unrecorded let the other process grant them again (a fresh-clone CI under load
   * saw two processes spend 226 of a shared 200).
   */
  private readPeers(now = false): void {
    if (!this.ledger || this.peersReading || (!now && this.now() - this.peersAt < this.peersMs)) return;
    const since = this.now() - this.timeframeMs();
    const ledger = this.ledger;
    this.peersReading = this.recorded()
      .then(() => ledger.peers(this.ledgerKey, since))
      .then((n) => {
        this.peers = n;
        this.peersAt = this.now();
        this.peersFresh = true;
        this.peerFailures = 0;
      })
      .catch(() => {
        // Keep the last reading. With none, try again each second; after the third failure go on with this
        // process's own count rather than stop every Autotask call while the database is unreachable.
        this.peerFailures += 1;
        if (this.peersAt === 0 && this.peerFailures < 3) return;
        this.peersAt = this.now();
        this.peersFresh = true; // near the end of the allowance, the last reading stands in for a fresh one
      })
      .finally(() => {
        this.peersReading = null;
        this.pump();
      });
  }

  private allowance(): number {
    if (!this.threshold) return 0;
    return Math.floor(this.share * Math.max(0, this.threshold.limit - this.othersAtRead));
  }

  state(): BudgetState {
    const used = this.settleInWindow();
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
    // Calls of this process that Autotask may not have counted when it answers: those still in flight as the
    // read goes out, and those granted after it. They are taken as not counted — others' use comes out a
    // little high and Settle spends a little less than its share, never more. (Subtracting all of Settle's
    // calls at the answer, as before, credited Settle with calls Autotask had not counted yet: others' use
    // came out short by the calls in flight, seen under load as 5,998 of the test's 6,000.)
    let inFlightAtSend = -1; // the read itself is in the map already, and Autotask counts it before answering
    for (const n of this.inFlight.values()) inFlightAtSend += n;
    this.spend();
    const spentAtSend = this.spentTotal;
    this.reading = read()
      .then((t) => {
        this.threshold = t;
        // Others' use: what Autotask counted less what Settle itself (every process) had surely sent. Settle's
        // count is taken at the answer so that another process's calls recorded meanwhile are Settle's too.
        const maybeUncounted = inFlightAtSend + (this.spentTotal - spentAtSend);
        this.othersAtRead = Math.max(0, t.used - Math.max(0, this.settleInWindow() - maybeUncounted));
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
    if (this.waiters.length > 0) this.readPeers();
    // The threshold is read only once the other processes' use is known: read before, their use would count as
    // other integrations' and shrink Settle's allowance until the next reading (a minute without write-backs).
    const peersKnown = !this.ledger || this.peersAt > 0;
    if (stale && peersKnown && this.waiters.length > 0) this.refresh();
    if (!this.threshold) return this.wakeIn(this.reading ? null : 1000);
    if (this.ledger && this.peersAt === 0) return this.wakeIn(this.peersReading ? null : 1000);
    this.waiters.sort((a, b) => RANK[a.priority] - RANK[b.priority] || a.seq - b.seq);
    const allowance = this.allowance();
    let blockedByBudget = false;
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i]!;
      const used = this.settleInWindow();
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
      // With a ledger, the other processes' latest use decides every grant: one grant per fresh reading (a round
      // trip to PostgreSQL, nothing beside an Autotask call of 100 ms or more). Granting freely between readings
      // (once a second, or only within 20 of the end) let two processes each spend, against a fast Autotask,
      // most of the share before either saw the other (226–304 of a shared 200, test autotask-budget-shared).
      if (this.ledger && !this.peersFresh) {
        this.readPeers(true);
        break;
      }
      this.peersFresh = false;
      this.waiters.splice(i, 1);
      this.inFlight.set(w.endpoint, busy + 1);
      this.spend();
      w.grant();
    }
    if (blockedByBudget) {
      // Budget frees when Settle's oldest request leaves the window, or when a new reading raises the allowance.
      const oldest = this.own[0];
      const untilOldest = oldest === undefined ? this.refreshMs : oldest + this.timeframeMs() - this.now() + 1;
      const untilRead = this.attemptAt + this.refreshMs - this.now();
      // With a ledger, another process's use leaving the window (or a new reading) may free budget too.
      const untilPeers = this.ledger ? this.peersMs : Infinity;
      this.wakeIn(Math.max(10, Math.min(untilOldest, untilRead, untilPeers)));
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
let processLedger: BudgetLedger | null = null;

/**
 * Share the budget with Settle's other processes through `ledger` (runtime.ts installs the PostgreSQL one at
 * start). Brokers made before keep their own count; in a running Settle none exist yet.
 */
export function shareBudgetsThrough(ledger: BudgetLedger | null): void {
  processLedger = ledger;
  for (const b of brokers.values()) b.useLedger(ledger);
}

/** The broker of one Autotask database in this process (keyed by the API user, which belongs to one database). */
export function budgetFor(key: string, opts: BudgetOptions = {}): ApiBudget {
  const k = key.toLowerCase();
  let b = brokers.get(k);
  if (!b) {
    // The ledger key names the database without its API user in clear.
    const ledgerKey = createHash('sha256').update(k).digest('hex').slice(0, 32);
    b = new ApiBudget({ ledger: processLedger, ledgerKey, ...opts });
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
