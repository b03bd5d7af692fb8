// How good the forecast has been: every invoice paid in the last 90 days is predicted again AS OF ITS DUE
// DATE, reading only what was known before that day (invoices paid before it; the invoice itself never), and
// the prediction is compared with the day it was in fact paid. The mean absolute error in days is over the
// invoices that could be predicted; with too few of them the figure says too little and is not given.
//
// Only the history bases are back-tested: whether an autopay schedule, a plan or a debit in flight existed on a
// past due date is not kept, and those bases are dates Settle itself sets, not guesses.
import { addDays, daysBetween, type IsoDate } from '../rules/calendar-date.ts';
import type { HistoryIndex } from './history.ts';
import { predictFromHistory, type Basis } from './predict.ts';

/** The back-test looks at invoices paid in this many days before today. */
export const ACCURACY_WINDOW_DAYS = 90;
/** Below this many invoices the error is not shown as a figure. */
export const MIN_ACCURACY_COUNT = 10;

export interface Accuracy {
  /** First day of the window (included) and today (excluded), workspace-local. */
  readonly from: IsoDate;
  readonly to: IsoDate;
  /** Invoices paid in the window, and how many of them the error is over. */
  readonly paid: number;
  readonly count: number;
  /** Mean absolute error in days, one decimal; null when count < MIN_ACCURACY_COUNT (the caller's minimum). */
  readonly maeDays: number | null;
  readonly byBasis: ReadonlyArray<{ readonly basis: Basis; readonly count: number; readonly maeDays: number }>;
}

const oneDecimal = (sum: number, n: number): number => Math.round((sum * 10) / n) / 10;

export function forecastAccuracy(history: HistoryIndex, today: IsoDate, windowDays = ACCURACY_WINDOW_DAYS, minCount = MIN_ACCURACY_COUNT): Accuracy {
  const from = addDays(today, -windowDays);
  const paid = history.paidBetween(from, today);
  const errors = new Map<Basis, number[]>();
  for (const r of paid) {
    const p = predictFromHistory({ invoiceId: r.invoiceId, clientId: r.clientId, dueOn: r.dueOn, remindersActive: true }, history, r.dueOn, null);
    if (p.on === null) continue;
    const list = errors.get(p.basis) ?? [];
    list.push(Math.abs(daysBetween(p.on, r.paidOn)));
    errors.set(p.basis, list);
  }
  const all = [...errors.values()].flat();
  const total = all.reduce((s, e) => s + e, 0);
  return {
    from,
    to: today,
    paid: paid.length,
    count: all.length,
    maeDays: all.length >= minCount && all.length > 0 ? oneDecimal(total, all.length) : null,
    byBasis: [...errors.entries()].map(([basis, e]) => ({
      basis,
      count: e.length,
      maeDays: oneDecimal(
        e.reduce((s, x) => s + x, 0),
        e.length,
      ),
    })),
  };
}
