// Put a test stack's books on Xero: start the Xero simulator, copy the workspace's PSA invoices into it (as the
// PSA's accounting export would) and save the accounting connection to it through saveConnection — the path
// `settle connect accounting xero` takes (tokens sealed, audited). For a Settle in a child process, call it
// before starting the process (the process reads the connection from the database).
import { saveConnection } from '../../src/engine/connections.ts';
import { ConnectorCache } from '../../src/engine/connections.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { startXeroSimulator, type RunningXeroSimulator, type XeroSimulatorOptions } from '../../simulators/xero/index.ts';
import type { AnyStack } from './stack.ts';

export async function useXeroBooks(stack: AnyStack, opts: XeroSimulatorOptions = {}): Promise<RunningXeroSimulator> {
  const xero = await startXeroSimulator(opts);
  const invoices = await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx
      .selectFrom('invoices as i')
      .innerJoin('clients as c', 'c.id', 'i.client_id')
      .select(['i.number', 'i.total_minor', 'c.name'])
      .where('i.total_minor', '>', 0n)
      .execute(),
  );
  for (const i of invoices) xero.sim.seedInvoice({ number: i.number, contactName: i.name, amount: (Number(i.total_minor) / 100).toFixed(2) });
  const box = SecretBox.fromHex(stack.secretKeyHex);
  await saveConnection(stack.database.db, box, stack.tenantId, {
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
    },
    secrets: { clientSecret: xero.clientSecret, refreshToken: xero.initialRefreshToken, webhookKey: xero.sim.webhooks.key },
    actor: 'system:test',
  });
  (stack.settle?.ctx.connectors as ConnectorCache | undefined)?.forget(stack.tenantId);
  return xero;
}
