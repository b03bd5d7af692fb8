// Put a test stack's books on QuickBooks Desktop: start the simulator (company file + Web Connector), copy the
// workspace's PSA invoices into the company file (as the PSA's accounting export would), save the accounting
// connection through saveConnection (the path `settle connect accounting quickbooks-desktop` takes) and point
// the simulated Web Connector at Settle's /qbwc with the workspace's user name and password, running every
// `runEveryMs`. For a Settle in a child process, call it before starting the process.
import { saveConnection, type ConnectorCache } from '../../src/engine/connections.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { QBWC_PATH, webConnectorUserName } from '../../src/connectors/accounting/quickbooks-desktop/web-connector.ts';
import { startQbdSimulator, type RunningQbdSimulator } from '../../simulators/quickbooks-desktop/index.ts';
import { eventually, type AnyStack, type Stack } from './stack.ts';
import { syncBooksCopy } from '../../src/engine/sync-books-copy.ts';
import type { LedgerReadContext } from '../../src/connectors/accounting/quickbooks-desktop/ledger-read.ts';

export const QBD_TEST_PASSWORD = 'web-connector-password-for-tests';

export async function useQbdBooks(stack: AnyStack, settleUrl: string, opts: { runEveryMs?: number } = {}): Promise<RunningQbdSimulator> {
  const qbd = await startQbdSimulator();
  const invoices = await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx
      .selectFrom('invoices as i')
      .innerJoin('clients as c', 'c.id', 'i.client_id')
      .select(['i.number', 'i.total_minor', 'c.name'])
      .where('i.total_minor', '>', 0n)
      .execute(),
  );
  for (const i of invoices) qbd.company.addInvoice({ refNumber: i.number, customer: i.name, amountCents: BigInt(i.total_minor) });
  await saveConnection(stack.database.db, SecretBox.fromHex(stack.secretKeyHex), stack.tenantId, {
    role: 'accounting',
    vendor: 'quickbooks-desktop',
    config: { bankAccount: 'Checking', feeAccount: 'Merchant Fees', clearingAccount: 'Payments Clearing', runEveryMinutes: 1 },
    secrets: { webConnectorPassword: QBD_TEST_PASSWORD },
    actor: 'system:test',
  });
  (stack.settle?.ctx.connectors as ConnectorCache | undefined)?.forget(stack.tenantId);
  qbd.webConnector.configure({
    appUrl: `${settleUrl.replace(/\/$/, '')}${QBWC_PATH}`,
    userName: webConnectorUserName(stack.tenantId),
    password: QBD_TEST_PASSWORD,
    runEveryMs: opts.runEveryMs ?? 1000,
  });
  return qbd;
}

/**
 * Settle's copy of the QuickBooks Desktop books as a Web Connector walk handed over after `since` read it: the
 * sync is asked (it queues the walk) until a walk that began later has ended, then once more to record it.
 */
export async function qbdBooksCopyAfter(stack: Stack, since: Date): Promise<void> {
  await eventually(
    async () => {
      await syncBooksCopy(stack.settle!.ctx, stack.tenantId).catch(() => null);
      const row = await withTenant(stack.database.db, stack.tenantId, (tx) =>
        tx.selectFrom('qbd_work').select('context').where('key', '=', 'ledger-read').executeTakeFirst(),
      );
      const asOf = (row?.context as LedgerReadContext | undefined)?.asOf;
      return asOf !== undefined && Date.parse(asOf) > since.getTime();
    },
    90_000,
    'a books copy read by a Web Connector walk that began after the change',
  );
  await syncBooksCopy(stack.settle!.ctx, stack.tenantId);
}
