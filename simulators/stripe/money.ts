// Balance transactions, refunds, disputes and payouts: the money side Settle reconciles.
// Every movement of the account balance is a balance transaction (amount, fee, net = amount − fee);
// a payout sweeps the not-yet-paid-out ones and records which it took, so
// GET /v1/balance_transactions?payout=po_… lists exactly what the payout is made of.
import { DISPUTE_FEE_CENTS, processingFee, type FeeKind } from './fees.ts';
import { paramError, stateError } from './errors.ts';
import { EVIDENCE_FIELDS, type BalanceTransaction, type Charge, type Dispute, type Payout, type Refund } from './objects.ts';
import { AUTOMATIC, type Cause, type StripeStore } from './store.ts';

const DAY = 86_400;

/** Midnight UTC `days` after `at`: Stripe's available_on is a day boundary. */
export function dayBoundary(at: number, days: number): number {
  return (Math.floor(at / DAY) + days) * DAY;
}

/**
 * Days until funds are available (approximation of Stripe's US standard schedule, weekends ignored):
 * cards 2 business days; ACH Direct Debit "typically takes 4 business days to arrive"
 * (docs.stripe.com/payments/ach-direct-debit).
 */
export const AVAILABLE_AFTER_DAYS: Record<FeeKind, number> = { card: 2, us_bank_account: 4 };

function addBalanceTransaction(store: StripeStore, bt: Omit<BalanceTransaction, 'id' | 'object' | 'status' | 'exchange_rate'>): BalanceTransaction {
  const full: BalanceTransaction = { id: store.newId('txn'), object: 'balance_transaction', exchange_rate: null, status: 'pending', ...bt };
  store.balanceTransactions.set(full.id, full);
  return store.renderBalanceTransaction(full);
}

/** The balance transaction of a successful charge: gross amount, Stripe's fee, net. */
export function recordChargeFunds(store: StripeStore, charge: Charge, kind: FeeKind): BalanceTransaction {
  const fee = Number(processingFee(kind, BigInt(charge.amount)));
  const now = store.now();
  const bt = addBalanceTransaction(store, {
    amount: charge.amount,
    available_on: dayBoundary(now, AVAILABLE_AFTER_DAYS[kind]),
    created: now,
    currency: charge.currency,
    description: charge.description,
    fee,
    fee_details: fee > 0 ? [{ amount: fee, application: null, currency: charge.currency, description: 'Stripe processing fees', type: 'stripe_fee' }] : [],
    net: charge.amount - fee,
    reporting_category: 'charge',
    source: charge.id,
    // ACH Direct Debit charges are `py_` payments with balance transactions of type `payment`.
    type: kind === 'card' ? 'charge' : 'payment',
  });
  charge.balance_transaction = bt.id;
  return bt;
}

export function createRefund(
  store: StripeStore,
  charge: Charge,
  input: { amount?: number; reason?: string | null; metadata: Record<string, string> },
  cause: Cause,
): Refund {
  if (charge.status !== 'succeeded') {
    throw stateError(`Charge ${charge.id} has not succeeded, so it cannot be refunded.`, 'charge_not_refundable', 'charge');
  }
  // Stripe refuses to refund a charge whose dispute has withdrawn the funds (is_charge_refundable false),
  // with `charge_disputed`; a won dispute gives them back. The soak refunded a debit its account holder
  // had already disputed, which Stripe would never have let happen.
  const dispute = charge.disputed ? [...store.disputes.values()].find((d) => d.charge === charge.id) : undefined;
  if (dispute && !dispute.is_charge_refundable && dispute.status !== 'won') {
    throw stateError(`Charge ${charge.id} has been charged back; cannot issue a refund.`, 'charge_disputed', 'charge');
  }
  const remaining = charge.amount - charge.amount_refunded;
  if (remaining <= 0) throw stateError(`Charge ${charge.id} has already been refunded.`, 'charge_already_refunded', 'charge');
  const amount = input.amount ?? remaining;
  if (amount <= 0) throw paramError('Refund amount must be positive.', 'amount', 'parameter_invalid_integer');
  if (amount > remaining) {
    throw stateError(
      `Refund amount ($${(amount / 100).toFixed(2)}) is greater than unrefunded amount on charge ($${(remaining / 100).toFixed(2)})`,
      'amount_too_large',
      'amount',
    );
  }
  const now = store.now();
  const refund: Refund = {
    id: store.newId('re'),
    object: 'refund',
    amount,
    balance_transaction: null,
    charge: charge.id,
    created: now,
    currency: charge.currency,
    metadata: input.metadata,
    payment_intent: charge.payment_intent,
    reason: input.reason ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  };
  // US card refunds do not return the original processing fee: the refund transaction has fee 0.
  const bt = addBalanceTransaction(store, {
    amount: -amount,
    available_on: now,
    created: now,
    currency: charge.currency,
    description: 'REFUND FOR CHARGE',
    fee: 0,
    fee_details: [],
    net: -amount,
    reporting_category: 'refund',
    source: refund.id,
    type: 'refund',
  });
  refund.balance_transaction = bt.id;
  store.refunds.set(refund.id, refund);
  const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded === charge.amount;
  store.emit('refund.created', refund, cause);
  store.emit('charge.refunded', charge, cause, previous);
  return refund;
}

