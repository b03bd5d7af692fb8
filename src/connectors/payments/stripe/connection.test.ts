import { describe, expect, it } from 'vitest';
import { buildStripeConnector, hostedFieldsFor, stripeConnectionConfig, stripeConnectionSecrets } from './connection.ts';

describe('Stripe connection settings', () => {
  it('accepts keys of the right kind and refuses swapped ones', () => {
    expect(stripeConnectionSecrets.safeParse({ secretKey: 'sk_test_abc', webhookSecret: 'whsec_x' }).success).toBe(true);
    expect(stripeConnectionSecrets.safeParse({ secretKey: 'pk_test_abc', webhookSecret: 'whsec_x' }).success).toBe(false);
    expect(stripeConnectionConfig.safeParse({ publishableKey: 'sk_live_abc' }).success).toBe(false);
  });
  it('loads Stripe.js from Stripe, or the stand-in from a simulator', () => {
    expect(hostedFieldsFor({ publishableKey: 'pk_live_1' }).jsUrl).toBe('https://js.stripe.com/v3/');
    expect(hostedFieldsFor({ publishableKey: 'pk_test_1', baseUrl: 'http://127.0.0.1:4919/' }).jsUrl).toBe('http://127.0.0.1:4919/_sim/js/v3');
  });
  it('builds a connector', () => {
    expect(buildStripeConnector({ publishableKey: 'pk_test_1' }, { secretKey: 'sk_test_1', webhookSecret: 'whsec_1' }).vendor).toBe('stripe');
  });
});
