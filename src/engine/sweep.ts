// Periodic safety net, run by cron and once at start-up: re-queues work whose job may have been lost
// (a job that used up its attempts, or one held by a worker that died) so that every pending posting and
// every unprocessed inbox event is eventually acted on. Job keys make a re-queue of live work harmless.
import os from 'node:os';
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { enqueue } from './enqueue.ts';
import { clearDeadJobs, settleJobsOfDeadWorkers } from './dead-jobs.ts';
import { scheduleInvoiceWatch } from './watch-books-invoices.ts';
import { scheduleBooksCheck } from './check-books-records.ts';
import { scheduleCreditMemoCheck } from './credit-memos.ts';
import { DEFAULT_CHECKOUT_EXPIRY_MS } from './expire-portal-checkouts.ts';
import { PAYOUT_POLL_EVERY_MS } from './poll-payouts.ts';
import { warmDashboardPresets } from './dashboard-figures.ts';
import { wakeDueWebhooks } from './webhooks-out/wake.ts';

export async function sweep(ctx: EngineContext, opts: { olderThanMs?: number } = {}): Promise<{ requeued: number }> {
  await clearDeadJobs(ctx);
  const older = new Date(ctx.now().getTime() - (opts.olderThanMs ?? 30_000));
  const tenants = await ctx.db.selectFrom('tenants').select('id').execute();
  let requeued = 0;
  for (const { id: tenantId } of tenants) {
    requeued += await withTenant(ctx.db, tenantId, async (tx) => {
      let n = 0;
      const psa = await tx
        .selectFrom('postings')
        .select(['id', 'kind'])
        .where('target', '=', 'psa')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<', older)
        .limit(500)
        .execute();
      for (const p of psa) {
        // A reversal (refund, return, lost dispute) is re-queued as a reversal: the same job key under the
        // payment task would replace its job and POST the refunded amount as a new PSA payment.
        const task = p.kind === 'payment' ? 'post-psa-payment' : 'post-psa-reversal';
        await enqueue(tx, task, { tenantId, postingId: p.id }, { queueName: `psa:${tenantId}`, jobKey: `psa-posting:${p.id}` });
        n++;
      }
      const books = await tx
        .selectFrom('postings')
        .select('id')
        .where('target', '=', 'accounting')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<', older)
        .limit(1)
        .execute();
      // A deposit's clearing line whose payment is in the books now is work for the flush too.
      const clearing = books.length
        ? []
        : await tx
            .selectFrom('deposit_lines as dl')
            .innerJoin('postings as p', 'p.id', 'dl.payment_posting_id')
            .select('dl.id')
            .where('dl.status', '=', 'clearing')
            .where('p.status', '=', 'posted')
            .where('dl.next_attempt_at', '<', older)
            .limit(1)
            .execute();
      // Postings waiting for their invoice: the look-up for it must stay scheduled (a no-op when it is).
      const waiting = await tx
        .selectFrom('postings')
        .select('id')
        .where('target', '=', 'accounting')
        .where('status', '=', 'pending')
        .where('waiting_for', '=', 'invoice_in_books')
        .limit(1)
        .execute();
      if (waiting.length) await scheduleInvoiceWatch(ctx, tx, tenantId);
      // What Settle posted must still be in the books (voided/deleted there by a person): about hourly.
      const posted = await tx.selectFrom('postings').select('id').where('target', '=', 'accounting').where('status', '=', 'posted').limit(1).execute();
      if (posted.length) await scheduleBooksCheck(ctx, tx, tenantId);
      // Credit memos applied in the PSA, to apply in the books: looked for every few minutes (credit-memos.ts).
      await scheduleCreditMemoCheck(ctx, tx, tenantId);
      if (books.length || clearing.length) {
        await enqueue(
          tx,
          'flush-accounting',
          { tenantId },
          { queueName: `accounting:${tenantId}`, jobKey: `flush-accounting:${tenantId}`, jobKeyMode: 'preserve_run_at' },
        );
        n++;
      }
      const inbox = await tx.selectFrom('inbox_events').select('id').where('processed_at', 'is', null).where('received_at', '<', older).limit(500).execute();
      for (const e of inbox) {
        await enqueue(tx, 'process-inbox-event', { tenantId, inboxEventId: e.id.toString() }, { jobKey: `inbox:${e.id}` });
        n++;
      }
      await enqueue(tx, 'resolve-unknown-payments', { tenantId }, { jobKey: `resolve-unknown:${tenantId}` });
      n += await wakeDueWebhooks(tx, tenantId, older); // webhook deliveries whose wake-up was lost with a crashed job
      const abandoned = await tx
        .selectFrom('portal_checkouts')
        .select('id')
        .where('status', '=', 'open')
        .where('opened_at', '<', new Date(ctx.now().getTime() - (ctx.checkoutExpiryMs ?? DEFAULT_CHECKOUT_EXPIRY_MS)))
        .limit(1)
        .execute();
      if (abandoned.length) await enqueue(tx, 'expire-portal-checkouts', { tenantId }, { jobKey: `expire-checkouts:${tenantId}` });
      // The dashboard's preset periods of a new day, computed before anyone asks (dashboard-figures.ts).
      await warmDashboardPresets(ctx, tx, tenantId);
      // Paid payouts whose webhook never came (poll-payouts.ts): one look every few minutes, kept scheduled here.
      await enqueue(
        tx,
        'poll-payouts',
        { tenantId },
        { jobKey: `poll-payouts:${tenantId}`, jobKeyMode: 'preserve_run_at', runAt: new Date(ctx.now().getTime() + PAYOUT_POLL_EVERY_MS) },
      );
      return n;
    });
  }
  return { requeued };
}

