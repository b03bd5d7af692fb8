// A whole Settle for integration tests: a fresh PostgreSQL database, the three vendor simulators on
// loopback ports, and Settle (HTTP + worker) in this process, with a workspace wired to the simulators
// exactly as the demo and a real MSP would wire it. Everything crosses real HTTP. The PSA is ConnectWise
// unless `psa: 'autotask' | 'halopsa'` says otherwise (then `sims.autotask` / `sims.halopsa` is the PSA).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { startSettle, type Running } from '../../src/cli/runtime.ts';
import { createDb, createPool } from '../../src/db/pool.ts';
import { createApiKey, createWorkspace } from '../../src/cli/workspace.ts';
import { wireWorkspaceToSimulators, type SimulatorsFor } from '../../src/cli/demo/wire-workspace.ts';
import { startPsaSimulator, type DemoPsa, type PsaSimulators } from '../../src/cli/demo/psa-simulators.ts';
import { mirrorInvoicesIntoBooks } from '../../src/cli/demo/demo-activity.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { portalLinkFor } from '../../src/http/portal/links.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { createMailer } from '../../src/notify/mailer.ts';
import { startStripeSimulator } from '../../simulators/stripe/index.ts';
import { startQuickBooksSimulator } from '../../simulators/quickbooks-online/index.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { bankForToken, TEST_ROUTING_NUMBER } from '../../simulators/stripe/test-methods.ts';

export interface StackOptions<P extends DemoPsa = 'connectwise'> {
  /** The PSA the workspace runs on (default ConnectWise). */
  readonly psa?: P;
  /**
   * That PSA's simulator, already started by the caller with options of its own (latency, limits, clock); the
   * stack connects the workspace to it and leaves closing it to the caller. Default: one started with the seed.
   */
  readonly psaSimulator?: PsaSimulators[P];
  readonly companies?: number;
  readonly invoices?: number;
  /** Run Settle in this process (default). False: only database + simulators + wired workspace. */
  readonly settle?: boolean;
  /** Fixed Settle port (for a Settle started as a child process). */
  readonly settlePort?: number;
  readonly achSettleDelayMs?: number | null;
  /** Send email to this SMTP URL (see test/helpers/smtp.ts); without it emails are kept as `skipped`. */
  readonly smtpUrl?: string;
  /** More settings for Settle (e.g. SETTLE_WEBHOOKS_ALLOW_PRIVATE for a webhook receiver on this machine). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface Stack<P extends DemoPsa = 'connectwise'> {
  readonly database: TestDatabase;
  readonly psa: P;
  readonly sims: SimulatorsFor<P>;
  readonly settle: Running | null;
  readonly settleUrl: string;
  readonly tenantId: string;
  readonly slug: string;
  readonly secretKeyHex: string;
  readonly config: Config;
  apiKey(): Promise<string>;
  portalToken(clientId?: string): Promise<string>;
  close(): Promise<void>;
}

/** A stack on any of the three PSAs, for helpers that do not touch the PSA's simulator. */
export type AnyStack = Stack<'connectwise'> | Stack<'autotask'> | Stack<'halopsa'>;

export async function startStack<P extends DemoPsa = 'connectwise'>(opts: StackOptions<P> = {}): Promise<Stack<P>> {
  const database = await createTestDatabase();
  const psaVendor = (opts.psa ?? 'connectwise') as P;
  const psaSim =
    opts.psaSimulator ??
    (await startPsaSimulator(psaVendor, { seed: { companies: opts.companies ?? 3, invoices: opts.invoices ?? 6, seed: 42, paidShare: 0 } }));
  const sims = {
    [psaVendor]: psaSim,
    // A live-mode account whose per-endpoint limit Stripe raised to its global 100/s: the suite keeps its
    // pace (test mode's 25/s would slow every file); Settle's connection is wired with these limits.
    stripe: await startStripeSimulator({ mode: 'live', endpointLimitPerSecond: 100, achSettleDelayMs: opts.achSettleDelayMs ?? null, searchLagMs: 0 }),
    quickbooks: await startQuickBooksSimulator({}),
  } as unknown as SimulatorsFor<P>;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-test-'));
  const secretKeyHex = crypto.randomBytes(32).toString('hex');
  const config = loadConfig({
    DATABASE_URL: database.url,
    SETTLE_DATA_DIR: dataDir,
    SETTLE_SECRET_KEY: secretKeyHex,
    PORT: String(opts.settlePort ?? 0),
    SETTLE_DEMO: 'off',
    LOG_LEVEL: process.env.SETTLE_TEST_LOG ?? 'silent',
    SETTLE_WORKER_CONCURRENCY: '4',
    ...(opts.smtpUrl ? { SETTLE_SMTP_URL: opts.smtpUrl } : {}),
    ...opts.env,
  });
  const log = createLogger(config.LOG_LEVEL);
  let settle: Running | null = null;
  let settleUrl: string;
  const box = SecretBox.fromHex(secretKeyHex);
  const pool = createPool(database.url, 20);
  const settleDb = createDb(pool);
  if (opts.settle !== false) {
    settle = await startSettle(config, log, {
      http: true,
      worker: true,
      database: { url: database.url, pool, db: settleDb, embedded: null, close: async () => {} },
    });
    settleUrl = settle.url!;
  } else {
    settleUrl = `http://127.0.0.1:${opts.settlePort ?? 0}`;
  }
  const slug = 'acme-it';
  const tenantId = await createWorkspace(database.db, {
    slug,
    name: 'Acme IT',
    adminEmail: 'owner@acme.test',
    adminPassword: 'correct horse battery',
    actor: 'system:test',
  });
  const connectors = settle?.ctx.connectors ?? new (await import('../../src/engine/connections.ts')).ConnectorCache(database.db, box);
  await wireWorkspaceToSimulators(database.db, box, connectors, { tenantId, slug, settleUrl, sims, psa: psaVendor, log });
  const psa = await connectors.psa(tenantId);
  await mirrorInvoicesIntoBooks(psa!, sims.quickbooks);
  // The initial import, as `settle start` would run it (for a Settle in a child process, from here).
  await syncPsa(
    settle?.ctx ?? {
      db: database.db,
      connectors,
      log,
      publicUrl: settleUrl,
      now: () => new Date(),
      mailer: createMailer(undefined),
      mailFrom: config.SETTLE_MAIL_FROM,
    },
    tenantId,
  );
  return {
    database,
    psa: psaVendor,
    sims,
    settle,
    settleUrl,
    tenantId,
    slug,
    secretKeyHex,
    config,
    apiKey: () => createApiKey(database.db, tenantId, 'test', 'system:test'),
    portalToken: async (clientId?: string) => {
      return withTenant(database.db, tenantId, async (tx) => {
        const id =
          clientId ?? (await tx.selectFrom('invoices').select('client_id').where('status', '=', 'open').orderBy('number').executeTakeFirstOrThrow()).client_id;
        const link = await portalLinkFor(tx, settleUrl, tenantId, id, 3600, box);
        return link.url.split('/portal/')[1]!;
      });
    },
    close: async () => {
      await settle?.stop();
      await settleDb.destroy().catch(() => {});
      await Promise.allSettled([opts.psaSimulator ? null : psaSim.close(), sims.stripe.close(), sims.quickbooks.close()]);
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Poll until `check` returns a truthy value (or throw after `timeoutMs`, with the last value in the message). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 15_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
}

/** Pay through the portal as a client would: choose invoices, then confirm in the processor's hosted fields. */
export async function payInPortal<P extends DemoPsa>(
  stack: Stack<P>,
  token: string,
  invoiceIds: string[],
  paymentMethod = 'pm_card_visa',
  method: 'card' | 'us_bank_account' = 'card',
): Promise<{ paymentId: string; intentId: string }> {
  const res = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ invoice_ids: invoiceIds, method }),
  });
  const body = (await res.json()) as { payment_id: string; client_secret: string };
  if (!res.ok) throw new Error(`portal pay failed: ${JSON.stringify(body)}`);
  const intentId = body.client_secret.split('_secret_')[0]!;
  // What the hosted fields do when the client presses Pay: confirm the PaymentIntent at the processor.
  const confirm = await fetch(`${stack.sims.stripe.baseUrl}/v1/payment_intents/${intentId}/confirm`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.sims.stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ payment_method: paymentMethod }).toString(),
  });
  if (!confirm.ok) throw new Error(`confirm failed: ${await confirm.text()}`);
  return { paymentId: body.payment_id, intentId };
}

