// Register Settle's webhook endpoint with Stripe (POST /v1/webhook_endpoints). Stripe shows the
// endpoint's signing secret only in this response, so the caller must store it (sealed) right away.
import type Stripe from 'stripe';
import { call, createStripeClient, repeatable, type StripeApiOptions } from './api.ts';
import { STRIPE, STRIPE_WEBHOOK_EVENTS } from './catalogue.ts';

export interface RegisteredEndpoint {
  readonly endpointId: string;
  readonly secret: string;
}

export async function registerStripeWebhookEndpoint(
  api: StripeApiOptions,
  input: { url: string; idempotencyKey: string; events?: readonly string[]; description?: string },
): Promise<RegisteredEndpoint> {
  const stripe = createStripeClient(api);
  const we = await call(
    () =>
      stripe.webhookEndpoints.create(
        {
          url: input.url,
          enabled_events: [...(input.events ?? STRIPE_WEBHOOK_EVENTS)] as Stripe.WebhookEndpointCreateParams.EnabledEvent[],
          api_version: STRIPE.apiVersion as Stripe.WebhookEndpointCreateParams.ApiVersion,
          ...(input.description ? { description: input.description } : {}),
        },
        { idempotencyKey: input.idempotencyKey },
      ),
    { maxAttempts: api.maxAttempts ?? 4, retryable: repeatable },
  );
  if (!we.secret) throw new Error(`Stripe returned webhook endpoint ${we.id} without its signing secret`);
  return { endpointId: we.id, secret: we.secret };
}
