// Conformance (issue #7): the Stripe simulator driven by the official `stripe` SDK, pinned to API
// 2023-08-16, through a day of what an MSP's processor does — and the 2023-08-16 behaviours Settle must
// meet: automatic payment methods (return_url), payment_method_data, customer address, bank accounts typed
// by number verified with microdeposits. Every response is validated against Stripe's OpenAPI description,
// and every route the simulator registers must have answered 2xx at least once (computed from the
// registered routes: a new route without a check fails here).
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeSimulator, type RunningStripeSimulator } from '../../../simulators/stripe/index.ts';
import { StripeSchemaCheck } from './schema-check.ts';

let running: RunningStripeSimulator;
let stripe: Stripe;
const seen: Record<string, unknown> = {};

const mandateData = { customer_acceptance: { type: 'online' as const, online: { ip_address: '203.0.113.7', user_agent: 'conformance' } } };
const typedBank = { routing_number: '110000000', account_number: '000123456789', account_holder_type: 'company' as const };

/** The SDK's rejection, kept for assertions (the recorder keeps the body for the schema check). */
async function refusal(p: Promise<unknown>): Promise<InstanceType<typeof Stripe.errors.StripeError>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Stripe.errors.StripeError) return e;
    throw e;
  }
  throw new Error('expected Stripe to refuse');
}

