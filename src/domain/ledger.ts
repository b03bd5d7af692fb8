// Double-entry postings for every money movement Settle sees, so "where did this cent go" always has
// an answer (ARCHITECTURE.md "Money"). Builders return balanced journals; nothing here knows which
// account in the MSP's books each ledger account maps to (that is the accounting connectors' job).
//
// The clearing-account pattern is payments-rules.md §5.3: payments are booked gross into a clearing
// account (QuickBooks calls it Undeposited Funds, Xero a "Stripe Clearing" account), fees come out
// of it as an expense, and the payout moves what is left to the bank, so clearing nets to zero per
// payout and the deposit equals the bank line.
import { MoneyError, divideRounded, money, type Currency, type Money } from './money.ts';

export const LEDGER_ACCOUNTS = {
  accounts_receivable: 'asset',
  /** Money at the processor, not yet paid out (QBO Undeposited Funds / Xero clearing, §5.3). */
  processor_clearing: 'asset',
  /** Funds the processor has withdrawn while a dispute is open: ours again if won, gone if lost. */
  disputed_funds: 'asset',
  bank: 'asset',
  /** What we owe clients who paid more than their invoices: a liability, not income. */
  client_credit: 'liability',
  /** Card surcharges are income of their own, never negative fees (§5.3, last paragraph). */
  surcharge_income: 'income',
  /** Installment-plan fees (engine/collect-installments.ts): income beyond the invoice, but not a surcharge. */
  installment_fee_income: 'income',
  /** Processor fees, ACH return fees and dispute fees: all land on the deposit's fee line. */
  processing_fees: 'expense',
  dispute_losses: 'expense',
  /** Discounts the MSP grants for paying by bank where it may not surcharge cards (§1.5): a cost, like a fee. */
  ach_discounts: 'expense',
} as const;

export type LedgerAccount = keyof typeof LEDGER_ACCOUNTS;
export type AccountKind = (typeof LEDGER_ACCOUNTS)[LedgerAccount];
export type Direction = 'debit' | 'credit';

export interface LedgerEntry {
  readonly account: LedgerAccount;
  readonly direction: Direction;
  readonly amount: Money; // never negative; the direction carries the sign
  readonly memo: string;
}

export type Journal = readonly LedgerEntry[];

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
}

/** Throws unless every amount is ≥ 0 and debits equal credits in each currency. */
export function assertBalanced(entries: Journal): void {
  const net = new Map<Currency, bigint>();
  for (const e of entries) {
    if (e.amount.amountMinor < 0n) {
      throw new LedgerError(`negative ${e.direction} of ${e.amount.amountMinor} on ${e.account}: the direction carries the sign`);
    }
    if (!Object.hasOwn(LEDGER_ACCOUNTS, e.account)) throw new LedgerError(`unknown ledger account "${e.account}"`);
    const signed = e.direction === 'debit' ? e.amount.amountMinor : -e.amount.amountMinor;
    net.set(e.amount.currency, (net.get(e.amount.currency) ?? 0n) + signed);
  }
  for (const [currency, diff] of net) {
    if (diff !== 0n) throw new LedgerError(`journal does not balance in ${currency}: debits − credits = ${diff}`);
  }
}

/** Debits minus credits on one account (positive = debit balance). */
export function accountBalance(entries: Journal, account: LedgerAccount, currency: Currency): Money {
  let total = 0n;
  for (const e of entries) {
    if (e.account !== account || e.amount.currency !== currency) continue;
    total += e.direction === 'debit' ? e.amount.amountMinor : -e.amount.amountMinor;
  }
  return money(total, currency);
}

// ---- builders -------------------------------------------------------------------------------

type Line = readonly [LedgerAccount, Direction, Money];

function build(memo: string, lines: readonly Line[]): Journal {
  const entries = lines
    .filter(([, , amount]) => amount.amountMinor !== 0n) // a zero line says nothing and clutters the books
    .map(([account, direction, amount]) => Object.freeze({ account, direction, amount, memo }));
  assertBalanced(entries);
  return Object.freeze(entries);
}

/** Dr `debit` / Cr `credit`, swapping sides when the amount is negative (a fee given back, a negative payout). */
function transfer(debit: LedgerAccount, credit: LedgerAccount, amount: Money): Line[] {
  return amount.amountMinor >= 0n
    ? [
        [debit, 'debit', amount],
        [credit, 'credit', amount],
      ]
    : [
        [credit, 'debit', money(-amount.amountMinor, amount.currency)],
        [debit, 'credit', money(-amount.amountMinor, amount.currency)],
      ];
}

function nonNegative(label: string, m: Money): void {
  if (m.amountMinor < 0n) throw new LedgerError(`${label} must not be negative (got ${m.amountMinor} ${m.currency})`);
}

function sameCurrency(base: Money, ...others: (Money | undefined)[]): void {
  for (const o of others) {
    if (o && o.currency !== base.currency) throw new MoneyError(`cannot combine ${base.currency} with ${o.currency}`);
  }
}

