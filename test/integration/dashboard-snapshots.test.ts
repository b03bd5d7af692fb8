// The A/R dashboard serves kept figures (engine/dashboard-figures.ts, migration 0033) through the real page,
// against real PostgreSQL: Settle's HTTP in this process without its worker, so the refresh job waits in
// graphile-worker's table until the test runs it. The first visit computes and stores; a visit within the
// minute serves the stored figures though the book changed (and says when they are from) while the API stays
// live; an older snapshot is still served, with exactly one refresh queued however many visits; the refresh
// stores the new figures; "Refresh now" is finance's and recomputes at once; one workspace never sees
// another's figures; and the codec keeps every bigint exactly.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { runOnce } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createWorkspace } from '../../src/cli/workspace.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { startSettle, type Running } from '../../src/cli/runtime.ts';
import { loadConfig } from '../../src/config.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { arMetrics, workspaceClock, type ArMetrics } from '../../src/db/queries/ar-metrics.ts';
import { decodeFigures, encodeFigures, FiguresCodecError } from '../../src/db/queries/ar-metrics-codec.ts';
import { periodKey, readSnapshot, saveSnapshot } from '../../src/db/queries/dashboard-snapshots.ts';
import { resolvePeriod } from '../../src/domain/report-period.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { asOfText } from '../../src/http/staff/dashboard.ts';
import { taskList } from '../../src/jobs/tasks.ts';
import { dashboardFigures } from '../../src/engine/dashboard-figures.ts';
import { insertInvoice } from '../helpers/ar-book.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { StaffBrowser } from '../security/staff-browser.ts';

const TZ = 'America/Chicago';
const PASSWORD = 'correct horse battery';
let t: TestDatabase;
let settle: Running;
let dataDir: string;
const ws = { a: { id: '', client: '' }, b: { id: '', client: '' } };
let owner: StaffBrowser;
let viewer: StaffBrowser;
let ownerB: StaffBrowser;
let invoiceNo = 0;

async function addInvoice(tenant: { id: string; client: string }, total: bigint): Promise<void> {
  const today = (await clock(tenant.id)).today;
  await withTenant(t.db, tenant.id, (tx) =>
    insertInvoice(tx, tenant.id, {
      client: tenant.client,
      number: `INV-${++invoiceNo}`,
      total,
      psaBalance: total,
      status: 'open',
      issued: `${today.slice(0, 8)}01`,
      due: '2099-01-01',
      psaUpdatedAt: new Date().toISOString(),
    }),
  );
}

const clock = (tenantId: string) => withTenant(t.db, tenantId, (tx) => workspaceClock(tx, tenantId, new Date()));

interface Shown {
  source: string | null;
  openNow: string | null;
  asOf: string | null;
  computedAt: string | null;
  refreshing: boolean;
  refreshButton: boolean;
}

/** What the dashboard page says: where its figures came from, USD's open A/R, and when they are from. */
async function dashboard(b: StaffBrowser, query = ''): Promise<Shown> {
  const page = await b.get(`/app${query}`);
  expect(page.status, page.text.slice(0, 300)).toBe(200);
  const html = page.text;
  return {
    source: /id="figures-as-of" data-source="([a-z]+)"/.exec(html)?.[1] ?? null,
    openNow: /<dt>Open A\/R now<\/dt>\s*<dd class="ar-figure__value">([^<]+)<\/dd>/.exec(html)?.[1] ?? null,
    asOf: /Figures as of <strong id="figures-time">([^<]+)<\/strong> \(workspace time/.exec(html)?.[1] ?? null,
    computedAt: /data-computed-at="([^"]+)"/.exec(html)?.[1] ?? null,
    refreshing: html.includes('Newer figures are being computed'),
    refreshButton: html.includes('id="refresh-figures"'),
  };
}

async function snapshotRows(tenantId: string) {
  return withTenant(t.db, tenantId, (tx) => tx.selectFrom('dashboard_snapshots').selectAll().orderBy('period_key').execute());
}

async function refreshJobs(): Promise<Array<{ key: string | null; payload: unknown }>> {
  const r = await sql<{
    key: string | null;
    payload: unknown;
  }>`SELECT j.key, j.payload FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks k ON k.id = j.task_id
      WHERE k.identifier = 'refresh-dashboard-figures'`.execute(t.db);
  return r.rows;
}