beforeAll(async () => {
  // Limits raised so the walk is not throttled; the limits themselves are checked in stripe-strictness.test.ts.
  running = await startStripeSimulator({
    record: true,
    achSettleDelayMs: null,
    rateLimitPerSecond: 1000,
    endpointLimitPerSecond: 1000,
    searchLimitPerSecond: 1000,
  });
  const u = new URL(running.baseUrl);
  stripe = new Stripe(running.secretKey, {
    host: u.hostname,
    port: u.port,
    protocol: 'http',
    maxNetworkRetries: 0,
    apiVersion: '2023-08-16' as Stripe.LatestApiVersion,
  });

  // ---- customers (2023-08-16 accepts an address) and cards
  const cus = await stripe.customers.create({
    name: 'Acme IT',
    email: 'ap@acme.test',
    address: { line1: '1 Main St', city: 'Springfield', state: 'IL', postal_code: '62701', country: 'US' },
    metadata: { settle_client_id: 'cl_1' },
  });
  seen['updated'] = await stripe.customers.update(cus.id, { address: { line2: 'Suite 4' }, description: 'Managed services client' });
  await stripe.customers.retrieve(cus.id);
  await stripe.customers.list({ limit: 3 });
  await stripe.customers.search({ query: "metadata['settle_client_id']:'cl_1'" });
  const card = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } } as Stripe.PaymentMethodCreateParams);
  await stripe.paymentMethods.attach(card.id, { customer: cus.id });
  await stripe.paymentMethods.retrieve(card.id);
  const spare = await stripe.paymentMethods.attach('pm_card_mastercard', { customer: cus.id });
  await stripe.paymentMethods.detach(spare.id);
  await stripe.paymentMethods.list({ customer: cus.id, type: 'card' });
  await stripe.customers.listPaymentMethods(cus.id, { type: 'card' });

  // ---- a bank account typed by its numbers: saved with a SetupIntent, verified with microdeposits
  const bank = await stripe.paymentMethods.create({ type: 'us_bank_account', us_bank_account: typedBank, billing_details: { name: 'Acme IT' } });
  const si = await stripe.setupIntents.create({ customer: cus.id, payment_method_types: ['us_bank_account'] });
  seen['siWaiting'] = await stripe.setupIntents.confirm(si.id, { payment_method: bank.id, mandate_data: mandateData });
  seen['siWrong'] = await refusal(stripe.setupIntents.verifyMicrodeposits(si.id, { amounts: [10, 11] }));
  seen['siVerified'] = await stripe.setupIntents.verifyMicrodeposits(si.id, { amounts: [45, 32] });
  const seti = await stripe.setupIntents.retrieve(si.id);
  await stripe.mandates.retrieve(String(seti.mandate));

  // ---- PaymentIntents: automatic payment methods (the 2023-08-16 default) need a return_url on confirm
  const auto = await stripe.paymentIntents.create({ amount: 5_000, currency: 'usd', customer: cus.id });
  seen['auto'] = auto;
  seen['noReturnUrl'] = await refusal(stripe.paymentIntents.confirm(auto.id, { payment_method: 'pm_card_visa' }));
  seen['withReturnUrl'] = await stripe.paymentIntents.confirm(auto.id, { payment_method: 'pm_card_visa', return_url: 'https://settle.test/portal/done' });
  seen['noRedirects'] = await stripe.paymentIntents.create({
    amount: 6_000,
    currency: 'usd',
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    payment_method: 'pm_card_amex',
    confirm: true,
  });
  const paid = await stripe.paymentIntents.create({
    amount: 12_345,
    currency: 'usd',
    customer: cus.id,
    payment_method: card.id,
    confirm: true,
    off_session: true,
    metadata: { settle_attempt: 'att_1' },
  });
  seen['paid'] = paid;
  await stripe.paymentIntents.retrieve(paid.id, { expand: ['latest_charge', 'payment_method'] });

  // ---- ACH from payment_method_data (typed numbers): microdeposits first, then the debit
  const typed = await stripe.paymentIntents.create({
    amount: 40_000,
    currency: 'usd',
    customer: cus.id,
    payment_method_types: ['us_bank_account'],
    payment_method_data: { type: 'us_bank_account', us_bank_account: typedBank, billing_details: { name: 'Acme IT' } },
    payment_method_options: { us_bank_account: { verification_method: 'microdeposits' } },
    mandate_data: mandateData,
    confirm: true,
  });
  seen['typed'] = typed;
  seen['typedVerified'] = await stripe.paymentIntents.verifyMicrodeposits(typed.id, { descriptor_code: 'SM11AA' });
  // The account verified with the SetupIntent debits off-session at once.
  const ach = await stripe.paymentIntents.create({
    amount: 250_000,
    currency: 'usd',
    customer: cus.id,
    payment_method: String(seti.payment_method),
    payment_method_types: ['us_bank_account'],
    confirm: true,
    off_session: true,
  });
  seen['ach'] = ach;
  running.sim.settleAch({ paymentIntent: ach.id });
  const abandoned = await stripe.paymentIntents.create({ amount: 7_000, currency: 'usd', payment_method_types: ['card'] });
  await stripe.paymentIntents.cancel(abandoned.id, { cancellation_reason: 'abandoned' });
  await stripe.paymentIntents.list({ customer: cus.id });
  await stripe.paymentIntents.search({ query: "metadata['settle_attempt']:'att_1'" });

  // ---- charges, refunds, disputes, payouts, balance, events, webhook endpoints
  const ch = await stripe.charges.retrieve(String(paid.latest_charge), { expand: ['balance_transaction'] });
  await stripe.charges.list({ payment_intent: paid.id });
  await stripe.charges.search({ query: "status:'succeeded'" });
  const re = await stripe.refunds.create({ payment_intent: paid.id, amount: 1_000, reason: 'requested_by_customer' });
  await stripe.refunds.retrieve(re.id);
  await stripe.refunds.list({ charge: ch.id });
  const dp = running.sim.createDispute({ paymentIntent: auto.id });
  await stripe.disputes.retrieve(dp.id);
  await stripe.disputes.list();
  await stripe.disputes.close(dp.id);
  const po = running.sim.runPayouts();
  await stripe.payouts.list({ limit: 5 });
  await stripe.payouts.retrieve(String(po?.id));
  const bts = await stripe.balanceTransactions.list({ payout: String(po?.id), expand: ['data.source'], limit: 100 });
  await stripe.balanceTransactions.retrieve(String(bts.data[0]?.id));
  const events = await stripe.events.list({ types: ['payment_intent.succeeded', 'payment_intent.requires_action'] });
  seen['events'] = events;
  await stripe.events.retrieve(String(events.data[0]?.id));
  const we = await stripe.webhookEndpoints.create({ url: 'https://settle.test/webhooks/stripe', enabled_events: ['payment_intent.succeeded'] });
  await stripe.webhookEndpoints.update(we.id, { enabled_events: ['payment_intent.succeeded', 'payout.paid'] });
  await stripe.webhookEndpoints.retrieve(we.id);
  await stripe.webhookEndpoints.list();
  await stripe.webhookEndpoints.del(we.id);
}, 60_000);

