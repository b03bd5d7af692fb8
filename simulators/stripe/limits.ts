// Stripe's rate limiters as docs.stripe.com/rate-limits describes them today: a global limit per account
// (100 requests/s in live mode, 25/s in test mode / sandboxes), a default limit per endpoint (25 requests/s,
// "unless noted otherwise" — Stripe treats each named operation, e.g. `POST /v1/payment_intents` or
// `GET /v1/payment_intents/{id}`, as one endpoint), the Search API's 20 reads/s, and 1,000 update requests
// per PaymentIntent per hour. Calls to a stricter endpoint also count against the global limit.
// Stripe raises limits for some accounts on request; the options model such an account.
import { RateLimiter } from '../kit.ts';

export type StripeMode = 'live' | 'test';

export interface StripeLimits {
  /** Global requests per second per account (all endpoints together). */
  readonly perSecond: number;
  /** Default requests per second on one endpoint (method + route template). */
  readonly endpointPerSecond: number;
  /** Search API reads per second (`GET /v1/…/search`). */
  readonly searchPerSecond: number;
  /** Update requests (POSTs on one PaymentIntent) per hour. */
  readonly intentUpdatesPerHour: number;
}

export function documentedLimits(mode: StripeMode): StripeLimits {
  return { perSecond: mode === 'live' ? 100 : 25, endpointPerSecond: 25, searchPerSecond: 20, intentUpdatesPerHour: 1000 };
}

/** The mode an API key belongs to, from its prefix (sk_live_ / pk_live_ / rk_live_ are live). */
export function modeOfKey(key: string): StripeMode {
  return /^(sk|pk|rk)_live_/.test(key) ? 'live' : 'test';
}

export type LimitHit = 'global' | 'endpoint' | 'search' | 'intent_updates';

export class StripeLimiter {
  private global: RateLimiter;
  private endpoint: RateLimiter;
  private search: RateLimiter;
  private intentUpdates: RateLimiter;

  constructor(public limits: StripeLimits) {
    this.global = new RateLimiter(limits.perSecond, 1000);
    this.endpoint = new RateLimiter(limits.endpointPerSecond, 1000);
    this.search = new RateLimiter(limits.searchPerSecond, 1000);
    this.intentUpdates = new RateLimiter(limits.intentUpdatesPerHour, 3600_000);
  }

  /** Change some limits; their windows start afresh. */
  set(changes: Partial<StripeLimits>): void {
    this.limits = { ...this.limits, ...changes };
    if (changes.perSecond !== undefined) this.global = new RateLimiter(this.limits.perSecond, 1000);
    if (changes.endpointPerSecond !== undefined) this.endpoint = new RateLimiter(this.limits.endpointPerSecond, 1000);
    if (changes.searchPerSecond !== undefined) this.search = new RateLimiter(this.limits.searchPerSecond, 1000);
    if (changes.intentUpdatesPerHour !== undefined) this.intentUpdates = new RateLimiter(this.limits.intentUpdatesPerHour, 3600_000);
  }

  /**
   * Count one request (the account is the API key's account; route is the Fastify template) and say
   * which limiter refuses it, if any. The stricter limiter is asked first so that a request it refuses
   * does not also use up a global slot.
   */
  take(account: string, method: string, route: string, intentId: string | undefined): LimitHit | null {
    const endpointKey = `${account} ${method} ${route}`;
    if (method === 'GET' && route.endsWith('/search')) {
      if (!this.search.take(endpointKey).ok) return 'search';
    } else if (!this.endpoint.take(endpointKey).ok) return 'endpoint';
    if (method === 'POST' && intentId !== undefined && route.startsWith('/v1/payment_intents/:intent')) {
      if (!this.intentUpdates.take(`${account} ${intentId}`).ok) return 'intent_updates';
    }
    if (!this.global.take(account).ok) return 'global';
    return null;
  }
}
