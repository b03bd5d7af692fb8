// The hosted-fields stand-in in deferred mode (Stripe's "finalize payments on the server"): the frame is
// mounted before any PaymentIntent exists, stripe.createPaymentMethod makes a PaymentMethod from the typed
// fields, and the server reads its funding before it creates and confirms the intent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeSimulator, type RunningStripeSimulator } from './index.ts';
import { client, control } from './test-helpers.ts';

let s: RunningStripeSimulator;
beforeAll(async () => {
  s = await startStripeSimulator({ achSettleDelayMs: null, rateLimitPerSecond: 1000 });
});
afterAll(async () => s.close());

describe('hosted fields in deferred mode', () => {
  it('serves the frame without an intent, creates the typed card as a PaymentMethod, and the server confirms with it', async () => {
    const js = await (await fetch(`${s.baseUrl}/_sim/js/v3`)).text();
    expect(js).toContain('createPaymentMethod');
    expect(js).toContain('elements.submit() must be called before stripe.createPaymentMethod()');
    expect(() => new Function(js)).not.toThrow();

    const frame = `${s.baseUrl}/_sim/elements?mode=payment&amount=12345&currency=usd&payment_method_types=card&pk=${s.publishableKey}`;
    const html = await (await fetch(frame)).text();
    expect(html).toContain('123.45 USD');
    expect(html).toContain('data-testid="card-number"');
    expect(html).not.toContain('data-testid="bank-account"');
    expect(() => new Function(/<script>([\s\S]*)<\/script>/.exec(html)?.[1] ?? '')).not.toThrow();
    expect((await fetch(frame.replace('mode=payment', 'mode=bogus'))).status).toBe(400);
    expect((await fetch(frame.replace(s.publishableKey, 'pk_test_wrong'))).status).toBe(401);

    const card = (number: string) => ({
      pk: s.publishableKey,
      client_secret: null,
      method: 'card',
      card: { number, exp_month: '12', exp_year: '40', cvc: '123' },
    });
    const bad = await control(s.baseUrl, '/_sim/elements/payment-method', card('4242424242424241'));
    expect(bad.error.type).toBe('validation_error');
    const wrongKey = await control(s.baseUrl, '/_sim/elements/payment-method', { ...card('4242424242424242'), pk: 'pk_test_wrong' });
    expect(wrongKey.error.message).toMatch(/publishable key/);
    const debit = await control(s.baseUrl, '/_sim/elements/payment-method', card('4000056655665556'));
    expect(debit.paymentMethod).toMatchObject({ object: 'payment_method', type: 'card', card: { funding: 'debit', brand: 'visa', last4: '5556' } });

    // The server side: read the method, then create and confirm the intent with it.
    const api = client(s.baseUrl, s.secretKey);
    const read = await api('GET', `/v1/payment_methods/${debit.paymentMethod.id}`);
    expect(read.json.card.funding).toBe('debit');
    const pi = await api('POST', '/v1/payment_intents', {
      amount: 12_345,
      currency: 'usd',
      payment_method: debit.paymentMethod.id,
      'payment_method_types[]': 'card',
      confirm: true,
    });
    expect(pi.json.status).toBe('succeeded');
    // No intent was created by the frame itself.
    expect([...s.sim.store.paymentIntents.values()]).toHaveLength(1);
  });
});
