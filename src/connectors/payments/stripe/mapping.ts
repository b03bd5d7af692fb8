// Pure Stripe ↔ Settle translation. Every Stripe status is mapped explicitly; the compiler rejects an
// unhandled one (`const _: never`). Amounts are integer minor units on both sides.
import type Stripe from 'stripe';
import { money, parseCurrency, type Currency, type Money } from '../../../domain/money.ts';
import type { VendorError } from '../../http.ts';
import type { BankVerification, CardFunding, ChargeOutcome, PaymentStatus, Payout, PayoutItem, SavedMethod } from '../types.ts';

/** Stripe amounts are integers in the currency's smallest unit (docs.stripe.com/currencies#zero-decimal). */
export function toStripeAmount(m: Money): { amount: number; currency: string } {
  const n = Number(m.amountMinor);
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`cannot send ${m.amountMinor} ${m.currency} to Stripe`);
  return { amount: n, currency: m.currency.toLowerCase() };
}

export function fromStripeAmount(amount: number, currency: string): Money {
  return money(BigInt(amount), parseCurrency(currency));
}

const idOf = (v: string | { id: string } | null | undefined): string | null => (v == null ? null : typeof v === 'string' ? v : v.id);

export type StripeIntentStatus =
  'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'requires_capture' | 'canceled' | 'succeeded';

/** A `verify_with_microdeposits` next action: the hosted page where the client confirms the deposits, and when they land. */
export function bankVerification(next: Stripe.PaymentIntent['next_action'] | undefined): BankVerification | null {
  const v = next?.type === 'verify_with_microdeposits' ? next.verify_with_microdeposits : undefined;
  if (!v?.hosted_verification_url) return null;
  return { url: v.hosted_verification_url, arrivalDate: typeof v.arrival_date === 'number' ? new Date(v.arrival_date * 1000) : null };
}

/** What a PaymentIntent's state means for the attempt behind it. */
export function intentOutcome(
  pi: Pick<Stripe.PaymentIntent, 'id' | 'status' | 'last_payment_error' | 'latest_charge' | 'client_secret' | 'cancellation_reason'> & {
    next_action?: Stripe.PaymentIntent['next_action'] | undefined;
  },
): ChargeOutcome {
  const status = pi.status as StripeIntentStatus;
  switch (status) {
    case 'succeeded':
      return { kind: 'succeeded', processorPaymentId: pi.id, chargeId: idOf(pi.latest_charge) };
    case 'processing':
      // ACH debits wait here until the bank settles or returns them.
      return { kind: 'processing', processorPaymentId: pi.id };
    case 'requires_capture':
      // Authorised but not captured: no money has moved yet. Settle never asks for manual capture.
      return { kind: 'processing', processorPaymentId: pi.id };
    case 'requires_payment_method': {
      const e = pi.last_payment_error;
      if (e)
        return {
          kind: 'declined',
          processorPaymentId: pi.id,
          declineCode: e.decline_code ?? e.code ?? null,
          message: e.message ?? 'The payment was declined.',
        };
      // Never attempted: the client has not entered a method yet (portal payment awaiting the client).
      return { kind: 'requires_action', processorPaymentId: pi.id, clientSecret: pi.client_secret ?? '' };
    }
    case 'requires_confirmation':
    case 'requires_action': {
      const verification = bankVerification(pi.next_action);
      return { kind: 'requires_action', processorPaymentId: pi.id, clientSecret: pi.client_secret ?? '', ...(verification ? { verification } : {}) };
    }
    case 'canceled':
      // A canceled intent moved no money; nothing was charged.
      return { kind: 'not_sent', reason: `payment canceled at Stripe${pi.cancellation_reason ? ` (${pi.cancellation_reason})` : ''}` };
    default: {
      const _: never = status;
      throw new Error(`unknown PaymentIntent status ${String(_)}`);
    }
  }
}

