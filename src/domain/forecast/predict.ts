// When will an open invoice be paid? Money already promised on a date comes first, in this order: an ACH
// debit in flight settles on its expected day; an active installment plan pays on its parts' dates; an
// autopay charge scheduled for the invoice pays on its charge date plus ACH settlement for a bank method.
// Whatever is still open after those is predicted from history: the client's own (paying after reminder k,
// else its usual days late), then the workspace's, then the invoice's terms. Each slice of money says which
// basis predicted it. Pure: the engine (engine/cash-forecast.ts) reads the rows, this decides.
import { add, compare, min, subtract, zero, isPositive, type Money } from '../money.ts';
import { addDays, daysBetween, isWeekend, maxDate, type IsoDate } from '../rules/calendar-date.ts';
import { addBankingDays, BankingCalendarError } from '../rules/us-banking-calendar.ts';
import {
  daysLate,
  medianOf,
  MIN_CLIENT_RECORDS,
  MIN_WORKSPACE_RECORDS,
  remindersBeforePaying,
  type HistoryIndex,
  type HistorySample,
  type PaidRecord,
} from './history.ts';

export const BASES = ['ach_in_flight', 'installment_plan', 'autopay', 'client_reminders', 'client_history', 'workspace_history', 'terms'] as const;
export type Basis = (typeof BASES)[number];

export const BASIS_LABELS: Record<Basis, string> = {
  ach_in_flight: 'ACH debit in flight',
  installment_plan: 'Installment plan',
  autopay: 'Autopay charge scheduled',
  client_reminders: "Client's reminder history",
  client_history: "Client's payment history",
  workspace_history: "Workspace's payment history",
  terms: "Invoice's terms",
};

/**
 * Banking days from an ACH debit's submission to its settlement through a processor (payments-rules.md §2.8:
 * Stripe learns the outcome "up to 4 business days" later). A NACHA debit of Settle's own file settles on the
 * entry's effective date instead.
 */
export const ACH_SETTLEMENT_BANKING_DAYS = 4;

export interface OpenInvoice {
  readonly invoiceId: string;
  readonly clientId: string;
  /** What is still open: the PSA's balance less Settle's payments not yet written back. */
  readonly open: Money;
  /** Due date, or the terms' date when the PSA gave none. */
  readonly dueOn: IsoDate;
  /** Collections Assist is on for the workspace and the client, so reminders will go out. */
  readonly remindersActive: boolean;
}

export type Commitment =
  | {
      readonly kind: 'ach_in_flight';
      readonly via: 'processor' | 'bank';
      readonly startedOn: IsoDate;
      readonly effectiveOn: IsoDate | null;
      readonly amount: Money;
    }
  | { readonly kind: 'installment_part'; readonly dueOn: IsoDate; readonly amount: Money }
  | { readonly kind: 'autopay'; readonly chargeOn: IsoDate; readonly methodKind: 'card' | 'us_bank_account' | null };

/** Part of an invoice's open amount and the day it is expected; null = overdue beyond what history can date. */
export interface Slice {
  readonly on: IsoDate | null;
  readonly amount: Money;
  readonly basis: Basis;
  readonly detail: string;
}

export interface InvoicePrediction {
  readonly invoiceId: string;
  readonly clientId: string;
  readonly open: Money;
  readonly slices: readonly Slice[];
}

export interface HistoryPrediction {
  readonly on: IsoDate | null;
  readonly basis: Basis;
  readonly detail: string;
}

/** `n` banking days after `date`; outside the years of the holiday table, weekdays (a forecast must not stop). */
export function settlementDay(date: IsoDate, n: number): IsoDate {
  try {
    return addBankingDays(date, n);
  } catch (e) {
    if (!(e instanceof BankingCalendarError)) throw e;
    let d = date;
    for (let left = n; left > 0 || isWeekend(d);) {
      d = addDays(d, 1);
      if (!isWeekend(d)) left -= 1;
    }
    return d;
  }
}

const plural = (n: number, one: string): string => `${n} ${one}${Math.abs(n) === 1 ? '' : 's'}`;
const lateText = (d: number): string => (d === 0 ? 'on the due date' : d > 0 ? `${plural(d, 'day')} late` : `${plural(-d, 'day')} early`);

/** The usual days late of a sample; when the invoice is already later than that, the usual of those at least as late. */
function fromDaysLate(sample: HistorySample, dueOn: IsoDate, today: IsoDate | null, whose: string): { on: IsoDate | null; detail: string } {
  const usual = medianOf(sample, daysLate, undefined, 'late')!;
  const on = addDays(dueOn, usual);
  if (today === null || on >= today) return { on, detail: `${whose} invoices are usually paid ${lateText(usual)} (median of ${sample.records.length})` };
  const already = daysBetween(dueOn, today);
  const asLate = (r: PaidRecord) => daysLate(r) >= already;
  const later = medianOf(sample, daysLate, asLate, `late>=${already}`);
  if (later === null) return { on: null, detail: `already ${lateText(already)}, later than any of ${sample.records.length} ${whose} invoices paid` };
  const n = sample.records.filter(asLate).length;
  return {
    on: addDays(dueOn, later),
    detail: `already ${lateText(already)}; ${whose} invoices paid at least that late were paid ${lateText(later)} (median of ${n})`,
  };
}