/** What was originally charged, for splitting a reversal between the invoice, the surcharge and a plan fee. */
export interface OriginalCharge {
  readonly gross: Money; // total charged, surcharge and plan fee included
  readonly surcharge: Money;
  /** An installment-plan fee charged with the payment (never together with a surcharge: migration 0034). */
  readonly planFee?: Money;
  /** Already reversed by earlier partial refunds / returns of this payment. */
  readonly reversedBefore?: Money;
}

/**
 * The surcharge part of a reversal of `amount`. Computed on cumulative totals
 * (floor(after·s/g) − floor(before·s/g)) so that partial refunds adding up to the full charge give
 * back exactly the surcharge, no cent more or less; refunds return the proportional surcharge
 * (payments-rules.md §1.7 "Refunds"), floored like the surcharge itself.
 */
export function surchargeShare(amount: Money, original: OriginalCharge): Money {
  return extraShare(amount, original, original.surcharge, 'surcharge');
}

/** The installment-plan fee's part of a reversal of `amount`: the same cumulative floors as the surcharge. */
export function planFeeShare(amount: Money, original: OriginalCharge): Money {
  return extraShare(amount, original, original.planFee ?? money(0n, amount.currency), 'plan fee');
}

function extraShare(amount: Money, original: OriginalCharge, extra: Money, what: string): Money {
  const before = original.reversedBefore ?? money(0n, amount.currency);
  sameCurrency(amount, original.gross, extra, before);
  nonNegative('reversal amount', amount);
  nonNegative('earlier reversals', before);
  const g = original.gross.amountMinor;
  const s = extra.amountMinor;
  if (s < 0n || s > g) throw new LedgerError(`${what} must lie between zero and the gross charge`);
  const after = before.amountMinor + amount.amountMinor;
  if (after > g) throw new LedgerError(`reversing ${after} in total exceeds the ${g} that was charged`);
  if (g === 0n) return money(0n, amount.currency);
  const share = (x: bigint): bigint => divideRounded(x * s, g, 'floor');
  return money(share(after) - share(before.amountMinor), amount.currency);
}

function reversal(amount: Money, original: OriginalCharge | undefined, principalAccount: LedgerAccount): Line[] {
  nonNegative('reversal amount', amount);
  const { surcharge, planFee, principal } = splitReversal(amount, original);
  return [
    [principalAccount, 'debit', principal],
    ['surcharge_income', 'debit', surcharge],
    ['installment_fee_income', 'debit', planFee],
    ['processor_clearing', 'credit', amount],
  ];
}

/** A reversal of `amount` split into the surcharge given back, the plan fee given back and the rest. */
function splitReversal(amount: Money, original: OriginalCharge | undefined): { surcharge: Money; planFee: Money; principal: Money } {
  const zero = money(0n, amount.currency);
  const surcharge = original ? surchargeShare(amount, original) : zero;
  const planFee = original ? planFeeShare(amount, original) : zero;
  const rest = amount.amountMinor - surcharge.amountMinor - planFee.amountMinor;
  if (rest < 0n) throw new LedgerError('the surcharge and plan fee shares exceed the amount reversed');
  return { surcharge, planFee, principal: money(rest, amount.currency) };
}

