// `settle start` with SETTLE_DEMO_PSA: the demo workspace runs on the Autotask or HaloPSA simulator, connected
// through the product's own door (connectSystem, as `settle connect psa …`): the seeded invoices are imported,
// the PSA's webhook is registered, the staff connections page shows the PSA (for Autotask, its API budget), and
// a portal payment is written back to that PSA.
// A value that names no PSA is refused at start, naming the three.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startSettleCommand, stopSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort } from '../helpers/ports.ts';
import { eventually } from '../helpers/stack.ts';
import { request, signIn } from '../security/http-from.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { readConnection } from '../../src/engine/connections.ts';
import { portalLinkFor } from '../../src/http/portal/links.ts';
import { DEMO } from '../../src/cli/demo/start-demo.ts';
import { newDemoInvoice } from '../../src/cli/demo/demo-activity.ts';
import { startPsaSimulator, type DemoPsa, type PsaSimulators } from '../../src/cli/demo/psa-simulators.ts';
import { startQuickBooksSimulator } from '../../simulators/quickbooks-online/index.ts';
import type { RunningStripeSimulator } from '../../simulators/stripe/index.ts';

let settle: SettleProcess | null = null;
let database: TestDatabase | null = null;
let dataDir: string | null = null;
let secretKeyHex: string | null = null;
afterEach(async () => {
  await stopSettleProcess(settle);
  settle = null;
  await database?.drop();
  database = null;
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = null;
});

async function startDemo(psa: string): Promise<{ port: number; db: TestDatabase }> {
  database = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-demo-psa-'));
  const port = await freePort();
  settle = await startSettleCommand(
    port,
    {
      DATABASE_URL: database.url,
      SETTLE_SECRET_KEY: (secretKeyHex = crypto.randomBytes(32).toString('hex')),
      SETTLE_DATA_DIR: dataDir,
      SETTLE_DEMO: 'on',
      SETTLE_DEMO_PSA: psa,
      SETTLE_DEMO_INVOICE_EVERY_MS: '0',
    },
    { readyTimeoutMs: 120_000 },
  );
  return { port, db: database };
}

const PAGE_SAYS: Record<Exclude<DemoPsa, 'connectwise'>, RegExp> = { autotask: /requests per rolling hour/, halopsa: /HaloPSA/ };

describe.each(['autotask', 'halopsa'] as const)('the demo on %s', (vendor) => {
  it('imports the seeded invoices, registers the webhook and shows a healthy connection', async () => {
    const { port, db } = await startDemo(vendor);
    // The banner is printed once the demo workspace is connected and its first import is done.
    await eventually(async () => settle!.output().includes('Client portal'), 120_000, 'the demo banner');
    expect(settle!.output()).toMatch(vendor === 'autotask' ? /Autotask +http/ : /HaloPSA +http/);
    const tenant = await db.db.selectFrom('tenants').select('id').where('slug', '=', DEMO.slug).executeTakeFirstOrThrow();
    const state = await withTenant(db.db, tenant.id, async (tx) => ({
      invoices: (
        await tx
          .selectFrom('invoices')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
      psa: await tx.selectFrom('connections').select(['vendor', 'status']).where('role', '=', 'psa').executeTakeFirstOrThrow(),
      registered: await tx.selectFrom('audit_log').select('action').where('action', '=', 'connection.callback_registered').execute(),
    }));
    expect(Number(state.invoices)).toBeGreaterThanOrEqual(100);
    expect(state.psa).toEqual({ vendor, status: 'active' });
    expect(state.registered.length).toBe(1);
    const cookie = await signIn(`http://127.0.0.1:${port}`, { workspace: DEMO.slug, email: DEMO.email, password: DEMO.password });
    const page = await request(`http://127.0.0.1:${port}/app/connections`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.text).toMatch(PAGE_SAYS[vendor]);

    // A client pays one invoice in the portal; the payment is written back to the demo's PSA simulator.
    const key = SecretBox.fromHex(secretKeyHex!);
    const stripe = (await readConnection(db.db, key, tenant.id, 'payments'))!;
    const inv = await withTenant(db.db, tenant.id, (tx) =>
      tx
        .selectFrom('invoices as i')
        .innerJoin('external_refs as r', (j) => j.onRef('r.entity_id', '=', 'i.id').on('r.entity', '=', 'invoice'))
        .select(['i.id', 'i.number', 'i.client_id', 'r.remote_id'])
        .where('i.status', '=', 'open')
        .where('i.total_minor', '>', 0n)
        .orderBy('i.number')
        .executeTakeFirstOrThrow(),
    );
    const link = await withTenant(db.db, tenant.id, (tx) => portalLinkFor(tx, `http://127.0.0.1:${port}`, tenant.id, inv.client_id, 3600, key));
    const pay = await fetch(`${link.url}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoice_ids: [inv.id], method: 'card' }),
    });
    const started = (await pay.json()) as { client_secret: string };
    expect(pay.status).toBe(200);
    const confirm = await fetch(`${String(stripe.config['baseUrl'])}/v1/payment_intents/${started.client_secret.split('_secret_')[0]}/confirm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${String(stripe.secrets['secretKey'])}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payment_method: 'pm_card_visa' }).toString(),
    });
    expect(confirm.status).toBe(200);
    const psaOrigin = `http://127.0.0.1:${port + 1}`;
    await eventually(
      async () => {
        if (vendor === 'autotask')
          return ((await (await fetch(`${psaOrigin}/_sim/notes`)).json()) as unknown[]).some((n) => JSON.stringify(n).includes(inv.number));
        return ((await (await fetch(`${psaOrigin}/_sim/payments`)).json()) as { invoice_id: number }[]).some((p) => String(p.invoice_id) === inv.remote_id);
      },
      90_000,
      `the payment written back to ${vendor}`,
    );
  }, 300_000);
});

describe('SETTLE_DEMO_PSA', () => {
  it('a value naming no PSA is refused at start, naming the three', async () => {
    const err = await startDemo('freshdesk').then(
      () => null,
      (e: unknown) => (e as Error).message,
    );
    expect(err).toMatch(/SETTLE_DEMO_PSA/);
    expect(err).toMatch(/connectwise.*autotask.*halopsa/);
  }, 60_000);

  it.each(['autotask', 'halopsa'] as const)('a live demo invoice on %s lands in the PSA and the books', async (vendor) => {
    const psa = await startPsaSimulator(vendor, { seed: { companies: 2, invoices: 0 } });
    const quickbooks = await startQuickBooksSimulator({});
    try {
      await newDemoInvoice({ [vendor]: psa, quickbooks, stripe: null as unknown as RunningStripeSimulator }, vendor);
      const inPsa =
        vendor === 'autotask'
          ? [...(psa as PsaSimulators['autotask']).sim.state.table('Invoices').values()].map((i) => ({
              number: String(i['InvoiceNumber']),
              total: String(i['InvoiceTotal']),
            }))
          : [...(psa as PsaSimulators['halopsa']).state.invoices.values()].map((i) => ({
              number: i.invoicenumber,
              total: String((psa as PsaSimulators['halopsa']).sim.invoiceJson(i.id)['total']),
            }));
      expect(inPsa).toHaveLength(1);
      const books = quickbooks.sim.invoices().map((i) => ({ number: String(i['DocNumber']), total: String(i['TotalAmt']) }));
      expect(books).toEqual(inPsa);
    } finally {
      await psa.close();
      await quickbooks.close();
    }
  });
});
