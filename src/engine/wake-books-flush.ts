// The tenant's one coalesced books flush (`flush-accounting:<tenant>`), woken after a payment's postings
// commit rather than inside the transaction that creates them. Every success used to upsert that one job row
// inside its own transaction and hold the row lock until commit, so concurrent successes queued behind one
// another: on the autopay benchmark graphile_worker.add_jobs was the costliest statement (6.9 s of 14.5 s of
// execution for 1,000 charges, nearly all of it waiting for that lock).
//
// After the commit: a flush that is waiting and not yet running will read the postings when it runs, and
// they are committed by now, so it sees them — nothing to do (a read, no lock), unless it was set for later
// (another path's short window): then it is brought forward to now. Otherwise (none waiting, or one already
// running that may have read the postings before they committed) one is added, in a statement of its own.
//
// No coalescing wait (issue #11): the flush is due at once, so a payment that succeeds while the books queue
// is idle is posted alone, straight away (it used to wait a fixed ~150 ms for company). Batching comes from
// the queue itself: the tenant's flushes run one at a time (`accounting:<tenant>`), so payments that succeed
// while a flush is writing — faster than the books take them — wait in the one flush queued behind it, which
// takes them all together (the connector sends up to 30 per QuickBooks batch call). A crash between the commit and this wake-up leaves the postings pending: the sweep re-queues
// the flush for postings pending longer than its window (engine/sweep.ts), so they are late, never lost.
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import { afterCommit, type Tx } from '../db/tenant.ts';
import { enqueue, type JobSpec } from './enqueue.ts';

export function booksFlushJob(tenantId: string): JobSpec<'flush-accounting'> {
  return {
    task: 'flush-accounting',
    payload: { tenantId },
    options: {
      queueName: `accounting:${tenantId}`,
      jobKey: `flush-accounting:${tenantId}`,
      jobKeyMode: 'preserve_run_at',
      runAt: new Date(),
    },
  };
}

/**
 * Wakes the books flush once `tx` commits. Returns false when `tx` takes no after-commit work (not opened by
 * withTenant): the caller then adds the job inside the transaction, as before.
 */
export function wakeBooksFlushAfterCommit(tx: Tx, tenantId: string, log?: { warn: (o: object, m: string) => void }): boolean {
  return afterCommit(tx, async (db) => {
    try {
      await wakeBooksFlush(db, tenantId);
    } catch (e) {
      // The postings are committed; the sweep wakes the flush for them.
      log?.warn({ tenantId, err: (e as Error).message }, 'books flush not woken after a payment; the sweep will wake it');
    }
  });
}

export async function wakeBooksFlush(db: Db, tenantId: string): Promise<void> {
  const key = `flush-accounting:${tenantId}`;
  const waiting = await sql<{ later: boolean }>`
    SELECT run_at > now() AS later FROM graphile_worker._private_jobs
    WHERE key = ${key} AND locked_at IS NULL AND attempts < max_attempts`.execute(db);
  if (waiting.rows.length > 0 && !waiting.rows[0]!.later) return;
  const job = booksFlushJob(tenantId);
  // 'replace' brings a flush set for later (a payout's or a refund's short window) forward to now.
  await enqueue(db, job.task, job.payload, { ...job.options, jobKeyMode: waiting.rows.length > 0 ? 'replace' : 'preserve_run_at' });
}
