// A person retries a posting now (after exporting the invoice, fixing the books, reconnecting): the
// posting is made due at once — a failed one becomes pending again with a fresh back-off — and the job that
// performs it is queued. A posted deposit still carrying clearing lines has those lines tried at once.
// Audited with who asked. What the attempt comes to shows on the posting and its exception, as for any
// attempt.
import type { Tx } from '../db/tenant.ts';
import type { Actor } from './audit.ts';
import { audit } from './audit.ts';
import { UseCaseError } from './context.ts';
import { enqueue } from './enqueue.ts';

export interface RetriedPosting {
  readonly id: string;
  readonly target: 'psa' | 'accounting';
  readonly kind: string;
  readonly status: 'pending' | 'posted';
  readonly waiting_for: string | null;
  readonly retried: 'posting' | 'clearing_lines';
}

export async function retryPosting(tx: Tx, tenantId: string, postingId: string, actor: Actor, now: Date): Promise<RetriedPosting> {
  const p = await tx.selectFrom('postings').selectAll().where('id', '=', postingId).forUpdate().executeTakeFirst();
  if (!p) throw new UseCaseError('not_found', `no posting ${postingId} in this workspace`);
  const flush = (): Promise<void> =>
    enqueue(tx, 'flush-accounting', { tenantId }, { queueName: `accounting:${tenantId}`, jobKey: `flush-accounting:${tenantId}`, runAt: now });
  if (p.status === 'posted') {
    const lines = await tx
      .updateTable('deposit_lines')
      .set({ next_attempt_at: now })
      .where('deposit_posting_id', '=', p.id)
      .where('status', '=', 'clearing')
      .returning('id')
      .execute();
    if (lines.length === 0) throw new UseCaseError('conflict', `posting ${postingId} is already posted (${p.vendor} id ${p.remote_id}); nothing to retry`);
    await audit(tx, tenantId, actor, 'posting.retry_requested', { type: 'posting', id: p.id }, { vendor: p.vendor, clearing_lines: lines.length });
    await flush();
    return { id: p.id, target: p.target, kind: p.kind, status: 'posted', waiting_for: null, retried: 'clearing_lines' };
  }
  await tx
    .updateTable('postings')
    // A failed posting starts a fresh back-off; a waiting one keeps its place in its own.
    // A refused request wrote nothing; the retry is a new request (request_generation, see 0012).
    .set((eb) => ({
      status: 'pending',
      next_attempt_at: now,
      ...(p.status === 'failed' ? { attempts: 0, request_generation: eb('request_generation', '+', 1) } : {}),
    }))
    .where('id', '=', p.id)
    .execute();
  await audit(tx, tenantId, actor, 'posting.retry_requested', { type: 'posting', id: p.id }, { vendor: p.vendor, was: p.status, last_error: p.last_error });
  if (p.target === 'accounting') await flush();
  else {
    const task = p.kind === 'payment' ? 'post-psa-payment' : 'post-psa-reversal';
    await enqueue(tx, task, { tenantId, postingId: p.id }, { queueName: `psa:${tenantId}`, jobKey: `psa-posting:${p.id}`, runAt: now });
  }
  return { id: p.id, target: p.target, kind: p.kind, status: 'pending', waiting_for: p.waiting_for, retried: 'posting' };
}
