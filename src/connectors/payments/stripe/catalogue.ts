// Stripe facts as data (specs/README.md §7; sources in each comment). Code reads them from here.

export const STRIPE = {
  vendor: 'stripe',
  apiBaseUrl: 'https://api.stripe.com',
  /**
   * The API version Settle speaks and its simulator implements: the version of the description in
   * specs/stripe/spec3.yaml. Pinned per request (Stripe-Version) so an account default cannot change shapes.
   */
  apiVersion: '2023-08-16',
  /** Stripe.js, which serves the hosted fields; the simulator serves a stand-in at <base>/_sim/js/v3. */
  jsUrl: 'https://js.stripe.com/v3/',
  /** docs.stripe.com/rate-limits: 100 req/s live, 25 req/s in test mode, 25/s per endpoint unless stated. */
  rateLimits: { liveRequestsPerSecond: 100, testRequestsPerSecond: 25, perEndpointRequestsPerSecond: 25 },
  /** docs.stripe.com/idempotency: keys up to 255 characters, kept at least 24 hours. */
  idempotencyKeyMaxLength: 255,
  /** Official libraries reject signatures older than 300 s (docs.stripe.com/webhooks/signatures). */
  webhookToleranceSeconds: 300,
  /** List endpoints take limit 1–100 (spec3.yaml › paths › /v1/balance_transactions › get › limit). */
  maxPageSize: 100,
  /** Our metadata key carrying Settle's client id on a Stripe Customer (ensureCustomer looks it up). */
  clientIdMetadataKey: 'settle_client_id',
} as const;

/** Webhook event types Settle maps onto ProcessorEvent (everything else is acknowledged and ignored). */
export const STRIPE_WEBHOOK_EVENTS = [
  'payment_intent.processing',
  'payment_intent.requires_action', // a typed bank account waiting for its microdeposits to be confirmed
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'refund.created',
  'refund.updated',
  'charge.refund.updated',
  'charge.dispute.created',
  'charge.dispute.closed',
  'payout.paid',
  'payout.failed',
] as const;

/** stripe.js URL for a processor base URL: the real one for api.stripe.com, the stand-in for a simulator. */
export function stripeJsUrl(baseUrl: string | undefined): string {
  if (!baseUrl || new URL(baseUrl).hostname === 'api.stripe.com') return STRIPE.jsUrl;
  return `${baseUrl.replace(/\/$/, '')}/_sim/js/v3`;
}
