// The Stripe simulator over real HTTP: auth, idempotency, rate limit, paging, card and ACH outcomes,
// refunds, payouts, events and signed webhook delivery with its fault options, lost responses.
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStripeSimulator, type RunningStripeSimulator } from './index.ts';
import { client, control, webhookReceiver, waitFor } from './test-helpers.ts';

let s: RunningStripeSimulator;
let api: ReturnType<typeof client>;
const verifier = new Stripe('sk_test_unused');
const mandate = {
  'mandate_data[customer_acceptance][type]': 'online',
  'mandate_data[customer_acceptance][online][ip_address]': '203.0.113.9',
  'mandate_data[customer_acceptance][online][user_agent]': 'vitest',
};

beforeAll(async () => {
  s = await startStripeSimulator({ achSettleDelayMs: null, rateLimitPerSecond: 1000, endpointLimitPerSecond: 1000 });
  api = client(s.baseUrl, s.secretKey);
  s.sim.setDelivery({ retryDelaysMs: [20, 20] });
});
afterAll(async () => {
  await s.close();
});
afterEach(() => {
  s.sim.setRateLimit(1000);
  s.sim.setDelivery({ duplicate: 0, drop: 0, outOfOrder: false, retryDelaysMs: [20, 20] });
});

async function customer(): Promise<string> {
  return (await api('POST', '/v1/customers', { name: 'Acme' })).json.id as string;
}

describe('auth', () => {
  it("accepts the secret key as Bearer or Basic username, and answers 401 in Stripe's shape otherwise", async () => {
    expect((await api('GET', '/v1/customers')).status).toBe(200);
    const basic = await fetch(`${s.baseUrl}/v1/customers`, { headers: { authorization: `Basic ${Buffer.from(`${s.secretKey}:`).toString('base64')}` } });
    expect(basic.status).toBe(200);
    const bad = await client(s.baseUrl, 'sk_test_notthekey1234')('GET', '/v1/customers');
    expect(bad.status).toBe(401);
    expect(bad.json.error.type).toBe('invalid_request_error');
    expect(bad.json.error.message).toBe('Invalid API Key provided: sk_test_*********1234');
    expect((await fetch(`${s.baseUrl}/v1/customers`)).status).toBe(401);
    expect((await client(s.baseUrl, s.publishableKey)('GET', '/v1/customers')).status).toBe(401);
  });
});

describe('idempotency', () => {
  it('replays the first response for the same key and parameters, and creates nothing new', async () => {
    const cus = await customer();
    const params = {
      amount: 1500,
      currency: 'usd',
      customer: cus,
      payment_method: 'pm_card_visa',
      confirm: true,
      'payment_method_types[]': 'card',
      'metadata[a]': '1',
    };
    const first = await api('POST', '/v1/payment_intents', params, { 'idempotency-key': 'pay-1' });
    const again = await api('POST', '/v1/payment_intents', params, { 'idempotency-key': 'pay-1' });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect([...s.sim.store.paymentIntents.values()].filter((p) => p.customer === cus)).toHaveLength(1);
  });

  it('replays errors too (a decline stays the same 402), but not parameter validation failures', async () => {
    const params = { amount: 1500, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: true, 'payment_method_types[]': 'card' };
    const first = await api('POST', '/v1/payment_intents', params, { 'idempotency-key': 'decl-1' });
    const again = await api('POST', '/v1/payment_intents', params, { 'idempotency-key': 'decl-1' });
    expect(first.status).toBe(402);
    expect(again.status).toBe(402);
    expect(again.json).toEqual(first.json);
    const invalid = await api('POST', '/v1/payment_intents', { amount: 10, currency: 'usd' }, { 'idempotency-key': 'fix-1' });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.code).toBe('amount_too_small');
    expect((await api('POST', '/v1/payment_intents', { amount: 1000, currency: 'usd' }, { 'idempotency-key': 'fix-1' })).status).toBe(200);
  });

  it('answers idempotency_error when a key is reused with different parameters; keys are scoped per API key', async () => {
    expect((await api('POST', '/v1/customers', { name: 'A' }, { 'idempotency-key': 'cus-1' })).status).toBe(200);
    const clash = await api('POST', '/v1/customers', { name: 'B' }, { 'idempotency-key': 'cus-1' });
    expect(clash.status).toBe(400);
    expect(clash.json.error.type).toBe('idempotency_error');
    const pk = client(s.baseUrl, s.publishableKey);
    const sk1 = await api('POST', '/v1/payment_methods', { type: 'card', 'card[token]': 'tok_visa' }, { 'idempotency-key': 'pm-1' });
    const pk1 = await pk('POST', '/v1/payment_methods', { type: 'card', 'card[token]': 'tok_mastercard' }, { 'idempotency-key': 'pm-1' });
    expect(sk1.status).toBe(200);
    expect(pk1.status).toBe(200);
    expect(pk1.json.card.brand).toBe('mastercard');
  });
});

