// A whole Settle for a benchmark, built the way test/helpers/stack.ts builds one but without vitest: a
// fresh database, the three vendor simulators on loopback ports, and Settle (HTTP and, if asked, the
// worker) in this process through the same composition root as `settle start` (startSettle), with a
// workspace wired to the simulators exactly as the demo wires it. Logs are silent.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Logger, runMigrations } from 'graphile-worker';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { openDatabase, startSettle, type Running } from '../../src/cli/runtime.ts';
import { createWorkspace } from '../../src/cli/workspace.ts';
import { wireWorkspaceToSimulators, type Simulators } from '../../src/cli/demo/wire-workspace.ts';
import { mirrorInvoicesIntoBooks } from '../../src/cli/demo/demo-activity.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { withTenant } from '../../src/db/tenant.ts';
import type { Db } from '../../src/db/pool.ts';
import { portalLinkFor } from '../../src/http/portal/links.ts';
import { startConnectWiseSimulator } from '../../simulators/connectwise/index.ts';
import { startStripeSimulator } from '../../simulators/stripe/index.ts';
import { startQuickBooksSimulator } from '../../simulators/quickbooks-online/index.ts';
import { createBenchDatabase } from './pg.ts';
import { startStripeProcess, type StripeProcess } from './stripe-process.ts';
import { startChildSim, type ChildSim } from './child-sim.ts';

export interface BenchStackOptions {
  readonly pgServerUrl: string;
  readonly label: string;
  readonly companies: number;
  readonly invoices: number;
  readonly linesPerInvoice?: number;
  /** Run graphile-worker in this process (default true). */
  readonly worker?: boolean;
  /** Copy the PSA's invoices into the QuickBooks simulator (what the MSP's PSA export does). Default true. */
  readonly mirrorBooks?: boolean;
  /** Import the PSA once before returning. Default true. */
  readonly initialSync?: boolean;
  /** The Stripe simulator's limits during setup, overall and per endpoint (a live-mode account; default 100/s). */
  readonly stripeRequestsPerSecond?: number;
  /**
   * The limits of the Stripe account the benchmark models, written into Settle's Stripe connection (what an
   * MSP sets where Stripe raised its limits); default: the setup limits. Stripe documents 100/s overall in
   * live mode and 25/s per endpoint, raised on request.
   */
  readonly stripeAccount?: { readonly perSecond: number; readonly endpointPerSecond: number };
  /** Run the Stripe simulator in a process of its own (it then does not share Settle's CPU); see stripe-process.ts. */
  readonly stripeInOwnProcess?: boolean;
  /** Run the ConnectWise simulator (and its seed) in a process of its own, so memory figures are Settle's alone. */
  readonly connectwiseInOwnProcess?: boolean;
}

export interface BenchStack {
  readonly settle: Running;
  /** Set when stripeInOwnProcess: the simulator's controls over IPC (sims.stripe.sim is then unavailable). */
  readonly stripeProcess: StripeProcess | null;
  /** Set when connectwiseInOwnProcess (sims.connectwise.sim/state are then unavailable). */
  readonly connectwiseProcess: ChildSim<unknown> | null;
  readonly db: Db;
  /** The benchmark's database (a raw COPY baseline reads the imported rows from it). */
  readonly databaseUrl: string;
  readonly sims: Simulators;
  readonly settleUrl: string;
  readonly tenantId: string;
  readonly slug: string;
  portalToken(clientId: string): Promise<string>;
  openInvoices(): Promise<OpenInvoice[]>;
  close(): Promise<void>;
}

export interface OpenInvoice {
  readonly id: string;
  readonly number: string;
  readonly clientId: string;
  readonly remote: string;
}

