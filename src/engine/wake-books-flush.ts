// The tenant's one coalesced books flush (`flush-accounting:<tenant>`), woken after a payment's postings
// commit rather than inside the transaction that creates them. Every success used to upsert that one job row
// inside its own transaction and hold the row lock until commit, so concurrent successes queued behind one
// another: on the autopay benchmark graphile_worker.add_jobs was the costliest statement (6.9 s of 14.5 s of
// execution for 1,000 charges, nearly all of it waiting for that lock).
//
// After the commit: a flush that is waiting and not yet running will read the postings when it runs, and
// they are committed by now, so it sees them — nothing to do (a read, no lock). Otherwise (none waiting, or
// one already running that may have read the postings before they committed) one is added, in a statement
// of its own. A crash between the commit and this wake-up leaves the postings pending: the sweep re-queues
// the flush for postings pending longer than its window (engine/sweep.ts), so they are late, never lost.
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import { afterCommit, type Tx } from '../db/tenant.ts';
import { enqueue, type JobSpec } from './enqueue.ts';

/** Coalescing window: a flush a short moment after the success picks up every payment that succeeded meanwhile. */
export const FLUSH_DELAY_MS = 150;

export function booksFlushJob(tenantId: string): JobSpec<'flush-accounting'> {
  return {
    task: 'flush-accounting',
    payload: { tenantId },
    options: {
      queueName: `accounting:${tenantId}`,
      jobKey: `flush-accounting:${tenantId}`,
      jobKeyMode: 'preserve_run_at',
      runAt: new Date(Date.now() + FLUSH_DELAY_MS),
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
  const waiting = await sql<{ one: number }>`
    SELECT 1 AS one FROM graphile_worker._private_jobs
    WHERE key = ${key} AND locked_at IS NULL AND attempts < max_attempts`.execute(db);
  if (waiting.rows.length > 0) return;
  const job = booksFlushJob(tenantId);
  await enqueue(db, job.task, job.payload, job.options);
}