describe('rate limit and paging', () => {
  it('answers 429 rate_limit past the configured requests per second (/_sim is not limited)', async () => {
    s.sim.setRateLimit(5);
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await api('GET', '/v1/payouts')).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    const limited = await api('GET', '/v1/payouts');
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('rate_limit');
    expect((await fetch(`${s.baseUrl}/_sim/webhooks/deliveries`)).status).toBe(200);
  });

  it('pages newest first with limit, starting_after and ending_before', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api('POST', '/v1/customers', { email: `page${i}@x.test` })).json.id);
    const newest = ids.slice().reverse();
    const p1 = await api('GET', '/v1/customers', { limit: 2 });
    expect(p1.json.data.map((c: { id: string }) => c.id)).toEqual(newest.slice(0, 2));
    expect(p1.json.has_more).toBe(true);
    const p2 = await api('GET', '/v1/customers', { limit: 2, starting_after: newest[1]! });
    expect(p2.json.data.map((c: { id: string }) => c.id)).toEqual(newest.slice(2, 4));
    const back = await api('GET', '/v1/customers', { limit: 2, ending_before: newest[2]! });
    expect(back.json.data.map((c: { id: string }) => c.id)).toEqual(newest.slice(0, 2));
    expect((await api('GET', '/v1/customers', { limit: 101 })).status).toBe(400);
  });
});

