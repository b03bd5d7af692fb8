// Conformance (issue #7): the Stripe simulator refuses what Stripe refuses, in Stripe's error envelope —
// unknown paths, raw card numbers on secret-key calls, API versions older than the spec's, rates over the
// account's limits (live 100/s, test 25/s, 25/s per endpoint, search 20/s) with Stripe-Should-Retry —
// driven with the official SDK where it can send the request, every answer validated against spec3.yaml.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeSimulator, type RunningStripeSimulator } from '../../../simulators/stripe/index.ts';
import { StripeSchemaCheck } from './schema-check.ts';

const sims: RunningStripeSimulator[] = [];
let check: StripeSchemaCheck;

async function sim(opts: Parameters<typeof startStripeSimulator>[0]): Promise<RunningStripeSimulator> {
  const s = await startStripeSimulator({ record: true, achSettleDelayMs: null, ...opts });
  sims.push(s);
  return s;
}

function sdk(s: RunningStripeSimulator, key = s.secretKey, apiVersion = '2023-08-16'): Stripe {
  const u = new URL(s.baseUrl);
  return new Stripe(key, { host: u.hostname, port: u.port, protocol: 'http', maxNetworkRetries: 0, apiVersion: apiVersion as Stripe.LatestApiVersion });
}

async function refusal(p: Promise<unknown>): Promise<InstanceType<typeof Stripe.errors.StripeError>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Stripe.errors.StripeError) return e;
    throw e;
  }
  throw new Error('expected Stripe to refuse');
}

/** `n` requests at once; the statuses and Stripe-Should-Retry headers that came back. */
async function burst(s: RunningStripeSimulator, n: number, path: string): Promise<{ status: number; shouldRetry: string | null }[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const res = await fetch(`${s.baseUrl}${path}`, { headers: { authorization: `Bearer ${s.secretKey}` } });
      await res.arrayBuffer();
      return { status: res.status, shouldRetry: res.headers.get('stripe-should-retry') };
    }),
  );
}

beforeAll(() => {
  check = new StripeSchemaCheck();
});

afterAll(async () => {
  // Every answer any simulator gave in this file is Stripe's documented shape.
  const failures = sims.flatMap((s) => check.check(s.sim.recorded));
  await Promise.all(sims.map((s) => s.close()));
  expect(failures).toEqual([]);
});

