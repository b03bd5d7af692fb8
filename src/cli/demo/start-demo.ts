// The demo workspace `npm start` opens when nothing is configured: three vendor simulators in this process
// (a PSA — ConnectWise, or Autotask / HaloPSA with SETTLE_DEMO_PSA —, Stripe, QuickBooks Online), a workspace
// connected to them like real accounts (the PSA through `settle connect psa`'s own engine function), 25 clients with
// three months of invoices and payments (demo-history.ts, built in the background once the server is up),
// then a new invoice every few seconds and a Stripe payout now and then — so a newcomer sees a working
// book and can pay an invoice in the portal and watch it land in the PSA and the books.
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import type { Running } from '../runtime.ts';
import { startStripeSimulator } from '../../../simulators/stripe/index.ts';
import { startQuickBooksSimulator } from '../../../simulators/quickbooks-online/index.ts';
import { createWorkspace } from '../workspace.ts';
import { wireWorkspaceToSimulators, type PaymentSimulators, type SimulatorsFor } from './wire-workspace.ts';
import { PSA_LABEL, psaSimulatorUrl, startPsaSimulator, type DemoPsa, type PsaSimulators } from './psa-simulators.ts';
import { mirrorInvoicesIntoBooks, newDemoInvoice } from './demo-activity.ts';
import { buildDemoHistory } from './demo-history.ts';
import { syncPsa } from '../../engine/sync-psa.ts';
import { withTenant } from '../../db/tenant.ts';
import { money } from '../../domain/money.ts';
import { saveOffer } from '../../engine/installment-offers.ts';
import { portalLinkFor } from '../../http/portal/links.ts';
import { quickbooksRedirectUri } from '../../engine/quickbooks-connect.ts';
import { listInvoiceRows } from '../../db/queries/invoice-list.ts';
import { connectDemoXero, offerDemoXeroConsent, startDemoXero } from './xero-books.ts';
import { connectDemoQbd, startDemoQbd } from './qbd-books.ts';

export const DEMO = { slug: 'demo', name: 'Northwind IT (demo)', email: 'admin@demo.test', password: 'settle-demo' } as const;