/** The snapshot as if computed `ms` ago. */
async function ageSnapshots(tenantId: string, ms: number): Promise<void> {
  await withTenant(t.db, tenantId, (tx) =>
    tx
      .updateTable('dashboard_snapshots')
      .set({ computed_at: sql`computed_at - make_interval(secs => ${ms / 1000})` })
      .execute(),
  );
}

beforeAll(async () => {
  t = await createTestDatabase();
  for (const [k, slug] of [
    ['a', 'acme-it'],
    ['b', 'bolt-it'],
  ] as const) {
    const id = await createWorkspace(t.db, { slug, name: slug, adminEmail: `owner@${slug}.test`, adminPassword: PASSWORD, actor: 'system:test' });
    const client = await withTenant(t.db, id, async (tx) => {
      await tx
        .updateTable('tenants')
        .set({ settings: JSON.stringify({ timezone: TZ }) as never })
        .where('id', '=', id)
        .execute();
      return (await tx.insertInto('clients').values({ tenant_id: id, name: 'Bayside Dental', identifier: 'C1' }).returning('id').executeTakeFirstOrThrow()).id;
    });
    ws[k] = { id, client };
  }
  const password_hash = await hashPassword(PASSWORD);
  await withTenant(t.db, ws.a.id, (tx) =>
    tx.insertInto('users').values({ tenant_id: ws.a.id, email: 'viewer@acme-it.test', name: 'viewer', role: 'viewer', password_hash }).execute(),
  );
  await addInvoice(ws.a, 100000n);
  await addInvoice(ws.b, 777700n);

  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-dash-'));
  const config = loadConfig({
    DATABASE_URL: t.url,
    SETTLE_DATA_DIR: dataDir,
    SETTLE_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    PORT: '0',
    SETTLE_DEMO: 'off',
    LOG_LEVEL: process.env.SETTLE_TEST_LOG ?? 'silent',
  });
  // No worker: the refresh job stays queued until the test runs it.
  settle = await startSettle(config, createLogger(config.LOG_LEVEL), {
    http: true,
    worker: false,
    database: { url: t.url, pool: t.pool, db: t.db, embedded: null, close: async () => {} },
  });
  const base = settle.url!.replace('0.0.0.0', '127.0.0.1');
  owner = await new StaffBrowser(base).signedIn({ workspace: 'acme-it', email: 'owner@acme-it.test', password: PASSWORD });
  viewer = await new StaffBrowser(base).signedIn({ workspace: 'acme-it', email: 'viewer@acme-it.test', password: PASSWORD });
  ownerB = await new StaffBrowser(base).signedIn({ workspace: 'bolt-it', email: 'owner@bolt-it.test', password: PASSWORD });
}, 180_000);