/** Paying after reminder k: the k-th reminder's usual offset plus the usual days from it to payment. */
function fromReminders(sample: HistorySample, dueOn: IsoDate, today: IsoDate | null): HistoryPrediction | null {
  const k = medianOf(sample, remindersBeforePaying, undefined, 'reminders');
  if (k === null || k < 1) return null;
  const reached = (r: PaidRecord) => remindersBeforePaying(r) >= k;
  const offset = medianOf(sample, (r) => r.reminders[k - 1]!.offsetDays, reached, `offset${k}`)!;
  const lag = medianOf(sample, (r) => daysBetween(r.reminders[k - 1]!.sentOn, r.paidOn), reached, `lag${k}`)!;
  const on = addDays(dueOn, offset + lag);
  if (today !== null && on < today) return null; // that reminder has passed unanswered: judged by days late instead
  const n = sample.records.filter(reached).length;
  return {
    on,
    basis: 'client_reminders',
    detail: `usually pays ${plural(lag, 'day')} after reminder ${k} (sent ${lateText(offset).replace('late', 'after the due date').replace('early', 'before it')}; median of ${n})`,
  };
}

/**
 * The day the open rest of an invoice is expected, from history known before `asOf`. `today` is the day the
 * invoice is known to be still unpaid (null in the back-test, which predicts as of the due date, unconditioned).
 */
export function predictFromHistory(
  inv: { readonly invoiceId: string; readonly clientId: string; readonly dueOn: IsoDate; readonly remindersActive: boolean },
  history: HistoryIndex,
  asOf: IsoDate,
  today: IsoDate | null,
): HistoryPrediction {
  const own = history.client(inv.clientId, asOf, inv.invoiceId);
  let beyond: HistoryPrediction | null = null;
  if (own.records.length >= MIN_CLIENT_RECORDS) {
    const byReminders = inv.remindersActive ? fromReminders(own, inv.dueOn, today) : null;
    if (byReminders) return byReminders;
    const p = fromDaysLate(own, inv.dueOn, today, "this client's");
    if (p.on !== null) return { ...p, basis: 'client_history' };
    beyond = { ...p, basis: 'client_history' };
  }
  const all = history.workspace(asOf, inv.invoiceId);
  if (all.records.length >= MIN_WORKSPACE_RECORDS) {
    const p = fromDaysLate(all, inv.dueOn, today, "the workspace's");
    if (p.on !== null) return { ...p, basis: 'workspace_history' };
    return beyond ?? { ...p, basis: 'workspace_history' };
  }
  if (beyond) return beyond;
  const thin = `too little history (${own.records.length} of this client's invoices paid, ${all.records.length} in the workspace)`;
  if (today !== null && inv.dueOn < today) return { on: null, basis: 'terms', detail: `overdue since ${inv.dueOn} and ${thin} to say when` };
  return { on: inv.dueOn, basis: 'terms', detail: `due ${inv.dueOn}; ${thin}` };
}

/** Every slice of an open invoice's amount with its expected day, as of `today` (workspace-local). */
export function predictInvoice(inv: OpenInvoice, commitments: readonly Commitment[], history: HistoryIndex, today: IsoDate): InvoicePrediction {
  const slices: Slice[] = [];
  let rest = inv.open;
  const take = (amount: Money, on: IsoDate, basis: Basis, detail: string) => {
    if (!isPositive(rest)) return;
    const part = min(amount, rest);
    if (!isPositive(part)) return;
    slices.push({ on: maxDate(on, today), amount: part, basis, detail });
    rest = subtract(rest, part);
  };
  for (const c of commitments) {
    if (c.kind !== 'ach_in_flight') continue;
    const on = c.via === 'bank' ? (c.effectiveOn ?? settlementDay(c.startedOn, 1)) : settlementDay(c.startedOn, ACH_SETTLEMENT_BANKING_DAYS);
    take(
      c.amount,
      on,
      'ach_in_flight',
      c.via === 'bank'
        ? `bank ACH debit settles on its effective date`
        : `ACH debit submitted ${c.startedOn}, settles ${ACH_SETTLEMENT_BANKING_DAYS} banking days later`,
    );
  }
  const parts = commitments.filter((c) => c.kind === 'installment_part').sort((a, b) => (a.dueOn < b.dueOn ? -1 : a.dueOn > b.dueOn ? 1 : 0));
  for (const p of parts) take(p.amount, p.dueOn, 'installment_plan', `installment part due ${p.dueOn}`);
  const autopay = commitments.find((c) => c.kind === 'autopay');
  if (autopay) {
    const chargeOn = maxDate(autopay.chargeOn, today);
    const bank = autopay.methodKind === 'us_bank_account';
    take(
      rest,
      bank ? settlementDay(chargeOn, ACH_SETTLEMENT_BANKING_DAYS) : chargeOn,
      'autopay',
      `autopay charges ${chargeOn}${bank ? ` by ACH, settling ${ACH_SETTLEMENT_BANKING_DAYS} banking days later` : ''}`,
    );
  }
  if (isPositive(rest)) {
    const h = predictFromHistory(inv, history, today, today);
    slices.push({ on: h.on, amount: rest, basis: h.basis, detail: h.detail });
  }
  return { invoiceId: inv.invoiceId, clientId: inv.clientId, open: inv.open, slices };
}

/** The basis that predicted the most of an invoice's money (the first on a tie). */
export function mainBasis(p: InvoicePrediction): Basis {
  let best = p.slices[0]!;
  for (const s of p.slices) if (compare(s.amount, best.amount) > 0) best = s;
  return best.basis;
}

/** Sum of the slices (equals the open amount: nothing is lost or counted twice). */
export const slicesTotal = (p: InvoicePrediction): Money => p.slices.reduce((s, x) => add(s, x.amount), zero(p.open.currency));
