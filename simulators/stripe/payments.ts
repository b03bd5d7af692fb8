// PaymentIntents and SetupIntents: confirmation, card outcomes from the test numbers, ACH Direct
// Debit's `processing` → succeeded/failed settlement, mandates, cancellation.
import { docUrl, paramError, StripeApiError, stateError } from './errors.ts';
import { createBankMethodMandate, requireMandate } from './mandates.ts';
import { attach } from './methods.ts';
import { createDispute, recordChargeFunds } from './money.ts';
import type { ApiErrorObject, Charge, ChargeDetails, PaymentIntent, PaymentMethod, SetupIntent } from './objects.ts';
import { AUTOMATIC, type Behaviour, type Cause, type StripeStore } from './store.ts';
import type { BankBehaviour, CardBehaviour } from './test-methods.ts';
import type { FormObject } from './form.ts';

export interface ConfirmOptions {
  readonly offSession: boolean;
  readonly mandateData: FormObject | undefined;
  readonly mandateId: string | undefined;
}

/** `payment_method_options[us_bank_account][verification_method]` as the intent holds it. */
function verificationMethod(intent: PaymentIntent | SetupIntent): string {
  const v = intent.payment_method_options['us_bank_account']?.['verification_method'];
  return typeof v === 'string' ? v : 'automatic';
}

/**
 * A bank account entered by its numbers has not been verified: `instant` needs a Financial Connections
 * link (refused), otherwise the intent waits for the customer to confirm the microdeposits.
 */
function needsMicrodeposits(store: StripeStore, intent: PaymentIntent | SetupIntent, pm: PaymentMethod): boolean {
  if (pm.type !== 'us_bank_account' || !store.unverifiedBanks.has(pm.id)) return false;
  if (verificationMethod(intent) === 'instant') {
    throw paramError(
      'This bank account was entered by its account and routing numbers, which cannot be verified instantly. Collect it with Financial Connections, or use verification_method automatic or microdeposits.',
      'payment_method_options[us_bank_account][verification_method]',
      'payment_method_invalid_parameter',
    );
  }
  return true;
}

export interface AchScheduler {
  /** Called when an ACH debit enters `processing`; settles it later unless told otherwise. */
  scheduleSettlement(paymentIntentId: string): void;
}

function behaviourOf(store: StripeStore, pm: PaymentMethod): Behaviour {
  const b = store.behaviour.get(pm.id);
  if (b) return b;
  return pm.type === 'card' ? { rail: 'card', card: { kind: 'succeed' } } : { rail: 'bank', bank: { kind: 'succeed' } };
}

function chargeDetails(pm: PaymentMethod): ChargeDetails {
  if (pm.card) {
    const c = pm.card;
    return {
      type: 'card',
      card: {
        brand: c.brand,
        checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
        country: c.country,
        exp_month: c.exp_month,
        exp_year: c.exp_year,
        fingerprint: c.fingerprint,
        funding: c.funding,
        installments: null,
        last4: c.last4,
        mandate: null,
        network: c.brand,
        network_token: { used: false },
        three_d_secure: null,
        wallet: null,
      },
    };
  }
  const b = pm.us_bank_account;
  if (!b) throw new Error(`payment method ${pm.id} has no details`);
  return {
    type: 'us_bank_account',
    us_bank_account: {
      account_holder_type: b.account_holder_type,
      account_type: b.account_type,
      bank_name: b.bank_name,
      fingerprint: b.fingerprint,
      last4: b.last4,
      routing_number: b.routing_number,
    },
  };
}

