import { describe, expect, it } from 'vitest';
import { effectiveLimits } from './api.ts';
import { defaultStripeLimits, endpointOf, StripePacer } from './pacing.ts';

describe('Stripe pacing', () => {
  it('defaults to the published figures of the key mode, and takes the connection figures over them', () => {
    expect(defaultStripeLimits('sk_live_abc')).toEqual({ perSecond: 100, endpointPerSecond: 25, searchPerSecond: 20 });
    expect(defaultStripeLimits('rk_live_abc').perSecond).toBe(100);
    expect(defaultStripeLimits('sk_test_abc')).toEqual({ perSecond: 25, endpointPerSecond: 25, searchPerSecond: 20 });
    expect(effectiveLimits({ secretKey: 'sk_live_abc', rateLimits: { endpointPerSecond: 100, perSecond: undefined } })).toEqual({
      perSecond: 100,
      endpointPerSecond: 100,
      searchPerSecond: 20,
    });
  });

  it('names the endpoint as Stripe counts it (one named operation, whatever the object id)', () => {
    expect(endpointOf('POST', '/v1/payment_intents')).toBe('POST /v1/payment_intents');
    expect(endpointOf('POST', '/v1/payment_intents/pi_3NxYz12/confirm')).toBe('POST /v1/payment_intents/:id/confirm');
    expect(endpointOf('GET', '/v1/customers/search?query=x')).toBe('GET /v1/customers/search');
    expect(endpointOf('GET', '/v1/customers/cus_Ab12/payment_methods?type=card')).toBe('GET /v1/customers/:id/payment_methods');
  });

  it('spaces one endpoint under its limit, and the account under the global limit across endpoints', () => {
    let now = 0;
    const pacer = new StripePacer({ perSecond: 100, endpointPerSecond: 25, searchPerSecond: 20 }, () => now);
    const waits = Array.from({ length: 25 }, () => pacer.reserve('POST /v1/payment_intents'));
    // 25 requests on one endpoint take just over a second (95 % of 25/s), however many ask at once.
    expect(waits.at(-1)).toBeGreaterThan(1000);
    expect(waits.at(-1)).toBeLessThan(1050);
    now = 10_000;
    const mixed = ['GET /v1/a', 'GET /v1/b', 'GET /v1/c', 'GET /v1/d', 'GET /v1/e'].flatMap((e) => Array.from({ length: 20 }, () => pacer.reserve(e)));
    // 100 requests over five endpoints: the global 100/s (at 95 %) sets the pace.
    expect(Math.max(...mixed)).toBeGreaterThan(1000);
    pacer.pause(2_000);
    expect(pacer.reserve('GET /v1/z')).toBeGreaterThanOrEqual(2_000);
  });
});
