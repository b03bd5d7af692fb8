// Connects a workspace to running vendor simulators exactly as an MSP connects real accounts: the same
// connection settings, webhook registrations and OAuth tokens, only with the simulators' URLs. Used by the
// demo and by the end-to-end tests.
import type { Db } from '../../db/pool.ts';
import type { SecretBox } from '../../db/crypto.ts';
import { saveConnection } from '../../engine/connections.ts';
import { registerStripeWebhookEndpoint } from '../../connectors/payments/stripe/register-webhook.ts';
import type { RunningConnectWiseSimulator } from '../../../simulators/connectwise/index.ts';
import type { RunningStripeSimulator } from '../../../simulators/stripe/index.ts';
import type { RunningQuickBooksSimulator } from '../../../simulators/quickbooks-online/index.ts';
import type { TenantConnectors } from '../../engine/context.ts';

export interface Simulators {
  readonly connectwise: RunningConnectWiseSimulator;
  readonly stripe: RunningStripeSimulator;
  readonly quickbooks: RunningQuickBooksSimulator;
}

export async function wireWorkspaceToSimulators(
  db: Db,
  box: SecretBox,
  connectors: TenantConnectors,
  input: { tenantId: string; slug: string; settleUrl: string; sims: Simulators },
): Promise<void> {
  const { tenantId, slug, settleUrl, sims } = input;
  const cw = sims.connectwise.credentials;
  await saveConnection(db, box, tenantId, {
    role: 'psa',
    vendor: 'connectwise',
    config: { baseUrl: sims.connectwise.baseUrl, companyId: cw.companyId, clientId: cw.clientId },
    secrets: { publicKey: cw.publicKey, privateKey: cw.privateKey },
    actor: 'system:setup',
  });
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
  const psa = await connectors.psa(tenantId);
  await psa?.subscribe(`${settleUrl}/webhooks/${slug}/connectwise`);
}

/** Pacing figures for the connection from the simulated account (absent when the simulator runs in another process). */
function stripeLimits(stripe: RunningStripeSimulator): Record<string, number> {
  const l = (stripe as Partial<RunningStripeSimulator>).limits;
  return l ? { requestsPerSecond: l.perSecond, endpointRequestsPerSecond: l.endpointPerSecond, searchRequestsPerSecond: l.searchPerSecond } : {};
}
