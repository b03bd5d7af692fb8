// The soak's "reconcile-payout jobs overdue and never done": a named queue (accounting:<workspace> holds every
// payout reconciliation and books flush) left locked by a live, idle worker, so none of its jobs ran again.
// How it happens, with real graphile-worker runners on a real PostgreSQL: worker A is running a job when the
// database goes away; its heartbeat goes stale, another process takes A for dead and unlocks the job; worker
// B runs it again. A finishes first and deletes the row; B's completion then finds no row and so unlocks
// nothing (graphile-worker unlocks the queue only through the job it deletes) — the queue stays locked by B
// for graphile-worker's four hours. Settle must (1) not take a worker for dead on a heartbeat that every
// worker missed (the outage), and (2) release a queue lock no running job stands behind.
import { run, runMigrations, type Runner, type RunnerOptions, type Task } from 'graphile-worker';
import { afterAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { eventually } from '../helpers/stack.ts';
import { releaseOrphanedQueueLocks, unlockJobsOfDeadWorkers } from '../../src/engine/sweep.ts';

let database: TestDatabase | null = null;
const runners: Runner[] = [];
const gates = new Map<string, () => void>();

afterAll(async () => {
  for (const open of gates.values()) open();
  for (const r of runners) await r.stop().catch(() => {});
  await database?.drop();
});

const QUEUE = 'accounting:probe';

it('a queue lock left by a job run twice is released, and its queue runs again', { timeout: 240_000 }, async () => {
  database = await createTestDatabase();
  const { db, pool } = database;
  await runMigrations({ pgPool: pool });
  const runs: string[] = [];
  // probe-a blocks until the test lets it finish (one gate per worker); any other probe finishes at once.
  const probe =
    (worker: string): Task =>
    async (payload) => {
      const name = (payload as { name: string }).name;
      runs.push(`${name}@${worker}`);
      if (name === 'probe-a') await new Promise<void>((resolve) => gates.set(worker, resolve));
    };
  const start = async (workerId: string): Promise<Runner> => {
    // workerId (graphile-worker reads it, its types do not list it) names the worker as the story does.
    const options: RunnerOptions & { workerId: string } = {
      pgPool: pool,
      workerId,
      concurrency: 1,
      pollInterval: 200,
      noHandleSignals: true,
      taskList: { 'soak-probe': probe(workerId) },
    };
    const r = await run(options);
    runners.push(r);
    return r;
  };
  const add = (name: string): Promise<unknown> =>
    sql`SELECT graphile_worker.add_job('soak-probe', json_build_object('name', ${name}::text), queue_name => ${QUEUE})`.execute(db);
  const queueLock = async (): Promise<string | null> =>
    (await sql<{ locked_by: string | null }>`SELECT locked_by FROM graphile_worker._private_job_queues WHERE queue_name = ${QUEUE}`.execute(db)).rows[0]
      ?.locked_by ?? null;

  await start('worker-a');
  await add('probe-a');
  await eventually(async () => gates.has('worker-a'), 60_000, 'worker A running probe-a');

  // The database was away: A's heartbeat is a minute old (on another machine, so no process id to check).
  await sql`INSERT INTO worker_heartbeats (worker_id, host, pid, seen_at) VALUES ('worker-a', 'other-host', 1, now() - interval '1 minute')`.execute(db);
  // A process that could not beat either (it is just back from the same outage) does not take A for dead.
  expect(await unlockJobsOfDeadWorkers(db, 15_000, { trustStaleness: false })).toEqual([]);
  expect(await queueLock()).toBe('worker-a');

  // One that trusts the staleness does (this is what ran jobs twice in the soak): B runs probe-a again.
  expect(await unlockJobsOfDeadWorkers(db, 15_000, { trustStaleness: true })).toEqual(['worker-a']);
  const b = await start('worker-b');
  const bCompleted = new Promise<void>((resolve) => b.events.on('job:complete', () => resolve()));
  await eventually(async () => gates.has('worker-b'), 60_000, 'worker B running probe-a again');
  await add('probe-b');
  // While B holds a job of the queue, its lock is not an orphan.
  expect(await releaseOrphanedQueueLocks(db, 0)).toEqual([]);

  gates.get('worker-a')!();
  await eventually(
    async () =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE payload->>'name' = 'probe-a'`.execute(db)).rows[0]!.n === 0,
    60_000,
    'A to complete probe-a (deleting its row)',
  );
  gates.get('worker-b')!();
  await bCompleted;
  // The leftover: the queue locked by B, which holds no job, so probe-b can never be taken.
  expect(await queueLock()).toBe('worker-b');
  const held = await sql<{ n: number }>`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_by IS NOT NULL`.execute(db);
  expect(held.rows[0]!.n).toBe(0);
  expect(runs).not.toContain('probe-b@worker-a');
  expect(runs).not.toContain('probe-b@worker-b');

  // Released, the queue runs again.
  expect(await releaseOrphanedQueueLocks(db, 0)).toEqual([QUEUE]);
  await eventually(async () => runs.some((r) => r.startsWith('probe-b@')), 60_000, 'probe-b to run once the queue is released');
  await eventually(async () => (await queueLock()) === null, 60_000, 'the queue unlocked after probe-b');
});
