// The Stripe connector against the Stripe simulator over real HTTP, through the official SDK.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import { startStripeSimulator, type RunningStripeSimulator } from '../../../../simulators/stripe/index.ts';
import { webhookReceiver } from '../../../../simulators/stripe/test-helpers.ts';
import type { ProcessorEvent } from '../types.ts';
import { createStripeConnector, type StripeConnector } from './connector.ts';
import { registerStripeWebhookEndpoint } from './register-webhook.ts';

let sim: RunningStripeSimulator;
let stripe: StripeConnector;
const noWait = async (): Promise<void> => {};

beforeAll(async () => {
  sim = await startStripeSimulator({ achSettleDelayMs: null, rateLimitPerSecond: 1000 });
  stripe = createStripeConnector({ secretKey: sim.secretKey, baseUrl: sim.baseUrl, webhookSecret: 'whsec_unused', timeoutMs: 2_000, wait: noWait });
});
afterAll(async () => {
  await sim.close();
});

let seq = 0;
const key = (what: string): string => `test:${what}:${++seq}`;

async function customerWithCard(token: string): Promise<{ customerId: string; methodId: string }> {
  const { customerId } = await stripe.ensureCustomer({ name: `Client ${seq}`, email: null, clientId: `cl_${++seq}`, idempotencyKey: key('cus') });
  const pm = await stripe.stripe.paymentMethods.attach(token, { customer: customerId });
  return { customerId, methodId: pm.id };
}

async function customerWithBank(token: string): Promise<{ customerId: string; methodId: string }> {
  const { customerId } = await stripe.ensureCustomer({ name: `Client ${seq}`, email: 'ap@client.test', clientId: `cl_${++seq}`, idempotencyKey: key('cus') });
  const si = await stripe.stripe.setupIntents.create({
    customer: customerId,
    payment_method_types: ['us_bank_account'],
    payment_method: token,
    confirm: true,
    mandate_data: { customer_acceptance: { type: 'online', online: { ip_address: '203.0.113.5', user_agent: 'vitest' } } },
  });
  return { customerId, methodId: String(si.payment_method) };
}

const charge = (c: { customerId: string; methodId: string }, amountMinor: bigint, attempt: string, idempotencyKey = key('charge')) =>
  stripe.chargeOffSession({
    amount: money(amountMinor, 'USD'),
    customerId: c.customerId,
    processorMethodId: c.methodId,
    description: 'Invoice payment',
    metadata: { settle_attempt: attempt },
    idempotencyKey,
  });

describe('customers and saved methods', () => {
  it('ensureCustomer finds the customer it created instead of creating another', async () => {
    const a = await stripe.ensureCustomer({ name: 'Acme', email: 'ap@acme.test', clientId: 'cl_acme', idempotencyKey: 'client:cl_acme:stripe:customer' });
    const b = await stripe.ensureCustomer({ name: 'Acme', email: 'ap@acme.test', clientId: 'cl_acme', idempotencyKey: 'a-different-key' });
    expect(b.customerId).toBe(a.customerId);
    expect([...sim.sim.store.customers.values()].filter((c) => c.metadata['settle_client_id'] === 'cl_acme')).toHaveLength(1);
  });

  it('lists saved cards and bank accounts with funding, never numbers', async () => {
    const c = await customerWithBank('pm_usBankAccount_success');
    await stripe.stripe.paymentMethods.attach('pm_card_visa_debit', { customer: c.customerId });
    await stripe.stripe.paymentMethods.attach('pm_card_visa', { customer: c.customerId });
    const methods = await stripe.listSavedMethods(c.customerId);
    expect(methods.map((m) => [m.kind, m.brand, m.last4, m.funding]).sort()).toEqual([
      ['card', 'visa', '4242', 'credit'],
      ['card', 'visa', '5556', 'debit'],
      ['us_bank_account', 'STRIPE TEST BANK', '6789', null],
    ]);
  });
});

describe('describeMethod', () => {
  it('says whose a method is: a customer’s, or nobody’s yet (fresh from the hosted fields), and when it was made', async () => {
    const saved = await customerWithCard('pm_card_visa');
    const described = await stripe.describeMethod(saved.methodId);
    expect(described).toMatchObject({ kind: 'card', last4: '4242', funding: 'credit', customerId: saved.customerId });
    const fresh = await stripe.stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa_debit' } } as never);
    const loose = await stripe.describeMethod(fresh.id);
    expect(loose).toMatchObject({ customerId: null, funding: 'debit' });
    expect(Math.abs(loose.createdAt.getTime() - Date.now())).toBeLessThan(10 * 60_000);
  });
});

