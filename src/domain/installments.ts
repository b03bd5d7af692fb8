// An invoice paid in parts: N parts on dates the MSP chose, amounts split evenly with the remainder on the
// last part (payments-rules.md §5.2 "splits give the remainder to the last part", money.splitEvenly).
// Pure: the caller passes the amount still owed and the dates; the engine stores and collects the parts.
import { isPositive, splitEvenly, type Money } from './money.ts';
import { addDays, isoDate, utcDateOf, type IsoDate } from './rules/calendar-date.ts';
import { classifyDecline } from './rules/decline-codes.ts';
import type { RetrySchedule } from './rules/retry-policy.ts';
import { addBankingDays } from './rules/us-banking-calendar.ts';

export interface InstallmentPart {
  readonly partNo: number;
  readonly dueOn: IsoDate;
  readonly amount: Money;
}

export type ScheduleRequest =
  /** The MSP names every date. */
  | { readonly kind: 'dates'; readonly dates: readonly IsoDate[] }
  /** `parts` parts from `firstDueOn`, `everyDays` apart (30 = roughly monthly). */
  | { readonly kind: 'every'; readonly parts: number; readonly firstDueOn: IsoDate; readonly everyDays: number };

export const MAX_INSTALLMENTS = 36;

export class InstallmentError extends Error {
  override readonly name = 'InstallmentError';
}

export function installmentDates(req: ScheduleRequest): IsoDate[] {
  if (req.kind === 'dates') return req.dates.map((d) => isoDate(d));
  if (!Number.isSafeInteger(req.parts) || req.parts < 2) throw new InstallmentError('an installment plan needs at least 2 parts');
  if (!Number.isSafeInteger(req.everyDays) || req.everyDays < 1 || req.everyDays > 366)
    throw new InstallmentError('everyDays must be a whole number of days from 1 to 366');
  const first = isoDate(req.firstDueOn);
  return Array.from({ length: req.parts }, (_, i) => addDays(first, i * req.everyDays));
}

/**
 * The parts of a plan for `owed`. Dates must be strictly increasing (one part per day at most, so each
 * part is its own payment in the PSA and the books) and not before `today`; every part must be at least
 * one minor unit.
 */
export function installmentSchedule(owed: Money, req: ScheduleRequest, today: IsoDate): InstallmentPart[] {
  if (!isPositive(owed)) throw new InstallmentError('nothing is owed on this invoice, so there is nothing to split');
  const dates = installmentDates(req);
  if (dates.length < 2) throw new InstallmentError('an installment plan needs at least 2 parts');
  if (dates.length > MAX_INSTALLMENTS) throw new InstallmentError(`an installment plan has at most ${MAX_INSTALLMENTS} parts`);
  dates.forEach((d, i) => {
    if (d < today) throw new InstallmentError(`part ${i + 1} is due ${d}, which is in the past`);
    if (i > 0 && d <= dates[i - 1]!) throw new InstallmentError(`part ${i + 1} is due ${d}, not after part ${i} (${dates[i - 1]})`);
  });
  if (owed.amountMinor < BigInt(dates.length)) throw new InstallmentError(`${owed.amountMinor} minor units cannot be split into ${dates.length} parts`);
  const amounts = splitEvenly(owed, dates.length);
  return dates.map((dueOn, i) => ({ partNo: i + 1, dueOn, amount: amounts[i]! }));
}

/**
 * When a failed part is charged again: on the tenant's retry schedule (payments-rules.md §3.3), by the
 * decline's class (§3.1: hard and fix-data declines are never retried automatically — the client must
 * give another method, or staff collect the part by hand). Null: no automatic retry.
 */
export function partRetryAt(input: {
  readonly declineCode: string | null;
  /** Charges of this part so far (the first one included). */
  readonly charges: number;
  readonly firstChargedAt: Date;
  readonly lastChargedAt: Date;
  readonly schedule: RetrySchedule;
}): Date | null {
  const cls = classifyDecline({ declineCode: input.declineCode }).class;
  const plan = cls === 'soft' ? input.schedule.soft : cls === 'technical' ? input.schedule.technical : null;
  if (!plan) return null;
  const step = plan.steps[input.charges - 1];
  if (!step) return null;
  const anchor = plan.anchor === 'first_attempt' ? input.firstChargedAt : input.lastChargedAt;
  if ('minutes' in step) return new Date(anchor.getTime() + step.minutes * 60_000);
  return new Date(`${addBankingDays(utcDateOf(anchor), step.businessDays)}T00:00:00Z`);
}
