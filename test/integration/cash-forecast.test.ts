// The cash forecast against real PostgreSQL, through Settle's own HTTP (API key and the staff pages): a
// generated history where every client pays a fixed number of days late, so each open invoice's expected day —
// and so every bucket — is worked out here by date arithmetic alone, not by the forecast's code. Money already
// promised (autopay, an installment plan, an ACH debit in flight) moves its invoice to its own day. Another
// workspace's invoices and payments are never counted. The back-test's error is known from the generator too.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createWorkspace } from '../../src/cli/workspace.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { startSettle, type Running } from '../../src/cli/runtime.ts';
import { loadConfig } from '../../src/config.ts';
import { workspaceClock } from '../../src/db/queries/ar-metrics.ts';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import { addDays, daysBetween } from '../../src/domain/rules/calendar-date.ts';
import { addBankingDays } from '../../src/domain/rules/us-banking-calendar.ts';
import { insertInvoice, insertPayment } from '../helpers/ar-book.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { StaffBrowser } from '../security/staff-browser.ts';

const TZ = 'America/Chicago';
const PASSWORD = 'correct horse battery';
/** Days late of each generated client: every one of its invoices is paid exactly that late. */
const LATENESS = [0, 3, 10, 20, 45];
let t: TestDatabase;
let settle: Running;
let dataDir: string;
let base: string;
let keyA: string;
let today: string;
const ws = { a: '', b: '' };
let n = 0;
/** The expected (day, amount) of every slice of open money in workspace A, by currency. */
const expected: Array<{ currency: string; on: string | null; amount: bigint; number: string }> = [];
/** Errors in days of the back-test as the generator knows them, for invoices paid in the last 90 days. */
const backtestErrors: number[] = [];

const noon = (day: string) => `${day}T18:00:00Z`; // 12:00 or 13:00 in Chicago: the same local day

