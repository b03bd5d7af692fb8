// An invoice paid in parts: N parts on dates the MSP chose, amounts split evenly with the remainder on the
// last part (payments-rules.md §5.2 "splits give the remainder to the last part", money.splitEvenly).
// Pure: the caller passes the amount still owed and the dates; the engine stores and collects the parts.
import { isPositive, splitEvenly, type Money } from './money.ts';
import { addDays, isoDate, type IsoDate } from './rules/calendar-date.ts';

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
  if (!Number.isSafeInteger(req.everyDays) || req.everyDays < 1 || req.everyDays > 366) throw new InstallmentError('everyDays must be a whole number of days from 1 to 366');
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
