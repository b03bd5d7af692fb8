// Contract test: the simulator's real responses, for every /v1 endpoint Settle uses, validate against
// Stripe's own OpenAPI description (spec3.yaml, API 2023-08-16) — objects, list and search envelopes,
// and error bodies — with unknown fields rejected. If this fails, the simulator drifted from Stripe.
import { Ajv } from 'ajv';
import formatsPlugin from 'ajv-formats';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeSimulator, type RunningStripeSimulator } from './index.ts';
import { loadStripeSpec, responseSchema, retarget, type OpenApi } from './spec-schemas.ts';

let running: RunningStripeSimulator;

/** The spec's own formats: unix timestamps and decimal strings. */
function newAjv(opts: { allErrors?: boolean } = {}): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: opts.allErrors ?? false, validateFormats: true });
  // ajv-formats is CommonJS: under NodeNext its default export arrives wrapped.
  const addFormats = ((formatsPlugin as unknown as { default?: typeof formatsPlugin }).default ?? formatsPlugin) as unknown as (a: Ajv) => Ajv;
  addFormats(ajv);
  ajv.addFormat('unix-time', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
  ajv.addFormat('decimal', { type: 'string', validate: (s: string) => /^-?\d+(\.\d+)?$/.test(s) });
  ajv.addSchema({ $id: 'stripe.json', components: spec.components } as object);
  return ajv;
}
let stripe: Stripe;
let spec: OpenApi;

const ROUTES_SETTLE_USES = [
  'POST /v1/customers',
  'GET /v1/customers/:customer',
  'POST /v1/customers/:customer',
  'GET /v1/customers',
  'GET /v1/customers/search',
  'GET /v1/customers/:customer/payment_methods',
  'POST /v1/payment_methods',
  'GET /v1/payment_methods/:payment_method',
  'POST /v1/payment_methods/:payment_method/attach',
  'POST /v1/payment_methods/:payment_method/detach',
  'GET /v1/payment_methods',
  'POST /v1/setup_intents',
  'GET /v1/setup_intents/:intent',
  'POST /v1/setup_intents/:intent/confirm',
  'POST /v1/payment_intents',
  'POST /v1/payment_intents/:intent/confirm',
  'GET /v1/payment_intents/:intent',
  'POST /v1/payment_intents/:intent/cancel',
  'GET /v1/payment_intents',
  'GET /v1/payment_intents/search',
  'GET /v1/charges/:charge',
  'GET /v1/charges',
  'GET /v1/charges/search',
  'POST /v1/refunds',
  'GET /v1/refunds/:refund',
  'GET /v1/refunds',
  'GET /v1/balance_transactions',
  'GET /v1/balance_transactions/:id',
  'GET /v1/payouts',
  'GET /v1/payouts/:payout',
  'GET /v1/disputes/:dispute',
  'GET /v1/disputes',
  'GET /v1/mandates/:mandate',
  'GET /v1/events',
  'GET /v1/events/:id',
  'POST /v1/webhook_endpoints',
  'GET /v1/webhook_endpoints',
  'GET /v1/webhook_endpoints/:webhook_endpoint',
  'POST /v1/webhook_endpoints/:webhook_endpoint',
  'DELETE /v1/webhook_endpoints/:webhook_endpoint',
];

async function raw(method: string, path: string, body?: string, key = running.secretKey, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${running.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    ...(body !== undefined ? { body } : {}),
  });
}