describe('cards', () => {
  it('succeeds with a charge and a balance transaction carrying 2.9% + 30¢', async () => {
    const pi = await api('POST', '/v1/payment_intents', {
      amount: 10_000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      'payment_method_types[]': 'card',
      'expand[]': 'latest_charge.balance_transaction',
    });
    expect(pi.json.status).toBe('succeeded');
    expect(pi.json.amount_received).toBe(10_000);
    const bt = pi.json.latest_charge.balance_transaction;
    expect([bt.amount, bt.fee, bt.net, bt.type, bt.status]).toEqual([10_000, 320, 9_680, 'charge', 'pending']);
    expect(bt.available_on).toBeGreaterThan(bt.created);
    expect(bt.fee_details).toEqual([{ amount: 320, application: null, currency: 'usd', description: 'Stripe processing fees', type: 'stripe_fee' }]);
  });

  it.each([
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card'],
  ])('%s declines with a 402 card_error and leaves the intent requiring a payment method', async (pm, code, declineCode) => {
    const res = await api('POST', '/v1/payment_intents', {
      amount: 2_000,
      currency: 'usd',
      payment_method: pm,
      confirm: true,
      'payment_method_types[]': 'card',
    });
    expect(res.status).toBe(402);
    expect(res.json.error).toMatchObject({ type: 'card_error', code, decline_code: declineCode });
    expect(res.json.error.payment_intent.status).toBe('requires_payment_method');
    expect(res.json.error.payment_intent.last_payment_error).toMatchObject({ type: 'card_error', code, decline_code: declineCode });
    const charge = s.sim.store.charges.get(res.json.error.charge);
    expect(charge?.status).toBe('failed');
    expect(charge?.balance_transaction).toBeNull();
  });

  it('a declined intent returns to requires_payment_method and can be confirmed again: payment_failed, then succeeded', async () => {
    const cus = await customer();
    const pi = await api('POST', '/v1/payment_intents', { amount: 4_200, currency: 'usd', customer: cus, 'payment_method_types[]': 'card' });
    const events = () => [...s.sim.store.events.values()].filter((e) => (e.data.object as { id?: string }).id === pi.json.id).map((e) => e.type);
    const declined = await api('POST', `/v1/payment_intents/${pi.json.id}/confirm`, { payment_method: 'pm_card_chargeDeclined' });
    expect(declined.status).toBe(402);
    const open = await api('GET', `/v1/payment_intents/${pi.json.id}`);
    expect(open.json).toMatchObject({ status: 'requires_payment_method', payment_method: null, last_payment_error: { decline_code: 'generic_decline' } });
    const firstCharge = open.json.latest_charge as string;
    const paid = await api('POST', `/v1/payment_intents/${pi.json.id}/confirm`, { payment_method: 'pm_card_visa' });
    expect(paid.json).toMatchObject({ status: 'succeeded', last_payment_error: null, amount_received: 4_200 });
    expect(paid.json.latest_charge).not.toBe(firstCharge);
    const charges = [...s.sim.store.charges.values()].filter((c) => c.payment_intent === pi.json.id);
    expect(charges.map((c) => c.status).sort()).toEqual(['failed', 'succeeded']);
    expect(events()).toEqual(['payment_intent.created', 'payment_intent.payment_failed', 'payment_intent.succeeded']);
    // A succeeded intent cannot be confirmed a third time.
    expect((await api('POST', `/v1/payment_intents/${pi.json.id}/confirm`, { payment_method: 'pm_card_visa' })).status).toBe(400);
  });

  it('refuses a method attached to another customer, and a method that already paid without a customer', async () => {
    const [a, b] = [await customer(), await customer()];
    const bCard = await api('POST', '/v1/payment_methods/pm_card_visa/attach', { customer: b });
    const stolen = await api('POST', '/v1/payment_intents', {
      amount: 1_000,
      currency: 'usd',
      customer: a,
      payment_method: bCard.json.id,
      confirm: true,
      'payment_method_types[]': 'card',
    });
    expect(stolen.status).toBe(400);
    expect(stolen.json.error).toMatchObject({ type: 'invalid_request_error', param: 'payment_method' });
    const loose = await api('POST', '/v1/payment_methods', { type: 'card', 'card[token]': 'tok_visa' });
    const once = await api('POST', '/v1/payment_intents', {
      amount: 1_000,
      currency: 'usd',
      customer: a,
      payment_method: loose.json.id,
      confirm: true,
      'payment_method_types[]': 'card',
    });
    expect(once.json.status).toBe('succeeded');
    const twice = await api('POST', '/v1/payment_intents', {
      amount: 1_000,
      currency: 'usd',
      customer: b,
      payment_method: loose.json.id,
      confirm: true,
      'payment_method_types[]': 'card',
    });
    expect(twice.status).toBe(400);
    expect(twice.json.error.message).toMatch(/may not be used again/);
    expect((await api('POST', `/v1/payment_methods/${loose.json.id}/attach`, { customer: b })).status).toBe(400);
  });

  it('reports funding from the test card (credit, debit, prepaid)', async () => {
    const cus = await customer();
    for (const [token, funding] of [
      ['pm_card_visa', 'credit'],
      ['pm_card_visa_debit', 'debit'],
      ['pm_card_mastercard_prepaid', 'prepaid'],
    ] as const) {
      const pm = await api('POST', `/v1/payment_methods/${token}/attach`, { customer: cus });
      expect(pm.json.card.funding).toBe(funding);
    }
    const list = await api('GET', '/v1/payment_methods', { customer: cus, type: 'card' });
    expect(list.json.data).toHaveLength(3);
  });
});

