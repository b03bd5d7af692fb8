// A keyed job replaced while it runs, then its process killed (SIGKILL): graphile-worker has already cleared
// the running job's key and set its attempts to the maximum, so once its dead worker's lock is released the
// row can never run and is never removed — a "permanent failure" to monitoring, though its replacement did
// the work. Settle must leave no such row: neither when it unlocks the dead worker's jobs itself, nor for
// rows an earlier version already unlocked.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startSettleCommand, type SettleProcess } from '../helpers/settle-process.ts';
import { freePort } from '../helpers/ports.ts';
import { eventually } from '../helpers/stack.ts';
import { createWorkspace } from '../../src/cli/workspace.ts';
import { withTenant } from '../../src/db/tenant.ts';

let database: TestDatabase | null = null;
let settle: SettleProcess | null = null;
const clients: pg.Client[] = [];
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-deadjobs-'));

afterAll(async () => {
  settle?.child.kill('SIGKILL');
  await settle?.exited;
  for (const c of clients) await c.end().catch(() => {});
  await database?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface JobRow {
  id: string;
  key: string | null;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
}

it('a keyed job replaced while running and killed with SIGKILL leaves no dead row', { timeout: 240_000 }, async () => {
  database = await createTestDatabase();
  const env = {
    DATABASE_URL: database.url,
    SETTLE_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    SETTLE_DATA_DIR: dataDir,
  };
  const port = await freePort();
  settle = await startSettleCommand(port, env);
  const q = new pg.Client({ connectionString: database.url });
  const locker = new pg.Client({ connectionString: database.url });
  clients.push(q, locker);
  await q.connect();
  await locker.connect();
  const jobs = async (): Promise<JobRow[]> =>
    (
      await q.query<JobRow>(
        `SELECT id::text, key, attempts, max_attempts, locked_by FROM graphile_worker._private_jobs WHERE payload->>'probe' = 'h6' ORDER BY id`,
      )
    ).rows;

  // Hold the workspaces table so that a sweep job blocks mid-run (it reads the workspaces): a job in flight.
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE');
  const add = (key: string): Promise<unknown> =>
    q.query(`SELECT graphile_worker.add_job('sweep', '{"probe":"h6"}'::json, job_key => $1, max_attempts => 5)`, [key]);
  await add('h6-probe-a');
  await add('h6-probe-b');
  await eventually(async () => (await jobs()).filter((j) => j.locked_by).length === 2, 60_000, 'both jobs running');
  // New information arrives while they run: the same keys are added again.
  await add('h6-probe-a');
  await add('h6-probe-b');
  // The running ones lost their keys and had their attempts used up; new jobs hold the keys.
  const replaced = (await jobs()).filter((j) => j.key === null);
  expect(replaced).toHaveLength(2);
  for (const j of replaced) expect(j).toMatchObject({ attempts: 5, max_attempts: 5, locked_by: expect.any(String) });
  expect((await jobs()).filter((j) => j.key !== null).map((j) => j.key)).toEqual(['h6-probe-a', 'h6-probe-b']);

  settle.child.kill('SIGKILL');
  await settle.exited;
  await locker.query('ROLLBACK');
  // The dead rows, as the soak found them: one still held by the dead worker, and one an earlier version of
  // Settle had already unlocked (attempts at their maximum, no key, never to run).
  const [a, b] = replaced;
  await q.query('SELECT graphile_worker.force_unlock_workers(ARRAY[$1]::text[])', [b!.locked_by]);
  expect((await jobs()).filter((j) => j.key === null)).toHaveLength(2);

  // And a job that really failed (its last attempt recorded an error): that one must reach a person.
  const tenantId = await createWorkspace(database.db, {
    slug: 'acme-it',
    name: 'Acme IT',
    adminEmail: 'owner@acme.test',
    adminPassword: 'correct horse battery',
    actor: 'system:test',
  });
  const failed = await q.query<{ id: string }>(
    `SELECT id::text FROM graphile_worker.add_job('send-email', json_build_object('tenantId', $1::text, 'notificationId', gen_random_uuid()::text), run_at => now() + interval '1 day', max_attempts => 3)`,
    [tenantId],
  );
  const failedId = failed.rows[0]!.id;
  await q.query(`SELECT graphile_worker.permanently_fail_jobs(ARRAY[$1]::bigint[], 'SMTP server refused the login')`, [failedId]);

  settle = await startSettleCommand(port, env);
  const exception = await eventually(
    () =>
      withTenant(database!.db, tenantId, (tx) =>
        tx.selectFrom('exceptions').select(['kind', 'status', 'title', 'detail']).where('dedupe_key', '=', `job-failed:${failedId}`).executeTakeFirst(),
      ),
    90_000,
    'an exception for the failed job',
  );
  expect(exception).toMatchObject({ kind: 'job_failed', status: 'open' });
  expect(exception.title).toContain('send-email');
  expect(exception.detail).toContain('SMTP server refused the login');
  // Once the job is dealt with (here removed, as graphile-worker's tooling would), the exception clears itself
  // at the next sweep.
  await q.query('SELECT graphile_worker.complete_jobs(ARRAY[$1]::bigint[])', [failedId]);
  await q.query(`SELECT graphile_worker.add_job('sweep', '{}'::json, max_attempts => 1)`);
  await eventually(
    async () =>
      (
        await withTenant(database!.db, tenantId, (tx) =>
          tx.selectFrom('exceptions').select('status').where('dedupe_key', '=', `job-failed:${failedId}`).executeTakeFirstOrThrow(),
        )
      ).status === 'resolved',
    90_000,
    'the exception to clear itself',
  );
  // Their replacements ran (sweep jobs are deleted when done), and the dead rows are gone.
  await eventually(async () => (await jobs()).length === 0, 90_000, `no sweep probe job left (dead rows ${a!.id}, ${b!.id})`);
  // No job at its attempt limit stays. Polled: a job running right now (e.g. a one-attempt sweep) counts its
  // attempt while it runs, and is gone when it finishes; a dead row never goes.
  const exhausted = async (): Promise<string[]> =>
    (await q.query<{ id: string }>('SELECT id::text FROM graphile_worker.jobs WHERE attempts >= max_attempts')).rows.map((r) => r.id);
  await eventually(async () => (await exhausted()).length === 0, 60_000, 'no job left at its attempt limit');
  expect(await exhausted()).toEqual([]);
  expect(settle.child.exitCode).toBeNull();
});