export async function startBenchStack(opts: BenchStackOptions): Promise<BenchStack> {
  const setupRate = opts.stripeRequestsPerSecond ?? 100;
  const account = opts.stripeAccount ?? { perSecond: setupRate, endpointPerSecond: setupRate };
  const stripeProcess = opts.stripeInOwnProcess ? await startStripeProcess(setupRate) : null;
  const cwSeed = {
    companies: opts.companies,
    invoices: opts.invoices,
    seed: 42,
    paidShare: 0,
    ...(opts.linesPerInvoice ? { linesPerInvoice: opts.linesPerInvoice } : {}),
  };
  const connectwiseProcess = opts.connectwiseInOwnProcess ? await startChildSim<unknown>('connectwise-child.ts', { CW_SEED: JSON.stringify(cwSeed) }) : null;
  const database = await createBenchDatabase(opts.pgServerUrl, opts.label);
  const sims: Simulators = {
    connectwise: connectwiseProcess
      ? ({ ...(connectwiseProcess.ready as object), close: () => connectwiseProcess.close() } as unknown as Simulators['connectwise'])
      : await startConnectWiseSimulator({
          seed: cwSeed,
        }),
    stripe: stripeProcess
      ? // Only baseUrl and keys are used for wiring; the in-process controls do not exist for a child.
        ({
          baseUrl: stripeProcess.baseUrl,
          secretKey: stripeProcess.secretKey,
          publishableKey: stripeProcess.publishableKey,
          // What wireWorkspaceToSimulators writes into Settle's connection: the modelled account's limits.
          limits: { ...account, searchPerSecond: 20 },
          close: () => stripeProcess.close(),
        } as unknown as Simulators['stripe'])
      : await startStripeSimulator({
          mode: 'live',
          achSettleDelayMs: null,
          searchLagMs: 0,
          // At the account's limits while the workspace is wired (the connection reads them), raised for setup below.
          rateLimitPerSecond: account.perSecond,
          endpointLimitPerSecond: account.endpointPerSecond,
        }),
    quickbooks: await startQuickBooksSimulator({}),
  };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-bench-'));
  const config = loadConfig({
    DATABASE_URL: database.url,
    SETTLE_DATA_DIR: dataDir,
    SETTLE_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    PORT: '0',
    HOST: '127.0.0.1',
    SETTLE_DEMO: 'off',
    LOG_LEVEL: 'silent',
    SETTLE_WORKER_CONCURRENCY: '4',
  });
  const log = createLogger('silent');
  const db = await openDatabase(config, log);
  // Settle's HTTP side enqueues jobs (graphile_worker.add_job) whose schema the worker migrates at its
  // start; without a worker in this process, migrate it here so webhooks can still be stored.
  if (opts.worker === false) await runMigrations({ pgPool: db.pool, logger: new Logger(() => () => {}) });
  const settle = await startSettle(config, log, { http: true, worker: opts.worker ?? true, database: db });
  const settleUrl = settle.url!;
  const slug = 'bench-msp';
  const tenantId = await createWorkspace(db.db, {
    slug,
    name: 'Bench MSP',
    adminEmail: 'owner@bench.test',
    adminPassword: 'correct horse battery',
    actor: 'system:bench',
  });
  await wireWorkspaceToSimulators(db.db, settle.box, settle.ctx.connectors, { tenantId, slug, settleUrl, sims });
  if (!stripeProcess) sims.stripe.sim.setLimits({ perSecond: setupRate, endpointPerSecond: setupRate, searchPerSecond: setupRate });
  if (opts.mirrorBooks ?? true) {
    const psa = await settle.ctx.connectors.psa(tenantId);
    await mirrorInvoicesIntoBooks(psa!, sims.quickbooks);
  }
  if (opts.initialSync ?? true) await syncPsa(settle.ctx, tenantId);

  const tokens = new Map<string, string>();
  return {
    settle,
    stripeProcess,
    connectwiseProcess,
    db: db.db,
    databaseUrl: database.url,
    sims,
    settleUrl,
    tenantId,
    slug,
    portalToken: async (clientId) => {
      const cached = tokens.get(clientId);
      if (cached) return cached;
      const link = await withTenant(db.db, tenantId, (tx) => portalLinkFor(tx, settleUrl, tenantId, clientId, 3600, settle.box));
      const token = link.url.split('/portal/')[1]!;
      tokens.set(clientId, token);
      return token;
    },
    openInvoices: () =>
      withTenant(db.db, tenantId, async (tx) => {
        const rows = await tx
          .selectFrom('invoices as i')
          .innerJoin('external_refs as r', (j) => j.onRef('r.entity_id', '=', 'i.id').on('r.entity', '=', 'invoice'))
          .select(['i.id', 'i.number', 'i.client_id', 'r.remote_id'])
          .where('i.status', '=', 'open')
          .where('i.total_minor', '>', 0n)
          .orderBy('i.number')
          .execute();
        return rows.map((r) => ({ id: r.id, number: r.number, clientId: r.client_id, remote: r.remote_id }));
      }),
    close: async () => {
      await settle.stop();
      await db.close();
      await Promise.allSettled([sims.connectwise.close(), sims.stripe.close(), sims.quickbooks.close()]);
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What the portal page does: choose invoices at Settle, then confirm the PaymentIntent at the processor. */
export async function startPortalPay(stack: BenchStack, token: string, invoiceIds: readonly string[]): Promise<{ paymentId: string; intentId: string }> {
  const res = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ invoice_ids: invoiceIds, method: 'card' }),
  });
  const body = (await res.json()) as { payment_id: string; client_secret: string };
  if (!res.ok) throw new Error(`portal pay failed (${res.status}): ${JSON.stringify(body)}`);
  return { paymentId: body.payment_id, intentId: body.client_secret.split('_secret_')[0]! };
}

/** The hosted fields' confirm call; resolves when the processor has answered (the PI is then succeeded). */
export async function confirmAtProcessor(stack: BenchStack, intentId: string, paymentMethod = 'pm_card_visa'): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${stack.sims.stripe.baseUrl}/v1/payment_intents/${intentId}/confirm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.sims.stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payment_method: paymentMethod }).toString(),
    });
    const text = await res.text();
    if (res.ok) {
      const pi = JSON.parse(text) as { status: string };
      if (pi.status !== 'succeeded') throw new Error(`confirm left the PaymentIntent ${pi.status}`);
      return;
    }
    if (res.status === 429 && attempt < 20) {
      await sleep(100);
      continue;
    }
    throw new Error(`confirm failed (${res.status}): ${text}`);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