afterAll(async () => {
  await running?.close();
});

describe('Stripe simulator through the official SDK (API 2023-08-16)', () => {
  it('answers every route it registers with a 2xx at least once', () => {
    const answered = new Set(running.sim.recorded.filter((x) => x.status < 300).map((x) => `${x.method} ${x.route}`));
    expect(running.routes.length).toBeGreaterThan(40);
    expect(running.routes.filter((r) => !answered.has(r))).toEqual([]);
  });

  it('validates every response, errors included, against spec3.yaml', () => {
    const check = new StripeSchemaCheck();
    expect(check.check(running.sim.recorded)).toEqual([]);
    expect(running.sim.recorded.some((x) => x.status >= 400)).toBe(true);
  });

  it('keeps a customer address and merges an update into it', () => {
    expect((seen['updated'] as Stripe.Customer).address).toMatchObject({ line1: '1 Main St', line2: 'Suite 4', city: 'Springfield', country: 'US' });
  });

  it('turns on automatic payment methods by default, and a confirmation then needs a return_url', () => {
    expect((seen['auto'] as Stripe.PaymentIntent).automatic_payment_methods).toMatchObject({ enabled: true });
    expect((seen['auto'] as Stripe.PaymentIntent).payment_method_types).toEqual(['card', 'us_bank_account']);
    const e = seen['noReturnUrl'] as InstanceType<typeof Stripe.errors.StripeError>;
    expect(e.type).toBe('StripeInvalidRequestError');
    expect(e.param).toBe('return_url');
    expect((seen['withReturnUrl'] as Stripe.PaymentIntent).status).toBe('succeeded');
    expect((seen['noRedirects'] as Stripe.PaymentIntent).status).toBe('succeeded'); // redirects disallowed: no return_url needed
    expect((seen['paid'] as Stripe.PaymentIntent).status).toBe('succeeded'); // off-session: no return_url needed
  });

  it('debits a bank account typed by its numbers only after the microdeposits are verified', () => {
    const waiting = seen['siWaiting'] as Stripe.SetupIntent;
    expect(waiting.status).toBe('requires_action');
    expect(waiting.next_action?.type).toBe('verify_with_microdeposits');
    expect(waiting.next_action?.verify_with_microdeposits?.hosted_verification_url).toContain('/_sim/microdeposit/');
    const wrong = seen['siWrong'] as InstanceType<typeof Stripe.errors.StripeError>;
    expect(wrong.code).toBe('payment_method_microdeposit_verification_amounts_mismatch');
    expect((seen['siVerified'] as Stripe.SetupIntent).status).toBe('succeeded');
    const typed = seen['typed'] as Stripe.PaymentIntent;
    expect(typed.status).toBe('requires_action');
    expect(typed.latest_charge).toBeNull(); // nothing debited before verification
    expect(typed.payment_method_options?.us_bank_account?.verification_method).toBe('microdeposits');
    expect((seen['typedVerified'] as Stripe.PaymentIntent).status).toBe('processing');
    expect((seen['ach'] as Stripe.PaymentIntent).status).toBe('processing'); // verified once, debited off-session after
    const types = (seen['events'] as Stripe.ApiList<Stripe.Event>).data.map((e) => e.type);
    expect(types).toContain('payment_intent.requires_action');
  });
});
