// SETTLE_DEMO_BOOKS=xero: the demo's books are a Xero simulator instead of QuickBooks Online. The demo's
// invoice makers (demo-activity.ts, demo-history.ts) write the PSA's accounting export into the QuickBooks
// simulator; with Xero books the same export is copied into Xero as it happens (a wrapper on seedInvoice, so
// those files need no branch per ledger), and the workspace's accounting connection is saved to Xero through
// saveConnection, the path `settle connect accounting xero` takes. Xero's webhooks point at this Settle and
// pass Xero's intent-to-receive check first, as at Xero.
import type { Logger } from 'pino';
import type { Db } from '../../db/pool.ts';
import type { SecretBox } from '../../db/crypto.ts';
import { saveConnection } from '../../engine/connections.ts';
import type { OAuthApps } from '../../engine/quickbooks-connect.ts';
import { xeroRedirectUri } from '../../engine/xero-connect.ts';
import type { RunningQuickBooksSimulator } from '../../../simulators/quickbooks-online/index.ts';
import { startXeroSimulator, type RunningXeroSimulator } from '../../../simulators/xero/index.ts';

/** Start the Xero simulator and mirror every invoice the demo exports to QuickBooks into it from now on. */
export async function startDemoXero(port: number, quickbooks: RunningQuickBooksSimulator): Promise<RunningXeroSimulator> {
  const xero = await startXeroSimulator({ port, tenantName: 'Northwind IT (demo)' });
  const seed = quickbooks.sim.seedInvoice.bind(quickbooks.sim);
  quickbooks.sim.seedInvoice = (s) => {
    const made = seed(s);
    const amount = typeof s.amount === 'string' ? s.amount : (Number(s.amount.amountMinor) / 100).toFixed(2);
    if (!xero.sim.invoice(s.docNumber)) {
      xero.sim.seedInvoice({
        number: s.docNumber,
        contactName: s.customerName,
        amount,
        ...(s.txnDate ? { date: s.txnDate } : {}),
        ...(s.dueDate ? { dueDate: s.dueDate } : {}),
      });
    }
    return made;
  };
  return xero;
}

/** Point the workspace's books at the Xero simulator and register Settle's webhook URL with it. */
export async function connectDemoXero(
  db: Db,
  box: SecretBox,
  tenantId: string,
  slug: string,
  settleUrl: string,
  xero: RunningXeroSimulator,
  log: Logger,
): Promise<void> {
  await saveConnection(db, box, tenantId, {
    role: 'accounting',
    vendor: 'xero',
    config: {
      apiUrl: xero.apiUrl,
      tokenUrl: xero.tokenUrl,
      tenantId: xero.tenantId,
      clientId: xero.clientId,
      bankAccountCode: xero.sim.codes.bank,
      clearingAccountCode: xero.sim.codes.clearing,
      feeAccountCode: xero.sim.codes.fees,
      processorContactName: 'Stripe',
      surchargeAccountCode: xero.sim.codes.otherRevenue,
      planFeeAccountCode: xero.sim.codes.otherRevenue,
    },
    secrets: { clientSecret: xero.clientSecret, refreshToken: xero.initialRefreshToken, webhookKey: xero.sim.webhooks.key },
    actor: 'system:demo',
  });
  xero.sim.webhooks.configure(`${settleUrl}/webhooks/${slug}/xero`, xero.sim.webhooks.key);
  // After the connection is in place; Xero sends no events until this check passes.
  setTimeout(() => {
    xero.sim.webhooks.intentToReceive().then(
      (s) => log.info({ status: s }, 'Xero simulator: webhook intent-to-receive'),
      (e: unknown) => log.warn({ err: e }, 'Xero simulator: webhook intent-to-receive failed'),
    );
  }, 1000).unref();
}

/** "Connect to Xero" in the demo's staff app goes to the simulator's consent page (no real Xero app needed). */
export function offerDemoXeroConsent(oauthApps: OAuthApps, publicUrl: string, xero: RunningXeroSimulator): void {
  if (oauthApps.xero) return;
  oauthApps.xero = {
    clientId: xero.clientId,
    clientSecret: xero.clientSecret,
    authorizeUrl: xero.authorizeUrl,
    tokenUrl: xero.tokenUrl,
    identityApiUrl: xero.baseUrl,
    apiUrl: xero.apiUrl,
  };
  xero.sim.identity.redirectUris.add(xeroRedirectUri(publicUrl));
}