export function paymentStatus(pi: Stripe.PaymentIntent): PaymentStatus {
  return { processorPaymentId: pi.id, outcome: intentOutcome(pi), amount: fromStripeAmount(pi.amount, pi.currency), metadata: { ...pi.metadata } };
}

/**
 * The outcome of a charge call that failed. Only answers that prove what happened are definite:
 * a 402 card_error is a decline; 400/401/403/404 and 429 mean Stripe did not act. A timeout, a dropped
 * connection or a 5xx after the request was sent may or may not have charged: unknown, resolved later
 * by asking Stripe (getPayment / findPaymentsByMetadata).
 */
export function failureOutcome(err: VendorError): ChargeOutcome {
  const raw = (err.body ?? {}) as { type?: string; decline_code?: string; code?: string; message?: string; payment_intent?: { id?: string } };
  if (err.status === 402 || raw.type === 'card_error') {
    return {
      kind: 'declined',
      processorPaymentId: raw.payment_intent?.id ?? null,
      declineCode: raw.decline_code ?? raw.code ?? null,
      message: raw.message ?? 'The card was declined.',
    };
  }
  switch (err.kind) {
    case 'timeout':
    case 'server':
      return { kind: 'unknown', reason: `${err.kind}: ${err.message}` };
    case 'network':
      // Refused connections never reached Stripe; anything else may have after the request left.
      return err.vendorCode === 'ECONNREFUSED' ? { kind: 'not_sent', reason: err.message } : { kind: 'unknown', reason: `network: ${err.message}` };
    case 'conflict':
      // The idempotency key was already used: some earlier request with it exists at Stripe. Ask, don't guess.
      return { kind: 'unknown', reason: `idempotency conflict (${err.vendorCode ?? err.status}): ${err.message}` };
    case 'rate_limited':
    case 'auth':
    case 'not_found':
    case 'invalid':
      return { kind: 'not_sent', reason: `${err.kind} (${err.status ?? '-'}${err.vendorCode ? ` ${err.vendorCode}` : ''}): ${err.message}` };
    default: {
      const _: never = err.kind;
      throw new Error(`unknown failure kind ${String(_)}`);
    }
  }
}

const FUNDING: Record<string, CardFunding> = { credit: 'credit', debit: 'debit', prepaid: 'prepaid', unknown: 'unknown' };

/** A PaymentMethod as Settle stores it (token, brand, last4, funding; never numbers). Other types → null. */
export function savedMethod(pm: Stripe.PaymentMethod): SavedMethod | null {
  if (pm.type === 'card' && pm.card) {
    return {
      processorMethodId: pm.id,
      kind: 'card',
      brand: pm.card.brand,
      last4: pm.card.last4,
      // Unrecognised funding values are not credit: surcharging must treat them as unknown (payments-rules.md §1.6).
      funding: FUNDING[pm.card.funding] ?? 'unknown',
      expMonth: pm.card.exp_month,
      expYear: pm.card.exp_year,
    };
  }
  if (pm.type === 'us_bank_account' && pm.us_bank_account) {
    return {
      processorMethodId: pm.id,
      kind: 'us_bank_account',
      brand: pm.us_bank_account.bank_name ?? null,
      last4: pm.us_bank_account.last4 ?? '',
      funding: null,
      expMonth: null,
      expYear: null,
    };
  }
  return null;
}

export function isoDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

export function payoutOf(po: Stripe.Payout): Payout {
  return { payoutId: po.id, amount: fromStripeAmount(po.amount, po.currency), arrivalDate: isoDate(po.arrival_date), status: po.status };
}