function newCharge(store: StripeStore, pi: PaymentIntent, pm: PaymentMethod, status: Charge['status']): Charge {
  const id = store.newId(pm.type === 'card' ? 'ch' : 'py');
  const charge: Charge = {
    id,
    object: 'charge',
    amount: pi.amount,
    amount_captured: status === 'failed' ? 0 : pi.amount,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: structuredClone(pm.billing_details),
    calculated_statement_descriptor: 'SETTLE SIMULATOR',
    captured: status !== 'failed',
    created: store.now(),
    currency: pi.currency,
    customer: pi.customer,
    description: pi.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    invoice: null,
    livemode: false,
    metadata: { ...pi.metadata },
    on_behalf_of: null,
    outcome:
      status === 'failed'
        ? null
        : {
            network_status: 'approved_by_network',
            reason: null,
            risk_level: 'normal',
            risk_score: 32,
            seller_message: 'Payment complete.',
            type: 'authorized',
          },
    paid: status === 'succeeded',
    payment_intent: pi.id,
    payment_method: pm.id,
    payment_method_details: chargeDetails(pm),
    receipt_email: pi.receipt_email,
    receipt_number: null,
    receipt_url: `https://pay.stripe.com/receipts/payment/${id}`,
    refunded: false,
    review: null,
    shipping: null,
    source_transfer: null,
    statement_descriptor: pi.statement_descriptor,
    statement_descriptor_suffix: pi.statement_descriptor_suffix,
    status,
    transfer_data: null,
    transfer_group: null,
  };
  store.charges.set(id, charge);
  pi.latest_charge = id;
  return charge;
}

function succeed(store: StripeStore, pi: PaymentIntent, charge: Charge, pm: PaymentMethod, cause: Cause): void {
  const previous = { status: pi.status };
  recordChargeFunds(store, charge, pm.type === 'card' ? 'card' : 'us_bank_account');
  charge.status = 'succeeded';
  charge.paid = true;
  charge.outcome = {
    network_status: 'approved_by_network',
    reason: null,
    risk_level: 'normal',
    risk_score: 32,
    seller_message: 'Payment complete.',
    type: 'authorized',
  };
  pi.status = 'succeeded';
  pi.amount_received = pi.amount;
  pi.next_action = null;
  if (pi.setup_future_usage && pi.customer && pm.customer === null) attach(store, pm, pi.customer, cause);
  if (pm.customer === null) store.spentWithoutCustomer.add(pm.id);
  store.emit('charge.succeeded', charge, cause);
  store.emit('payment_intent.succeeded', pi, cause, previous);
}

/** A failed attempt sends the intent back to requires_payment_method with last_payment_error. */
function fail(store: StripeStore, pi: PaymentIntent, charge: Charge | null, pm: PaymentMethod, error: ApiErrorObject, cause: Cause): void {
  const previous = { status: pi.status };
  if (charge) {
    charge.status = 'failed';
    charge.paid = false;
    charge.captured = false;
    charge.amount_captured = 0;
    charge.failure_code = error.code ?? null;
    charge.failure_message = error.message;
    charge.outcome = {
      network_status: 'declined_by_network',
      reason: error.decline_code ?? null,
      risk_level: 'normal',
      risk_score: 40,
      seller_message: 'The bank did not return any further details with this decline.',
      type: 'issuer_declined',
    };
  }
  pi.status = 'requires_payment_method';
  pi.payment_method = null;
  pi.next_action = null;
  pi.last_payment_error = { ...error, ...(charge ? { charge: charge.id } : {}), payment_method: structuredClone(pm) };
  if (charge) store.emit('charge.failed', charge, cause);
  store.emit('payment_intent.payment_failed', pi, cause, previous);
}

function cardDeclineError(b: Extract<CardBehaviour, { kind: 'decline' }>): ApiErrorObject {
  return { type: 'card_error', code: b.code, ...(b.declineCode ? { decline_code: b.declineCode } : {}), message: b.message, doc_url: docUrl(b.code) };
}

