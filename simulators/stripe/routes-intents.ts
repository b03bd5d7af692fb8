// /v1 routes for customers, payment methods, SetupIntents and PaymentIntents.
import { missingParam, noSuch, paramError } from './errors.ts';
import type { FormObject } from './form.ts';
import { attach, createBankMethod, createCardMethod, methodFromToken, resolveMethod, testBankOrError, testCardOrError } from './methods.ts';
import type { Customer, PaymentIntent, PaymentMethod, SetupIntent } from './objects.ts';
import {
  applyMetadata,
  expand,
  newestFirst,
  optBoolean,
  optHash,
  optInteger,
  optNullableString,
  optString,
  optStringArray,
  paginate,
  rejectUnknown,
  reqString,
} from './params.ts';
import { cancelPaymentIntent, confirmPaymentIntent, confirmSetupIntent, type AchScheduler } from './payments.ts';
import type { StripeRequest, StripeRouter } from './router.ts';
import { matches, parseQuery, SEARCHABLE } from './search.ts';
import { randomToken, type StripeStore } from './store.ts';

export interface RouteContext {
  readonly store: StripeStore;
  readonly ach: AchScheduler;
  /** Stripe search is eventually consistent ("searchable within 1 minute"); objects younger than this are not found. */
  searchLagMs: number;
}

const METHOD_TYPES = ['card', 'us_bank_account'] as const;

function customerOr404(store: StripeStore, id: string, param = 'customer'): Customer {
  const c = store.customers.get(id);
  if (!c) throw noSuch('customer', id, param);
  return c;
}

function methodTypes(params: FormObject): string[] {
  const types = optStringArray(params, 'payment_method_types') ?? ['card'];
  for (const t of types) {
    if (!(METHOD_TYPES as readonly string[]).includes(t)) {
      throw paramError(`The payment method type "${t}" is invalid or not supported by this simulator (card, us_bank_account).`, 'payment_method_types', 'payment_method_invalid_parameter');
    }
  }
  return types;
}

/** Publishable-key callers must prove they hold the intent's client secret. */
function checkClientSecret(req: StripeRequest, secret: string): void {
  if (!req.publishable) return;
  if (optString(req.params, 'client_secret') !== secret) throw paramError('The client_secret provided does not match the client_secret associated with the PaymentIntent.', 'client_secret');
}

function offSessionParam(params: FormObject): boolean {
  const v = optString(params, 'off_session');
  if (v === undefined || v === 'false') return false;
  if (v === 'true' || v === 'one_off' || v === 'recurring') return true;
  throw paramError(`Invalid off_session: ${v}`, 'off_session');
}

