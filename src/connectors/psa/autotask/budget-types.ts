// The shapes around the API budget broker (budget.ts): Autotask's threshold reading, the broker's options and
// state (shown on the connections page), and the ledger through which Settle's processes share one budget
// (engine/autotask-budget-ledger.ts).

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
  /** Where Settle's processes share their use (budget-ledger); without one the budget is this process's alone. */
  readonly ledger?: BudgetLedger | null;
  /** This database's key in the ledger. */
  readonly ledgerKey?: string;
  /** How often the other processes' use is read from the ledger (default 1 s). */
  readonly peersMs?: number;
}

/**
 * Settle's use shared by its processes (`settle start` beside `settle worker`): each records what it spent and
 * reads what the others spent in the timeframe, so together they stay under the one share.
 */
export interface BudgetLedger {
  /** Record requests this process made at these times (ms since the epoch). */
  record(key: string, at: readonly number[]): Promise<void>;
  /** Requests the other Settle processes recorded for `key` since `sinceMs`. */
  peers(key: string, sinceMs: number): Promise<number>;
}

export interface BudgetState {
  readonly limit: number;
  readonly timeframeMinutes: number;
  /** Requests counted by Autotask for the database at the last read (all integrations). */
  readonly usedByAll: number;
  readonly usedByOthers: number;
  /** Settle's own requests in the rolling timeframe (this process and, with a ledger, the others). */
  readonly usedBySettle: number;
  readonly share: number;
  /** What Settle allows itself this timeframe: share × (limit − others' use). */
  readonly allowance: number;
  readonly remaining: number;
  readonly inFlight: number;
  readonly waiting: number;
  readonly checkedAt: string | null;
}
