// /v1 routes for customers and payment methods.
import { noSuch, paramError, unknownParam } from './errors.ts';
import { methodFromParams } from './method-params.ts';
import { attach, resolveMethod } from './methods.ts';
import { emptyAddress, type Customer, type PaymentMethod } from './objects.ts';
import { applyMetadata, expand, listOf, newestFirst, optHash, optNullableString, optString, optStringArray, rejectUnknown, reqString } from './params.ts';
import { customerOr404, searchResult, type RouteContext } from './routes-common.ts';
import type { StripeRequest, StripeRouter } from './router.ts';
import { SEARCHABLE } from './search.ts';
import { randomToken } from './store.ts';

export function registerCustomerRoutes(r: StripeRouter, ctx: RouteContext): void {
  const { store } = ctx;

  // ---- customers
  const CUSTOMER_PARAMS = ['address', 'description', 'email', 'metadata', 'name', 'phone', 'payment_method', 'invoice_settings', 'preferred_locales', 'expand'];
  const ADDRESS_FIELDS = ['city', 'country', 'line1', 'line2', 'postal_code', 'state'] as const;
  const applyCustomer = (c: Customer, req: StripeRequest): void => {
    const p = req.params;
    for (const f of ['description', 'email', 'name', 'phone'] as const) {
      const v = optNullableString(p, f);
      if (v !== undefined) c[f] = v;
    }
    c.metadata = applyMetadata(c.metadata, p);
    // address[line1]=… sets fields (others kept); `address=` clears it (2023-08-16).
    if (p['address'] === '') c.address = null;
    else {
      const a = optHash(p, 'address');
      if (a) {
        for (const k of Object.keys(a)) if (!(ADDRESS_FIELDS as readonly string[]).includes(k)) throw unknownParam(`address[${k}]`);
        const next = c.address ?? emptyAddress();
        for (const f of ADDRESS_FIELDS) {
          const v = a[f];
          if (v === undefined) continue;
          if (typeof v !== 'string') throw paramError(`Invalid string: address[${f}]`, `address[${f}]`);
          next[f] = v === '' ? null : v;
        }
        c.address = next;
      }
    }
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
      const pm = methodFromParams(store, req.params, req.publishable);
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
