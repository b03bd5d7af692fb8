// /v1 routes for customers and payment methods.
import { missingParam, noSuch, paramError } from './errors.ts';
import { attach, createBankMethod, createCardMethod, methodFromToken, resolveMethod, testBankOrError, testCardOrError } from './methods.ts';
import type { Customer, PaymentMethod } from './objects.ts';
import { applyMetadata, expand, listOf, newestFirst, optHash, optNullableString, optString, optStringArray, rejectUnknown, reqString } from './params.ts';
import { customerOr404, searchResult, type RouteContext } from './routes-common.ts';
import type { StripeRequest, StripeRouter } from './router.ts';
import { SEARCHABLE } from './search.ts';
import { randomToken } from './store.ts';

export function registerCustomerRoutes(r: StripeRouter, ctx: RouteContext): void {
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
      if (!pm || pm.customer !== c.id)
        throw paramError(`No such PaymentMethod: '${dpm}' attached to this customer`, 'invoice_settings[default_payment_method]', 'resource_missing');
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
    rejectUnknown(
      req.params,
      CUSTOMER_PARAMS.filter((p) => p !== 'payment_method'),
    );
    const c = customerOr404(store, req.path['customer'] ?? '', 'id');
    const before = structuredClone(c);
    applyCustomer(c, req);
    const previous = Object.fromEntries(
      Object.entries(before).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify((c as unknown as Record<string, unknown>)[k])),
    );
    if (Object.keys(previous).length > 0) store.emit('customer.updated', c, req.cause, previous);
    return expand(c, req.params, store);
  });
  r.get('/v1/customers', (req) => {
    const email = optString(req.params, 'email');
    const items = newestFirst(store.customers).filter((c) => email === undefined || c.email === email);
    return listOf(items, req.params, '/v1/customers', store);
  });
  r.get('/v1/customers/search', (req) => searchResult(newestFirst(store.customers), req, '/v1/customers/search', SEARCHABLE.customers, ctx.searchLagMs, store));
  r.get('/v1/customers/:customer/payment_methods', (req) => {
    const c = customerOr404(store, req.path['customer'] ?? '');
    const type = optString(req.params, 'type');
    const items = newestFirst(store.paymentMethods).filter((pm) => pm.customer === c.id && (type === undefined || pm.type === type));
    return listOf(items, req.params, `/v1/customers/${c.id}/payment_methods`, store);
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
          pm =
            methodFromToken(store, token) ??
            (() => {
              throw noSuch('token', token, 'card[token]');
            })();
          pm.billing_details.name = billing.name;
          pm.billing_details.email = billing.email;
          pm.metadata = metadata;
        } else {
          const number = card['number'];
          if (typeof number !== 'string') throw missingParam('card[number]');
          const month = Number(card['exp_month']);
          const year = Number(card['exp_year']);
          if (!Number.isInteger(month) || month < 1 || month > 12)
            throw paramError("Your card's expiration month is invalid.", 'card[exp_month]', 'invalid_expiry_month');
          if (!Number.isInteger(year) || (year < 100 ? 2000 + year : year) < new Date().getUTCFullYear())
            throw paramError("Your card's expiration year is invalid.", 'card[exp_year]', 'invalid_expiry_year');
          pm = createCardMethod(store, testCardOrError(number, 'card[number]'), {
            expMonth: month,
            expYear: year < 100 ? 2000 + year : year,
            billing,
            metadata,
          });
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
        pm = createBankMethod(store, testBankOrError(routing, account, 'us_bank_account[account_number]'), {
          holderType: holder,
          accountType,
          billing,
          metadata,
        });
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
    if (pm.customer === null)
      throw paramError(
        'The payment method you provided is not attached to a customer so detachment is impossible.',
        'payment_method',
        'payment_method_unexpected_state',
      );
    pm.customer = null;
    // A detached method can no longer be used or attached again (docs.stripe.com/api/payment_methods/detach).
    store.spentWithoutCustomer.add(pm.id);
    store.emit('payment_method.detached', pm, req.cause);
    return expand(pm, req.params, store);
  });
  r.get('/v1/payment_methods', (req) => {
    const customer = optString(req.params, 'customer');
    const type = optString(req.params, 'type');
    if (customer !== undefined) customerOr404(store, customer);
    const items = newestFirst(store.paymentMethods).filter(
      (pm) => (customer === undefined || pm.customer === customer) && (type === undefined || pm.type === type),
    );
    return listOf(items, req.params, '/v1/payment_methods', store);
  });
}
