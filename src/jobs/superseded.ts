// A keyed job that fails after it was superseded is not a failure anyone must see. Adding a job under the key
// of a job that is running clears the running job's key and sets its attempts to the maximum (graphile-worker's
// add_job), and a fresh job under the key does the work. If the old run then throws, its error would be
// recorded on an exhausted row: to monitoring a permanent failure, and to the sweep (dead-jobs.ts) a job that
// "failed and stopped" — a job_failed exception for work its replacement did (or is doing). So a superseded
// run's error is logged and the run ends normally, which removes its row.
import { sql } from 'kysely';
import type { JobHelpers } from 'graphile-worker';
import type { Db } from '../db/pool.ts';

/** Whether this run's job had a key when it was taken and has lost it since: replaced while running. */
export async function supersededWhileRunning(db: Db, job: Pick<JobHelpers['job'], 'id' | 'key'>): Promise<boolean> {
  if (!job.key) return false;
  const r = await sql<{ key: string | null }>`SELECT key FROM graphile_worker._private_jobs WHERE id = ${job.id}::bigint`.execute(db);
  const row = r.rows[0];
  return row !== undefined && row.key === null;
}

/** Run `work`; when it throws after its job was superseded, log and end normally (see above). */
export async function unlessSuperseded<T>(db: Db, helpers: Pick<JobHelpers, 'job' | 'logger'>, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (e) {
    // A failure to ask (the database is down) leaves the original error to graphile-worker's retry.
    const superseded = await supersededWhileRunning(db, helpers.job).catch(() => false);
    if (!superseded) throw e;
    helpers.logger.info(
      `job ${helpers.job.id} (${helpers.job.task_identifier}) failed after it was superseded; its replacement does the work: ${(e as Error).message}`,
    );
    return undefined;
  }
}