export async function maybeStartDemo(running: Running, config: Config, log: Logger): Promise<{ stop(): Promise<void> } | null> {
  if (config.SETTLE_DEMO === 'off' || !running.url) return null;
  const db = running.database.db;
  if (config.SETTLE_DEMO === 'auto') {
    const others = await db.selectFrom('tenants').select('slug').where('slug', 'not like', 'demo%').execute();
    if (others.length > 0) return null; // a real workspace exists: no demo
  }
  const base = config.PORT === 0 ? 0 : config.PORT;
  const psaVendor: DemoPsa = config.SETTLE_DEMO_PSA;
  const psaSim = await startPsaSimulator(psaVendor, {
    port: base && base + 1,
    seed: { companies: 25, invoices: 170, seed: 20261127, paidShare: 0.1, contractClient: true },
  });
  const sims = {
    [psaVendor]: psaSim,
    stripe: await startStripeSimulator({ port: base && base + 2, achSettleDelayMs: 8000 }),
    quickbooks: await startQuickBooksSimulator({ port: base && base + 3 }),
  } as unknown as SimulatorsFor<DemoPsa>;
  // SETTLE_DEMO_BOOKS=xero: every invoice the demo exports to QuickBooks is copied into Xero (xero-books.ts).
  const xero = config.SETTLE_DEMO_BOOKS === 'xero' ? await startDemoXero(base && base + 4, sims.quickbooks) : null;
  // SETTLE_DEMO_BOOKS=quickbooks-desktop: the same export copied into the company file; its Web Connector polls Settle (qbd-books.ts).
  const qbd = config.SETTLE_DEMO_BOOKS === 'quickbooks-desktop' ? await startDemoQbd(base && base + 5, sims.quickbooks) : null;
  // "Connect to QuickBooks" in the staff app goes to the simulator's consent page unless a real Intuit app is
  // configured (SETTLE_QBO_*); its redirect URI is registered as an MSP does on the app's Keys tab.
  if (!running.oauthApps.quickbooks) {
    const q = sims.quickbooks;
    running.oauthApps.quickbooks = {
      clientId: q.clientId,
      clientSecret: q.clientSecret,
      authorizeUrl: q.authorizeUrl,
      tokenUrl: q.oauthTokenUrl,
      apiBaseUrl: q.baseUrl,
    };
    try {
      q.sim.registerRedirectUri(quickbooksRedirectUri(running.ctx.publicUrl));
    } catch (e) {
      log.warn({ err: e }, 'the QuickBooks simulator refused the redirect URI (Intuit accepts https, or http on localhost): set PUBLIC_URL');
    }
  }
  // The simulators keep their data in memory, so each start gets a fresh demo workspace; an older one is
  // renamed (kept, since the audit log is append-only) rather than mixed with new simulator data.
  const old = await db.selectFrom('tenants').select('id').where('slug', '=', DEMO.slug).executeTakeFirst();
  if (old) {
    await db
      .updateTable('tenants')
      .set({ slug: `demo-${Date.now().toString(36)}` })
      .where('id', '=', old.id)
      .execute();
    // Its simulators are gone with the previous process: switch its connections off so nothing polls them.
    await withTenant(db, old.id, (tx) =>
      tx.updateTable('connections').set({ status: 'disabled', status_detail: 'demo simulators of an earlier run' }).execute(),
    );
  }
  const tenantId = await createWorkspace(db, { slug: DEMO.slug, name: DEMO.name, adminEmail: DEMO.email, adminPassword: DEMO.password, actor: 'system:demo' });
  await wireWorkspaceToSimulators(db, running.box, running.ctx.connectors, {
    tenantId,
    slug: DEMO.slug,
    settleUrl: running.url,
    sims,
    psa: psaVendor,
    log,
  });
  if (xero) {
    await connectDemoXero(db, running.box, tenantId, DEMO.slug, running.url, xero, log);
    offerDemoXeroConsent(running.oauthApps, running.ctx.publicUrl, xero);
    running.ctx.connectors.forget(tenantId);
  }
  if (qbd) {
    await connectDemoQbd(db, running.box, tenantId, running.url, qbd);
    running.ctx.connectors.forget(tenantId);
  }
  const psa = await running.ctx.connectors.psa(tenantId);
  if (psa) await mirrorInvoicesIntoBooks(psa, sims.quickbooks);
  // The simulated company tracks classes and locations (QuickBooks Plus), not yet mapped: Settings → Accounts
  // offers them, so a person can see a payout's deposit carry the class and location they choose.
  sims.quickbooks.sim.setTracking({ classes: 'line', departments: true });
  for (const name of ['Managed services', 'Projects', 'Hardware resale']) sims.quickbooks.sim.ensureTracking('Class', name);
  for (const name of ['Main office', 'Branch office']) sims.quickbooks.sim.ensureTracking('Department', name);
  // A plan clients may choose themselves in the portal, with a fee (charged with part 1, booked as income).
  await withTenant(db, tenantId, (tx) =>
    saveOffer(tx, tenantId, {
      actor: 'system:demo',
      offer: {
        label: 'Pay in 3 monthly parts',
        parts: 3,
        everyDays: 30,
        currency: 'USD',
        minOwed: money(50_000n, 'USD'),
        feeFlat: money(500n, 'USD'),
        feeBps: 150,
        methods: ['card', 'us_bank_account'],
      },
    }),
  );
  const imported = await syncPsa(running.ctx, tenantId);
  log.info({ imported }, `demo workspace imported from the ${PSA_LABEL[psaVendor]} simulator`);

  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  const abort = new AbortController();
  const startActivity = (): void => {
    if (stopped) return;
    if (config.SETTLE_DEMO_INVOICE_EVERY_MS > 0) {
      timers.push(
        setInterval(() => {
          newDemoInvoice(sims, psaVendor).catch((e: unknown) => log.warn({ err: e }, 'demo invoice generator failed'));
        }, config.SETTLE_DEMO_INVOICE_EVERY_MS),
      );
    }
    // Stripe pays out the balance on a schedule; the demo does it every 30 s so the deposit shows soon.
    timers.push(
      setInterval(() => {
        try {
          sims.stripe.sim.runPayouts();
        } catch (e) {
          log.warn({ err: e }, 'demo payout failed');
        }
      }, 30_000),
    );
  };
  // Three months of history, through the engine against the simulators, while the server already answers; the
  // live activity starts after it (the history sets the processor's clock to the days it tells). Its backdated
  // invoices are made in whichever PSA the demo runs on.
  const history = buildDemoHistory(running.ctx, tenantId, sims as PaymentSimulators & Partial<PsaSimulators>, { log, signal: abort.signal }).then(
    (built) => {
      if (built) process.stdout.write(`  Demo history   built in ${Math.round(built.took.total / 1000)} s: ${built.payments} payments over 13 weeks.\n`);
      startActivity();
    },
    (e: unknown) => {
      if (!stopped) log.warn({ err: e }, 'the demo history could not be built; the workspace works without it');
      startActivity();
    },
  );

  const link = await withTenant(db, tenantId, async (tx) => {
    const open = await listInvoiceRows(tx, { status: 'open', limit: 1, offset: 0 });
    const clientId = open[0]?.client_id ?? (await tx.selectFrom('clients').select('id').executeTakeFirstOrThrow()).id;
    return portalLinkFor(tx, running.ctx.publicUrl, tenantId, clientId, 14 * 24 * 3600, running.box);
  });
  const banner = [
    '',
    '  Settle is running with a demo workspace on simulators.',
    '',
    `  Staff app      ${running.ctx.publicUrl}/app`,
    `  Sign in        workspace "${DEMO.slug}", ${DEMO.email} / ${DEMO.password}`,
    `  Client portal  ${link.url}`,
    `                 (test card 4242 4242 4242 4242, any future date and CVC; bank: routing 110000000, account 000123456789)`,
    `  API docs       ${running.ctx.publicUrl}/api/docs`,
    `  History        three months of payments, declines and retries, refunds, an ACH return, payouts, an`,
    `                 exception and an autopay approval are being built now (about a minute; a line says when).`,
    `  Database       ${running.database.embedded ? `embedded PostgreSQL, cluster in ${running.database.embedded.clusterDir}` : 'DATABASE_URL'}`,
    '',
    `  Simulators     ${PSA_LABEL[psaVendor].padEnd(11)} ${psaSimulatorUrl(psaVendor, sims as Partial<PsaSimulators>)}   (SETTLE_DEMO_PSA=connectwise|autotask|halopsa)`,
    `                 Stripe      ${sims.stripe.baseUrl}`,
    qbd
      ? `                 QuickBooks Desktop ${qbd.baseUrl}   (SETTLE_DEMO_BOOKS=quickbooks-desktop; its Web Connector runs every 15 s, POST ${qbd.baseUrl}/_sim/poll-now runs it now; GET ${qbd.baseUrl}/_sim/state shows the company file)`
      : xero
        ? `                 Xero        ${xero.baseUrl}   (SETTLE_DEMO_BOOKS=xero; GET ${xero.baseUrl}/_sim/state shows payments, transfers, fees)`
        : `                 QuickBooks  ${sims.quickbooks.baseUrl}   (SETTLE_DEMO_BOOKS=quickbooks-online|xero)`,
    `  After paying: ${paidWhere(psaVendor, sims as Partial<PsaSimulators>)},`,
    `  QuickBooks the Payment (GET ${sims.quickbooks.baseUrl}/_sim/payments); the Stripe payout every 30 s becomes`,
    `  one QuickBooks Deposit (GET ${sims.quickbooks.baseUrl}/_sim/deposits).`,
    '',
  ].join('\n');
  process.stdout.write(banner + '\n');
  return {
    stop: async () => {
      stopped = true;
      abort.abort();
      for (const t of timers) clearInterval(t);
      await Promise.allSettled([psaSim.close(), sims.stripe.close(), sims.quickbooks.close(), xero?.close(), qbd?.close()]);
      await history;
    },
  };
}

/** Where a person sees the payment Settle wrote back, in the demo's PSA simulator. */
function paidWhere(vendor: DemoPsa, sims: Partial<PsaSimulators>): string {
  if (vendor === 'autotask') return `Autotask has a payment note on the company (GET ${sims.autotask!.origin}/_sim/notes)`;
  if (vendor === 'halopsa') return `HaloPSA has the InvoicePayment (GET ${sims.halopsa!.baseUrl}/_sim/payments)`;
  return `ConnectWise has the payment (GET ${sims.connectwise!.origin}/_sim/payments, each with its invoice number)`;
}
