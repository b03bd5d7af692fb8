// The workspace the soak runs: created and connected the way an MSP does it (createWorkspace, an API key,
// wireWorkspaceToSimulators = the same connection settings, Stripe webhook endpoint and ConnectWise callback
// registration a real setup makes), the PSA's invoices mirrored into the books (the MSP's PSA export), an
// initial import, and autopay on for half the clients with a saved card (a few of them a card that
// declines, so failed payments and their retries are part of the stream). Runs in the soak process
// before any Settle child starts; the harness keeps this database handle for its own queries and checks.
import crypto from 'node:crypto';
import { Logger, runMigrations } from 'graphile-worker';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { openDatabase, startSettle, type Database } from '../../src/cli/runtime.ts';
import { createApiKey, createWorkspace } from '../../src/cli/workspace.ts';
import { wireWorkspaceToSimulators, type Simulators } from '../../src/cli/demo/wire-workspace.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { ensureProcessorCustomer } from '../../src/engine/start-portal-payment.ts';
import { syncSavedMethods } from '../../src/engine/sync-saved-methods.ts';
import { createRule, saveSettings, setDefaultMethod } from '../../src/engine/manage-autopay.ts';
import { toDecimalString } from '../../src/domain/money.ts';
import { call, type SimProcesses } from './sims.ts';

export interface Workspace {
  readonly database: Database;
  readonly tenantId: string;
  readonly slug: string;
  readonly apiKey: string;
  readonly secretKeyHex: string;
  readonly dataDir: string;
  /** Clients with autopay on and a saved card (id → saved method id). */
  readonly autopayClients: ReadonlyMap<string, string>;
}

export async function setUpWorkspace(opts: { dbUrl: string; dataDir: string; settleUrl: string; sims: SimProcesses }): Promise<Workspace> {
  const secretKeyHex = crypto.randomBytes(32).toString('hex');
  const config = loadConfig({
    DATABASE_URL: opts.dbUrl,
    SETTLE_DATA_DIR: opts.dataDir,
    SETTLE_SECRET_KEY: secretKeyHex,
    PORT: '0',
    HOST: '127.0.0.1',
    SETTLE_DEMO: 'off',
    LOG_LEVEL: 'silent',
  });
  const log = createLogger('silent');
  const database = await openDatabase(config, log);
  // Webhooks and callbacks enqueue jobs (graphile_worker.add_job) before any worker has migrated its schema.
  await runMigrations({ pgPool: database.pool, logger: new Logger(() => () => {}) });
  // Engine context only (no HTTP, no worker): the same composition root as `settle start`.
  const settle = await startSettle(config, log, { http: false, worker: false, database });
  const slug = 'soak-msp';
  const tenantId = await createWorkspace(database.db, {
    slug,
    name: 'Soak MSP',
    adminEmail: 'owner@soak.test',
    adminPassword: 'correct horse battery staple',
    actor: 'system:soak',
  });
  const apiKey = await createApiKey(database.db, tenantId, 'soak', 'system:soak');
  const { connectwise, stripe, quickbooks } = opts.sims;
  // The clearing account the wiring names, made over HTTP: the simulator runs in its own process.
  const clearing = await call<{ Id: string }>(`${quickbooks.baseUrl}/_sim/accounts`, {
    body: { name: 'Settle clearing', accountType: 'Other Current Asset', accountSubType: 'OtherCurrentAssets' },
  });
  // Only the fields the wiring reads; the simulators' in-process controls do not exist across processes.
  const sims = {
    connectwise: { baseUrl: connectwise.baseUrl, credentials: connectwise.credentials },
    stripe: { baseUrl: stripe.baseUrl, secretKey: stripe.secretKey, publishableKey: stripe.publishableKey },
    quickbooks: { ...quickbooks, sim: { accounts: quickbooks.accounts, ensureAccount: () => clearing } },
  } as unknown as Simulators;
  await wireWorkspaceToSimulators(database.db, settle.box, settle.ctx.connectors, { tenantId, slug, settleUrl: opts.settleUrl, sims });

  // The PSA's invoices into the books, as the MSP's PSA→accounting export does.
  const psa = (await settle.ctx.connectors.psa(tenantId))!;
  const names = new Map<string, string>();
  for await (const page of psa.listClients(null)) for (const c of page) names.set(c.externalId, c.name);
  const invoices: { docNumber: string; customerName: string; amount: string; txnDate: string; dueDate?: string }[] = [];
  for await (const page of psa.listInvoices(null))
    for (const inv of page)
      if (inv.total.amountMinor > 0n)
        invoices.push({
          docNumber: inv.number,
          customerName: names.get(inv.clientExternalId) ?? `Client ${inv.clientExternalId}`,
          amount: toDecimalString(inv.total),
          txnDate: inv.issuedOn,
          ...(inv.dueOn ? { dueDate: inv.dueOn } : {}),
        });
  await call(`${quickbooks.baseUrl}/_sim/seed`, { body: { invoices } });
  await syncPsa(settle.ctx, tenantId);

  // Autopay: every invoice on its invoice date, no notice period (so charges happen within the run).
  const clients = await withTenant(database.db, tenantId, (tx) => tx.selectFrom('clients').select('id').orderBy('id').execute());
  const autopayClients = new Map<string, string>();
  await withTenant(database.db, tenantId, async (tx) => {
    await saveSettings(tx, tenantId, { noticeDays: 0 }, 'system:soak');
    await createRule(tx, tenantId, { name: 'Every invoice on its invoice date', anchor: 'invoice_date', offset_days: 0 }, 'system:soak');
  });
  for (const [i, c] of clients.entries()) {
    if (i % 2 !== 0) continue;
    const customer = await ensureProcessorCustomer(settle.ctx, tenantId, c.id);
    // One autopay client in eight has a card that is declined for insufficient funds (soft: retried later).
    const card = i % 16 === 0 ? 'pm_card_chargeDeclinedInsufficientFunds' : 'pm_card_visa';
    await call(`${stripe.baseUrl}/v1/payment_methods/${card}/attach`, {
      headers: { authorization: `Bearer ${stripe.secretKey}` },
      form: { customer },
    });
    const [m] = await syncSavedMethods(settle.ctx, tenantId, c.id, 'system:soak');
    await withTenant(database.db, tenantId, async (tx) => {
      await setDefaultMethod(tx, tenantId, c.id, m!.id, 'system:soak');
      await tx.updateTable('clients').set({ collection_enabled: true, autopay_enabled: true }).where('id', '=', c.id).execute();
    });
    autopayClients.set(c.id, m!.id);
  }
  await settle.stop();
  return { database, tenantId, slug, apiKey, secretKeyHex, dataDir: opts.dataDir, autopayClients };
}