/**
 * Unlock jobs held by worker processes that are gone, so their jobs run again now instead of after
 * graphile-worker's four-hour lock timeout. A worker is gone when its heartbeat is stale, or at once when
 * it ran on this host under a process id that no longer exists (a killed process on the same machine).
 *
 * A stale heartbeat is only evidence when the caller could beat itself all along (`trustStaleness`): after
 * a database outage every worker's heartbeat is stale, including live ones still finishing their jobs, and
 * unlocking those runs their jobs twice and can leave their queue locked for hours (see
 * releaseOrphanedQueueLocks). A process id that is gone is proof at any time.
 */
export async function unlockJobsOfDeadWorkers(db: Db, staleAfterMs = 15_000, opts: { trustStaleness?: boolean } = {}): Promise<string[]> {
  const interval = `${staleAfterMs} milliseconds`;
  // A worker with no heartbeat row yet may have just started: only a lock older than the staleness window
  // counts as abandoned then.
  const r = await sql<{ locked_by: string; host: string | null; pid: number | null; stale: boolean }>`
    SELECT j.locked_by, h.host, h.pid,
           bool_and(coalesce(h.seen_at, j.locked_at) < now() - ${interval}::interval) AS stale
      FROM graphile_worker.jobs j
      LEFT JOIN worker_heartbeats h ON h.worker_id = j.locked_by
     WHERE j.locked_by IS NOT NULL
     GROUP BY j.locked_by, h.host, h.pid`.execute(db);
  const host = os.hostname();
  const trustStaleness = opts.trustStaleness ?? true;
  const dead = r.rows.filter((w) => (trustStaleness && w.stale) || (w.host === host && w.pid !== null && !processAlive(w.pid))).map((w) => w.locked_by);
  // Unlocked, and jobs superseded or killed on their last attempt settled, so none is left for ever (dead-jobs.ts).
  if (dead.length) await settleJobsOfDeadWorkers(db, dead);
  return dead;
}

/**
 * Release named-queue locks that no running job stands behind. graphile-worker locks a job and its queue in
 * one statement and unlocks the queue only when the worker that holds it completes or fails a job row that
 * still exists. When one job ran twice (a live worker taken for dead and its job given to another) the
 * first to finish deletes the row, and the second's completion then unlocks nothing: its queue stays locked
 * by a worker that is alive and idle, so no other job of the queue (e.g. every reconcile-payout and books
 * flush of a workspace: `accounting:<tenant>`) runs until graphile-worker's four-hour lock timeout. A queue
 * lock a while old whose holder holds no job of that queue is such a leftover. (graphile-worker changes a
 * queue lock and its job's lock together, so this state is never a lock in the middle of being taken.)
 */
export async function releaseOrphanedQueueLocks(db: Db, olderThanMs = 15_000): Promise<string[]> {
  const r = await sql<{ queue_name: string }>`
    UPDATE graphile_worker._private_job_queues AS q
       SET locked_by = NULL, locked_at = NULL
     WHERE q.locked_by IS NOT NULL
       AND q.locked_at < now() - ${`${olderThanMs} milliseconds`}::interval
       AND NOT EXISTS (SELECT 1 FROM graphile_worker._private_jobs j WHERE j.job_queue_id = q.id AND j.locked_by = q.locked_by)
    RETURNING q.queue_name`.execute(db);
  return r.rows.map((q) => q.queue_name);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