export const journal = {
  /**
   * The processor confirmed a payment: the gross lands in clearing; the surcharge is income; any
   * part not applied to invoices is the client's credit (an overpayment is a liability, allocation.ts).
   */
  paymentReceived(input: { gross: Money; surcharge?: Money; planFee?: Money; unapplied?: Money; memo: string }): Journal {
    const { gross, memo } = input;
    const surcharge = input.surcharge ?? money(0n, gross.currency);
    const planFee = input.planFee ?? money(0n, gross.currency);
    const unapplied = input.unapplied ?? money(0n, gross.currency);
    sameCurrency(gross, surcharge, planFee, unapplied);
    nonNegative('gross', gross);
    nonNegative('surcharge', surcharge);
    nonNegative('plan fee', planFee);
    nonNegative('unapplied amount', unapplied);
    const toInvoices = gross.amountMinor - surcharge.amountMinor - planFee.amountMinor - unapplied.amountMinor;
    if (toInvoices < 0n) throw new LedgerError('surcharge, plan fee and unapplied amount exceed the gross payment');
    return build(memo, [
      ['processor_clearing', 'debit', gross],
      ['accounts_receivable', 'credit', money(toInvoices, gross.currency)],
      ['surcharge_income', 'credit', surcharge],
      ['installment_fee_income', 'credit', planFee],
      ['client_credit', 'credit', unapplied],
    ]);
  },

  /**
   * A bank payment granted an ACH discount (§1.5): the invoices are paid in full (A/R credited with
   * received + discount, less any part no invoice needed), the clearing account holds only what was
   * received, and the discount is the MSP's expense.
   */
  paymentReceivedWithDiscount(input: { received: Money; discount: Money; unapplied?: Money; memo: string }): Journal {
    const { received, discount, memo } = input;
    const unapplied = input.unapplied ?? money(0n, received.currency);
    sameCurrency(received, discount, unapplied);
    nonNegative('received amount', received);
    nonNegative('discount', discount);
    nonNegative('unapplied amount', unapplied);
    const toInvoices = received.amountMinor + discount.amountMinor - unapplied.amountMinor;
    if (toInvoices < 0n) throw new LedgerError('the unapplied amount exceeds the payment and its discount');
    return build(memo, [
      ['processor_clearing', 'debit', received],
      ['ach_discounts', 'debit', discount],
      ['accounts_receivable', 'credit', money(toInvoices, received.currency)],
      ['client_credit', 'credit', unapplied],
    ]);
  },

  /** The processor's fee on a payment (negative when the processor gives a fee back). */
  processorFee(input: { fee: Money; memo: string }): Journal {
    return build(input.memo, transfer('processing_fees', 'processor_clearing', input.fee));
  },

  /** The processor paid out to the bank (negative when it debits the bank to cover a negative balance). */
  payout(input: { amount: Money; memo: string }): Journal {
    return build(input.memo, transfer('bank', 'processor_clearing', input.amount));
  },

  /**
   * A refund out of clearing, split back proportionally between the invoice side and the surcharge.
   * `against: 'client_credit'` when the money refunded was an unapplied overpayment.
   */
  refund(input: { amount: Money; original?: OriginalCharge; against?: 'accounts_receivable' | 'client_credit'; memo: string }): Journal {
    return build(input.memo, reversal(input.amount, input.original, input.against ?? 'accounts_receivable'));
  },

  /** An ACH return (§2.4): the payment is undone and the invoice owed again; the bank's return fee, if any, is a fee. */
  achReturn(input: { amount: Money; original?: OriginalCharge; returnFee?: Money; memo: string }): Journal {
    const fee = input.returnFee ?? money(0n, input.amount.currency);
    sameCurrency(input.amount, fee);
    nonNegative('return fee', fee);
    return build(input.memo, [...reversal(input.amount, input.original, 'accounts_receivable'), ...transfer('processing_fees', 'processor_clearing', fee)]);
  },

  /** A dispute opened: the processor withdraws the disputed amount and charges its dispute fee. */
  disputeOpened(input: { amount: Money; fee?: Money; memo: string }): Journal {
    const fee = input.fee ?? money(0n, input.amount.currency);
    sameCurrency(input.amount, fee);
    nonNegative('disputed amount', input.amount);
    nonNegative('dispute fee', fee);
    return build(input.memo, [
      ['disputed_funds', 'debit', input.amount],
      ['processor_clearing', 'credit', input.amount],
      ...transfer('processing_fees', 'processor_clearing', fee),
    ]);
  },

  /** Dispute won: the funds come back to clearing; some processors also return the fee. */
  disputeWon(input: { amount: Money; feeReturned?: Money; memo: string }): Journal {
    const feeReturned = input.feeReturned ?? money(0n, input.amount.currency);
    sameCurrency(input.amount, feeReturned);
    nonNegative('disputed amount', input.amount);
    nonNegative('returned fee', feeReturned);
    return build(input.memo, [
      ['processor_clearing', 'debit', input.amount],
      ['disputed_funds', 'credit', input.amount],
      ['processor_clearing', 'debit', feeReturned],
      ['processing_fees', 'credit', feeReturned],
    ]);
  },

  /**
   * Dispute lost: either the invoice is owed again (`reopen_invoice`, the usual B2B outcome: the client
   * still owes for the work) or the MSP writes the money off as a loss.
   */
  disputeLost(input: { amount: Money; treatment: 'reopen_invoice' | 'write_off'; original?: OriginalCharge; memo: string }): Journal {
    const { amount } = input;
    nonNegative('disputed amount', amount);
    if (input.treatment === 'write_off') {
      return build(input.memo, [
        ['dispute_losses', 'debit', amount],
        ['disputed_funds', 'credit', amount],
      ]);
    }
    const { surcharge, planFee, principal } = splitReversal(amount, input.original);
    return build(input.memo, [
      ['accounts_receivable', 'debit', principal],
      ['surcharge_income', 'debit', surcharge],
      ['installment_fee_income', 'debit', planFee],
      ['disputed_funds', 'credit', amount],
    ]);
  },

  /** Part of a payment already credited to invoices turned out to be more than they owed. */
  overpaymentToCredit(input: { amount: Money; memo: string }): Journal {
    nonNegative('overpayment', input.amount);
    return build(input.memo, transfer('accounts_receivable', 'client_credit', input.amount));
  },

  /** A client's credit balance applied to an invoice. */
  creditApplied(input: { amount: Money; memo: string }): Journal {
    nonNegative('credit applied', input.amount);
    return build(input.memo, transfer('client_credit', 'accounts_receivable', input.amount));
  },
} as const;
