// Reconciling a processor payout: the lump sum that hits the bank is broken back into the payments it
// carries (gross), the fees taken, and everything else (refunds, dispute withdrawals, adjustments),
// so it can be posted as one deposit that equals the bank line (payments-rules.md §5.3: "Build
// payouts from the processor's balance transactions … so each payout is a list we can post as one
// deposit"). The check is exact to the cent; a difference is reported, never absorbed.
import { money, type Currency, type Money } from './money.ts';

/** Same vocabulary as the payments role's PayoutItem, so its items can be passed straight in. */
export type PayoutItemType = 'charge' | 'payment' | 'refund' | 'adjustment' | 'fee' | 'other';

export interface PayoutLine {
  readonly balanceTransactionId: string;
  readonly type: PayoutItemType;
  readonly processorPaymentId: string | null;
  readonly gross: Money;
  readonly fee: Money; // positive = taken by the processor
  readonly net: Money;
}

export interface PaymentGross {
  readonly processorPaymentId: string;
  readonly gross: Money;
}

export interface DepositComposition {
  /** Gross per payment, in first-seen order (a payment with several charges is summed). */
  readonly payments: readonly PaymentGross[];
  readonly paymentsGross: Money;
  /** Positive = cost: fees on every item plus stand-alone fee items. Posted as the deposit's negative fee line. */
  readonly fees: Money;
  /** Signed: refunds and dispute withdrawals are negative, reversals positive. */
  readonly adjustments: Money;
}

export type PayoutProblem =
  | { readonly kind: 'currency_mismatch'; readonly balanceTransactionId: string; readonly expected: Currency; readonly got: Currency }
  | { readonly kind: 'item_arithmetic'; readonly balanceTransactionId: string; readonly gross: Money; readonly fee: Money; readonly net: Money }
  | { readonly kind: 'payment_without_id'; readonly balanceTransactionId: string }
  | { readonly kind: 'duplicate_item'; readonly balanceTransactionId: string }
  | {
      readonly kind: 'amount_mismatch';
      readonly payoutAmount: Money;
      /** paymentsGross − fees + adjustments */
      readonly computed: Money;
      /** payoutAmount − computed: positive means the bank got more than the items explain. */
      readonly difference: Money;
      readonly composition: DepositComposition;
    };

export type PayoutReconciliation =
  { readonly ok: true; readonly composition: DepositComposition } | { readonly ok: false; readonly problems: readonly PayoutProblem[] };

function checkItems(payoutAmount: Money, items: readonly PayoutLine[]): PayoutProblem[] {
  const problems: PayoutProblem[] = [];
  const currency = payoutAmount.currency;
  const seen = new Set<string>();
  for (const it of items) {
    const id = it.balanceTransactionId;
    // The processor's list can repeat an item when a page is re-read; counting it twice would be wrong.
    if (seen.has(id)) problems.push({ kind: 'duplicate_item', balanceTransactionId: id });
    seen.add(id);
    const wrong = [it.gross, it.fee, it.net].find((m) => m.currency !== currency);
    if (wrong) {
      problems.push({ kind: 'currency_mismatch', balanceTransactionId: id, expected: currency, got: wrong.currency });
      continue;
    }
    if (it.gross.amountMinor - it.fee.amountMinor !== it.net.amountMinor) {
      problems.push({ kind: 'item_arithmetic', balanceTransactionId: id, gross: it.gross, fee: it.fee, net: it.net });
    }
    if ((it.type === 'charge' || it.type === 'payment') && it.processorPaymentId === null) {
      problems.push({ kind: 'payment_without_id', balanceTransactionId: id });
    }
  }
  return problems;
}

/** Break the items into payments / fees / adjustments (items must already share one currency). */
export function composeDeposit(currency: Currency, items: readonly PayoutLine[]): DepositComposition {
  const byPayment = new Map<string, bigint>();
  let paymentsGross = 0n;
  let fees = 0n;
  let adjustments = 0n;
  for (const it of items) {
    fees += it.fee.amountMinor;
    switch (it.type) {
      case 'charge':
      case 'payment': {
        const key = it.processorPaymentId ?? it.balanceTransactionId;
        byPayment.set(key, (byPayment.get(key) ?? 0n) + it.gross.amountMinor);
        paymentsGross += it.gross.amountMinor;
        break;
      }
      case 'fee':
        // A stand-alone fee (e.g. a monthly processor fee) carries its cost as a negative gross.
        fees -= it.gross.amountMinor;
        break;
      case 'refund':
      case 'adjustment':
      case 'other':
        adjustments += it.gross.amountMinor;
        break;
      default: {
        const _: never = it.type;
        throw new Error(`unhandled payout item type ${String(_)}`);
      }
    }
  }
  return {
    payments: [...byPayment].map(([processorPaymentId, gross]) => ({ processorPaymentId, gross: money(gross, currency) })),
    paymentsGross: money(paymentsGross, currency),
    fees: money(fees, currency),
    adjustments: money(adjustments, currency),
  };
}

/** Net effect of a composition on the bank: paymentsGross − fees + adjustments. */
export function depositTotal(c: DepositComposition): Money {
  return money(c.paymentsGross.amountMinor - c.fees.amountMinor + c.adjustments.amountMinor, c.paymentsGross.currency);
}

export function reconcilePayout(payoutAmount: Money, items: readonly PayoutLine[]): PayoutReconciliation {
  const problems = checkItems(payoutAmount, items);
  if (problems.length > 0) return { ok: false, problems };
  const composition = composeDeposit(payoutAmount.currency, items);
  const computed = depositTotal(composition);
  if (computed.amountMinor !== payoutAmount.amountMinor) {
    const difference = money(payoutAmount.amountMinor - computed.amountMinor, payoutAmount.currency);
    return { ok: false, problems: [{ kind: 'amount_mismatch', payoutAmount, computed, difference, composition }] };
  }
  return { ok: true, composition };
}