async function client(tx: Tx, tenant: string, name: string): Promise<string> {
  return (
    await tx
      .insertInto('clients')
      .values({ tenant_id: tenant, name, identifier: `C${++n}` })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
}

async function paidInvoice(tx: Tx, tenant: string, c: string, due: string, late: number, amount = 10_000n): Promise<void> {
  const paidOn = addDays(due, late);
  const id = await insertInvoice(tx, tenant, {
    client: c,
    number: `P-${++n}`,
    total: amount,
    psaBalance: 0n,
    paid: amount,
    status: 'paid',
    issued: addDays(due, -30),
    due,
    psaUpdatedAt: noon(paidOn),
  });
  await insertPayment(tx, tenant, { client: c, amount, state: 'succeeded', at: noon(paidOn), kind: 'card', pays: [[id, amount]] });
}

async function openInvoice(tx: Tx, tenant: string, c: string, due: string, amount: bigint, currency = 'USD'): Promise<{ id: string; number: string }> {
  const number = `O-${++n}`;
  const id = await insertInvoice(tx, tenant, {
    client: c,
    number,
    currency,
    total: amount,
    psaBalance: amount,
    status: 'open',
    issued: addDays(due, -30),
    due,
    psaUpdatedAt: new Date().toISOString(),
  });
  return { id, number };
}

/** A generated book: clients paying LATENESS days late, invoices due every 12 days for 400 days. */
async function seedHistory(tx: Tx, tenant: string, clients: string[], record: boolean): Promise<void> {
  for (let ci = 0; ci < clients.length; ci++) {
    for (let d = -400; d <= -60; d += 12) {
      const due = addDays(today, d);
      await paidInvoice(tx, tenant, clients[ci]!, due, LATENESS[ci]!);
      const paidOn = addDays(due, LATENESS[ci]!);
      // in the window and with 3 of its own invoices paid before its due date: the client's own lateness, exactly
      if (record && paidOn >= addDays(today, -90)) backtestErrors.push(0);
    }
  }
}

beforeAll(async () => {
  t = await createTestDatabase();
  for (const k of ['a', 'b'] as const) {
    ws[k] = await createWorkspace(t.db, {
      slug: `${k}-msp`,
      name: `${k}-msp`,
      adminEmail: `owner@${k}-msp.test`,
      adminPassword: PASSWORD,
      actor: 'system:test',
    });
    await withTenant(t.db, ws[k], (tx) =>
      tx
        .updateTable('tenants')
        .set({ settings: JSON.stringify({ timezone: TZ }) as never })
        .where('id', '=', ws[k])
        .execute(),
    );
  }
  today = (await withTenant(t.db, ws.a, (tx) => workspaceClock(tx, ws.a, new Date()))).today;
  const slice = (o: { number: string }, on: string | null, amount: bigint, currency = 'USD') => expected.push({ currency, on, amount, number: o.number });

  await withTenant(t.db, ws.a, async (tx) => {
    const cs: string[] = [];
    for (const i of LATENESS.keys()) cs.push(await client(tx, ws.a, `Client late ${LATENESS[i]}`));
    await seedHistory(tx, ws.a, cs, true);
    // A new client with one invoice paid 4 days late: too few of its own, so the workspace's median (10) is used;
    // predicted as of its due date it is 10 days late -> the back-test is 6 days off for it.
    const fresh = await client(tx, ws.a, 'New client');
    await paidInvoice(tx, ws.a, fresh, addDays(today, -50), 4);
    backtestErrors.push(6);

    // Open invoices predicted from history: due + the client's lateness.
    for (const [i, late] of LATENESS.entries())
      slice(await openInvoice(tx, ws.a, cs[i]!, addDays(today, 5), 1_000n * BigInt(i + 1)), addDays(today, 5 + late), 1_000n * BigInt(i + 1));
    slice(await openInvoice(tx, ws.a, cs[2]!, addDays(today, -5), 70_00n), addDays(today, 5), 70_00n); // 5 days overdue, pays at +10
    slice(await openInvoice(tx, ws.a, cs[4]!, addDays(today, 60), 80_00n), addDays(today, 105), 80_00n); // later than 90 days
    slice(await openInvoice(tx, ws.a, cs[0]!, addDays(today, -300), 90_00n), null, 90_00n); // later than anyone ever paid
    slice(await openInvoice(tx, ws.a, fresh, addDays(today, 40), 11_00n), addDays(today, 50), 11_00n); // the workspace's 10
    slice(await openInvoice(tx, ws.a, cs[2]!, addDays(today, 1), 5_55n, 'CAD'), addDays(today, 11), 5_55n, 'CAD');

    // Autopay by card on its charge date (the client's history alone would say +20 -> day 40).
    const auto = await openInvoice(tx, ws.a, cs[3]!, addDays(today, 20), 123_45n);
    const rule = await tx.insertInto('autopay_rules').values({ tenant_id: ws.a, name: 'Everyone' }).returning('id').executeTakeFirstOrThrow();
    const card = await tx
      .insertInto('payment_methods')
      .values({ tenant_id: ws.a, client_id: cs[3]!, processor: 'stripe', processor_method_id: 'pm_card', kind: 'card', last4: '4242', is_default: true })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx
      .insertInto('autopay_schedules')
      .values({
        tenant_id: ws.a,
        invoice_id: auto.id,
        client_id: cs[3]!,
        rule_id: rule.id,
        state: 'pending_notice',
        charge_on: addDays(today, 20),
        notice_days: 3,
        method_id: card.id,
      })
      .execute();
    slice(auto, addDays(today, 20), 123_45n);

    // An installment plan of three parts on their dates.
    const plan = await openInvoice(tx, ws.a, cs[1]!, addDays(today, 3), 300_01n);
    const pm = await tx
      .insertInto('payment_methods')
      .values({ tenant_id: ws.a, client_id: cs[1]!, processor: 'stripe', processor_method_id: 'pm_plan', kind: 'card', last4: '1111' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const p = await tx
      .insertInto('installment_plans')
      .values({ tenant_id: ws.a, client_id: cs[1]!, invoice_id: plan.id, currency: 'USD', total_minor: 300_01n, payment_method_id: pm.id, created_by: 'test' })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const [i, [d, a]] of (
      [
        [10, 100_00n],
        [40, 100_00n],
        [70, 100_01n],
      ] as const
    ).entries()) {
      await tx
        .insertInto('installment_parts')
        .values({ tenant_id: ws.a, plan_id: p.id, part_no: i + 1, due_on: addDays(today, d), amount_minor: a })
        .execute();
      slice(plan, addDays(today, d), a);
    }

    // An ACH debit in flight through the processor for 40.00 of a 100.00 invoice: 4 banking days after it
    // started; the other 60.00 follows the client's history (45 late -> due -2 + 45 = day 43).
    const ach = await openInvoice(tx, ws.a, cs[4]!, addDays(today, -2), 100_00n);
    const started = addDays(today, -1);
    await tx
      .insertInto('payments')
      .values({
        tenant_id: ws.a,
        client_id: cs[4]!,
        currency: 'USD',
        amount_minor: 40_00n,
        planned_allocations: JSON.stringify([{ invoiceId: ach.id, amountMinor: '4000' }]),
        fee_minor: null,
        state: 'processing',
        source: 'portal',
        processor: 'stripe',
        processor_payment_id: 'pi_flight',
        method_kind: 'us_bank_account',
        failure_code: null,
        succeeded_at: null,
        created_at: new Date(noon(started)),
        updated_at: new Date(noon(started)),
      })
      .execute();
    slice(ach, addBankingDays(started, 4), 40_00n);
    slice(ach, addDays(today, 43), 60_00n);
  });

  // Workspace B: its own clients, history and large open invoices — none of it may reach A's forecast.
  await withTenant(t.db, ws.b, async (tx) => {
    const cs = [await client(tx, ws.b, 'B client 1'), await client(tx, ws.b, 'B client 2')];
    await seedHistory(tx, ws.b, cs, false);
    for (const c of cs) await openInvoice(tx, ws.b, c, addDays(today, 2), 9_999_999n);
  });

  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-forecast-'));
  const config = loadConfig({
    DATABASE_URL: t.url,
    SETTLE_DATA_DIR: dataDir,
    SETTLE_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    PORT: '0',
    SETTLE_DEMO: 'off',
    LOG_LEVEL: process.env.SETTLE_TEST_LOG ?? 'silent',
  });
  settle = await startSettle(config, createLogger(config.LOG_LEVEL), {
    http: true,
    worker: false,
    database: { url: t.url, pool: t.pool, db: t.db, embedded: null, close: async () => {} },
  });
  base = settle.url!.replace('0.0.0.0', '127.0.0.1');
  keyA = await createApiKey(t.db, ws.a, 'forecast', 'system:test', { role: 'viewer' });
}, 240_000);

afterAll(async () => {
  await settle?.stop();
  await t?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

interface Api {
  today: string;
  currencies: Array<{ currency: string; open_minor: string; invoices: number; buckets: Array<{ key: string; amount_minor: string; invoices: number }> }>;
  accuracy: { paid: number; count: number; mae_days: number | null; by_basis: Array<{ basis: string; count: number }> };
  invoices: {
    total: number;
    items: Array<{ number: string; basis: string; slices: Array<{ expected_on: string | null; amount_minor: string; basis: string }> }>;
  };
}

async function forecast(query = ''): Promise<Api> {
  const r = await fetch(`${base}/api/v1/reports/cash-forecast${query}`, { headers: { authorization: `Bearer ${keyA}` } });
  expect(r.status).toBe(200);
  return (await r.json()) as Api;
}

/** The bucket of a day by plain arithmetic: days from today 0–30, 31–60, 61–90, later; no day = beyond. */
const bucketOf = (on: string | null): string => {
  if (on === null) return 'beyond';
  const d = daysBetween(today, on);
  return d <= 30 ? 'd0_30' : d <= 60 ? 'd31_60' : d <= 90 ? 'd61_90' : 'later';
};

describe('cash forecast over a generated history (real PostgreSQL, through the API)', () => {
  it('sums each currency into the buckets the generator predicts, to the cent', async () => {
    const f = await forecast('?limit=5000');
    expect(f.today).toBe(today);
    for (const currency of ['CAD', 'USD']) {
      const mine = expected.filter((e) => e.currency === currency);
      const want = ['d0_30', 'd31_60', 'd61_90', 'later', 'beyond'].map((key) => ({
        key,
        amount_minor: mine
          .filter((e) => bucketOf(e.on) === key)
          .reduce((s, e) => s + e.amount, 0n)
          .toString(),
        invoices: new Set(mine.filter((e) => bucketOf(e.on) === key).map((e) => e.number)).size,
      }));
      const got = f.currencies.find((c) => c.currency === currency)!;
      expect(got.buckets.map((b) => ({ key: b.key, amount_minor: b.amount_minor, invoices: b.invoices }))).toEqual(want);
      expect(got.open_minor).toBe(mine.reduce((s, e) => s + e.amount, 0n).toString());
    }
  });

  it('gives every open invoice its slices with their days and bases', async () => {
    const f = await forecast('?limit=5000');
    const got = f.invoices.items.flatMap((i) => i.slices.map((s) => `${i.number} ${s.expected_on} ${s.amount_minor}`)).sort();
    expect(got).toEqual(expected.map((e) => `${e.number} ${e.on} ${e.amount}`).sort());
    const bases = new Set(f.invoices.items.flatMap((i) => i.slices.map((s) => s.basis)));
    expect([...bases].sort()).toEqual(['ach_in_flight', 'autopay', 'client_history', 'installment_plan', 'workspace_history']);
    // paging
    const page = await forecast('?limit=2&offset=1');
    expect(page.invoices.items.map((i) => i.number)).toEqual(f.invoices.items.slice(1, 3).map((i) => i.number));
  });

  it("never counts another workspace's invoices", async () => {
    const f = await forecast('?limit=5000');
    const total = f.currencies.reduce((s, c) => s + BigInt(c.open_minor), 0n);
    expect(total).toBeLessThan(9_999_999n);
    expect(f.invoices.total).toBe(new Set(expected.map((e) => e.number)).size);
  });

  it('measures its past accuracy as of each due date: the error the generator knows', async () => {
    const f = await forecast('?limit=0');
    expect(f.accuracy.count).toBe(backtestErrors.length);
    expect(f.accuracy.paid).toBe(backtestErrors.length);
    const mae = Math.round((backtestErrors.reduce((s, e) => s + e, 0) * 10) / backtestErrors.length) / 10;
    expect(f.accuracy.mae_days).toBe(mae);
    expect(f.accuracy.by_basis.find((b) => b.basis === 'workspace_history')?.count).toBe(1);
  });

  it('the dashboard panel and its CSV say the same, in dollars', async () => {
    const owner = await new StaffBrowser(base).signedIn({ workspace: 'a-msp', email: 'owner@a-msp.test', password: PASSWORD });
    const page = await owner.get('/app/forecast');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Overdue beyond history');
    expect(page.text).toContain('$90.00');
    expect(page.text).toMatch(/Past accuracy: off by <strong id="forecast-mae">[0-9.]+ days<\/strong>/);
    const csv = await owner.get('/app/forecast.csv');
    expect(csv.status).toBe(200);
    const lines = csv.text.trim().split(/\r\n/);
    expect(lines[0]).toBe('Invoice,Client,Currency,Due,Open,Expected on,Amount,Basis,Why');
    expect(lines).toHaveLength(expected.length + 1);
    expect(lines.some((l) => l.includes(',overdue beyond history,90.00,'))).toBe(true);
  });
});