describe('ACH Direct Debit', () => {
  it('stays processing until settled, then succeeds with a 0.8% fee capped at $5', async () => {
    const cus = await customer();
    const pi = await api('POST', '/v1/payment_intents', {
      amount: 100_000,
      currency: 'usd',
      customer: cus,
      payment_method: 'pm_usBankAccount',
      'payment_method_types[]': 'us_bank_account',
      confirm: true,
      ...mandate,
    });
    expect(pi.json.status).toBe('processing');
    expect((await control(s.baseUrl, '/_sim/ach/settle', { payment_intent: pi.json.id })).settled).toEqual([pi.json.id]);
    const after = await api('GET', `/v1/payment_intents/${pi.json.id}`, { 'expand[]': 'latest_charge.balance_transaction' });
    expect(after.json.status).toBe('succeeded');
    expect(after.json.latest_charge.id).toMatch(/^py_/);
    expect(after.json.latest_charge.balance_transaction).toMatchObject({ type: 'payment', fee: 500, net: 99_500 });
  });

  it('fails a returned debit (account closed) and deactivates its mandate', async () => {
    const cus = await customer();
    const pi = await api('POST', '/v1/payment_intents', {
      amount: 30_000,
      currency: 'usd',
      customer: cus,
      payment_method: 'pm_usBankAccount_accountClosed',
      'payment_method_types[]': 'us_bank_account',
      confirm: true,
      setup_future_usage: 'off_session',
      ...mandate,
    });
    s.sim.settleAch({ paymentIntent: pi.json.id });
    const after = await api('GET', `/v1/payment_intents/${pi.json.id}`, { 'expand[]': 'latest_charge' });
    expect(after.json.status).toBe('requires_payment_method');
    expect(after.json.last_payment_error.code).toBe('account_closed');
    expect(after.json.latest_charge.failure_code).toBe('account_closed');
    const m = [...s.sim.store.mandates.values()].find((x) => x.payment_method === after.json.last_payment_error.payment_method.id);
    expect(m?.status).toBe('inactive');
  });

  it('settles by itself after achSettleDelayMs', async () => {
    const quick = await startStripeSimulator({ achSettleDelayMs: 30 });
    try {
      const q = client(quick.baseUrl, quick.secretKey);
      const pi = await q('POST', '/v1/payment_intents', {
        amount: 5_000,
        currency: 'usd',
        payment_method: 'pm_usBankAccount_insufficientFunds',
        'payment_method_types[]': 'us_bank_account',
        confirm: true,
        ...mandate,
      });
      expect(pi.json.status).toBe('processing');
      await waitFor(() => quick.sim.store.paymentIntents.get(pi.json.id)?.status !== 'processing', 2_000);
      expect(quick.sim.store.paymentIntents.get(pi.json.id)?.last_payment_error?.code).toBe('insufficient_funds');
    } finally {
      await quick.close();
    }
  });

  it('refuses a debit without a mandate', async () => {
    const res = await api('POST', '/v1/payment_intents', {
      amount: 5_000,
      currency: 'usd',
      payment_method: 'pm_usBankAccount',
      'payment_method_types[]': 'us_bank_account',
      confirm: true,
    });
    expect(res.status).toBe(400);
    expect(res.json.error.param).toBe('mandate_data');
  });
});

describe('refunds, disputes and payouts', () => {
  it('pays out everything not yet paid out; ?payout= lists it and sum(net) equals the payout', async () => {
    s.sim.runPayouts(); // sweep earlier tests' balance
    const a = await api('POST', '/v1/payment_intents', {
      amount: 20_000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      'payment_method_types[]': 'card',
    });
    const b = await api('POST', '/v1/payment_intents', {
      amount: 7_500,
      currency: 'usd',
      payment_method: 'pm_card_amex',
      confirm: true,
      'payment_method_types[]': 'card',
    });
    const re = await api('POST', '/v1/refunds', { payment_intent: a.json.id, amount: 5_000 });
    expect(re.json).toMatchObject({ status: 'succeeded', amount: 5_000, payment_intent: a.json.id });
    expect((await api('POST', '/v1/refunds', { payment_intent: a.json.id, amount: 50_000 })).json.error.code).toBe('amount_too_large');
    expect((await control(s.baseUrl, '/_sim/disputes/create', { payment_intent: b.json.id })).status).toBe('needs_response');
    // As Stripe: a charge whose dispute withdrew the funds cannot be refunded.
    const disputedRefund = await api('POST', '/v1/refunds', { payment_intent: b.json.id, amount: 100 });
    expect(disputedRefund.status).toBe(400);
    expect(disputedRefund.json.error.code).toBe('charge_disputed');
    const po = (await control(s.baseUrl, '/_sim/payouts/run', {})).payout;
    expect(po.status).toBe('paid');
    const items = await api('GET', '/v1/balance_transactions', { payout: po.id, limit: 100 });
    const types = items.json.data.map((t: { type: string }) => t.type).sort();
    expect(types).toEqual(['adjustment', 'charge', 'charge', 'payout', 'refund']);
    const parts = items.json.data.filter((t: { type: string }) => t.type !== 'payout');
    const sumNet = parts.reduce((n: number, t: { net: number }) => n + t.net, 0);
    expect(sumNet).toBe(po.amount);
    // 20000−610 + 7500−248 − 5000 − 7500−1500 dispute fee
    expect(po.amount).toBe(20_000 - 610 + (7_500 - 248) - 5_000 - (7_500 + 1_500));
    expect(items.json.data.find((t: { type: string }) => t.type === 'payout').net).toBe(-po.amount);
    const events = await api('GET', '/v1/events', { 'types[]': 'payout.paid' });
    expect(events.json.data[0].data.object.id).toBe(po.id);
  });

  it("returns a failed payout's funds as payout_failure, paid out again next time", async () => {
    s.sim.runPayouts();
    await api('POST', '/v1/payment_intents', {
      amount: 10_000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      'payment_method_types[]': 'card',
    });
    const failed = s.sim.runPayouts({ fail: true, failureCode: 'account_closed' });
    expect(failed).toMatchObject({ status: 'failed', failure_code: 'account_closed', amount: 9_680 });
    const next = s.sim.runPayouts();
    expect(next?.amount).toBe(9_680);
    const items = await api('GET', '/v1/balance_transactions', { payout: next!.id });
    expect(items.json.data.map((t: { type: string }) => t.type).sort()).toEqual(['payout', 'payout_failure']);
  });
});