describe('chargeOffSession', () => {
  it('succeeds with the charge id, and the same idempotency key never charges twice', async () => {
    const c = await customerWithCard('pm_card_visa');
    const first = await charge(c, 12_500n, 'att_ok', 'payment:p1:attempt:1');
    const again = await charge(c, 12_500n, 'att_ok', 'payment:p1:attempt:1');
    expect(first).toMatchObject({ kind: 'succeeded', chargeId: expect.stringMatching(/^ch_/) });
    expect(again).toEqual(first);
    expect([...sim.sim.store.paymentIntents.values()].filter((p) => p.customer === c.customerId)).toHaveLength(1);
  });

  it("reports a decline with Stripe's decline code", async () => {
    const c = await customerWithCard('pm_card_chargeDeclinedInsufficientFunds');
    const o = await charge(c, 5_000n, 'att_nsf');
    expect(o).toMatchObject({ kind: 'declined', declineCode: 'insufficient_funds', processorPaymentId: expect.stringMatching(/^pi_/) });
  });

  it('says not_sent when Stripe refused the request (bad key, unknown method)', async () => {
    const c = await customerWithCard('pm_card_visa');
    const wrongKey = createStripeConnector({ secretKey: 'sk_test_wrong', baseUrl: sim.baseUrl, webhookSecret: 'x', wait: noWait });
    expect(
      (
        await wrongKey.chargeOffSession({
          amount: money(100n, 'USD'),
          customerId: c.customerId,
          processorMethodId: c.methodId,
          description: 'x',
          metadata: {},
          idempotencyKey: key('k'),
        })
      ).kind,
    ).toBe('not_sent');
    expect((await charge({ ...c, methodId: 'pm_doesnotexist' }, 100n, 'att_x')).kind).toBe('not_sent');
  });

  it('a timeout is unknown, then resolved by asking: findPaymentsByMetadata and getPayment', async () => {
    const c = await customerWithCard('pm_card_visa');
    const impatient = createStripeConnector({ secretKey: sim.secretKey, baseUrl: sim.baseUrl, webhookSecret: 'x', timeoutMs: 300, wait: noWait });
    sim.sim.loseResponses({ method: 'POST', pathPattern: '^/v1/payment_intents$', mode: 'hang' });
    const o = await impatient.chargeOffSession({
      amount: money(7_700n, 'USD'),
      customerId: c.customerId,
      processorMethodId: c.methodId,
      description: 'x',
      metadata: { settle_attempt: 'att_timeout' },
      idempotencyKey: key('t'),
    });
    expect(o.kind).toBe('unknown');
    const found = await stripe.findPaymentsByMetadata('settle_attempt', 'att_timeout');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ outcome: { kind: 'succeeded' }, amount: money(7_700n, 'USD'), metadata: { settle_attempt: 'att_timeout' } });
    const byId = await stripe.getPayment(found[0]!.processorPaymentId);
    expect(byId.outcome.kind).toBe('succeeded');
  });

  it('a dropped connection or a 5xx is unknown too; asking shows whether anything was charged', async () => {
    const c = await customerWithCard('pm_card_visa');
    // stripe-node resends once, with the same idempotency key, when a kept-alive socket is reset:
    // Stripe replays the first result, so one lost answer is recovered and nothing is charged twice.
    sim.sim.loseResponses({ method: 'POST', pathPattern: '^/v1/payment_intents$', mode: 'drop' });
    expect((await charge(c, 1_000n, 'att_replayed')).kind).toBe('succeeded');
    expect(await stripe.findPaymentsByMetadata('settle_attempt', 'att_replayed')).toHaveLength(1);
    sim.sim.loseResponses({ method: 'POST', pathPattern: '^/v1/payment_intents$', mode: 'drop', times: 2 });
    expect((await charge(c, 1_000n, 'att_dropped')).kind).toBe('unknown');
    expect((await stripe.findPaymentsByMetadata('settle_attempt', 'att_dropped')).map((p) => p.outcome.kind)).toEqual(['succeeded']);
    // A 500 before Stripe did anything: still unknown to us, and the search finds nothing.
    sim.sim.faults.add({
      method: 'POST',
      pathPattern: '^/v1/payment_intents$',
      fault: { kind: 'status', status: 500, body: { error: { type: 'api_error', message: 'boom' } } },
      times: 1,
    });
    expect((await charge(c, 1_000n, 'att_500')).kind).toBe('unknown');
    expect(await stripe.findPaymentsByMetadata('settle_attempt', 'att_500')).toEqual([]);
  });

  it('retries a 429 (Stripe did not act, Stripe-Should-Retry: true) after the window, and gives up as not_sent when the limit persists', async () => {
    const c = await customerWithCard('pm_card_visa');
    sim.sim.setLimits({ perSecond: 0 }); // every request refused for its rate
    try {
      const started = performance.now();
      const o = await charge(c, 1_000n, 'att_429');
      expect(o).toMatchObject({ kind: 'not_sent', reason: expect.stringContaining('rate_limited') });
      // Each 429 held the account's later requests back for Stripe's one-second window (pacing.ts).
      expect(performance.now() - started).toBeGreaterThanOrEqual(2_500);
      expect(sim.sim.calls.counts.get('POST /v1/payment_intents') ?? 0).toBeGreaterThan(0);
    } finally {
      sim.sim.setRateLimit(1000);
    }
    // One request over a limit of 1/s: the 429 is retried after the window and goes through.
    sim.sim.setRateLimit(1);
    try {
      await fetch(`${sim.baseUrl}/v1/payouts`, { headers: { authorization: `Bearer ${sim.secretKey}` } });
      const later = await charge(c, 1_000n, 'att_429_later');
      expect(later.kind).toBe('succeeded');
    } finally {
      sim.sim.setRateLimit(1000);
    }
  });
});