beforeAll(async () => {
  spec = loadStripeSpec();
  running = await startStripeSimulator({ record: true, achSettleDelayMs: null, rateLimitPerSecond: 1000 });
  const u = new URL(running.baseUrl);
  stripe = new Stripe(running.secretKey, {
    host: u.hostname,
    port: u.port,
    protocol: 'http',
    maxNetworkRetries: 0,
    apiVersion: '2023-08-16' as Stripe.LatestApiVersion,
  });

  // ---- a day at Settle's processor, every endpoint exercised through the official SDK
  const cus = await stripe.customers.create({ name: 'Acme IT', email: 'ap@acme.test', metadata: { settle_client_id: 'cl_1' } });
  await stripe.customers.update(cus.id, { description: 'Managed services client' });
  await stripe.customers.retrieve(cus.id);
  await stripe.customers.list({ limit: 3 });
  await stripe.customers.search({ query: "metadata['settle_client_id']:'cl_1'" });
  const card = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa_debit' } } as Stripe.PaymentMethodCreateParams);
  await stripe.paymentMethods.attach(card.id, { customer: cus.id });
  await stripe.paymentMethods.retrieve(card.id);
  const spare = await stripe.paymentMethods.attach('pm_card_mastercard_prepaid', { customer: cus.id });
  await stripe.paymentMethods.detach(spare.id);
  const si = await stripe.setupIntents.create({ customer: cus.id, payment_method_types: ['us_bank_account'] });
  await stripe.setupIntents.confirm(si.id, {
    payment_method: 'pm_usBankAccount_success',
    mandate_data: { customer_acceptance: { type: 'online', online: { ip_address: '203.0.113.7', user_agent: 'contract-test' } } },
  });
  const seti = await stripe.setupIntents.retrieve(si.id);
  await stripe.mandates.retrieve(String(seti.mandate));
  await stripe.paymentMethods.list({ customer: cus.id, type: 'card' });
  await stripe.customers.listPaymentMethods(cus.id, { type: 'us_bank_account' });

  const paid = await stripe.paymentIntents.create({
    amount: 12_345,
    currency: 'usd',
    customer: cus.id,
    payment_method: card.id,
    confirm: true,
    off_session: true,
    metadata: { settle_attempt: 'att_1' },
  });
  await stripe.paymentIntents.retrieve(paid.id, { expand: ['latest_charge', 'payment_method'] });
  const ach = await stripe.paymentIntents.create({
    amount: 250_000,
    currency: 'usd',
    customer: cus.id,
    payment_method: String(seti.payment_method),
    payment_method_types: ['us_bank_account'],
    confirm: true,
    off_session: true,
  });
  running.sim.settleAch({ paymentIntent: ach.id });
  const portal = await stripe.paymentIntents.create({ amount: 5_000, currency: 'usd', payment_method_types: ['card', 'us_bank_account'] });
  await stripe.paymentIntents.confirm(portal.id, { payment_method: 'pm_card_amex' });
  const abandoned = await stripe.paymentIntents.create({ amount: 7_000, currency: 'usd' });
  await stripe.paymentIntents.cancel(abandoned.id, { cancellation_reason: 'abandoned' });
  await stripe.paymentIntents.list({ customer: cus.id });
  await stripe.paymentIntents.search({ query: "metadata['settle_attempt']:'att_1'" });

  const ch = await stripe.charges.retrieve(String(paid.latest_charge), { expand: ['balance_transaction'] });
  await stripe.charges.list({ payment_intent: paid.id });
  await stripe.charges.search({ query: "status:'succeeded'" });
  const re = await stripe.refunds.create({ payment_intent: paid.id, amount: 1_000, reason: 'requested_by_customer' });
  await stripe.refunds.retrieve(re.id);
  await stripe.refunds.list({ charge: ch.id });
  const dp = running.sim.createDispute({ paymentIntent: portal.id });
  await stripe.disputes.retrieve(dp.id);
  await stripe.disputes.list();

  const po = running.sim.runPayouts();
  await stripe.payouts.list({ limit: 5 });
  await stripe.payouts.retrieve(String(po?.id));
  const bts = await stripe.balanceTransactions.list({ payout: String(po?.id), expand: ['data.source'], limit: 100 });
  await stripe.balanceTransactions.retrieve(String(bts.data[0]?.id));
  const events = await stripe.events.list({ types: ['payment_intent.succeeded', 'payout.paid'] });
  await stripe.events.retrieve(String(events.data[0]?.id));
  await stripe.events.list({ limit: 100 });

  const we = await stripe.webhookEndpoints.create({ url: 'https://settle.test/webhooks/stripe', enabled_events: ['payment_intent.succeeded'] });
  await stripe.webhookEndpoints.update(we.id, { enabled_events: ['payment_intent.succeeded', 'payout.paid'] });
  await stripe.webhookEndpoints.retrieve(we.id);
  await stripe.webhookEndpoints.list();
  await stripe.webhookEndpoints.del(we.id);

  // ---- the error shapes Settle must understand
  await raw(
    'POST',
    '/v1/payment_intents',
    `amount=2000&currency=usd&customer=${cus.id}&payment_method=pm_card_chargeDeclinedInsufficientFunds&confirm=true&payment_method_types[]=card`,
  );
  await raw('POST', '/v1/payment_intents', 'amount=20&currency=usd'); // amount_too_small
  await raw('GET', '/v1/payment_intents/pi_missing'); // 404
  await raw('GET', '/v1/customers', undefined, 'sk_test_wrong'); // 401
  await raw('POST', '/v1/customers', 'name=A', running.secretKey, { 'idempotency-key': 'k-contract' });
  await raw('POST', '/v1/customers', 'name=B', running.secretKey, { 'idempotency-key': 'k-contract' }); // idempotency_error
  running.sim.setRateLimit(1);
  await raw('GET', '/v1/payouts');
  await raw('GET', '/v1/payouts'); // 429
  running.sim.setRateLimit(1000);
}, 20_000);