describe('Stripe simulator strictness', () => {
  it("answers a path Stripe does not have with Stripe's 404 envelope, not the web framework's", async () => {
    const s = await sim({});
    const e = await refusal(sdk(s).rawRequest('GET', '/v1/invoices_that_do_not_exist'));
    expect(e.statusCode).toBe(404);
    expect(e.type).toBe('StripeInvalidRequestError');
    expect(e.message).toMatch(/^Unrecognized request URL \(GET: \/v1\/invoices_that_do_not_exist\)/);
    // A known path with a method Stripe does not take is unrecognised too.
    const res = await fetch(`${s.baseUrl}/v1/customers`, { method: 'DELETE', headers: { authorization: `Bearer ${s.secretKey}` } });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', message: expect.stringContaining('(DELETE: /v1/customers)') });
    expect(check.component('error')(body)).toBe(true);
  });

  it('refuses raw card numbers on a secret-key call; the publishable key (Stripe.js, hosted fields) may send them', async () => {
    const s = await sim({});
    const raw = { type: 'card' as const, card: { number: '4242424242424242', exp_month: 12, exp_year: new Date().getUTCFullYear() + 2, cvc: '123' } };
    const e = await refusal(sdk(s).paymentMethods.create(raw));
    expect(e.type).toBe('StripeInvalidRequestError');
    expect(e.message).toMatch(/^Sending credit card numbers directly to the Stripe API is generally unsafe/);
    expect(s.sim.store.paymentMethods.size).toBe(0); // nothing created
    const viaPi = await refusal(
      sdk(s).paymentIntents.create({
        amount: 1_000,
        currency: 'usd',
        payment_method_types: ['card'],
        payment_method_data: raw as unknown as Stripe.PaymentIntentCreateParams.PaymentMethodData,
        confirm: true,
      }),
    );
    expect(viaPi.message).toMatch(/generally unsafe/);
    expect(viaPi.param).toBe('payment_method_data[card][number]');
    const pm = await sdk(s, s.publishableKey).paymentMethods.create(raw);
    expect(pm.card?.last4).toBe('4242');
  });

  it('answers in the spec version and says so; refuses versions older than it', async () => {
    const s = await sim({});
    const newer = await sdk(s, s.secretKey, '2024-06-20').customers.list({ limit: 1 });
    expect(newer.lastResponse.apiVersion).toBe('2023-08-16');
    const e = await refusal(sdk(s, s.secretKey, '2022-11-15').customers.list({ limit: 1 }));
    expect(e.statusCode).toBe(400);
    expect(e.type).toBe('StripeInvalidRequestError');
    expect(e.message).toContain('2023-08-16');
    const bad = await refusal(sdk(s, s.secretKey, 'yesterday').customers.list({ limit: 1 }));
    expect(bad.message).toMatch(/^Invalid Stripe API version: yesterday/);
  });

  it('a test-mode account allows 25 requests/s; past it a 429 rate_limit with Stripe-Should-Retry: true', async () => {
    const s = await sim({}); // sk_test_ keys
    expect(s.mode).toBe('test');
    expect(s.limits).toMatchObject({ perSecond: 25, endpointPerSecond: 25, searchPerSecond: 20 });
    // Spread over endpoints so that only the global limit applies.
    const answers = (await Promise.all(['/v1/customers', '/v1/charges'].map((p) => burst(s, 20, p)))).flat();
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(25);
    expect(refused).toHaveLength(15);
    expect(refused.every((a) => a.shouldRetry === 'true')).toBe(true);
    const e = await refusal(sdk(s).customers.list());
    expect(e.statusCode).toBe(429);
    expect(e.code).toBe('rate_limit');
    expect(e.headers['stripe-should-retry']).toBe('true');
  });

  it('a live-mode account (sk_live_ keys) allows 100 requests/s overall but 25/s on one endpoint and 20/s on search', async () => {
    const s = await sim({ mode: 'live' });
    expect(s.secretKey).toMatch(/^sk_live_/);
    expect(s.publishableKey).toMatch(/^pk_live_/);
    const customer = await sdk(s).customers.create({ name: 'Live Co' });
    expect(customer.livemode).toBe(true);
    await new Promise((r) => setTimeout(r, 1_100)); // a fresh window
    const one = await burst(s, 40, '/v1/customers');
    expect(one.filter((a) => a.status === 200)).toHaveLength(25);
    await new Promise((r) => setTimeout(r, 1_100));
    const search = await burst(s, 30, `/v1/customers/search?query=${encodeURIComponent("name:'Live Co'")}`);
    expect(search.filter((a) => a.status === 200)).toHaveLength(20);
    await new Promise((r) => setTimeout(r, 1_100));
    const spread = (await Promise.all(['/v1/customers', '/v1/charges', '/v1/refunds', '/v1/payouts', '/v1/disputes'].map((p) => burst(s, 24, p)))).flat();
    expect(spread.filter((a) => a.status === 200)).toHaveLength(100);
  });

  it('an account whose limits Stripe raised is started with them; a live key on a test account is refused', async () => {
    const s = await sim({ mode: 'live', endpointLimitPerSecond: 100 });
    const one = await burst(s, 100, '/v1/customers');
    expect(one.filter((a) => a.status === 200)).toHaveLength(100);
    const e = await refusal(sdk(s, 'sk_test_51SettleSimulatorKey000000000000000000000000').customers.list());
    expect(e.statusCode).toBe(401);
    await expect(startStripeSimulator({ mode: 'test', secretKey: 'sk_live_x' })).rejects.toThrow(/test keys/);
  });
});
