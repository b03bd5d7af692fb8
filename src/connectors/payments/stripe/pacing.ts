// Client-side pacing of every Stripe request, by the limits of the account the key belongs to
// (docs.stripe.com/rate-limits): a global limit (100 requests/s live, 25/s test mode), a default limit per
// endpoint (25/s — Stripe counts each named operation, e.g. `POST /v1/payment_intents`, as one endpoint)
// and the Search API's 20 reads/s. An account whose limits Stripe raised is configured on its connection.
// Requests leave evenly spaced (no bursts: Stripe counts in a sliding second), a little under each limit.
// A 429 that still happens (other software on the same account) pushes every later slot back; the
// connector retries it when Stripe says so (Stripe-Should-Retry), with the same idempotency key.
import { createHash } from 'node:crypto';
import Stripe from 'stripe';

export interface StripeRateLimits {
  /** Requests per second for the whole account. */
  readonly perSecond: number;
  /** Default requests per second on one endpoint. */
  readonly endpointPerSecond: number;
  /** Search API reads per second. */
  readonly searchPerSecond: number;
}

/** Stripe's published figures for the key's mode: sk_live_/rk_live_ keys are live, anything else test mode. */
export function defaultStripeLimits(secretKey: string): StripeRateLimits {
  const live = /^(sk|rk)_live_/.test(secretKey);
  return { perSecond: live ? 100 : 25, endpointPerSecond: 25, searchPerSecond: 20 };
}

/** Share of each limit we use: headroom for clock skew between us and Stripe's window. */
const HEADROOM = 0.95;

/** A timeline of evenly spaced slots; each request takes the next free one (no saved-up burst). */
class Slots {
  private readonly intervalMs: number;
  private nextAt = 0;
  constructor(perSecond: number) {
    this.intervalMs = 1000 / (perSecond * HEADROOM);
  }
  /** Milliseconds to wait for the next slot (the slot is reserved). */
  reserve(now: number): number {
    const slot = Math.max(now, this.nextAt);
    this.nextAt = slot + this.intervalMs;
    return slot - now;
  }
  pause(now: number, ms: number): void {
    this.nextAt = Math.max(this.nextAt, now + ms);
  }
}

/** `/v1/payment_intents/pi_3Nx…/confirm` → `POST /v1/payment_intents/:id/confirm` (Stripe's endpoint). */
export function endpointOf(method: string, path: string): string {
  const segs = (path.split('?')[0] ?? '').split('/');
  // Object ids carry digits or capitals (pi_3NxY…); resource and action names are lower-case words.
  const template = segs.map((s, i) => (i > 1 && /[0-9A-Z]/.test(s) ? ':id' : s)).join('/');
  return `${method} ${template}`;
}

export class StripePacer {
  private readonly global: Slots;
  private readonly endpoints = new Map<string, Slots>();
  constructor(
    readonly limits: StripeRateLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    for (const [k, v] of Object.entries(limits)) if (!(typeof v === 'number' && v > 0)) throw new RangeError(`${k} must be positive, got ${v}`);
    this.global = new Slots(limits.perSecond);
  }

  /** How long this request must wait before it leaves (its slots are reserved). */
  reserve(endpoint: string): number {
    let slots = this.endpoints.get(endpoint);
    if (!slots) {
      slots = new Slots(endpoint.startsWith('GET ') && endpoint.endsWith('/search') ? this.limits.searchPerSecond : this.limits.endpointPerSecond);
      this.endpoints.set(endpoint, slots);
    }
    const now = this.now();
    return Math.max(slots.reserve(now), this.global.reserve(now));
  }

  /** Stripe refused a request for its rate: send nothing more for a while. */
  pause(ms: number): void {
    this.global.pause(this.now(), ms);
  }
}

// One pacer per account and limits in this process: connectors are built per use, the account's limits are shared.
const pacers = new Map<string, StripePacer>();

export function pacerFor(secretKey: string, baseUrl: string, limits: StripeRateLimits): StripePacer {
  const id = `${baseUrl}|${createHash('sha256').update(secretKey).digest('hex')}|${limits.perSecond}/${limits.endpointPerSecond}/${limits.searchPerSecond}`;
  let p = pacers.get(id);
  if (!p) {
    p = new StripePacer(limits);
    pacers.set(id, p);
  }
  return p;
}

/** How long to hold every request after a 429 (Stripe counts in one-second windows). */
export const RATE_LIMITED_PAUSE_MS = 1000;

/** The SDK's own HTTP client, with each request waiting for its slot first. */
export function pacedHttpClient(pacer: StripePacer, inner: Stripe.HttpClient = Stripe.createNodeHttpClient()): Stripe.HttpClient {
  return {
    getClientName: () => `paced-${inner.getClientName()}`,
    async makeRequest(host, port, path, method, headers, requestData, protocol, timeout) {
      const wait = pacer.reserve(endpointOf(method, path));
      if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
      const res = await inner.makeRequest(host, port, path, method, headers, requestData, protocol, timeout);
      if (res.getStatusCode() === 429) pacer.pause(RATE_LIMITED_PAUSE_MS);
      return res;
    },
  };
}