/** Search results (`object: "search_result"`), paged with an opaque `page` token. */
function searchResult<T extends { created: number }>(items: T[], req: StripeRequest, url: string, fields: readonly string[], lagMs: number, store: StripeStore): object {
  const query = reqString(req.params, 'query');
  const q = parseQuery(query, fields);
  const limit = optInteger(req.params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw paramError('Invalid limit: must be between 1 and 100', 'limit');
  const page = optString(req.params, 'page');
  const offset = page ? Number(Buffer.from(page, 'base64url').toString('utf8')) : 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw paramError('Invalid page token.', 'page');
  const visibleBefore = store.now() - Math.ceil(lagMs / 1000);
  const hits = items.filter((x) => (lagMs <= 0 || x.created < visibleBefore) && matches(x, q));
  const data = hits.slice(offset, offset + limit);
  const more = hits.length > offset + limit;
  return {
    object: 'search_result',
    data: data.map((x) => expand(x, nestedExpand(req.params), store)),
    has_more: more,
    next_page: more ? Buffer.from(String(offset + limit)).toString('base64url') : null,
    url,
  };
}

/** `expand[]=data.x` on a list → `expand[]=x` per item. */
function nestedExpand(params: FormObject): FormObject {
  const paths = optStringArray(params, 'expand') ?? [];
  return { expand: paths.filter((p) => p.startsWith('data.')).map((p) => p.slice(5)) };
}

function listOf<T extends { id: string; created: number }>(items: T[], req: StripeRequest, url: string, store: StripeStore): object {
  const page = paginate(items, req.params, url);
  return { ...page, data: page.data.map((x) => expand(x, nestedExpand(req.params), store)) };
}

export function registerIntentRoutes(r: StripeRouter, ctx: RouteContext): void {
  const { store } = ctx;

  // ---- customers
  const CUSTOMER_PARAMS = ['description', 'email', 'metadata', 'name', 'phone', 'payment_method', 'invoice_settings', 'preferred_locales', 'expand'];
  const applyCustomer = (c: Customer, req: StripeRequest): void => {
    const p = req.params;
    for (const f of ['description', 'email', 'name', 'phone'] as const) {
      const v = optNullableString(p, f);
      if (v !== undefined) c[f] = v;
    }
    c.metadata = applyMetadata(c.metadata, p);
    const settings = optHash(p, 'invoice_settings');
    const dpm = settings ? settings['default_payment_method'] : undefined;
    if (typeof dpm === 'string') {
      const pm = store.paymentMethods.get(dpm);
      if (!pm || pm.customer !== c.id) throw paramError(`No such PaymentMethod: '${dpm}' attached to this customer`, 'invoice_settings[default_payment_method]', 'resource_missing');
      c.invoice_settings.default_payment_method = dpm;
    }
  };
  r.post('/v1/customers', (req) => {
    rejectUnknown(req.params, CUSTOMER_PARAMS);
    const c: Customer = {
      id: store.newId('cus', 14),
      object: 'customer',
      address: null,
      balance: 0,
      created: store.now(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: null,
      discount: null,
      email: null,
      invoice_prefix: randomToken(8).toUpperCase(),
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
      livemode: false,
      metadata: {},
      name: null,
      next_invoice_sequence: 1,
      phone: null,
      preferred_locales: optStringArray(req.params, 'preferred_locales') ?? [],
      shipping: null,
      tax_exempt: 'none',
      test_clock: null,
    };
    store.customers.set(c.id, c);
    const pmRef = optString(req.params, 'payment_method');
    if (pmRef) attach(store, resolveMethod(store, pmRef), c.id, req.cause);
    applyCustomer(c, req);
    store.emit('customer.created', c, req.cause);
    return expand(c, req.params, store);
  });
  r.get('/v1/customers/:customer', (req) => expand(customerOr404(store, req.path['customer'] ?? '', 'id'), req.params, store));
  r.post('/v1/customers/:customer', (req) => {
    rejectUnknown(req.params, CUSTOMER_PARAMS.filter((p) => p !== 'payment_method'));
    const c = customerOr404(store, req.path['customer'] ?? '', 'id');
    const before = structuredClone(c);
    applyCustomer(c, req);
    const previous = Object.fromEntries(Object.entries(before).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify((c as unknown as Record<string, unknown>)[k])));
    if (Object.keys(previous).length > 0) store.emit('customer.updated', c, req.cause, previous);
    return expand(c, req.params, store);
  });
  r.get('/v1/customers', (req) => {
    const email = optString(req.params, 'email');
    const items = newestFirst(store.customers).filter((c) => email === undefined || c.email === email);
    return listOf(items, req, '/v1/customers', store);
  });
  r.get('/v1/customers/search', (req) => searchResult(newestFirst(store.customers), req, '/v1/customers/search', SEARCHABLE.customers, ctx.searchLagMs, store));
  r.get('/v1/customers/:customer/payment_methods', (req) => {
    const c = customerOr404(store, req.path['customer'] ?? '');
    const type = optString(req.params, 'type');
    const items = newestFirst(store.paymentMethods).filter((pm) => pm.customer === c.id && (type === undefined || pm.type === type));
    return listOf(items, req, `/v1/customers/${c.id}/payment_methods`, store);
  });

  // ---- payment methods
  r.post(
    '/v1/payment_methods',
    (req) => {
      rejectUnknown(req.params, ['type', 'card', 'us_bank_account', 'billing_details', 'metadata', 'expand']);
      const type = reqString(req.params, 'type');
      const billingHash = optHash(req.params, 'billing_details');
      const billing = {
        name: typeof billingHash?.['name'] === 'string' ? billingHash['name'] : null,
        email: typeof billingHash?.['email'] === 'string' ? billingHash['email'] : null,
      };
      const metadata = applyMetadata({}, req.params);
      let pm: PaymentMethod;
      if (type === 'card') {
        const card = optHash(req.params, 'card');
        if (!card) throw missingParam('card');
        const token = card['token'];
        if (typeof token === 'string') {
          pm = methodFromToken(store, token) ?? (() => { throw noSuch('token', token, 'card[token]'); })();
          pm.billing_details.name = billing.name;
          pm.billing_details.email = billing.email;
          pm.metadata = metadata;
        } else {
          const number = card['number'];
          if (typeof number !== 'string') throw missingParam('card[number]');
          const month = Number(card['exp_month']);
          const year = Number(card['exp_year']);
          if (!Number.isInteger(month) || month < 1 || month > 12) throw paramError("Your card's expiration month is invalid.", 'card[exp_month]', 'invalid_expiry_month');
          if (!Number.isInteger(year) || (year < 100 ? 2000 + year : year) < new Date().getUTCFullYear()) throw paramError("Your card's expiration year is invalid.", 'card[exp_year]', 'invalid_expiry_year');
          pm = createCardMethod(store, testCardOrError(number, 'card[number]'), { expMonth: month, expYear: year < 100 ? 2000 + year : year, billing, metadata });
        }
      } else if (type === 'us_bank_account') {
        const bank = optHash(req.params, 'us_bank_account');
        if (!bank) throw missingParam('us_bank_account');
        // Stripe requires the account holder's name for ACH Direct Debit.
        if (!billing.name) throw missingParam('billing_details[name]');
        const routing = typeof bank['routing_number'] === 'string' ? bank['routing_number'] : '';
        const account = typeof bank['account_number'] === 'string' ? bank['account_number'] : '';
        const holder = bank['account_holder_type'] === 'company' ? 'company' : 'individual';
        const accountType = bank['account_type'] === 'savings' ? 'savings' : 'checking';
        pm = createBankMethod(store, testBankOrError(routing, account, 'us_bank_account[account_number]'), { holderType: holder, accountType, billing, metadata });
      } else {
        throw paramError(`Invalid type: must be one of card, us_bank_account (simulator)`, 'type');
      }
      return expand(pm, req.params, store);
    },
    { publishable: true },
  );
  const pmOr404 = (id: string): PaymentMethod => {
    const pm = store.paymentMethods.get(id);
    if (!pm) throw noSuch('PaymentMethod', id, 'payment_method');
    return pm;
  };
  r.get('/v1/payment_methods/:payment_method', (req) => expand(pmOr404(req.path['payment_method'] ?? ''), req.params, store));
  r.post('/v1/payment_methods/:payment_method/attach', (req) => {
    rejectUnknown(req.params, ['customer', 'expand']);
    const customer = reqString(req.params, 'customer');
    customerOr404(store, customer);
    // Attaching a test token (pm_card_visa) attaches a fresh copy of it, as at Stripe.
    const pm = resolveMethod(store, req.path['payment_method'] ?? '');
    return expand(attach(store, pm, customer, req.cause), req.params, store);
  });
  r.post('/v1/payment_methods/:payment_method/detach', (req) => {
    rejectUnknown(req.params, ['expand']);
    const pm = pmOr404(req.path['payment_method'] ?? '');
    if (pm.customer === null) throw paramError('The payment method you provided is not attached to a customer so detachment is impossible.', 'payment_method', 'payment_method_unexpected_state');
    pm.customer = null;
    store.emit('payment_method.detached', pm, req.cause);
    return expand(pm, req.params, store);
  });
  r.get('/v1/payment_methods', (req) => {
    const customer = optString(req.params, 'customer');
    const type = optString(req.params, 'type');
    if (customer !== undefined) customerOr404(store, customer);
    const items = newestFirst(store.paymentMethods).filter((pm) => (customer === undefined || pm.customer === customer) && (type === undefined || pm.type === type));
    return listOf(items, req, '/v1/payment_methods', store);
  });

  // ---- setup intents
  const siOr404 = (id: string): SetupIntent => {
    const si = store.setupIntents.get(id);
    if (!si) throw noSuch('setupintent', id, 'intent');
    return si;
  };
  r.post('/v1/setup_intents', (req) => {
    rejectUnknown(req.params, ['customer', 'payment_method_types', 'payment_method', 'confirm', 'usage', 'mandate_data', 'metadata', 'description', 'payment_method_options', 'return_url', 'expand']);
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
        'You cannot confirm this PaymentIntent because it\'s missing a payment method. To confirm the PaymentIntent with a PaymentMethod, pass the payment_method parameter.',
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
    confirmPaymentIntent(store, pi, pm, { offSession: offSessionParam(req.params), mandateData: optHash(req.params, 'mandate_data'), mandateId }, req.cause, ctx.ach);
  };
  r.post('/v1/payment_intents', (req) => {
    rejectUnknown(req.params, [
      'amount', 'currency', 'customer', 'payment_method', 'payment_method_types', 'confirm', 'off_session', 'mandate_data', 'mandate',
      'metadata', 'description', 'receipt_email', 'setup_future_usage', 'statement_descriptor', 'statement_descriptor_suffix',
      'payment_method_options', 'capture_method', 'confirmation_method', 'return_url', 'error_on_requires_action', 'use_stripe_sdk', 'expand',
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
      throw paramError('The currency provided (' + currency + ') is invalid for us_bank_account. Payments with us_bank_account support the following currencies: usd.', 'currency', 'payment_intent_invalid_parameter');
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
      rejectUnknown(req.params, ['payment_method', 'off_session', 'mandate_data', 'mandate', 'receipt_email', 'setup_future_usage', 'client_secret', 'return_url', 'payment_method_options', 'error_on_requires_action', 'use_stripe_sdk', 'expand']);
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
    return listOf(items, req, '/v1/payment_intents', store);
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
      out['card'] = kind === 'payment'
        ? { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' }
        : { mandate_options: null, network: null, request_three_d_secure: 'automatic' };
    }
    if (t === 'us_bank_account') out['us_bank_account'] = { verification_method: 'automatic' };
  }
  return out;
}
