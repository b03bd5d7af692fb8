// /v1 routes for SetupIntents and PaymentIntents.
import { missingParam, noSuch, paramError, unknownParam } from './errors.ts';
import type { FormObject } from './form.ts';
import { methodFromParams } from './method-params.ts';
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
  optStringArray,
  reqString,
} from './params.ts';
import { cancelPaymentIntent, confirmPaymentIntent, confirmSetupIntent, verifyMicrodeposits } from './payments.ts';
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
      payment_method_options: methodOptions(types, 'setup', req.params),
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

  r.post(
    '/v1/setup_intents/:intent/verify_microdeposits',
    (req) => {
      rejectUnknown(req.params, ['amounts', 'descriptor_code', 'client_secret', 'expand']);
      const si = siOr404(req.path['intent'] ?? '');
      checkClientSecret(req, si.client_secret);
      verifyMicrodeposits(store, si, microdepositAnswer(req.params), req.cause, ctx.ach);
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
    const data = optHash(req.params, 'payment_method_data');
    if (data && optString(req.params, 'payment_method') !== undefined) {
      throw paramError('You may only specify one of these parameters: payment_method, payment_method_data.', 'payment_method_data');
    }
    const offSession = offSessionParam(req.params);
    // 2023-08-16: with automatic payment methods (the default), a confirmation may redirect the customer,
    // so it needs a return_url — unless it is off-session or the intent disallows redirects.
    const apm = pi.automatic_payment_methods;
    if (apm?.enabled && apm.allow_redirects !== 'never' && !offSession && optString(req.params, 'return_url') === undefined) {
      throw paramError(
        "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`. If you don't want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.",
        'return_url',
        'parameter_missing',
      );
    }
    const ref = data
      ? methodFromParams(store, data, req.publishable, 'payment_method_data').id
      : (optString(req.params, 'payment_method') ?? pi.payment_method);
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
    confirmPaymentIntent(store, pi, pm, { offSession, mandateData: optHash(req.params, 'mandate_data'), mandateId }, req.cause, ctx.ach);
  };
  r.post('/v1/payment_intents', (req) => {
    rejectUnknown(req.params, [
      'amount',
      'currency',
      'customer',
      'payment_method',
      'payment_method_types',
      'automatic_payment_methods',
      'payment_method_data',
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
    const automatic = automaticPaymentMethods(req.params);
    // 2023-08-16: without payment_method_types, automatic payment methods are on (the account's enabled
    // methods: cards, and ACH Direct Debit for USD).
    const types = automatic ? (currency === 'usd' ? ['card', 'us_bank_account'] : ['card']) : methodTypes(req.params);
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
      automatic_payment_methods: automatic,
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
      payment_method_options: methodOptions(types, 'payment', req.params),
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
    if (!doConfirm && optHash(req.params, 'payment_method_data')) {
      throw paramError('You can only pass payment_method_data when confirm is true (or on confirmation).', 'payment_method_data');
    }
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
        'payment_method_data',
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
  r.post(
    '/v1/payment_intents/:intent/verify_microdeposits',
    (req) => {
      rejectUnknown(req.params, ['amounts', 'descriptor_code', 'client_secret', 'expand']);
      const pi = piOr404(req.path['intent'] ?? '');
      checkClientSecret(req, pi.client_secret);
      verifyMicrodeposits(store, pi, microdepositAnswer(req.params), req.cause, ctx.ach);
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

/** `automatic_payment_methods[enabled|allow_redirects]`; on by default when payment_method_types is absent. */
function automaticPaymentMethods(params: FormObject): { enabled: boolean; allow_redirects?: 'always' | 'never' } | null {
  const h = optHash(params, 'automatic_payment_methods');
  const types = params['payment_method_types'] !== undefined;
  if (!h) return types ? null : { enabled: true };
  for (const k of Object.keys(h)) if (k !== 'enabled' && k !== 'allow_redirects') throw unknownParam(`automatic_payment_methods[${k}]`);
  const enabled = optBoolean(h, 'enabled');
  if (enabled === undefined) throw missingParam('automatic_payment_methods[enabled]');
  const redirects = optString(h, 'allow_redirects');
  if (redirects !== undefined && redirects !== 'always' && redirects !== 'never') {
    throw paramError('Invalid automatic_payment_methods[allow_redirects]: must be one of always or never', 'automatic_payment_methods[allow_redirects]');
  }
  if (enabled && types) {
    throw paramError('You may only specify one of these parameters: automatic_payment_methods, payment_method_types.', 'automatic_payment_methods');
  }
  if (!enabled) return types ? null : { enabled: false };
  return { enabled: true, ...(redirects ? { allow_redirects: redirects } : {}) };
}

/** amounts[]=32&amounts[]=45, or descriptor_code=SM11AA. */
function microdepositAnswer(params: FormObject): { amounts?: number[]; descriptorCode?: string } {
  const amounts = optStringArray(params, 'amounts');
  const code = optString(params, 'descriptor_code');
  return {
    ...(amounts ? { amounts: amounts.map((a) => (/^\d+$/.test(a) ? Number(a) : NaN)) } : {}),
    ...(code !== undefined ? { descriptorCode: code } : {}),
  };
}

const VERIFICATION_METHODS = ['automatic', 'instant', 'microdeposits'];

/** The per-type options Stripe echoes back on an intent (defaults of API 2023-08-16), with what was asked. */
function methodOptions(types: readonly string[], kind: 'payment' | 'setup', params: FormObject): Record<string, Record<string, unknown>> {
  const asked = optHash(params, 'payment_method_options');
  const bankAsked = asked?.['us_bank_account'];
  const verification = bankAsked && typeof bankAsked === 'object' && !Array.isArray(bankAsked) ? optString(bankAsked, 'verification_method') : undefined;
  if (verification !== undefined && !VERIFICATION_METHODS.includes(verification)) {
    throw paramError(
      `Invalid payment_method_options[us_bank_account][verification_method]: must be one of ${VERIFICATION_METHODS.join(', ')}`,
      'payment_method_options[us_bank_account][verification_method]',
    );
  }
  const out: Record<string, Record<string, unknown>> = {};
  for (const t of types) {
    if (t === 'card') {
      out['card'] =
        kind === 'payment'
          ? { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' }
          : { mandate_options: null, network: null, request_three_d_secure: 'automatic' };
    }
    if (t === 'us_bank_account') out['us_bank_account'] = { verification_method: verification ?? 'automatic' };
  }
  return out;
}
