// A keyed job replaced while it runs and then throwing must not be left as a failed, exhausted row (to the
// sweep a job_failed exception for work its replacement does). A job that throws without being replaced
// still fails as before, so that graphile-worker retries it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Logger, run, runMigrations, type Runner } from 'graphile-worker';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { eventually } from '../helpers/stack.ts';
import { unlessSuperseded } from '../../src/jobs/superseded.ts';

let database: TestDatabase;
let runner: Runner | null = null;
const quiet = new Logger(() => () => {});
beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations({ pgPool: database.pool, logger: quiet });
});
afterAll(async () => {
  await runner?.stop();
  await database?.drop();
});

interface Row {
  id: string;
  key: string | null;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  payload: { n: number };
}
const rows = async (): Promise<Row[]> =>
  (await database.pool.query<Row>(`SELECT id::text, key, attempts, max_attempts, last_error, payload FROM graphile_worker._private_jobs ORDER BY id`)).rows;
const add = (n: number, key: string) =>
  database.pool.query(`SELECT graphile_worker.add_job('probe', json_build_object('n', $1::int), job_key => $2, max_attempts => 3)`, [n, key]);

it('an error thrown by a superseded run is logged, its row removed; an error without supersede still fails the job', async () => {
  const started = new Map<number, () => void>();
  const release = new Map<number, (e: Error) => void>();
  const done: number[] = [];
  runner = await run({
    pgPool: database.pool,
    concurrency: 2,
    pollInterval: 100,
    noHandleSignals: true,
    logger: quiet,
    taskList: {
      probe: async (payload, helpers) =>
        unlessSuperseded(database.db, helpers, async () => {
          const n = (payload as { n: number }).n;
          if (n === 2) {
            done.push(n);
            return; // the replacement does the work
          }
          // Runs 1 and 3 wait for the test, then throw.
          await new Promise<void>((_, reject) => {
            started.get(n)?.();
            release.set(n, reject);
          });
        }),
    },
  });

  // Run 1 is taken; a job under its key is added meanwhile (superseding it), and run 1 then throws.
  const running1 = new Promise<void>((r) => started.set(1, r));
  await add(1, 'probe:a');
  await running1;
  await add(2, 'probe:a');
  expect((await rows()).find((r) => r.payload.n === 1)?.key).toBeNull(); // graphile-worker cleared it: superseded
  await eventually(async () => done.includes(2), 30_000, 'the replacement ran');
  release.get(1)!(new Error('the vendor answered 500'));
  await eventually(async () => (await rows()).every((r) => r.payload.n !== 1), 30_000, 'the superseded row removed');

  // Run 3 is not superseded: its error is recorded and the job will be retried.
  const running3 = new Promise<void>((r) => started.set(3, r));
  await add(3, 'probe:b');
  await running3;
  release.get(3)!(new Error('the vendor answered 500'));
  const failed = await eventually(async () => (await rows()).find((r) => r.payload.n === 3 && r.last_error !== null), 30_000, 'run 3 failed');
  expect(failed.last_error).toMatch(/500/);
  expect(failed.attempts).toBeLessThan(failed.max_attempts);
}, 120_000);