/** The 402 a declined confirmation answers with: the error plus the updated PaymentIntent. */
function cardErrorResponse(pi: PaymentIntent): StripeApiError {
  const e = pi.last_payment_error;
  if (!e) throw new Error('no last_payment_error to report');
  return new StripeApiError(
    402,
    {
      type: 'card_error',
      message: e.message,
      ...(e.code ? { code: e.code } : {}),
      ...(e.decline_code ? { decline_code: e.decline_code } : {}),
      ...(e.doc_url ? { doc_url: e.doc_url } : {}),
      ...(e.charge ? { charge: e.charge } : {}),
      payment_intent: structuredClone(pi) as unknown as Record<string, unknown>,
      ...(e.payment_method ? { payment_method: structuredClone(e.payment_method) as unknown as Record<string, unknown> } : {}),
    },
    true,
  );
}

export function confirmPaymentIntent(
  store: StripeStore,
  pi: PaymentIntent,
  pm: PaymentMethod,
  opts: ConfirmOptions,
  cause: Cause,
  ach: AchScheduler,
): PaymentIntent {
  if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(pi.status)) {
    throw stateError(`You cannot confirm this PaymentIntent because it has a status of ${pi.status}.`, 'payment_intent_unexpected_state');
  }
  if (!pi.payment_method_types.includes(pm.type)) {
    throw paramError(
      `The PaymentMethod provided (${pm.type}) is not allowed for this PaymentIntent. Please attach a PaymentMethod of one of the following types: ${pi.payment_method_types.join(', ')}.`,
      'payment_method',
      'payment_intent_incompatible_payment_method',
    );
  }
  if (pm.customer !== null && pm.customer !== pi.customer) {
    throw paramError('The provided PaymentMethod belongs to a different Customer than the PaymentIntent.', 'payment_method');
  }
  // A method that paid once without being attached to a customer is single-use at Stripe.
  if (pm.customer === null && store.spentWithoutCustomer.has(pm.id)) {
    throw paramError(
      'The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.',
      'payment_method',
    );
  }
  if (opts.offSession && pi.customer === null) {
    throw paramError('A Customer is required to confirm a PaymentIntent off_session.', 'customer', 'parameter_missing');
  }
  const behaviour = behaviourOf(store, pm);
  if (behaviour.rail === 'bank') {
    const mandate =
      opts.mandateId ??
      createBankMethodMandate(store, pm, opts.mandateData, pi.setup_future_usage === 'off_session' ? 'multi_use' : 'single_use', pi) ??
      store.mandateOf.get(pm.id);
    requireMandate(store, mandate, pm);
  }
  pi.payment_method = pm.id;
  pi.last_payment_error = null;
  const previous = { status: pi.status };

  if (behaviour.rail === 'card') {
    const b = behaviour.card;
    if (b.kind === 'authenticate' && !opts.offSession) {
      pi.status = 'requires_action';
      pi.next_action = {
        type: 'use_stripe_sdk',
        use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: `https://hooks.stripe.com/3d_secure_2/hosted?payment_intent=${pi.id}` },
      };
      store.emit('payment_intent.requires_action', pi, cause, previous);
      return pi;
    }
    const decline: Extract<CardBehaviour, { kind: 'decline' }> | null =
      b.kind === 'decline'
        ? b
        : b.kind === 'authenticate'
          ? {
              kind: 'decline',
              code: 'authentication_required',
              declineCode: 'authentication_required',
              message: 'Your card was declined. This transaction requires authentication.',
            }
          : null;
    if (decline) {
      const charge = newCharge(store, pi, pm, 'failed');
      fail(store, pi, charge, pm, cardDeclineError(decline), cause);
      throw cardErrorResponse(pi);
    }
    const charge = newCharge(store, pi, pm, 'pending');
    succeed(store, pi, charge, pm, cause);
    if (b.kind === 'dispute') createDispute(store, charge, { reason: 'fraudulent' });
    return pi;
  }

  if (needsMicrodeposits(store, pi, pm)) {
    awaitMicrodeposits(store, pi, cause, previous);
    return pi;
  }
  return startAchDebit(store, pi, pm, cause, ach, previous);
}

