// Every rule is a data row with its source and the days it is in force (payments-rules.md header:
// "Store every rule with effective_from / effective_to and a source URL"). Engines pick the rows in
// force on the day being decided and report the ids they used, so a decision can be traced to a source.
import type { IsoDate } from './calendar-date.ts';

/**
 * Start date for rows whose start the reference does not give: the rule was already in force before
 * any payment Settle will handle. Re-verify before relying on a back-dated decision.
 */
export const LONG_STANDING: IsoDate = '1970-01-01';

export interface RuleRow {
  /** Stable id reported in `rulesApplied`, e.g. 'us-state:CO'. */
  readonly id: string;
  /** Public URL of the source (or the reference section for our own derived policy). */
  readonly source: string;
  /** Section of /shared/reference/payments-rules.md the row comes from, e.g. '§1.2'. */
  readonly ref: string;
  /** First day the row applies (inclusive). */
  readonly effectiveFrom: IsoDate;
  /** Last day the row applies (inclusive); absent = still in force. */
  readonly effectiveTo?: IsoDate;
}

export function isInForce(row: RuleRow, on: IsoDate): boolean {
  return row.effectiveFrom <= on && (row.effectiveTo === undefined || on <= row.effectiveTo);
}

export function inForce<T extends RuleRow>(rows: readonly T[], on: IsoDate): T[] {
  return rows.filter((r) => isInForce(r, on));
}

/**
 * The single row matching `match` in force on `on`, or undefined. Two matching rows in force on the
 * same day is a data error (overlapping effective ranges) and throws rather than guessing.
 */
export function oneInForce<T extends RuleRow>(rows: readonly T[], on: IsoDate, match: (row: T) => boolean): T | undefined {
  const found = inForce(rows, on).filter(match);
  if (found.length > 1) {
    throw new Error(`rule data overlaps on ${on}: ${found.map((r) => r.id).join(', ')}`);
  }
  return found[0];
}
