// Jobs that would otherwise sit in graphile_worker.jobs for ever with their attempts used up, which to
// monitoring are permanent failures although nothing failed.
//
// Why they appear: adding a job whose key belongs to a job that is *running* does not touch the running
// job's work; graphile-worker clears that job's key, sets its attempts to the maximum (so it never runs
// again) and adds a fresh job under the key, which does the work. When the running job finishes, its row is
// deleted. When its process is killed mid-run, the row stays; unlocking the dead worker's jobs (sweep.ts)
// then leaves an unlocked row that can never run and is never removed. The same happens to a job killed
// during its last attempt (every cron tick: they have one attempt).
//
// What we do: when unlocking a dead worker's jobs, a superseded job (key cleared after it was locked) is
// completed — its replacement does the work — and a job killed during its last attempt gets one more
// attempt (being killed is not the job's failure). Rows left by older versions are cleared by the sweep:
// an exhausted job that never recorded an error was only superseded or killed, and its work is done by
// its replacement, the next tick, or the sweep's re-queue of pending postings and inbox events. A job that
// really failed (it recorded an error on its last attempt) becomes an exception a person sees.
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { raiseException } from './exceptions.ts';
import { audit } from './audit.ts';

/** Call with the ids of dead workers *before* force-unlocking their jobs. Returns what was done. */
export async function settleJobsOfDeadWorkers(db: Db, deadWorkers: string[]): Promise<{ superseded: number; retried: number }> {
  const held = await sql<{ id: string; superseded: boolean; exhausted: boolean }>`
    SELECT id::text,
           (key IS NULL AND updated_at > locked_at) AS superseded,
           attempts >= max_attempts AS exhausted
      FROM graphile_worker.jobs
     WHERE locked_by = ANY(${deadWorkers}::text[])`.execute(db);
  await sql`SELECT graphile_worker.force_unlock_workers(${deadWorkers}::text[])`.execute(db);
  const superseded = held.rows.filter((j) => j.superseded).map((j) => j.id);
  const killedOnLastAttempt = held.rows.filter((j) => !j.superseded && j.exhausted).map((j) => j.id);
  if (superseded.length) await sql`SELECT graphile_worker.complete_jobs(${superseded}::bigint[])`.execute(db);
  for (const id of killedOnLastAttempt) {
    await sql`
      SELECT graphile_worker.reschedule_jobs(ARRAY[${id}]::bigint[], max_attempts => (SELECT attempts + 1 FROM graphile_worker.jobs WHERE id = ${id}::bigint))`.execute(
      db,
    );
  }
  return { superseded: superseded.length, retried: killedOnLastAttempt.length };
}

/**
 * Clear exhausted jobs that never failed (left by earlier versions, see above) and raise an exception for
 * each job that used up its attempts with an error, naming the task, its last error and what to do.
 */
export async function clearDeadJobs(ctx: EngineContext): Promise<{ removed: number; failed: number }> {
  const rows = await sql<{ id: string; task: string; tenant_id: string | null; last_error: string | null; attempts: number }>`
    SELECT j.id::text, t.identifier AS task, j.payload->>'tenantId' AS tenant_id, j.last_error, j.attempts
      FROM graphile_worker._private_jobs j
      JOIN graphile_worker._private_tasks t ON t.id = j.task_id
     WHERE j.attempts >= j.max_attempts AND j.locked_at IS NULL
     ORDER BY j.id
     LIMIT 500`.execute(ctx.db);
  const neverFailed = rows.rows.filter((r) => r.last_error === null).map((r) => r.id);
  if (neverFailed.length) {
    await sql`SELECT graphile_worker.complete_jobs(${neverFailed}::bigint[])`.execute(ctx.db);
    ctx.log.info({ jobs: neverFailed.length }, 'removed superseded or killed jobs whose work is done by others');
  }
  const failed = rows.rows.filter((r) => r.last_error !== null && r.tenant_id !== null);
  for (const job of failed) {
    await withTenant(ctx.db, job.tenant_id!, async (tx) => {
      // Raised once per job: a person who dismissed it is not asked again every minute.
      const known = await tx.selectFrom('exceptions').select('id').where('dedupe_key', '=', `job-failed:${job.id}`).executeTakeFirst();
      if (known) return;
      await raiseException(tx, job.tenant_id!, 'system:worker', {
        kind: 'job_failed',
        dedupeKey: `job-failed:${job.id}`,
        clientId: null,
        invoiceIds: [],
        paymentId: null,
        title: `Background job "${job.task}" failed ${job.attempts} times and stopped`,
        detail:
          `Its last error: ${job.last_error!.slice(0, 500)}. Fix the cause (often a connection's credentials or a vendor outage — ` +
          `run \`settle doctor\`); pending postings and vendor events are re-queued automatically by the sweep once it clears.`,
        data: { job_id: job.id, task: job.task },
      });
    });
  }
  await resolveCleared(ctx);
  return { removed: neverFailed.length, failed: failed.length };
}

/** A failed job's exception clears itself once the job is gone or runnable again (retried, re-queued by its key). */
async function resolveCleared(ctx: EngineContext): Promise<void> {
  const tenants = await ctx.db.selectFrom('tenants').select('id').execute();
  for (const { id: tenantId } of tenants) {
    await withTenant(ctx.db, tenantId, async (tx) => {
      const open = await tx.selectFrom('exceptions').select(['id', 'data']).where('kind', '=', 'job_failed').where('status', '=', 'open').execute();
      if (!open.length) return;
      const ids = open.map((e) => String((e.data as { job_id?: string }).job_id ?? '0'));
      const still = await sql<{ id: string }>`
        SELECT id::text FROM graphile_worker.jobs WHERE id = ANY(${ids}::bigint[]) AND attempts >= max_attempts`.execute(tx);
      const failing = new Set(still.rows.map((r) => r.id));
      for (const e of open) {
        if (failing.has(String((e.data as { job_id?: string }).job_id))) continue;
        await tx
          .updateTable('exceptions')
          .set({ status: 'resolved', resolved_at: new Date(), resolved_by: 'system:worker', resolution: 'job_cleared', updated_at: new Date() })
          .where('id', '=', e.id)
          .execute();
        await audit(tx, tenantId, 'system:worker', 'exception.resolved', { type: 'exception', id: e.id }, { resolution: 'job_cleared' });
      }
    });
  }
}
