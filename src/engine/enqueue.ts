// Jobs are added with graphile-worker's SQL function inside the caller's transaction: the job exists if
// and only if the state change that needs it committed (a transactional outbox without a second system).
import { sql } from 'kysely';
import type { Tx } from '../db/tenant.ts';
import type { Db } from '../db/pool.ts';
import type { TaskName, TaskPayloads } from '../jobs/payloads.ts';

export interface EnqueueOptions {
  /** Merge duplicates: a pending job with the same key is replaced rather than added twice. */
  readonly jobKey?: string;
  /** 'replace' (default) moves run_at; 'preserve_run_at' keeps the earlier time (coalescing windows). */
  readonly jobKeyMode?: 'replace' | 'preserve_run_at';
  readonly runAt?: Date;
  readonly maxAttempts?: number;
  readonly queueName?: string;
  readonly priority?: number;
}

export async function enqueue<T extends TaskName>(tx: Tx | Db, task: T, payload: TaskPayloads[T], opts: EnqueueOptions = {}): Promise<void> {
  await sql`SELECT graphile_worker.add_job(
      identifier => ${task},
      payload => ${JSON.stringify(payload)}::json,
      queue_name => ${opts.queueName ?? null},
      run_at => ${opts.runAt ?? null},
      max_attempts => ${opts.maxAttempts ?? 25},
      job_key => ${opts.jobKey ?? null},
      priority => ${opts.priority ?? 0},
      job_key_mode => ${opts.jobKeyMode ?? 'replace'}
    )`.execute(tx);
}

export interface JobSpec<T extends TaskName = TaskName> {
  readonly task: T;
  readonly payload: TaskPayloads[T];
  readonly options?: EnqueueOptions;
}

/** Many jobs in one statement (graphile-worker's add_jobs), in the caller's transaction: a webhook burst's
 *  batch, or a payment's postings, add their jobs with one round trip instead of one per job. With
 *  preserveRunAt, a job whose key is already pending keeps its earlier run time (coalescing windows). */
export async function enqueueMany(tx: Tx | Db, jobs: readonly JobSpec[], opts: { preserveRunAt?: boolean } = {}): Promise<void> {
  if (jobs.length === 0) return;
  const specs = jobs.map((j) => ({
    identifier: j.task,
    payload: j.payload,
    queue_name: j.options?.queueName ?? null,
    run_at: j.options?.runAt?.toISOString() ?? null,
    max_attempts: j.options?.maxAttempts ?? 25,
    job_key: j.options?.jobKey ?? null,
    priority: j.options?.priority ?? 0,
    flags: null,
  }));
  // add_jobs takes one job-key mode for the whole call (its second argument), not one per job.
  if (jobs.some((j) => j.options?.jobKeyMode !== undefined))
    throw new Error('enqueueMany: give the job-key mode for the whole call (opts.preserveRunAt), not per job');
  await sql`SELECT graphile_worker.add_jobs(
      ARRAY(SELECT s FROM json_populate_recordset(NULL::graphile_worker.job_spec, ${JSON.stringify(specs)}::json) AS s),
      ${opts.preserveRunAt ?? false}
    )`.execute(tx);
}
