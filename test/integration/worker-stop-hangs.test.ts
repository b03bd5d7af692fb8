// When graphile-worker ends a worker in an outage, Settle stops that runner and starts a new one; the stop
// waits for the runner's other jobs. In the soak one of them never ended, the stop never returned, and the
// worker process ran nothing for the 17 minutes left while looking alive. A new runner must start after a
// grace period whatever the old one's jobs do, and the log must name the job that held it up.
// Real PostgreSQL; a job hangs because its books connector never answers; only the job runner's
// connections are refused for a few seconds (as in an outage).
import { afterAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { eventually } from '../helpers/stack.ts';
import { OutagePool } from '../helpers/outage-pool.ts';
import { startWorker, type WorkerHandle } from '../../src/jobs/runner.ts';
import { unlockJobsOfDeadWorkers } from '../../src/engine/sweep.ts';
import { ConnectorCache } from '../../src/engine/connections.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { createMailer } from '../../src/notify/mailer.ts';
import type { EngineContext, TenantConnectors } from '../../src/engine/context.ts';
import type { AccountingConnector } from '../../src/connectors/accounting/types.ts';

let database: TestDatabase | null = null;
let handle: WorkerHandle | null = null;
let pool: OutagePool | null = null;
const clients: pg.Client[] = [];

afterAll(async () => {
  if (pool) pool.down = false;
  // The abandoned runner's job never ends; stopping the handle stops the new runner only.
  await Promise.race([handle?.stop(), new Promise((r) => setTimeout(r, 10_000))]);
  for (const c of clients) await c.end().catch(() => {});
  await database?.drop();
});

it('a job that never ends does not keep a new runner from starting after an outage', { timeout: 240_000 }, async () => {
  database = await createTestDatabase();
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
  const real = new ConnectorCache(database.db, SecretBox.fromHex('11'.repeat(32)));
  // The books of one workspace never answer: its flush hangs for good (a vendor call with no timeout would).
  const hangingTenant = randomUUID();
  const connectors: TenantConnectors = {
    psa: (t) => real.psa(t),
    payments: (t) => real.payments(t),
    bankAch: (t) => real.bankAch(t),
    forget: (t) => real.forget(t),
    accounting: (t) => (t === hangingTenant ? new Promise<AccountingConnector | null>(() => {}) : real.accounting(t)),
  };
  const ctx: EngineContext = {
    db: database.db,
    connectors,
    log,
    publicUrl: 'http://127.0.0.1:1',
    now: () => new Date(),
    mailer: createMailer(undefined),
    mailFrom: 'settle@example.test',
  };
  pool = new OutagePool({ connectionString: database.url, max: 8 });
  handle = await startWorker(ctx, pool, { concurrency: 2, pollIntervalMs: 200, stopGraceMs: 2000 });

  const q = new pg.Client({ connectionString: database.url });
  const locker = new pg.Client({ connectionString: database.url });
  clients.push(q, locker);
  await q.connect();
  await locker.connect();
  const add = async (task: string, payload: object): Promise<string> =>
    (await q.query<{ id: string }>(`SELECT id::text FROM graphile_worker.add_job($1, $2::json, max_attempts => 3)`, [task, JSON.stringify(payload)])).rows[0]!
      .id;
  const locked = async (id: string): Promise<boolean> =>
    (await q.query('SELECT 1 FROM graphile_worker._private_jobs WHERE id = $1 AND locked_by IS NOT NULL', [id])).rowCount === 1;

  // Worker one: the flush that never ends.
  const hung = await add('flush-accounting', { tenantId: hangingTenant });
  await eventually(() => locked(hung), 60_000, 'the hanging flush to start');
  // Worker two: a sweep held mid-run (it reads the workspaces, which we lock) ...
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE');
  const during = await add('sweep', { probe: 'during' });
  await eventually(() => locked(during), 60_000, 'the worker running the sweep');
  // ... that finishes while the database is away and so cannot be recorded: graphile-worker ends worker two.
  pool.down = true;
  await locker.query('ROLLBACK');
  await eventually(async () => lines.some((l) => l.includes('committing seppuku')), 60_000, 'graphile-worker to end the worker');
  pool.down = false;

  // Without the grace period the stop waits for the hanging flush for ever and this job never runs.
  const after = await add('sweep', { probe: 'after' });
  await eventually(
    async () => (await q.query('SELECT 1 FROM graphile_worker._private_jobs WHERE id = $1', [after])).rowCount === 0,
    120_000,
    'a job added after the outage to run',
  );
  const held = lines.find((l) => l.includes('still has jobs running'));
  expect(held, 'the log names the job that held the stop').toBeDefined();
  expect(held).toContain(`flush-accounting #${hung}`);
  // Logged once both runners (general and intake) have started: the general one may run the job first.
  await eventually(async () => lines.some((l) => l.includes('the job runner is running again')) || null, 30_000, 'the restart logged');

  // The flush still runs in this live process: its worker keeps beating, so nobody takes it for abandoned
  // and runs it a second time beside it (what the sweep's dead-worker unlock would do after 15 s of silence).
  const before = (await q.query<{ locked_by: string }>('SELECT locked_by FROM graphile_worker._private_jobs WHERE id = $1', [hung])).rows[0]!;
  await new Promise((r) => setTimeout(r, 16_000));
  await unlockJobsOfDeadWorkers(database.db, 15_000, { trustStaleness: true });
  const now = (
    await q.query<{ locked_by: string | null; attempts: number }>('SELECT locked_by, attempts FROM graphile_worker._private_jobs WHERE id = $1', [hung])
  ).rows[0]!;
  expect(now).toEqual({ locked_by: before.locked_by, attempts: 1 });
});