afterAll(async () => {
  await running?.close();
});

describe('Stripe simulator contract (spec3.yaml, API 2023-08-16)', () => {
  it('answers every endpoint Settle uses with a 2xx at least once', () => {
    const seen = new Set(running.sim.recorded.filter((x) => x.status < 300).map((x) => `${x.method} ${x.route}`));
    expect(ROUTES_SETTLE_USES.filter((r) => !seen.has(r))).toEqual([]);
  });

  it('produces the error statuses under test', () => {
    const statuses = new Set(running.sim.recorded.map((x) => x.status));
    for (const s of [400, 401, 402, 404, 429]) expect(statuses).toContain(s);
  });

  it('validates every recorded response body against the documented schema', () => {
    const ajv = newAjv({ allErrors: true });
    const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
    const failures: string[] = [];
    for (const x of running.sim.recorded) {
      const key = `${x.method} ${x.route} ${x.status < 300 ? 200 : 'default'}`;
      let validate = compiled.get(key);
      if (!validate) {
        const schema = responseSchema(spec, x.method, x.route, x.status);
        if (!schema) {
          failures.push(`${key}: no such operation in spec3.yaml`);
          continue;
        }
        validate = ajv.compile(retarget(schema, 'stripe.json') as object);
        compiled.set(key, validate);
      }
      if (!validate(x.body)) {
        failures.push(`${key}: ${ajv.errorsText(validate.errors?.slice(0, 5), { separator: '\n    ' })}`);
      }
    }
    expect(failures).toEqual([]);
    expect(running.sim.recorded.length).toBeGreaterThan(ROUTES_SETTLE_USES.length);
  });

  it('rejects invented fields, wrong types and unknown statuses (the check is strict)', () => {
    const ajv = newAjv();
    const refundOk = ajv.compile({ $ref: 'stripe.json#/components/schemas/refund' });
    const refund = running.sim.recorded.find((x) => x.route === '/v1/refunds' && x.method === 'POST')?.body as Record<string, unknown>;
    expect(refundOk(refund)).toBe(true);
    expect(refundOk({ ...refund, settle_extra: 1 })).toBe(false);
    expect(refundOk({ ...refund, amount: '10.00' })).toBe(false);
    const piOk = ajv.compile({ $ref: 'stripe.json#/components/schemas/payment_intent' });
    const pi = running.sim.recorded.find((x) => x.route === '/v1/payment_intents' && x.method === 'POST' && x.status === 200)?.body as Record<string, unknown>;
    expect(piOk(pi)).toBe(true);
    expect(piOk({ ...pi, status: 'paid' })).toBe(false);
    expect(piOk({ ...pi, created: 1.5 })).toBe(false);
    expect(piOk({ ...pi, latest_charge: { id: 'ch_1', object: 'charge' } })).toBe(false); // an incomplete expansion
  });
});
