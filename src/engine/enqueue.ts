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