/** The intent waits for the customer to confirm the two microdeposits (next_action verify_with_microdeposits). */
function awaitMicrodeposits(store: StripeStore, intent: PaymentIntent | SetupIntent, cause: Cause, previous: Record<string, unknown>): void {
  intent.status = 'requires_action';
  intent.next_action = {
    type: 'verify_with_microdeposits',
    verify_with_microdeposits: {
      // Stripe: the deposits arrive in 1–2 business days.
      arrival_date: store.now() + 2 * 86_400,
      hosted_verification_url: `${store.hostedBaseUrl}/_sim/microdeposit/${intent.id}?client_secret=${encodeURIComponent(intent.client_secret ?? '')}`,
      microdeposit_type: 'amounts',
    },
  };
  store.microdepositAttempts.set(intent.id, MICRODEPOSIT_ATTEMPTS);
  store.emit(intent.object === 'payment_intent' ? 'payment_intent.requires_action' : 'setup_intent.requires_action', intent, cause, previous);
}

/** Stripe's test values: the deposits are 32 and 45 cents, the descriptor code SM11AA. */
export const MICRODEPOSIT_AMOUNTS = [32, 45] as const;
export const MICRODEPOSIT_DESCRIPTOR_CODE = 'SM11AA';
/** Failed verification attempts before the intent gives the method up (Stripe: three). */
const MICRODEPOSIT_ATTEMPTS = 3;

/**
 * POST …/verify_microdeposits: the customer confirms the amounts (or the descriptor code); the bank
 * account is then verified and the debit (or the setup) goes ahead. Three wrong answers end it.
 */
export function verifyMicrodeposits(
  store: StripeStore,
  intent: PaymentIntent | SetupIntent,
  answer: { amounts?: readonly number[] | undefined; descriptorCode?: string | undefined },
  cause: Cause,
  ach: AchScheduler,
): PaymentIntent | SetupIntent {
  const kind = intent.object === 'payment_intent' ? 'PaymentIntent' : 'SetupIntent';
  const stateCode = intent.object === 'payment_intent' ? 'payment_intent_unexpected_state' : 'setup_intent_unexpected_state';
  if (intent.status !== 'requires_action' || intent.next_action?.['type'] !== 'verify_with_microdeposits' || !intent.payment_method) {
    throw stateError(`This ${kind} is not awaiting microdeposit verification (status ${intent.status}).`, stateCode);
  }
  if ((answer.amounts === undefined) === (answer.descriptorCode === undefined)) {
    throw paramError('Provide either amounts or descriptor_code to verify the microdeposits.', 'amounts', 'parameter_missing');
  }
  if (answer.amounts !== undefined && (answer.amounts.length !== 2 || !answer.amounts.every((n) => Number.isInteger(n) && n > 0 && n < 100))) {
    throw paramError('Provide exactly two amounts in cents, each between 1 and 99.', 'amounts', 'payment_method_microdeposit_verification_amounts_invalid');
  }
  const pm = store.paymentMethods.get(intent.payment_method);
  if (!pm) throw new Error(`payment method ${intent.payment_method} vanished`);
  const sorted = answer.amounts ? [...answer.amounts].sort((a, b) => a - b) : null;
  const right = sorted
    ? sorted[0] === MICRODEPOSIT_AMOUNTS[0] && sorted[1] === MICRODEPOSIT_AMOUNTS[1]
    : answer.descriptorCode === MICRODEPOSIT_DESCRIPTOR_CODE;
  const previous = { status: intent.status };
  if (!right) {
    const left = (store.microdepositAttempts.get(intent.id) ?? MICRODEPOSIT_ATTEMPTS) - 1;
    store.microdepositAttempts.set(intent.id, left);
    const code = sorted ? 'payment_method_microdeposit_verification_amounts_mismatch' : 'payment_method_microdeposit_verification_descriptor_code_mismatch';
    if (left > 0) {
      throw stateError(
        sorted
          ? `The amounts provided do not match the amounts that were sent to the bank account. You have ${left} verification attempts remaining.`
          : `The descriptor code provided does not match the code that was sent to the bank account. You have ${left} verification attempts remaining.`,
        code,
        sorted ? 'amounts' : 'descriptor_code',
      );
    }
    const error: ApiErrorObject = {
      type: 'invalid_request_error',
      code: 'payment_method_microdeposit_verification_attempts_exceeded',
      message: 'You have exceeded the number of allowed verification attempts.',
      doc_url: docUrl('payment_method_microdeposit_verification_attempts_exceeded'),
      payment_method_type: 'us_bank_account',
    };
    store.microdepositAttempts.delete(intent.id);
    if (intent.object === 'payment_intent') {
      fail(store, intent, null, pm, error, cause);
    } else {
      intent.status = 'requires_payment_method';
      intent.payment_method = null;
      intent.next_action = null;
      intent.last_setup_error = { ...error, payment_method: structuredClone(pm) };
      store.emit('setup_intent.setup_failed', intent, cause, previous);
    }
    throw stateError(error.message, error.code ?? '', sorted ? 'amounts' : 'descriptor_code');
  }
  store.unverifiedBanks.delete(pm.id);
  store.microdepositAttempts.delete(intent.id);
  intent.next_action = null;
  if (intent.object === 'payment_intent') return startAchDebit(store, intent, pm, cause, ach, previous);
  return finishSetup(store, intent, pm, cause, previous);
}

