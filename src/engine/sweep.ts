// Periodic safety net, run by cron and once at start-up: re-queues work whose job may have been lost
// (a job that used up its attempts, or one held by a worker that died) so that every pending posting and
// every unprocessed inbox event is eventually acted on. Job keys make a re-queue of live work harmless.
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { enqueue } from './enqueue.ts';

export async function sweep(ctx: EngineContext, opts: { olderThanMs?: number } = {}): Promise<{ requeued: number }> {
  const older = new Date(ctx.now().getTime() - (opts.olderThanMs ?? 30_000));
  const tenants = await ctx.db.selectFrom('tenants').select('id').execute();
  let requeued = 0;
  for (const { id: tenantId } of tenants) {
    requeued += await withTenant(ctx.db, tenantId, async (tx) => {
      let n = 0;
      const psa = await tx.selectFrom('postings').select('id').where('target', '=', 'psa').where('status', '=', 'pending').where('next_attempt_at', '<', older).limit(500).execute();
      for (const p of psa) {
        await enqueue(tx, 'post-psa-payment', { tenantId, postingId: p.id }, { queueName: `psa:${tenantId}`, jobKey: `psa-posting:${p.id}` });
        n++;
      }
      const books = await tx.selectFrom('postings').select('id').where('target', '=', 'accounting').where('status', '=', 'pending').where('next_attempt_at', '<', older).limit(1).execute();
      if (books.length) {
        await enqueue(tx, 'flush-accounting', { tenantId }, { queueName: `accounting:${tenantId}`, jobKey: `flush-accounting:${tenantId}`, jobKeyMode: 'preserve_run_at' });
        n++;
      }
      const inbox = await tx.selectFrom('inbox_events').select('id').where('processed_at', 'is', null).where('received_at', '<', older).limit(500).execute();
      for (const e of inbox) {
        await enqueue(tx, 'process-inbox-event', { tenantId, inboxEventId: e.id.toString() }, { jobKey: `inbox:${e.id}` });
        n++;
      }
      await enqueue(tx, 'resolve-unknown-payments', { tenantId }, { jobKey: `resolve-unknown:${tenantId}` });
      return n;
    });
  }
  return { requeued };
}

/**
 * Unlock jobs held by worker processes that stopped sending heartbeats (killed, or the machine died), so
 * their jobs run again now instead of after graphile-worker's four-hour lock timeout.
 */
export async function unlockJobsOfDeadWorkers(db: Db, staleAfterMs = 15_000): Promise<string[]> {
  const r = await sql<{ locked_by: string }>`
    SELECT DISTINCT j.locked_by
      FROM graphile_worker.jobs j
     WHERE j.locked_by IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM worker_heartbeats h
                        WHERE h.worker_id = j.locked_by AND h.seen_at > now() - ${`${staleAfterMs} milliseconds`}::interval)`.execute(db);
  const dead = r.rows.map((x) => x.locked_by);
  if (dead.length) {
    await sql`SELECT graphile_worker.force_unlock_workers(${dead}::text[])`.execute(db);
  }
  return dead;
}