describe('events and webhooks', () => {
  it('signs deliveries exactly as Stripe does and records the causing idempotency key', async () => {
    const rx = await webhookReceiver();
    try {
      const we = await api('POST', '/v1/webhook_endpoints', { url: rx.url, 'enabled_events[]': 'payment_intent.succeeded' });
      expect(we.json.secret).toMatch(/^whsec_/);
      expect((await api('GET', `/v1/webhook_endpoints/${we.json.id}`)).json.secret).toBeUndefined();
      const pi = await api(
        'POST',
        '/v1/payment_intents',
        { amount: 4_200, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, 'payment_method_types[]': 'card' },
        { 'idempotency-key': 'attempt:77' },
      );
      await s.sim.webhooks.idle();
      expect(rx.received).toHaveLength(1);
      const got = rx.received[0]!;
      // The official library accepts the signature (and rejects it with another secret).
      const event = verifier.webhooks.constructEvent(got.raw, String(got.headers['stripe-signature']), we.json.secret);
      expect(event.type).toBe('payment_intent.succeeded');
      expect((event.data.object as { id: string }).id).toBe(pi.json.id);
      expect(event.request).toMatchObject({ idempotency_key: 'attempt:77' });
      expect(() => verifier.webhooks.constructEvent(got.raw, String(got.headers['stripe-signature']), 'whsec_other')).toThrow();
      await api('DELETE', `/v1/webhook_endpoints/${we.json.id}`);
    } finally {
      await rx.close();
    }
  });

  it('retries a delivery answered with a non-2xx', async () => {
    const rx = await webhookReceiver((n) => (n === 1 ? 500 : 200));
    try {
      const we = await api('POST', '/v1/webhook_endpoints', { url: rx.url, 'enabled_events[]': 'customer.created' });
      const cus = await customer();
      await s.sim.webhooks.idle();
      expect(rx.received.map((r) => r.body.data.object['id'])).toEqual([cus, cus]);
      const log = s.sim.webhooks.deliveries.filter((d) => d.endpointId === we.json.id);
      expect(log.map((d) => [d.attempt, d.outcome])).toEqual([
        [1, 'failed'],
        [2, 'delivered'],
      ]);
      await api('DELETE', `/v1/webhook_endpoints/${we.json.id}`);
    } finally {
      await rx.close();
    }
  });

  it('can drop, duplicate and reorder deliveries; dropped events stay listed in /v1/events', async () => {
    const rx = await webhookReceiver();
    try {
      const we = await api('POST', '/v1/webhook_endpoints', { url: rx.url, 'enabled_events[]': 'customer.created' });
      await control(s.baseUrl, '/_sim/webhooks/options', { drop: 1 });
      const lost = await customer();
      await s.sim.webhooks.idle();
      expect(rx.received).toHaveLength(0);
      const listed = await api('GET', '/v1/events', { type: 'customer.created', limit: 5 });
      expect(listed.json.data.some((e: { data: { object: { id: string } } }) => e.data.object.id === lost)).toBe(true);

      s.sim.setDelivery({ duplicate: 1 });
      await customer();
      await s.sim.webhooks.idle();
      expect(rx.received).toHaveLength(2);
      expect(rx.received[0]!.body.id).toBe(rx.received[1]!.body.id);

      rx.received.length = 0;
      s.sim.setDelivery({ outOfOrder: true, outOfOrderWindowMs: 30 });
      const first = await customer();
      const second = await customer();
      await s.sim.webhooks.idle();
      expect(rx.received.map((r) => r.body.data.object['id'])).toEqual([second, first]);
      await api('DELETE', `/v1/webhook_endpoints/${we.json.id}`);
    } finally {
      await rx.close();
    }
  });
});