/**
 * ACH Direct Debit is a delayed-notification method: the debit stays `processing` until the bank settles
 * or returns it (docs.stripe.com/payments/ach-direct-debit).
 */
function startAchDebit(
  store: StripeStore,
  pi: PaymentIntent,
  pm: PaymentMethod,
  cause: Cause,
  ach: AchScheduler,
  previous: Record<string, unknown>,
): PaymentIntent {
  const behaviour = behaviourOf(store, pm);
  if (behaviour.rail !== 'bank') throw new Error(`payment method ${pm.id} is not a bank account`);
  const charge = newCharge(store, pi, pm, 'pending');
  pi.status = 'processing';
  pi.next_action = null;
  store.emit('charge.pending', charge, cause);
  store.emit('payment_intent.processing', pi, cause, previous);
  if (behaviour.bank.kind !== 'stay_processing') ach.scheduleSettlement(pi.id);
  return pi;
}

export type SettleOutcome = 'succeeded' | 'failed';

/** Settle one processing ACH debit: by the test account's behaviour, or as forced. */
export function settleAch(store: StripeStore, pi: PaymentIntent, forced?: SettleOutcome): PaymentIntent {
  if (pi.status !== 'processing' || !pi.latest_charge || !pi.payment_method) return pi;
  const charge = store.charges.get(pi.latest_charge);
  const pm = store.paymentMethods.get(pi.payment_method);
  if (!charge || !pm) return pi;
  const b = behaviourOf(store, pm);
  const bank: BankBehaviour = b.rail === 'bank' ? b.bank : { kind: 'succeed' };
  const failure: Extract<BankBehaviour, { kind: 'fail' }> | null =
    forced === 'succeeded'
      ? null
      : bank.kind === 'fail'
        ? bank
        : forced === 'failed'
          ? { kind: 'fail', code: 'insufficient_funds', returnCode: 'R01', message: "The customer's account has insufficient funds to cover this payment." }
          : null;
  if (failure) {
    fail(
      store,
      pi,
      charge,
      pm,
      { type: 'invalid_request_error', code: failure.code, message: failure.message, doc_url: docUrl(failure.code), payment_method_type: 'us_bank_account' },
      AUTOMATIC,
    );
    // A closed, missing or unauthorised account cannot be debited again under this mandate.
    const mandateId = store.mandateOf.get(pm.id);
    const mandate = mandateId ? store.mandates.get(mandateId) : undefined;
    if (mandate && failure.code !== 'insufficient_funds' && failure.code !== 'invalid_currency') {
      mandate.status = 'inactive';
      store.emit('mandate.updated', mandate, AUTOMATIC, { status: 'active' });
    }
    return pi;
  }
  succeed(store, pi, charge, pm, AUTOMATIC);
  if (bank.kind === 'dispute' && forced !== 'succeeded') createDispute(store, charge, { reason: 'debit_not_authorized' });
  return pi;
}

