// Saving a method through a SetupIntent against the Stripe simulator: what the hosted fields' confirmSetup
// does (publishable key + client secret), then what Settle reads back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeSimulator, type RunningStripeSimulator } from '../../../../simulators/stripe/index.ts';
import { createStripeConnector, type StripeConnector } from './connector.ts';

let sim: RunningStripeSimulator;
let stripe: StripeConnector;
beforeAll(async () => {
  sim = await startStripeSimulator({ achSettleDelayMs: null, rateLimitPerSecond: 1000 });
  stripe = createStripeConnector({ secretKey: sim.secretKey, baseUrl: sim.baseUrl, webhookSecret: 'whsec_unused', timeoutMs: 2_000, wait: async () => {} });
});
afterAll(async () => sim.close());

/** As the hosted fields do it: confirm with the client secret and the publishable key. */
async function confirmInBrowser(clientSecret: string, token: string): Promise<number> {
  const id = clientSecret.split('_secret_')[0]!;
  const res = await fetch(`${sim.baseUrl}/v1/setup_intents/${id}/confirm`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.publishableKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_secret: clientSecret, payment_method: token }).toString(),
  });
  return res.status;
}

describe('Stripe methodSetup (SetupIntent)', () => {
  it('a confirmed setup names the saved method and the customer; the method is attached for off-session use', async () => {
    const { customerId } = await stripe.ensureCustomer({ name: 'Client S', email: null, clientId: 'cl_setup_1', idempotencyKey: 'test:setup:cus:1' });
    const setup = stripe.methodSetup;
    const session = await setup.createSetupSession({
      customerId,
      methodKinds: ['card'],
      metadata: { settle_client: 'cl_setup_1' },
      idempotencyKey: 'test:setup:1',
    });
    expect(session.clientSecret).toMatch(/^seti_.+_secret_/);
    expect(await setup.getSetupSession(session.setupId)).toMatchObject({ status: 'pending', processorMethodId: null });
    expect(await confirmInBrowser(session.clientSecret, 'pm_card_visa')).toBe(200);
    const done = await setup.getSetupSession(session.setupId);
    expect(done).toMatchObject({ status: 'succeeded', customerId, metadata: { settle_client: 'cl_setup_1' } });
    const saved = await stripe.listSavedMethods(customerId);
    expect(saved.map((m) => m.processorMethodId)).toContain(done.processorMethodId);
  });

  it('a declined card fails the setup with a message and saves nothing', async () => {
    const { customerId } = await stripe.ensureCustomer({ name: 'Client T', email: null, clientId: 'cl_setup_2', idempotencyKey: 'test:setup:cus:2' });
    const session = await stripe.methodSetup.createSetupSession({ customerId, methodKinds: ['card'], metadata: {}, idempotencyKey: 'test:setup:2' });
    expect(await confirmInBrowser(session.clientSecret, 'pm_card_chargeDeclined')).toBe(402);
    expect(await stripe.methodSetup.getSetupSession(session.setupId)).toMatchObject({
      status: 'failed',
      processorMethodId: null,
      failureMessage: expect.stringMatching(/declined/),
    });
    expect(await stripe.listSavedMethods(customerId)).toHaveLength(0);
  });
});
