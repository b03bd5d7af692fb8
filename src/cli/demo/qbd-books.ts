// SETTLE_DEMO_BOOKS=quickbooks-desktop: the demo's books are the QuickBooks Desktop simulator (company file +
// Web Connector). As for Xero, the PSA's accounting export the demo writes into the QuickBooks Online simulator
// is copied into the company file as it happens, the workspace's accounting connection is saved through
// saveConnection (the path `settle connect accounting quickbooks-desktop` takes), and the simulated Web Connector
// is pointed at this Settle, running every 15 s (a real one runs every few minutes: the .qwc schedule).
import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/pool.ts';
import type { SecretBox } from '../../db/crypto.ts';
import { parseDecimal } from '../../domain/money.ts';
import { saveConnection } from '../../engine/connections.ts';
import { QBWC_PATH, webConnectorUserName } from '../../connectors/accounting/quickbooks-desktop/web-connector.ts';
import type { RunningQuickBooksSimulator } from '../../../simulators/quickbooks-online/index.ts';
import { startQbdSimulator, type RunningQbdSimulator } from '../../../simulators/quickbooks-desktop/index.ts';

export const DEMO_QBD_RUN_EVERY_MS = 15_000;

export async function startDemoQbd(port: number, quickbooks: RunningQuickBooksSimulator): Promise<RunningQbdSimulator> {
  const qbd = await startQbdSimulator({ port });
  // Classes, so Settings → Class and location by contract has something to map on QuickBooks Desktop too.
  for (const name of ['Managed Services', 'Projects']) qbd.company.addClass(name);
  const seed = quickbooks.sim.seedInvoice.bind(quickbooks.sim);
  quickbooks.sim.seedInvoice = (s) => {
    const made = seed(s);
    const cents = typeof s.amount === 'string' ? parseDecimal(s.amount, 'USD').amountMinor : s.amount.amountMinor;
    if (!qbd.company.invoices.some((i) => i.refNumber === s.docNumber)) {
      qbd.company.addInvoice({ refNumber: s.docNumber, customer: s.customerName, amountCents: cents, ...(s.txnDate ? { txnDate: s.txnDate } : {}) });
    }
    return made;
  };
  return qbd;
}

export async function connectDemoQbd(db: Db, box: SecretBox, tenantId: string, settleUrl: string, qbd: RunningQbdSimulator): Promise<void> {
  const password = randomBytes(18).toString('base64url');
  await saveConnection(db, box, tenantId, {
    role: 'accounting',
    vendor: 'quickbooks-desktop',
    config: {
      bankAccount: 'Checking',
      feeAccount: 'Merchant Fees',
      clearingAccount: 'Payments Clearing',
      surchargeIncomeAccount: 'Surcharge Income',
      clientCreditAccount: 'Client Credit',
      runEveryMinutes: 1,
    },
    secrets: { webConnectorPassword: password },
    actor: 'system:demo',
  });
  qbd.webConnector.configure({
    appUrl: `${settleUrl.replace(/\/$/, '')}${QBWC_PATH}`,
    userName: webConnectorUserName(tenantId),
    password,
    runEveryMs: DEMO_QBD_RUN_EVERY_MS,
  });
}