/** The cardholder (or account holder) disputes a charge: funds and the dispute fee are withdrawn. */
export function createDispute(store: StripeStore, charge: Charge, input: { reason?: string; amount?: number }, cause: Cause = AUTOMATIC): Dispute {
  if (charge.status !== 'succeeded') throw paramError(`Charge ${charge.id} has not succeeded; nothing to dispute.`, 'charge');
  if (charge.disputed) throw paramError(`Charge ${charge.id} is already disputed.`, 'charge');
  const amount = input.amount ?? charge.amount - charge.amount_refunded;
  const now = store.now();
  const id = store.newId('dp');
  const fee = Number(DISPUTE_FEE_CENTS);
  const bt = addBalanceTransaction(store, {
    amount: -amount,
    available_on: now,
    created: now,
    currency: charge.currency,
    description: `Chargeback withdrawal for ${charge.id}`,
    fee,
    fee_details: [{ amount: fee, application: null, currency: charge.currency, description: 'Dispute fee', type: 'stripe_fee' }],
    net: -amount - fee,
    reporting_category: 'dispute',
    source: id,
    type: 'adjustment',
  });
  const card = charge.payment_method_details.card;
  const dispute: Dispute = {
    id,
    object: 'dispute',
    amount,
    balance_transactions: [structuredClone(bt)],
    charge: charge.id,
    created: now,
    currency: charge.currency,
    evidence: Object.fromEntries(EVIDENCE_FIELDS.map((f) => [f, null])),
    evidence_details: { due_by: dayBoundary(now, 8) - 1, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: charge.payment_intent,
    ...(card ? { payment_method_details: { type: 'card' as const, card: { brand: card.brand, network_reason_code: '10.4' } } } : {}),
    reason: input.reason ?? (card ? 'fraudulent' : 'debit_not_authorized'),
    status: 'needs_response',
  };
  store.disputes.set(id, dispute);
  charge.disputed = true;
  store.emit('charge.dispute.created', dispute, cause);
  store.emit('charge.dispute.funds_withdrawn', dispute, cause);
  return dispute;
}

/**
 * The issuer decides a dispute (or the merchant accepts it: POST /v1/disputes/{id}/close → lost).
 * Won: the disputed amount comes back as a second balance transaction (`adjustment`, reporting
 * category dispute_reversal) and `charge.dispute.funds_reinstated` is sent; the dispute fee stays
 * withdrawn (Stripe's current US pricing keeps it; verify for other markets). Lost: nothing moves
 * again. Either way `charge.dispute.closed` follows. A closed dispute cannot be closed again.
 */
export function closeDispute(store: StripeStore, dispute: Dispute, outcome: 'won' | 'lost', cause: Cause = AUTOMATIC): Dispute {
  if (dispute.status === 'won' || dispute.status === 'lost') {
    throw stateError(`This dispute is already closed (${dispute.status}).`, 'dispute_already_closed');
  }
  const previous = { status: dispute.status };
  if (outcome === 'won') {
    const now = store.now();
    const bt = addBalanceTransaction(store, {
      amount: dispute.amount,
      available_on: now,
      created: now,
      currency: dispute.currency,
      description: `Chargeback reversal for ${dispute.charge}`,
      fee: 0,
      fee_details: [],
      net: dispute.amount,
      reporting_category: 'dispute_reversal',
      source: dispute.id,
      type: 'adjustment',
    });
    dispute.balance_transactions.push(structuredClone(bt));
    dispute.status = 'won';
    store.emit('charge.dispute.funds_reinstated', dispute, cause);
  } else {
    dispute.status = 'lost';
  }
  dispute.is_charge_refundable = false;
  store.emit('charge.dispute.closed', dispute, cause, previous);
  return dispute;
}

export interface PayoutRunOptions {
  readonly currency?: string | undefined;
  /** Only sweep transactions whose available_on has passed (Stripe's rule); default sweeps all unpaid ones. */
  readonly onlyAvailable?: boolean | undefined;
  /** Make the bank reject the payout (Stripe test bank failure codes, docs.stripe.com/connect/testing). */
  readonly fail?: boolean | undefined;
  readonly failureCode?: undefined | 'account_closed' | 'no_account' | 'insufficient_funds' | 'debit_not_authorized' | 'invalid_currency';
}

const PAYOUT_FAILURE_MESSAGES: Record<NonNullable<PayoutRunOptions['failureCode']>, string> = {
  account_closed: 'The bank account has been closed.',
  no_account: 'The bank account details on file are probably incorrect. No bank account could be located with those details.',
  insufficient_funds: 'Your Stripe account has insufficient funds to cover the payout.',
  debit_not_authorized: 'Debit transactions are not approved on the bank account.',
  invalid_currency: 'The bank was unable to process this payout because of its currency.',
};

/**
 * Pay out the balance: one payout per currency for every balance transaction not yet paid out.
 * Emits payout.created, then payout.paid (or payout.failed, whose funds come back as a
 * `payout_failure` transaction that the next payout includes, as at Stripe).
 */
export function runPayout(store: StripeStore, opts: PayoutRunOptions = {}): Payout | null {
  const currency = (opts.currency ?? 'usd').toLowerCase();
  const now = store.now();
  const swept = [...store.balanceTransactions.values()].filter(
    (bt) => bt.currency === currency && bt.type !== 'payout' && !store.paidOutBy.has(bt.id) && (!opts.onlyAvailable || bt.available_on <= now),
  );
  const amount = swept.reduce((s, bt) => s + bt.net, 0);
  if (swept.length === 0 || amount <= 0) return null;
  const id = store.newId('po');
  const payoutTxn = addBalanceTransaction(store, {
    amount: -amount,
    available_on: now,
    created: now,
    currency,
    description: 'STRIPE PAYOUT',
    fee: 0,
    fee_details: [],
    net: -amount,
    reporting_category: 'payout',
    source: id,
    type: 'payout',
  });
  const payout: Payout = {
    id,
    object: 'payout',
    amount,
    arrival_date: dayBoundary(now, 1),
    automatic: true,
    balance_transaction: payoutTxn.id,
    created: now,
    currency,
    description: 'STRIPE PAYOUT',
    destination: 'ba_1SimulatedBankAcct0001',
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: {},
    method: 'standard',
    original_payout: null,
    reconciliation_status: 'in_progress',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: null,
    status: 'pending',
    type: 'bank_account',
  };
  store.payouts.set(id, payout);
  for (const bt of swept) store.paidOutBy.set(bt.id, id);
  // The payout's own transaction is listed under ?payout= too (type "payout", amount = −payout.amount).
  store.paidOutBy.set(payoutTxn.id, id);
  store.emit('payout.created', payout, AUTOMATIC);
  if (opts.fail) {
    const code = opts.failureCode ?? 'account_closed';
    const back = addBalanceTransaction(store, {
      amount,
      available_on: now,
      created: now,
      currency,
      description: 'STRIPE PAYOUT FAILURE',
      fee: 0,
      fee_details: [],
      net: amount,
      reporting_category: 'payout_reversal',
      source: id,
      type: 'payout_failure',
    });
    Object.assign(payout, {
      status: 'failed',
      failure_code: code,
      failure_message: PAYOUT_FAILURE_MESSAGES[code],
      failure_balance_transaction: back.id,
      reconciliation_status: 'completed',
    } satisfies Partial<Payout>);
    store.emit('payout.failed', payout, AUTOMATIC, { status: 'pending' });
    return payout;
  }
  payout.status = 'paid';
  payout.reconciliation_status = 'completed';
  store.emit('payout.paid', payout, AUTOMATIC, { status: 'pending' });
  store.emit('payout.reconciliation_completed', payout, AUTOMATIC);
  return payout;
}
