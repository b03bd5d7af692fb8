// `settle start` with SETTLE_DEMO_PSA: the demo workspace runs on the Autotask or HaloPSA simulator, connected
// through the product's own door (connectSystem, as `settle connect psa …`): the seeded invoices are imported,
// the PSA's webhook is registered, and the staff connections page shows the PSA (for Autotask, its API budget).
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
import { DEMO } from '../../src/cli/demo/start-demo.ts';
import { newDemoInvoice } from '../../src/cli/demo/demo-activity.ts';
import { startPsaSimulator, type DemoPsa, type PsaSimulators } from '../../src/cli/demo/psa-simulators.ts';
import { startQuickBooksSimulator } from '../../simulators/quickbooks-online/index.ts';
import type { RunningStripeSimulator } from '../../simulators/stripe/index.ts';

let settle: SettleProcess | null = null;
let database: TestDatabase | null = null;
let dataDir: string | null = null;
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
      SETTLE_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
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
  }, 240_000);
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
