// The per-minute sweep computes the dashboard's preset periods of a new day in the background, for a
// workspace whose dashboard is in use (engine/dashboard-figures.ts › warmDashboardPresets), so that the day's
// first visit finds kept figures instead of computing them for seconds on the request. A workspace nobody
// opens the dashboard of gets nothing computed. Real PostgreSQL; the queued jobs are run with graphile-worker.
import { runOnce } from 'graphile-worker';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWorkspace } from '../../src/cli/workspace.ts';
import { workspaceClock } from '../../src/db/queries/ar-metrics.ts';
import { periodKey, readSnapshot } from '../../src/db/queries/dashboard-snapshots.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { resolvePeriod } from '../../src/domain/report-period.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { ConnectorCache } from '../../src/engine/connections.ts';
import type { EngineContext } from '../../src/engine/context.ts';
import { computeDashboardFigures, dashboardFigures } from '../../src/engine/dashboard-figures.ts';
import { sweep } from '../../src/engine/sweep.ts';
import { createMailer } from '../../src/notify/mailer.ts';
import { taskList } from '../../src/jobs/tasks.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let t: TestDatabase;
let ctx: EngineContext;
const ids = { used: '', unused: '' };

beforeAll(async () => {
  t = await createTestDatabase();
  ctx = {
    db: t.db,
    connectors: new ConnectorCache(t.db, SecretBox.fromHex('22'.repeat(32))),
    log: pino({ level: 'silent' }),
    publicUrl: 'http://127.0.0.1:1',
    now: () => new Date(),
    mailer: createMailer(undefined),
    mailFrom: 'settle@example.test',
  };
  for (const name of ['used', 'unused'] as const) {
    ids[name] = await createWorkspace(t.db, {
      slug: `warm-${name}`,
      name,
      adminEmail: `owner@${name}.test`,
      adminPassword: 'correct horse battery',
      actor: 'system:test',
    });
  }
}, 120_000);

afterAll(async () => {
  await t?.drop();
});

const queued = async (tenantId: string): Promise<string[]> =>
  (
    await t.pool.query<{ preset: string }>(
      `SELECT j.payload->>'preset' AS preset FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks k ON k.id = j.task_id
        WHERE k.identifier = 'refresh-dashboard-figures' AND j.payload->>'tenantId' = $1 ORDER BY 1`,
      [tenantId],
    )
  ).rows.map((r) => r.preset);

it("queues today's preset periods for a workspace whose dashboard is in use, and the day's first visit then finds them", async () => {
  const clock = await withTenant(t.db, ids.used, (tx) => workspaceClock(tx, ids.used, new Date()));
  // Someone looked at custom dates on this workspace's dashboard: its figures are kept, under their own key.
  const custom = resolvePeriod({ preset: 'custom', from: '2026-01-01', lastDay: '2026-01-31' }, clock.today);
  await computeDashboardFigures(ctx, ids.used, custom, clock.timeZone);

  await sweep(ctx);
  expect(await queued(ids.used)).toEqual(['last_90_days', 'last_month', 'this_month']);
  expect(await queued(ids.unused)).toEqual([]);
  // A second sweep before they ran queues nothing more (same job keys).
  await sweep(ctx);
  expect(await queued(ids.used)).toHaveLength(3);

  const tasks = taskList(ctx);
  await runOnce({ pgPool: t.pool, taskList: { 'refresh-dashboard-figures': tasks['refresh-dashboard-figures']! } });
  expect(await queued(ids.used)).toEqual([]);
  for (const preset of ['this_month', 'last_month', 'last_90_days'] as const) {
    const key = periodKey(resolvePeriod({ preset }, clock.today), clock.timeZone);
    expect(await withTenant(t.db, ids.used, (tx) => readSnapshot(tx, ids.used, key)), preset).not.toBeNull();
  }
  // The first visit of the day is served kept figures, not computed on the request.
  const first = await dashboardFigures(ctx, ids.used, resolvePeriod({ preset: 'this_month' }, clock.today), clock.timeZone);
  expect(first.source).toBe('fresh');
  // Kept for today: the sweep leaves them alone.
  await sweep(ctx);
  expect(await queued(ids.used)).toEqual([]);
});

it('a workspace with no kept figures gets nothing computed', async () => {
  await sweep(ctx);
  expect(await queued(ids.unused)).toEqual([]);
  const rows = await withTenant(t.db, ids.unused, (tx) => tx.selectFrom('dashboard_snapshots').select('period_key').execute());
  expect(rows).toEqual([]);
});