describe('faults and hosted fields', () => {
  it('can lose the response after doing the work (the charge exists; the caller never heard)', async () => {
    s.sim.loseResponses({ method: 'POST', pathPattern: '^/v1/payment_intents$', mode: 'drop' });
    await expect(
      api('POST', '/v1/payment_intents', {
        amount: 3_300,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        'payment_method_types[]': 'card',
        'metadata[settle_attempt]': 'lost-1',
      }),
    ).rejects.toThrow();
    const found = await api('GET', '/v1/payment_intents/search', { query: "metadata['settle_attempt']:'lost-1'" });
    expect(found.json.data.map((p: { status: string }) => p.status)).toEqual(['succeeded']);
  });

  it("can make search eventually consistent, as Stripe's is", async () => {
    s.sim.setSearchLag(60_000);
    try {
      await api('POST', '/v1/payment_intents', { amount: 1_000, currency: 'usd', 'metadata[settle_attempt]': 'lagging' });
      const q = { query: "metadata['settle_attempt']:'lagging'" };
      expect((await api('GET', '/v1/payment_intents/search', q)).json.data).toHaveLength(0);
      s.sim.advanceClock(120);
      expect((await api('GET', '/v1/payment_intents/search', q)).json.data).toHaveLength(1);
    } finally {
      s.sim.setSearchLag(0);
    }
  });

  it('serves the stripe.js stand-in and confirms an intent from typed test card and bank details', async () => {
    const js = await fetch(`${s.baseUrl}/_sim/js/v3`);
    expect(js.headers.get('content-type')).toContain('javascript');
    const jsText = await js.text();
    expect(jsText).toContain('confirmPayment');
    expect(() => new Function(jsText)).not.toThrow(); // parses as a script
    const pi = await api('POST', '/v1/payment_intents', {
      amount: 9_900,
      currency: 'usd',
      'payment_method_types[0]': 'card',
      'payment_method_types[1]': 'us_bank_account',
    });
    const pageUrl = `${s.baseUrl}/_sim/elements?client_secret=${encodeURIComponent(pi.json.client_secret)}&pk=${s.publishableKey}`;
    const html = await (await fetch(pageUrl)).text();
    expect(html).toContain('data-testid="card-number"');
    expect(html).toContain('data-testid="bank-account"');
    const inline = /<script>([\s\S]*)<\/script>/.exec(html)?.[1] ?? '';
    expect(() => new Function(inline)).not.toThrow();
    expect((await fetch(pageUrl.replace(s.publishableKey, 'pk_test_wrong'))).status).toBe(401);
    const confirm = (body: object) => control(s.baseUrl, '/_sim/elements/confirm', { client_secret: pi.json.client_secret, pk: s.publishableKey, ...body });
    const declined = await confirm({ method: 'card', card: { number: '4000 0000 0000 0002', exp_month: '12', exp_year: '40', cvc: '123' } });
    expect(declined.error).toMatchObject({ type: 'card_error', decline_code: 'generic_decline' });
    const paid = await confirm({ method: 'card', card: { number: '4000056655665556', exp_month: '12', exp_year: '40', cvc: '123' } });
    expect(paid.paymentIntent.status).toBe('succeeded');
    const pm = s.sim.store.paymentMethods.get(paid.paymentIntent.payment_method);
    expect(pm?.card?.funding).toBe('debit');

    const ach = await api('POST', '/v1/payment_intents', { amount: 9_900, currency: 'usd', 'payment_method_types[]': 'us_bank_account' });
    const bank = { method: 'us_bank_account', bank: { holder: 'Jenny Rosen', routing: '110000000', account: '000123456789', account_type: 'checking' } };
    const noMandate = await control(s.baseUrl, '/_sim/elements/confirm', { client_secret: ach.json.client_secret, pk: s.publishableKey, ...bank });
    expect(noMandate.error.type).toBe('validation_error');
    const ok = await control(s.baseUrl, '/_sim/elements/confirm', {
      client_secret: ach.json.client_secret,
      pk: s.publishableKey,
      ...bank,
      mandate_accepted: true,
    });
    expect(ok.paymentIntent.status).toBe('processing');
  });
});
