// /v1 routes for SetupIntents and PaymentIntents.
import { missingParam, noSuch, paramError } from './errors.ts';
import { resolveMethod } from './methods.ts';
import type { PaymentIntent, SetupIntent } from './objects.ts';
import {
  applyMetadata,
  expand,
  listOf,
  newestFirst,
  optBoolean,
  optHash,
  optInteger,
  optNullableString,
  optString,
  rejectUnknown,
  reqString,
} from './params.ts';
import { cancelPaymentIntent, confirmPaymentIntent, confirmSetupIntent } from './payments.ts';
import { checkClientSecret, customerOr404, methodTypes, offSessionParam, searchResult, type RouteContext } from './routes-common.ts';
import type { StripeRequest, StripeRouter } from './router.ts';
import { SEARCHABLE } from './search.ts';
import { randomToken } from './store.ts';

export function registerIntentRoutes(r: StripeRouter, ctx: RouteContext): void {
  const { store } = ctx;

  // ---- setup intents
  const siOr404 = (id: string): SetupIntent => {
    const si = store.setupIntents.get(id);
    if (!si) throw noSuch('setupintent', id, 'intent');
    return si;
  };
  r.post('/v1/setup_intents', (req) => {
    rejectUnknown(req.params, [
      'customer',
      'payment_method_types',
      'payment_method',
      'confirm',
      'usage',
      'mandate_data',
      'metadata',
      'description',
      'payment_method_options',
      'return_url',
      'expand',
    ]);
    const customer = optString(req.params, 'customer');
    if (customer !== undefined) customerOr404(store, customer);
    const usage = optString(req.params, 'usage') ?? 'off_session';
    if (usage !== 'off_session' && usage !== 'on_session') throw paramError('Invalid usage', 'usage');
    const types = methodTypes(req.params);
    const id = store.newId('seti');
    const si: SetupIntent = {
      id,
      object: 'setup_intent',
      application: null,
      automatic_payment_methods: null,
      cancellation_reason: null,
      client_secret: `${id}_secret_${randomToken(25)}`,
      created: store.now(),
      customer: customer ?? null,
      description: optNullableString(req.params, 'description') ?? null,
      flow_directions: null,
      last_setup_error: null,
      latest_attempt: null,
      livemode: false,
      mandate: null,
      metadata: applyMetadata({}, req.params),
      next_action: null,
      on_behalf_of: null,
      payment_method: null,
      payment_method_options: methodOptions(types, 'setup'),
      payment_method_types: types,
      single_use_mandate: null,
      status: 'requires_payment_method',
      usage,
    };
    const pmRef = optString(req.params, 'payment_method');
    const pm = pmRef ? resolveMethod(store, pmRef) : null;
    if (pm) {
      si.payment_method = pm.id;
      si.status = 'requires_confirmation';
    }
    store.setupIntents.set(id, si);
    store.emit('setup_intent.created', si, req.cause);
    if (optBoolean(req.params, 'confirm')) {
      if (!pm) throw missingParam('payment_method');
      confirmSetupIntent(store, si, pm, optHash(req.params, 'mandate_data'), req.cause);
    }
    return expand(si, req.params, store);
  });
  r.get(
    '/v1/setup_intents/:intent',
    (req) => {
      const si = siOr404(req.path['intent'] ?? '');
      checkClientSecret(req, si.client_secret);
      return expand(si, req.params, store);
    },
    { publishable: true },
  );
  r.post(
    '/v1/setup_intents/:intent/confirm',
    (req) => {
      rejectUnknown(req.params, ['payment_method', 'mandate_data', 'client_secret', 'return_url', 'expand']);
      const si = siOr404(req.path['intent'] ?? '');
      checkClientSecret(req, si.client_secret);
      const ref = optString(req.params, 'payment_method') ?? si.payment_method;
      if (!ref) throw missingParam('payment_method');
      confirmSetupIntent(store, si, resolveMethod(store, ref), optHash(req.params, 'mandate_data'), req.cause);
      return expand(si, req.params, store);
    },
    { publishable: true },
  );

  // ---- payment intents
  const piOr404 = (id: string): PaymentIntent => {
    const pi = store.paymentIntents.get(id);
    if (!pi) throw noSuch('payment_intent', id, 'intent');
    return pi;
  };
  const confirm = (pi: PaymentIntent, req: StripeRequest): void => {
    const ref = optString(req.params, 'payment_method') ?? pi.payment_method;
    if (!ref) {
      throw paramError(
        "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with a PaymentMethod, pass the payment_method parameter.",
        'payment_method',
        'payment_intent_unexpected_state',
      );
    }
    const pm = resolveMethod(store, ref);
    const sfu = optString(req.params, 'setup_future_usage');
    if (sfu === 'off_session' || sfu === 'on_session') pi.setup_future_usage = sfu;
    const receipt = optNullableString(req.params, 'receipt_email');
    if (receipt !== undefined) pi.receipt_email = receipt;
    const mandateId = optString(req.params, 'mandate');
    confirmPaymentIntent(
      store,
      pi,
      pm,
      { offSession: offSessionParam(req.params), mandateData: optHash(req.params, 'mandate_data'), mandateId },
      req.cause,
      ctx.ach,
    );
  };
  r.post('/v1/payment_intents', (req) => {
    rejectUnknown(req.params, [
      'amount',
      'currency',
      'customer',
      'payment_method',
      'payment_method_types',
      'confirm',
      'off_session',
      'mandate_data',
      'mandate',
      'metadata',
      'description',
      'receipt_email',
      'setup_future_usage',
      'statement_descriptor',
      'statement_descriptor_suffix',
      'payment_method_options',
      'capture_method',
      'confirmation_method',
      'return_url',
      'error_on_requires_action',
      'use_stripe_sdk',
      'expand',
    ]);
    const amount = optInteger(req.params, 'amount');
    if (amount === undefined) throw missingParam('amount');
    const currency = reqString(req.params, 'currency').toLowerCase();
    if (!/^[a-z]{3}$/.test(currency)) throw paramError(`Invalid currency: ${currency}`, 'currency');
    // Stripe's minimum charge is $0.50 (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
    if (amount < 50) throw paramError(`Amount must be at least $0.50 ${currency}`, 'amount', 'amount_too_small');
    if (amount > 99_999_999) throw paramError('Amount must be no more than $999,999.99', 'amount', 'amount_too_large');
    const types = methodTypes(req.params);
    if (types.includes('us_bank_account') && currency !== 'usd') {
      throw paramError(
        'The currency provided (' + currency + ') is invalid for us_bank_account. Payments with us_bank_account support the following currencies: usd.',
        'currency',
        'payment_intent_invalid_parameter',
      );
    }
    const capture = optString(req.params, 'capture_method') ?? 'automatic';
    if (capture !== 'automatic') throw paramError('This simulator supports capture_method=automatic only.', 'capture_method');
    const customer = optString(req.params, 'customer');
    if (customer !== undefined) customerOr404(store, customer);
    const doConfirm = optBoolean(req.params, 'confirm') ?? false;
    if (!doConfirm && optString(req.params, 'off_session') !== undefined) {
      throw paramError('You can only pass off_session when confirm is true.', 'off_session');
    }
    const sfu = optString(req.params, 'setup_future_usage');
    if (sfu !== undefined && sfu !== 'off_session' && sfu !== 'on_session') throw paramError('Invalid setup_future_usage', 'setup_future_usage');
    const id = store.newId('pi');
    const pi: PaymentIntent = {
      id,
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_details: { tip: {} },
      amount_received: 0,
      application: null,
      application_fee_amount: null,
      automatic_payment_methods: null,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: 'automatic',
      client_secret: `${id}_secret_${randomToken(25)}`,
      confirmation_method: 'automatic',
      created: store.now(),
      currency,
      customer: customer ?? null,
      description: optNullableString(req.params, 'description') ?? null,
      invoice: null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: applyMetadata({}, req.params),
      next_action: null,
      on_behalf_of: null,
      payment_method: null,
      payment_method_options: methodOptions(types, 'payment'),
      payment_method_types: types,
      processing: null,
      receipt_email: optNullableString(req.params, 'receipt_email') ?? null,
      review: null,
      setup_future_usage: (sfu as PaymentIntent['setup_future_usage'] | undefined) ?? null,
      shipping: null,
      statement_descriptor: optNullableString(req.params, 'statement_descriptor') ?? null,
      statement_descriptor_suffix: optNullableString(req.params, 'statement_descriptor_suffix') ?? null,
      status: 'requires_payment_method',
      transfer_data: null,
      transfer_group: null,
    };
    const pmRef = optString(req.params, 'payment_method');
    if (pmRef && !doConfirm) {
      pi.payment_method = resolveMethod(store, pmRef).id;
      pi.status = 'requires_confirmation';
    }
    store.paymentIntents.set(id, pi);
    store.emit('payment_intent.created', pi, req.cause);
    if (doConfirm) confirm(pi, req);
    return expand(pi, req.params, store);
  });
  r.post(
    '/v1/payment_intents/:intent/confirm',
    (req) => {
      rejectUnknown(req.params, [
        'payment_method',
        'off_session',
        'mandate_data',
        'mandate',
        'receipt_email',
        'setup_future_usage',
        'client_secret',
        'return_url',
        'payment_method_options',
        'error_on_requires_action',
        'use_stripe_sdk',
        'expand',
      ]);
      const pi = piOr404(req.path['intent'] ?? '');
      checkClientSecret(req, pi.client_secret);
      confirm(pi, req);
      return expand(pi, req.params, store);
    },
    { publishable: true },
  );
  r.get(
    '/v1/payment_intents/:intent',
    (req) => {
      const pi = piOr404(req.path['intent'] ?? '');
      checkClientSecret(req, pi.client_secret);
      return expand(pi, req.params, store);
    },
    { publishable: true },
  );
  r.post('/v1/payment_intents/:intent/cancel', (req) => {
    rejectUnknown(req.params, ['cancellation_reason', 'expand']);
    const reason = optString(req.params, 'cancellation_reason') ?? null;
    if (reason !== null && !['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'].includes(reason)) {
      throw paramError('Invalid cancellation_reason: must be one of duplicate, fraudulent, requested_by_customer, or abandoned', 'cancellation_reason');
    }
    return expand(cancelPaymentIntent(store, piOr404(req.path['intent'] ?? ''), reason, req.cause), req.params, store);
  });
  r.get('/v1/payment_intents', (req) => {
    const customer = optString(req.params, 'customer');
    const items = newestFirst(store.paymentIntents).filter((pi) => customer === undefined || pi.customer === customer);
    return listOf(items, req.params, '/v1/payment_intents', store);
  });
  r.get('/v1/payment_intents/search', (req) =>
    searchResult(newestFirst(store.paymentIntents), req, '/v1/payment_intents/search', SEARCHABLE.payment_intents, ctx.searchLagMs, store),
  );
}

/** The per-type options Stripe echoes back on an intent (defaults of API 2023-08-16). */
function methodOptions(types: readonly string[], kind: 'payment' | 'setup'): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const t of types) {
    if (t === 'card') {
      out['card'] =
        kind === 'payment'
          ? { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' }
          : { mandate_options: null, network: null, request_three_d_secure: 'automatic' };
    }
    if (t === 'us_bank_account') out['us_bank_account'] = { verification_method: 'automatic' };
  }
  return out;
}
