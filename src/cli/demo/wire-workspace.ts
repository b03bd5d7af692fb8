// Connects a workspace to running vendor simulators exactly as an MSP connects real accounts: the same
// connection settings, webhook registrations and OAuth tokens, only with the simulators' URLs. Used by the
// demo and by the end-to-end tests. The PSA is connected through engine/connect-system.ts, the function behind
// `settle connect psa …` and the set-up wizard, so its callback/webhook is registered by the product's own code.
import pino, { type Logger } from 'pino';
import type { Db } from '../../db/pool.ts';
import type { SecretBox } from '../../db/crypto.ts';
import { saveConnection } from '../../engine/connections.ts';
import { connectSystem } from '../../engine/connect-system.ts';
import { registerStripeWebhookEndpoint } from '../../connectors/payments/stripe/register-webhook.ts';
import type { RunningConnectWiseSimulator } from '../../../simulators/connectwise/index.ts';
import type { RunningStripeSimulator } from '../../../simulators/stripe/index.ts';
import type { RunningQuickBooksSimulator } from '../../../simulators/quickbooks-online/index.ts';
import type { TenantConnectors } from '../../engine/context.ts';
import { psaConnectionFor, type DemoPsa, type PsaSimulators } from './psa-simulators.ts';
import { definePayLinkFieldIn } from './pay-link-field.ts';

export interface PaymentSimulators {
  readonly stripe: RunningStripeSimulator;
  readonly quickbooks: RunningQuickBooksSimulator;
}

/** The simulators of a workspace whose PSA is `P` (ConnectWise unless said otherwise). */
// Distributive: SimulatorsFor<DemoPsa> is "the simulators of a workspace on any one PSA" (a union).
export type SimulatorsFor<P extends DemoPsa> = P extends DemoPsa ? PaymentSimulators & Pick<PsaSimulators, P> : never;

export interface Simulators extends PaymentSimulators {
  readonly connectwise: RunningConnectWiseSimulator;
}

export async function wireWorkspaceToSimulators<P extends DemoPsa = 'connectwise'>(
  db: Db,
  box: SecretBox,
  connectors: TenantConnectors,
  input: { tenantId: string; slug: string; settleUrl: string; sims: SimulatorsFor<NoInfer<P>>; psa?: P; log?: Logger },
): Promise<void> {
  const { tenantId, slug, settleUrl, sims } = input;
  const vendor: DemoPsa = input.psa ?? 'connectwise';
  const log = input.log ?? pino({ level: 'silent' });
  // The simulated MSP has made the invoice field pay links go into, as a real one would (pay-link-field.ts).
  await definePayLinkFieldIn(vendor, (sims as Partial<PsaSimulators>)[vendor]);
  // As a person connects it: saved, validated, audited, then its callback registered at the PSA.
  const connected = await connectSystem(
    { db, box, connectors, log },
    tenantId,
    { role: 'psa', ...psaConnectionFor(vendor, sims as Partial<PsaSimulators>), actor: 'system:setup' },
    settleUrl,
    { queueImport: false },
  );
  if (connected.callbackError) throw new Error(`${vendor} refused Settle's callback: ${connected.callbackError}`);
  const endpoint = await registerStripeWebhookEndpoint(
    { secretKey: sims.stripe.secretKey, baseUrl: sims.stripe.baseUrl },
    { url: `${settleUrl}/webhooks/${slug}/stripe`, idempotencyKey: `webhook-endpoint:${tenantId}:${settleUrl}` },
  );
  await saveConnection(db, box, tenantId, {
    role: 'payments',
    vendor: 'stripe',
    config: {
      baseUrl: sims.stripe.baseUrl,
      publishableKey: sims.stripe.publishableKey,
      jsUrl: `${sims.stripe.baseUrl}/_sim/js/v3`,
      webhookEndpointId: endpoint.endpointId,
      // The limits the simulated account enforces (an MSP sets these only where Stripe raised theirs).
      ...stripeLimits(sims.stripe),
    },
    secrets: { secretKey: sims.stripe.secretKey, webhookSecret: endpoint.secret },
    actor: 'system:setup',
  });
  const qbo = sims.quickbooks;
  await saveConnection(db, box, tenantId, {
    role: 'accounting',
    vendor: 'quickbooks-online',
    config: {
      baseUrl: qbo.baseUrl,
      tokenUrl: qbo.oauthTokenUrl,
      realmId: qbo.realmId,
      clientId: qbo.clientId,
      bankAccountId: qbo.sim.accounts.checking,
      feeExpenseAccountId: qbo.sim.accounts.merchantFees,
      undepositedFundsAccountId: qbo.sim.accounts.undepositedFunds,
      // Payout money whose payment is not in the books yet waits here (an Other Current Asset account of its
      // own, as the docs ask an MSP to create), not on the adjustments account.
      clearingAccountId: qbo.sim.ensureAccount('Settle clearing', 'Other Current Asset', 'OtherCurrentAssets').Id,
    },
    secrets: { clientSecret: qbo.clientSecret, refreshToken: qbo.initialRefreshToken },
    actor: 'system:setup',
  });
  connectors.forget(tenantId);
}

/** Pacing figures for the connection from the simulated account (absent when the simulator runs in another process). */
function stripeLimits(stripe: RunningStripeSimulator): Record<string, number> {
  const l = (stripe as Partial<RunningStripeSimulator>).limits;
  return l ? { requestsPerSecond: l.perSecond, endpointRequestsPerSecond: l.endpointPerSecond, searchRequestsPerSecond: l.searchPerSecond } : {};
}
