// What one attempt at a books posting came to, written to the posting in the caller's transaction: posted;
// waiting for its invoice (pending, not failed: backs off up to daily and a person is told which invoice to
// export); failing for a while (pending, retried hourly, a person told after ~an hour); or refused as it is
// (failed, with a person told the fix). The schedule is domain/posting-schedule.ts.
import type { Tx } from '../db/tenant.ts';
import type { PostResult } from '../connectors/accounting/types.ts';
import { postingSchedule, type PostingOutcome } from '../domain/posting-schedule.ts';
import type { EngineContext } from './context.ts';
import { audit, type Actor } from './audit.ts';
import { tellAboutPosting } from './posting-exceptions.ts';

const ACTOR: Actor = 'system:post-to-accounting';

export interface AttemptedPosting {
  readonly id: string;
  readonly attempts: number;
  readonly waiting_for?: string | null;
}

export type AttemptResult = 'posted' | 'waiting' | 'deferred' | 'failed';

export async function recordBooksAttempt(
  ctx: EngineContext,
  tx: Tx,
  tenantId: string,
  vendor: string,
  row: AttemptedPosting,
  r: PostResult,
): Promise<AttemptResult> {
  if (r.ok) {
    // The trigger of 0012 closes the posting's exception in this transaction.
    await tx
      .updateTable('postings')
      .set((eb) => ({
        status: 'posted',
        remote_id: r.remoteId,
        posted_at: new Date(),
        attempts: eb('attempts', '+', 1),
        last_error: null,
        waiting_for: null,
        waiting_since: null,
      }))
      .where('id', '=', row.id)
      .where('status', '=', 'pending')
      .execute();
    // A refund or return of this payment waited for it (post-accounting-reversals.ts): its turn is now.
    await tx
      .updateTable('postings')
      .set({ next_attempt_at: ctx.now() })
      .where('reverses_posting_id', '=', row.id)
      .where('target', '=', 'accounting')
      .where('status', '=', 'pending')
      .execute();
    return 'posted';
  }
  // A refusal that only a reversal still on its way explains is retried — as a new request: the refused one
  // wrote nothing, and QuickBooks answers a repeated requestid with the refusal it gave the first time.
  const refusedUntilReversal = r.waitingForInvoice === undefined && !r.retryable && (await reversalOnItsWay(tx, row.id));
  const outcome: PostingOutcome = r.waitingForInvoice !== undefined ? 'waiting' : r.retryable || refusedUntilReversal ? 'transient' : 'final';
  // A posting that starts waiting starts its own back-off: its earlier error attempts do not count.
  const startsWaiting = outcome === 'waiting' && row.waiting_for !== 'invoice_in_books';
  const attempts = startsWaiting ? 1 : row.attempts + 1;
  const plan = postingSchedule(outcome, attempts);
  const nextAttemptAt = new Date(ctx.now().getTime() + plan.delayMs);
  await tx
    .updateTable('postings')
    .set((eb) => ({
      attempts,
      last_error: r.error.slice(0, 2000),
      status: plan.retry ? 'pending' : 'failed',
      next_attempt_at: nextAttemptAt,
      waiting_for: outcome === 'waiting' ? 'invoice_in_books' : null,
      waiting_since: outcome === 'waiting' ? eb.fn.coalesce('waiting_since', eb.val(ctx.now())) : null,
      ...(refusedUntilReversal ? { request_generation: eb('request_generation', '+', 1) } : {}),
    }))
    .where('id', '=', row.id)
    .where('status', '=', 'pending')
    .execute();
  if (outcome === 'waiting') {
    if (startsWaiting) {
      await audit(
        tx,
        tenantId,
        ACTOR,
        'posting.waiting',
        { type: 'posting', id: row.id },
        { vendor, waiting_for: 'invoice_in_books', invoice: r.waitingForInvoice },
      );
    }
    await tellAboutPosting(tx, tenantId, ACTOR, row.id, { kind: 'waiting_for_invoice', invoiceNumber: r.waitingForInvoice!, nextAttemptAt });
    return 'waiting';
  }
  if (!plan.retry) {
    // Warn, not error: the vendor refused it and a person is told through the exception below.
    ctx.log.warn({ tenantId, postingId: row.id, vendor, error: r.error }, 'books posting refused; an exception asks a person to act');
    await audit(tx, tenantId, ACTOR, 'posting.failed', { type: 'posting', id: row.id }, { vendor, error: r.error });
    await tellAboutPosting(tx, tenantId, ACTOR, row.id, { kind: 'failed', error: r.error });
    return 'failed';
  }
  if (plan.tellPerson) await tellAboutPosting(tx, tenantId, ACTOR, row.id, { kind: 'failing', error: r.error, nextAttemptAt });
  return 'deferred';
}

/**
 * A refusal of a payment while a refund, return or lost dispute on the same invoice is still on its way to
 * the books is not final: the books see the invoice as paid until that reversal re-opens it ("more than its
 * open balance"); the next attempt, after the reversal, goes through.
 */
async function reversalOnItsWay(tx: Tx, postingId: string): Promise<boolean> {
  const r = await tx
    .selectFrom('postings as me')
    .innerJoin('postings as r', (j) => j.onRef('r.invoice_id', '=', 'me.invoice_id').onRef('r.id', '!=', 'me.id'))
    .select('r.id')
    .where('me.id', '=', postingId)
    .where('me.kind', '=', 'payment')
    .where('r.target', '=', 'accounting')
    .where('r.kind', 'in', ['refund', 'payment_reversal'])
    .where('r.status', '=', 'pending')
    // Not this payment's own reversal: it waits for this payment to be in the books, so it can never
    // re-open the invoice for it — counting it made the two wait for each other for ever (the soak).
    .where((eb) => eb.or([eb('r.reverses_posting_id', 'is', null), eb('r.reverses_posting_id', '!=', eb.ref('me.id'))]))
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}