/** Balance transaction types of API 2023-08-16 (spec3.yaml › components › schemas › balance_transaction › type). */
export const BALANCE_TRANSACTION_TYPES = [
  'adjustment',
  'advance',
  'advance_funding',
  'anticipation_repayment',
  'application_fee',
  'application_fee_refund',
  'charge',
  'connect_collection_transfer',
  'contribution',
  'issuing_authorization_hold',
  'issuing_authorization_release',
  'issuing_dispute',
  'issuing_transaction',
  'obligation_inbound',
  'obligation_outbound',
  'obligation_payout',
  'obligation_payout_failure',
  'obligation_reversal_inbound',
  'obligation_reversal_outbound',
  'payment',
  'payment_failure_refund',
  'payment_refund',
  'payment_reversal',
  'payout',
  'payout_cancel',
  'payout_failure',
  'refund',
  'refund_failure',
  'reserve_transaction',
  'reserved_funds',
  'stripe_fee',
  'stripe_fx_fee',
  'tax_fee',
  'topup',
  'topup_reversal',
  'transfer',
  'transfer_cancel',
  'transfer_failure',
  'transfer_refund',
] as const;
export type BalanceTransactionType = (typeof BALANCE_TRANSACTION_TYPES)[number];

/** Where each balance transaction type lands among a payout's items; 'payout' is the payout itself. */
const ITEM_TYPE: Record<BalanceTransactionType, PayoutItem['type'] | 'payout'> = {
  charge: 'charge',
  payment: 'payment', // ACH Direct Debit and other non-card payments (py_…)
  refund: 'refund',
  payment_refund: 'refund',
  adjustment: 'adjustment', // disputes and their reversals, corrections
  payment_failure_refund: 'adjustment', // an ACH debit that failed after it was credited
  payment_reversal: 'adjustment',
  refund_failure: 'adjustment', // a refund the bank sent back: the money returns to the balance
  stripe_fee: 'fee',
  stripe_fx_fee: 'fee',
  tax_fee: 'fee',
  payout: 'payout',
  payout_cancel: 'other',
  payout_failure: 'other', // an earlier payout that bounced: its funds are paid out again here
  advance: 'other',
  advance_funding: 'other',
  anticipation_repayment: 'other',
  application_fee: 'other',
  application_fee_refund: 'other',
  connect_collection_transfer: 'other',
  contribution: 'other',
  issuing_authorization_hold: 'other',
  issuing_authorization_release: 'other',
  issuing_dispute: 'other',
  issuing_transaction: 'other',
  obligation_inbound: 'other',
  obligation_outbound: 'other',
  obligation_payout: 'other',
  obligation_payout_failure: 'other',
  obligation_reversal_inbound: 'other',
  obligation_reversal_outbound: 'other',
  reserve_transaction: 'other',
  reserved_funds: 'other',
  topup: 'other',
  topup_reversal: 'other',
  transfer: 'other',
  transfer_cancel: 'other',
  transfer_failure: 'other',
  transfer_refund: 'other',
};

function isKnownType(t: string): t is BalanceTransactionType {
  return Object.hasOwn(ITEM_TYPE, t);
}

/** The PaymentIntent behind a balance transaction's source (when `expand[]=data.source` was asked). */
function paymentIntentOfSource(source: Stripe.BalanceTransaction['source']): string | null {
  if (!source || typeof source === 'string') return null;
  const pi = (source as { payment_intent?: string | { id: string } | null }).payment_intent;
  return idOf(pi ?? null);
}

/**
 * One balance transaction of a payout as a PayoutItem, or null for the payout's own transaction
 * (Stripe lists it too, amount = −payout.amount; it is the payout, not part of what makes it up).
 */
export function payoutItem(bt: Stripe.BalanceTransaction, currency: Currency): PayoutItem | null {
  const type = isKnownType(bt.type) ? ITEM_TYPE[bt.type] : 'other';
  if (type === 'payout') return null;
  if (parseCurrency(bt.currency) !== currency) {
    throw new Error(`balance transaction ${bt.id} is in ${bt.currency}, the payout in ${currency}`);
  }
  return {
    balanceTransactionId: bt.id,
    type,
    processorPaymentId: paymentIntentOfSource(bt.source),
    gross: money(BigInt(bt.amount), currency),
    fee: money(BigInt(bt.fee), currency),
    net: money(BigInt(bt.net), currency),
  };
}