describe('ACH, webhooks and payouts', () => {
  it('an ACH debit is processing, then its webhooks say succeeded or failed', async () => {
    const received: ProcessorEvent[] = [];
    let listener: StripeConnector | null = null;
    const rx = await webhookReceiver((_n, r) => {
      received.push(listener!.parseWebhook(r.headers as Record<string, string>, r.raw));
      return 200;
    });
    try {
      const endpoint = await registerStripeWebhookEndpoint({ secretKey: sim.secretKey, baseUrl: sim.baseUrl }, { url: rx.url, idempotencyKey: key('we') });
      expect(endpoint.secret).toMatch(/^whsec_/);
      listener = createStripeConnector({ secretKey: sim.secretKey, baseUrl: sim.baseUrl, webhookSecret: endpoint.secret });
      const good = await customerWithBank('pm_usBankAccount_success');
      const bad = await customerWithBank('pm_usBankAccount_insufficientFunds');
      const ok = await charge(good, 150_000n, 'att_ach_ok');
      const nsf = await charge(bad, 80_000n, 'att_ach_nsf');
      expect(ok.kind).toBe('processing');
      expect(nsf.kind).toBe('processing');
      sim.sim.settleAch();
      await sim.sim.webhooks.idle();
      const okId = ok.kind === 'processing' ? ok.processorPaymentId : '';
      const nsfId = nsf.kind === 'processing' ? nsf.processorPaymentId : '';
      expect(received.filter((e) => 'processorPaymentId' in e && e.processorPaymentId === okId).map((e) => e.type)).toEqual([
        'payment.processing',
        'payment.succeeded',
      ]);
      expect(received.find((e) => e.type === 'payment.succeeded' && e.processorPaymentId === okId)).toMatchObject({
        amount: money(150_000n, 'USD'),
        metadata: { settle_attempt: 'att_ach_ok' },
      });
      expect(received.find((e) => e.type === 'payment.failed')).toMatchObject({ processorPaymentId: nsfId, declineCode: 'insufficient_funds' });
      expect((await stripe.getPayment(nsfId)).outcome).toMatchObject({ kind: 'declined', declineCode: 'insufficient_funds' });
      await stripe.stripe.webhookEndpoints.del(endpoint.endpointId);
    } finally {
      await rx.close();
    }
  });

  it('payout items (over several pages) add up to the payout: sum(net) == payout.amount', async () => {
    sim.sim.runPayouts(); // start from an empty balance
    const card = await customerWithCard('pm_card_visa');
    const bank = await customerWithBank('pm_usBankAccount_success');
    const paid: string[] = [];
    for (let i = 0; i < 104; i++) {
      const o = await charge(card, BigInt(1_000 + i * 37), `att_po_${i}`);
      if (o.kind === 'succeeded') paid.push(o.processorPaymentId);
    }
    const ach = await charge(bank, 250_000n, 'att_po_ach');
    sim.sim.settleAch();
    await stripe.stripe.refunds.create({ payment_intent: paid[0]!, amount: 500 }, { idempotencyKey: key('re') });
    sim.sim.createDispute({ paymentIntent: paid[1]! });
    const po = sim.sim.runPayouts();
    const payout = await stripe.getPayout(po!.id);
    expect(payout.status).toBe('paid');
    const pages: number[] = [];
    const items = [];
    for await (const page of stripe.listPayoutItems(payout.payoutId, 'USD')) {
      pages.push(page.length);
      items.push(...page);
    }
    expect(pages.length).toBeGreaterThan(1);
    expect(items).toHaveLength(104 + 1 + 1 + 1); // charges, the ACH payment, a refund, a dispute
    expect(items.reduce((s, i) => s + i.net.amountMinor, 0n)).toBe(payout.amount.amountMinor);
    expect(items.every((i) => i.gross.amountMinor - i.fee.amountMinor === i.net.amountMinor)).toBe(true);
    const achId = ach.kind === 'processing' ? ach.processorPaymentId : '';
    expect(items.find((i) => i.type === 'payment')).toMatchObject({ processorPaymentId: achId, fee: money(500n, 'USD') });
    expect(items.find((i) => i.type === 'refund')).toMatchObject({ processorPaymentId: paid[0], gross: money(-500n, 'USD') });
    expect(items.find((i) => i.type === 'adjustment')).toMatchObject({ processorPaymentId: paid[1], fee: money(1_500n, 'USD') });
  });
});