export async function openInvoices<P extends DemoPsa>(
  stack: Stack<P>,
): Promise<{ id: string; number: string; client_id: string; total_minor: bigint; remote: string }[]> {
  return withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx
      .selectFrom('invoices as i')
      .innerJoin('external_refs as r', (j) => j.onRef('r.entity_id', '=', 'i.id').on('r.entity', '=', 'invoice'))
      .select(['i.id', 'i.number', 'i.client_id', 'i.total_minor', 'r.remote_id as remote'])
      .where('i.status', '=', 'open')
      .where('i.total_minor', '>', 0n)
      .orderBy('i.number')
      .execute(),
  );
}

/**
 * Pay by bank account through the portal as a client would: choose invoices, then type a Stripe test bank
 * account into the hosted fields and accept the debit authorisation (the hosted fields create the
 * PaymentMethod and the mandate and confirm the intent). `bankToken` names one of Stripe's test accounts.
 */
export async function payByBankInPortal<P extends DemoPsa>(
  stack: Stack<P>,
  token: string,
  invoiceIds: string[],
  bankToken = 'pm_usBankAccount',
): Promise<{ paymentId: string; intentId: string; body: Record<string, unknown> }> {
  const account = bankForToken(bankToken);
  if (!account) throw new Error(`${bankToken} is not a Stripe test bank account`);
  const res = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ invoice_ids: invoiceIds, method: 'us_bank_account' }),
  });
  const body = (await res.json()) as { payment_id: string; client_secret: string } & Record<string, unknown>;
  if (!res.ok) throw new Error(`portal pay failed: ${JSON.stringify(body)}`);
  const s = stack.sims.stripe;
  const confirm = await fetch(`${s.baseUrl}/_sim/elements/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_secret: body.client_secret,
      pk: s.publishableKey,
      method: 'us_bank_account',
      bank: { holder: 'Pat Client', routing: TEST_ROUTING_NUMBER, account: account.accountNumber, account_type: 'checking' },
      mandate_accepted: true,
      user_agent: 'settle-integration-test',
    }),
  });
  const result = (await confirm.json()) as { error?: unknown };
  if (!confirm.ok || result.error) throw new Error(`hosted fields confirm failed: ${JSON.stringify(result)}`);
  return { paymentId: body.payment_id, intentId: body.client_secret.split('_secret_')[0]!, body };
}