export function cancelPaymentIntent(store: StripeStore, pi: PaymentIntent, reason: string | null, cause: Cause): PaymentIntent {
  const cancellable = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'];
  if (!cancellable.includes(pi.status)) {
    throw stateError(
      `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${cancellable.join(', ')}.`,
      'payment_intent_unexpected_state',
    );
  }
  const previous = { status: pi.status };
  if (pi.status === 'processing' && pi.latest_charge) {
    const charge = store.charges.get(pi.latest_charge);
    if (charge) {
      charge.status = 'failed';
      charge.failure_code = 'payment_intent_canceled';
      charge.failure_message = 'The PaymentIntent was canceled before the debit settled.';
      store.emit('charge.failed', charge, cause);
    }
  }
  pi.status = 'canceled';
  pi.canceled_at = store.now();
  pi.cancellation_reason = reason;
  pi.next_action = null;
  store.emit('payment_intent.canceled', pi, cause, previous);
  return pi;
}

/** SetupIntent confirmation: saves the method for later off-session use (and an ACH mandate). */
export function confirmSetupIntent(store: StripeStore, si: SetupIntent, pm: PaymentMethod, mandateData: FormObject | undefined, cause: Cause): SetupIntent {
  if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(si.status)) {
    throw stateError(`You cannot confirm this SetupIntent because it has a status of ${si.status}.`, 'setup_intent_unexpected_state');
  }
  if (!si.payment_method_types.includes(pm.type)) {
    throw paramError(`The PaymentMethod provided (${pm.type}) is not allowed for this SetupIntent.`, 'payment_method', 'setup_intent_invalid_parameter');
  }
  const behaviour = behaviourOf(store, pm);
  si.payment_method = pm.id;
  const previous = { status: si.status };
  if (behaviour.rail === 'card' && behaviour.card.kind === 'decline') {
    const b = behaviour.card;
    si.status = 'requires_payment_method';
    si.payment_method = null;
    si.last_setup_error = { ...cardDeclineError(b), payment_method: structuredClone(pm) };
    store.emit('setup_intent.setup_failed', si, cause, previous);
    throw new StripeApiError(
      402,
      {
        type: 'card_error',
        message: b.message,
        code: b.code,
        ...(b.declineCode ? { decline_code: b.declineCode } : {}),
        doc_url: docUrl(b.code),
        setup_intent: structuredClone(si) as unknown as Record<string, unknown>,
        payment_method: structuredClone(pm) as unknown as Record<string, unknown>,
      },
      true,
    );
  }
  if (behaviour.rail === 'bank') {
    const mandate = createBankMethodMandate(store, pm, mandateData, 'multi_use', null) ?? store.mandateOf.get(pm.id);
    requireMandate(store, mandate, pm);
    si.mandate = mandate ?? null;
    if (needsMicrodeposits(store, si, pm)) {
      awaitMicrodeposits(store, si, cause, previous);
      return si;
    }
  }
  return finishSetup(store, si, pm, cause, previous);
}

function finishSetup(store: StripeStore, si: SetupIntent, pm: PaymentMethod, cause: Cause, previous: Record<string, unknown>): SetupIntent {
  if (si.customer) attach(store, pm, si.customer, cause);
  si.status = 'succeeded';
  si.last_setup_error = null;
  si.next_action = null;
  store.emit('setup_intent.succeeded', si, cause, previous);
  return si;
}
