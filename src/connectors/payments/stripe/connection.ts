// The settings a Stripe connection stores (validated at the edge), ready for the connector registry:
// non-secret config and sealed secrets, and how to build the connector from them.
import { z } from 'zod';
import { stripeJsUrl } from './catalogue.ts';
import { createStripeConnector, type StripeConnector } from './connector.ts';

export const stripeConnectionConfig = z.object({
  /** Leave unset for api.stripe.com; the simulator's base URL for the demo and tests. */
  baseUrl: z.string().url().optional(),
  /** Shown to browsers for the hosted fields; not a secret. */
  publishableKey: z.string().regex(/^pk_(test|live)_/, 'a publishable key starts with pk_test_ or pk_live_'),
});

export const stripeConnectionSecrets = z.object({
  secretKey: z.string().regex(/^(sk|rk)_(test|live)_/, 'a secret (or restricted) key starts with sk_ or rk_'),
  /** Signing secret(s) of Settle's webhook endpoint; two while a rolled secret overlaps. */
  webhookSecret: z.union([z.string().startsWith('whsec_'), z.array(z.string().startsWith('whsec_')).min(1)]),
});

export type StripeConnectionConfig = z.infer<typeof stripeConnectionConfig>;
export type StripeConnectionSecrets = z.infer<typeof stripeConnectionSecrets>;

export function buildStripeConnector(config: StripeConnectionConfig, secrets: StripeConnectionSecrets): StripeConnector {
  return createStripeConnector({ secretKey: secrets.secretKey, webhookSecret: secrets.webhookSecret, baseUrl: config.baseUrl });
}

/** What a payment page needs to load the hosted fields for this connection. */
export function hostedFieldsFor(config: StripeConnectionConfig): { jsUrl: string; publishableKey: string } {
  return { jsUrl: stripeJsUrl(config.baseUrl), publishableKey: config.publishableKey };
}