afterAll(async () => {
  await settle?.stop();
  await t?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the dashboard serves kept figures, honestly labelled', () => {
  it('the first visit computes the figures, stores them and says when they are from', async () => {
    expect(await snapshotRows(ws.a.id)).toEqual([]);
    const before = Date.now();
    const shown = await dashboard(owner);
    expect(shown.source).toBe('computed');
    expect(shown.openNow).toBe('$1,000.00');
    const rows = await snapshotRows(ws.a.id);
    expect(rows).toHaveLength(1);
    const { today } = await clock(ws.a.id);
    const period = resolvePeriod({ preset: 'this_month' }, today);
    expect(rows[0]!.period_key).toBe(periodKey(period, TZ));
    expect(rows[0]!.computed_at.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(rows[0]!.compute_ms).toBeGreaterThanOrEqual(0);
    expect(rows[0]!.refresh_requested_at).toBeNull();
    // The page names the instant stored, in the workspace's time.
    expect(shown.computedAt).toBe(rows[0]!.computed_at.toISOString());
    expect(shown.asOf).toBe(asOfText(rows[0]!.computed_at, TZ, today));
    expect(shown.asOf).toMatch(/^\d{2}:\d{2}:\d{2}$/);
    // What was stored is what the query computes.
    const stored = await withTenant(t.db, ws.a.id, (tx) => readSnapshot(tx, ws.a.id, rows[0]!.period_key));
    const live = await withTenant(t.db, ws.a.id, (tx) => arMetrics(tx, period, TZ, new Date()));
    expect(stored!.metrics.currencies).toEqual(live.currencies);
  }, 120_000);

  it('within the minute the stored figures are served though the book changed; the API stays live', async () => {
    const [row] = await snapshotRows(ws.a.id);
    await addInvoice(ws.a, 50000n);
    const shown = await dashboard(owner);
    expect(shown.source).toBe('fresh');
    expect(shown.openNow).toBe('$1,000.00');
    expect(shown.computedAt).toBe(row!.computed_at.toISOString());
    expect(shown.refreshing).toBe(false);
    expect(await refreshJobs()).toEqual([]);
    const key = await createApiKey(t.db, ws.a.id, 'test', 'system:test');
    const api = await fetch(`${settle.url!.replace('0.0.0.0', '127.0.0.1')}/api/v1/reports/ar?period=this_month`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const report = (await api.json()) as { currencies: Array<{ currency: string; open_now: { amount_minor: string } }> };
    expect(report.currencies.find((c) => c.currency === 'USD')!.open_now.amount_minor).toBe('150000');
  }, 120_000);

  it('after the minute the old figures are served and one refresh is queued, however many visits', async () => {
    const [before] = await snapshotRows(ws.a.id);
    await ageSnapshots(ws.a.id, 120_000);
    const visits = await Promise.all([dashboard(owner), dashboard(viewer), dashboard(owner)]);
    for (const shown of visits) {
      expect(shown.source).toBe('stale');
      expect(shown.openNow).toBe('$1,000.00');
      expect(shown.refreshing).toBe(true);
      expect(new Date(shown.computedAt!).getTime()).toBe(before!.computed_at.getTime() - 120_000);
    }
    expect((await dashboard(viewer)).refreshing).toBe(true);
    const jobs = await refreshJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.key).toBe(`dashboard-figures:${ws.a.id}:${before!.period_key}`);
    expect(jobs[0]!.payload).toEqual({ tenantId: ws.a.id, preset: 'this_month' });
    expect((await snapshotRows(ws.a.id))[0]!.refresh_requested_at).not.toBeNull();
  }, 120_000);

  it('the refresh job stores the new figures, and the page then serves them', async () => {
    const [before] = await snapshotRows(ws.a.id);
    const tasks = taskList(settle.ctx);
    await runOnce({ pgPool: t.pool, taskList: { 'refresh-dashboard-figures': tasks['refresh-dashboard-figures']! } });
    expect(await refreshJobs()).toEqual([]);
    const [after] = await snapshotRows(ws.a.id);
    expect(after!.computed_at.getTime()).toBeGreaterThan(before!.computed_at.getTime());
    expect(after!.refresh_requested_at).toBeNull();
    const shown = await dashboard(viewer);
    expect(shown.source).toBe('fresh');
    expect(shown.openNow).toBe('$1,500.00');
    expect(shown.refreshing).toBe(false);
    expect(shown.computedAt).toBe(after!.computed_at.toISOString());
  }, 120_000);

  it('"Refresh now" recomputes at once for finance and up; a viewer has no button and is refused', async () => {
    await addInvoice(ws.a, 25000n);
    expect((await dashboard(viewer)).refreshButton).toBe(false);
    const [before] = await snapshotRows(ws.a.id);
    const refused = await viewer.submit('/app', '/app/figures/refresh', { period: 'this_month' });
    expect(refused.status).toBe(403);
    expect((await snapshotRows(ws.a.id))[0]!.computed_at).toEqual(before!.computed_at);
    expect((await dashboard(owner)).refreshButton).toBe(true);
    const done = await owner.submit('/app', '/app/figures/refresh', { period: 'this_month' });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/app?period=this_month');
    const shown = await dashboard(owner, '?period=this_month');
    expect(shown.source).toBe('fresh');
    expect(shown.openNow).toBe('$1,750.00');
  }, 120_000);

  it('the window is SETTLE_DASHBOARD_FRESH_SECONDS (default 60 s)', async () => {
    expect(loadConfig({}).SETTLE_DASHBOARD_FRESH_SECONDS).toBe(60);
    expect(settle.ctx.dashboardFreshMs).toBe(60_000);
    expect(() => loadConfig({ SETTLE_DASHBOARD_FRESH_SECONDS: '-1' })).toThrow();
    // With a 1-hour window, figures two minutes old are still fresh; with the default they are not.
    await ageSnapshots(ws.a.id, 120_000);
    const { today } = await clock(ws.a.id);
    const period = resolvePeriod({ preset: 'this_month' }, today);
    const hour = await dashboardFigures({ ...settle.ctx, dashboardFreshMs: 3600_000 }, ws.a.id, period, TZ);
    expect(hour.source).toBe('fresh');
    expect(await refreshJobs()).toEqual([]);
    const minute = await dashboardFigures(settle.ctx, ws.a.id, period, TZ);
    expect(minute.source).toBe('stale');
    expect(await refreshJobs()).toHaveLength(1);
    // the refresh it queued, run: fresh again for the tests below
    const tasks = taskList(settle.ctx);
    await runOnce({ pgPool: t.pool, taskList: { 'refresh-dashboard-figures': tasks['refresh-dashboard-figures']! } });
    expect((await dashboard(owner)).source).toBe('fresh');
  }, 120_000);

  it('custom dates: the first visit computes, the next within the minute is served from the snapshot', async () => {
    const q = '?period=custom&from=2026-01-01&to=2026-12-31';
    expect((await dashboard(owner, q)).source).toBe('computed');
    expect((await dashboard(owner, q)).source).toBe('fresh');
  }, 120_000);

  it('one workspace never sees another’s figures', async () => {
    const shown = await dashboard(ownerB);
    expect(shown.source).toBe('computed');
    expect(shown.openNow).toBe('$7,777.00');
    // the same period key in both workspaces, each its own row, each visible only to its workspace
    const a = await snapshotRows(ws.a.id);
    const b = await snapshotRows(ws.b.id);
    expect(b.map((r) => r.tenant_id)).toEqual([ws.b.id]);
    expect(a.every((r) => r.tenant_id === ws.a.id)).toBe(true);
    expect(a.map((r) => r.period_key)).toContain(b[0]!.period_key);
    expect((await dashboard(owner)).openNow).toBe('$1,750.00');
    // row-level security: A's transaction cannot read B's row by key, nor write one for B
    expect(await withTenant(t.db, ws.a.id, (tx) => readSnapshot(tx, ws.b.id, b[0]!.period_key))).toBeNull();
    const m = await withTenant(t.db, ws.a.id, (tx) => readSnapshot(tx, ws.a.id, b[0]!.period_key));
    await expect(
      withTenant(t.db, ws.a.id, (tx) => saveSnapshot(tx, { tenantId: ws.b.id, key: 'x', metrics: m!.metrics, computedAt: new Date(), computeMs: 1 })),
    ).rejects.toThrow(/row-level security/);
    expect((await dashboard(ownerB)).openNow).toBe('$7,777.00');
  }, 120_000);
});

describe('the figures codec', () => {
  const huge = 2n ** 63n - 1n; // the largest bigint PostgreSQL holds; a JS number would round it
  function extreme(m: ArMetrics): ArMetrics {
    const c = m.currencies[0]!;
    return {
      ...m,
      currencies: [
        {
          ...c,
          openNow: { count: 3, amountMinor: huge },
          openAtEndMinor: -huge,
          overdue: { count: 1, amountMinor: 9007199254740993n },
          fees: { ...c.fees, feesMinor: 1n, surchargesMinor: 0n, achDiscountsMinor: -1n },
        },
      ],
    };
  }

  it('round-trips every bigint and instant exactly, in memory and through the database', async () => {
    const { today } = await clock(ws.a.id);
    const period = resolvePeriod({ preset: 'last_90_days' }, today);
    const m = extreme(await withTenant(t.db, ws.a.id, (tx) => arMetrics(tx, period, TZ, new Date('2026-03-01T12:34:56.789Z'))));
    const text = encodeFigures(m);
    expect(text).toContain('{"$bigint":"9223372036854775807"}');
    expect(text).toContain('{"$bigint":"-9223372036854775807"}');
    expect(text).toContain('{"$date":"2026-03-01T12:34:56.789Z"}');
    expect(decodeFigures(text)).toEqual(m);
    await withTenant(t.db, ws.a.id, (tx) => saveSnapshot(tx, { tenantId: ws.a.id, key: 'codec-test', metrics: m, computedAt: m.generatedAt, computeMs: 5 }));
    const back = await withTenant(t.db, ws.a.id, (tx) => readSnapshot(tx, ws.a.id, 'codec-test'));
    expect(back!.metrics).toEqual(m);
    expect(back!.metrics.currencies[0]!.overdue.amountMinor).toBe(9007199254740993n);
  }, 120_000);

  it('refuses what is not exact figures rather than guessing', () => {
    expect(() => decodeFigures('{"period":{},"timeZone":"UTC","generatedAt":{"$date":"2026-01-01T00:00:00Z"},"currencies":[{"a":{"$bigint":"1.5"}}]}')).toThrow(
      FiguresCodecError,
    );
    expect(() => decodeFigures('{"period":{},"timeZone":"UTC","generatedAt":{"$date":"yesterday"},"currencies":[]}')).toThrow(FiguresCodecError);
    expect(() => decodeFigures('{"currencies":[]}')).toThrow(FiguresCodecError);
  });
});
