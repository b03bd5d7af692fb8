// Taking money back from a payment that had succeeded: a refund (full or partial), an ACH return after
// settlement (payments-rules.md §2.4) or a lost dispute. Pure: which part of the amount is the
// surcharge given back, which part comes out of the client's unapplied credit, and which invoice owes
// how much again. The ledger, the PSA and the books all follow this one plan.
import { planFeeShare, surchargeShare } from './ledger.ts';
import { money, type Currency } from './money.ts';

export interface AllocationState {
  readonly invoiceId: string;
  readonly amountMinor: bigint; // what the payment once applied to the invoice
  readonly reversedMinor: bigint; // taken back from it already
}

export interface ReversalInput {
  readonly currency: Currency;
  /** What is being taken back now (a refund's amount, a returned or lost amount). */
  readonly amountMinor: bigint;
  /** The payment: total charged and its surcharge. */
  readonly grossMinor: bigint;
  readonly surchargeMinor: bigint;
  /** Its installment-plan fee (0 for most payments): beyond the invoice, given back in proportion like the surcharge. */
  readonly planFeeMinor?: bigint;
  /** Allocations in the order they were made. */
  readonly allocations: readonly AllocationState[];
  /** Earlier reversals of this payment: their total, and how much of it came out of unapplied credit. */
  readonly reversedBeforeMinor: bigint;
  readonly creditReversedBeforeMinor: bigint;
  /**
   * 'credit_first' for refunds: money the client overpaid goes back before any invoice is reopened.
   * 'invoices_first' for returns and lost disputes: the bank takes back the debit as a whole, the invoices
   * are what the client must pay again; an unapplied part only comes back last.
   */
  readonly order: 'credit_first' | 'invoices_first';
}

export interface ReversalPlan {
  readonly amountMinor: bigint;
  /** Part of the payment's surcharge that goes back with it (proportional, floored: §1.7). */
  readonly surchargeMinor: bigint;
  /** Part of the payment's installment-plan fee that goes back with it (same cumulative floors). */
  readonly planFeeMinor: bigint;
  /** Part that was the client's unapplied credit (an overpayment: a liability, not an invoice). */
  readonly fromCreditMinor: bigint;
  /** Each invoice and how much of its allocation is taken back now (what it owes again). */
  readonly invoices: readonly { readonly invoiceId: string; readonly amountMinor: bigint }[];
}

export class ReversalError extends Error {
  override readonly name = 'ReversalError';
}

/**
 * The surcharge share is computed on the invoice side of the payment only (gross minus what was left
 * unapplied), on cumulative totals, so that partial reversals adding up to everything give back exactly
 * the surcharge (ledger.ts surchargeShare); an installment-plan fee is shared the same way (planFeeShare).
 * The credit part carries neither.
 */
export function planReversal(input: ReversalInput): ReversalPlan {
  const { amountMinor: amount, currency } = input;
  if (amount <= 0n) throw new ReversalError('the amount to take back must be more than zero');
  const applied = input.allocations.reduce((s, a) => s + a.amountMinor, 0n);
  const planFee = input.planFeeMinor ?? 0n;
  const unapplied = input.grossMinor - input.surchargeMinor - planFee - applied;
  if (unapplied < 0n) throw new ReversalError('the allocations exceed what the payment brought in');
  const available = input.grossMinor - input.reversedBeforeMinor;
  if (amount > available) {
    throw new ReversalError(`only ${available} of the ${input.grossMinor} paid can still be taken back; ${amount} is more than that`);
  }
  const creditLeft = unapplied - input.creditReversedBeforeMinor;
  const invoicesLeft = input.allocations.reduce((s, a) => s + a.amountMinor - a.reversedMinor, 0n);
  const invoiceSideGross = input.grossMinor - unapplied; // principal applied + surcharge + plan fee
  const invoiceSideBefore = input.reversedBeforeMinor - input.creditReversedBeforeMinor;

  // How much of `amount` is credit: everything the credit can take first, or only what the invoice side
  // (principal + surcharge still there) cannot hold.
  const invoiceSideLeft = invoiceSideGross - invoiceSideBefore;
  const fromCredit = input.order === 'credit_first' ? min(amount, creditLeft) : max(0n, amount - invoiceSideLeft);
  if (fromCredit > creditLeft) throw new ReversalError('more than the unapplied credit would be taken back');
  const invoiceSide = amount - fromCredit;
  const original = {
    gross: money(invoiceSideGross, currency),
    surcharge: money(input.surchargeMinor, currency),
    planFee: money(planFee, currency),
    reversedBefore: money(invoiceSideBefore, currency),
  };
  const surcharge = invoiceSide === 0n ? 0n : surchargeShare(money(invoiceSide, currency), original).amountMinor;
  const fee = invoiceSide === 0n ? 0n : planFeeShare(money(invoiceSide, currency), original).amountMinor;
  let principal = invoiceSide - surcharge - fee;
  if (principal > invoicesLeft) throw new ReversalError('more than the invoices were paid would be taken back');

  // Latest allocation first: the invoice the client paid last is the one reopened first.
  const invoices: { invoiceId: string; amountMinor: bigint }[] = [];
  for (const a of [...input.allocations].reverse()) {
    if (principal === 0n) break;
    const take = min(principal, a.amountMinor - a.reversedMinor);
    if (take <= 0n) continue;
    invoices.push({ invoiceId: a.invoiceId, amountMinor: take });
    principal -= take;
  }
  return { amountMinor: amount, surchargeMinor: surcharge, planFeeMinor: fee, fromCreditMinor: fromCredit, invoices };
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
