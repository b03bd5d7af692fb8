// A job that finishes while the database is away cannot be recorded, and graphile-worker then ends that
// worker for good ("committing seppuku") without starting another: in the soak the worker process lost two
// of its four workers in the outage, and a process whose every worker went that way would run no job again
// while looking alive. Settle's runner must notice and start a full runner again once the database answers.
// Real PostgreSQL; only the job runner's connections are refused for a few seconds (as in an outage).
import { afterAll, expect, it } from 'vitest';
import pg from 'pg';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { eventually } from '../helpers/stack.ts';
import { OutagePool } from '../helpers/outage-pool.ts';
import { startWorker, type WorkerHandle } from '../../src/jobs/runner.ts';
import { ConnectorCache } from '../../src/engine/connections.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { createMailer } from '../../src/notify/mailer.ts';
import type { EngineContext } from '../../src/engine/context.ts';

let database: TestDatabase | null = null;
let handle: WorkerHandle | null = null;
let pool: OutagePool | null = null;
const clients: pg.Client[] = [];

afterAll(async () => {
  if (pool) pool.down = false;
  await handle?.stop();
  await pool?.end().catch(() => {});
  for (const c of clients) await c.end().catch(() => {});
  await database?.drop();
});

it('a worker graphile-worker ends in an outage is replaced: jobs run again afterwards', { timeout: 240_000 }, async () => {
  database = await createTestDatabase();
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
  const ctx: EngineContext = {
    db: database.db,
    connectors: new ConnectorCache(database.db, SecretBox.fromHex('11'.repeat(32))),
    log,
    publicUrl: 'http://127.0.0.1:1',
    now: () => new Date(),
    mailer: createMailer(undefined),
    mailFrom: 'settle@example.test',
  };
  pool = new OutagePool({ connectionString: database.url, max: 6 });
  // One worker: when it is gone, nothing runs.
  handle = await startWorker(ctx, pool, { concurrency: 1, pollIntervalMs: 200 });

  const q = new pg.Client({ connectionString: database.url });
  const locker = new pg.Client({ connectionString: database.url });
  clients.push(q, locker);
  await q.connect();
  await locker.connect();
  const addSweep = async (probe: string): Promise<string> =>
    (await q.query<{ id: string }>(`SELECT id::text FROM graphile_worker.add_job('sweep', json_build_object('probe', $1::text), max_attempts => 3)`, [probe]))
      .rows[0]!.id;

  // A sweep job held mid-run (it reads the workspaces, which we lock).
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE');
  const first = await addSweep('during');
  await eventually(
    async () => (await q.query('SELECT 1 FROM graphile_worker.jobs WHERE id = $1 AND locked_by IS NOT NULL', [first])).rowCount === 1,
    60_000,
    'the worker running the first job',
  );
  // The database goes away for the job runner; the job finishes meanwhile and cannot be recorded.
  pool.down = true;
  await locker.query('ROLLBACK');
  await eventually(async () => lines.some((l) => l.includes('committing seppuku')), 60_000, 'graphile-worker to end the worker');
  // The database is back.
  pool.down = false;

  const after = await addSweep('after');
  await eventually(
    async () => (await q.query('SELECT 1 FROM graphile_worker._private_jobs WHERE id = $1', [after])).rowCount === 0,
    120_000,
    'a job added after the outage to run',
  );
  expect(lines.some((l) => l.includes('restarting'))).toBe(true);
});
