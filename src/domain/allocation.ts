// Spreading one payment over a client's invoices. Whatever is not allocated becomes the client's
// credit (an overpayment is owed back or applied later, never income: ledger.ts `client_credit`).
// The same function applies an existing credit balance: pass the credit as `payment`.
import { compare, money, type Currency, type Money } from './money.ts';

export interface OpenInvoice {
  readonly invoiceId: string;
  /** What is still owed (invoice.ts `openBalance`): total − collected allocations. */
  readonly openBalance: Money;
  readonly dueOn: string | null; // YYYY-MM-DD
  readonly issuedOn: string; // YYYY-MM-DD
}

export interface InvoiceAllocation {
  readonly invoiceId: string;
  readonly amount: Money;
}

export type AllocationRequest =
  /** The payer (portal) or the MSP chose the invoices and amounts. */
  | { readonly kind: 'explicit'; readonly allocations: readonly InvoiceAllocation[] }
  /** Oldest due first: how AR tools and the books apply an unassigned payment. */
  | { readonly kind: 'oldest_due_first' };

export type AllocationProblem =
  | { readonly code: 'payment_not_positive'; readonly payment: Money }
  | { readonly code: 'currency_mismatch'; readonly invoiceId: string; readonly expected: Currency; readonly got: Currency }
  | { readonly code: 'duplicate_invoice'; readonly invoiceId: string }
  | { readonly code: 'unknown_invoice'; readonly invoiceId: string }
  | { readonly code: 'invalid_date'; readonly invoiceId: string; readonly value: string }
  | { readonly code: 'amount_not_positive'; readonly invoiceId: string; readonly amount: Money }
  | { readonly code: 'exceeds_open_balance'; readonly invoiceId: string; readonly amount: Money; readonly openBalance: Money }
  | { readonly code: 'exceeds_payment'; readonly allocated: Money; readonly payment: Money };

export type AllocationOutcome =
  | { readonly ok: true; readonly allocations: readonly InvoiceAllocation[]; readonly credit: Money }
  | { readonly ok: false; readonly problems: readonly AllocationProblem[] };

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function allocatePayment(payment: Money, invoices: readonly OpenInvoice[], request: AllocationRequest): AllocationOutcome {
  const problems = checkInvoices(payment, invoices);
  if (payment.amountMinor <= 0n) problems.unshift({ code: 'payment_not_positive', payment });
  if (problems.length > 0) return { ok: false, problems };
  return request.kind === 'explicit' ? allocateExplicit(payment, invoices, request.allocations) : { ok: true, ...allocateOldestDueFirst(payment, invoices) };
}

function checkInvoices(payment: Money, invoices: readonly OpenInvoice[]): AllocationProblem[] {
  const problems: AllocationProblem[] = [];
  const seen = new Set<string>();
  for (const inv of invoices) {
    if (seen.has(inv.invoiceId)) problems.push({ code: 'duplicate_invoice', invoiceId: inv.invoiceId });
    seen.add(inv.invoiceId);
    if (inv.openBalance.currency !== payment.currency) {
      problems.push({ code: 'currency_mismatch', invoiceId: inv.invoiceId, expected: payment.currency, got: inv.openBalance.currency });
    }
    // Ordering compares the text, which is only chronological for YYYY-MM-DD.
    for (const value of [inv.dueOn, inv.issuedOn]) {
      if (value !== null && !ISO_DATE.test(value)) problems.push({ code: 'invalid_date', invoiceId: inv.invoiceId, value });
    }
  }
  return problems;
}

function allocateExplicit(payment: Money, invoices: readonly OpenInvoice[], requested: readonly InvoiceAllocation[]): AllocationOutcome {
  const byId = new Map(invoices.map((i) => [i.invoiceId, i]));
  const problems: AllocationProblem[] = [];
  const seen = new Set<string>();
  let allocated = 0n;
  for (const a of requested) {
    const inv = byId.get(a.invoiceId);
    if (seen.has(a.invoiceId)) {
      problems.push({ code: 'duplicate_invoice', invoiceId: a.invoiceId });
      continue;
    }
    seen.add(a.invoiceId);
    if (!inv) {
      problems.push({ code: 'unknown_invoice', invoiceId: a.invoiceId });
      continue;
    }
    if (a.amount.currency !== payment.currency) {
      problems.push({ code: 'currency_mismatch', invoiceId: a.invoiceId, expected: payment.currency, got: a.amount.currency });
      continue;
    }
    if (a.amount.amountMinor <= 0n) {
      problems.push({ code: 'amount_not_positive', invoiceId: a.invoiceId, amount: a.amount });
      continue;
    }
    if (compare(a.amount, inv.openBalance) > 0) {
      problems.push({ code: 'exceeds_open_balance', invoiceId: a.invoiceId, amount: a.amount, openBalance: inv.openBalance });
      continue;
    }
    allocated += a.amount.amountMinor;
  }
  if (allocated > payment.amountMinor) {
    problems.push({ code: 'exceeds_payment', allocated: money(allocated, payment.currency), payment });
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    allocations: requested.map((a) => ({ invoiceId: a.invoiceId, amount: a.amount })),
    credit: money(payment.amountMinor - allocated, payment.currency),
  };
}

/** Earliest due date first (an invoice without one counts as due on issue), then issue date, then id. */
export function byOldestDue(a: OpenInvoice, b: OpenInvoice): number {
  const key = (i: OpenInvoice) => [i.dueOn ?? i.issuedOn, i.issuedOn, i.invoiceId] as const;
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i]! < kb[i]!) return -1;
    if (ka[i]! > kb[i]!) return 1;
  }
  return 0;
}

function allocateOldestDueFirst(payment: Money, invoices: readonly OpenInvoice[]): { allocations: InvoiceAllocation[]; credit: Money } {
  let left = payment.amountMinor;
  const allocations: InvoiceAllocation[] = [];
  for (const inv of [...invoices].sort(byOldestDue)) {
    if (left === 0n) break;
    const open = inv.openBalance.amountMinor;
    if (open <= 0n) continue; // paid, or in credit itself
    const take = open < left ? open : left;
    allocations.push({ invoiceId: inv.invoiceId, amount: money(take, payment.currency) });
    left -= take;
  }
  return { allocations, credit: money(left, payment.currency) };
}
