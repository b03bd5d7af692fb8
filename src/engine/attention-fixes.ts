// "Retry now" on Needs-attention items (the staff page and POST /api/v1/exceptions/…/retry use these): an
// item about a posting retries that posting through retryPosting — the very use-case of
// POST /api/v1/postings/:id/retry, with its audit entry — plus an `exception.retry_requested` entry on the
// item. The item itself stays open until the posting is posted (the 0012 trigger closes it), so what the
// attempt comes to is what the person sees. Bulk retry runs each item in its own transaction: one that
// cannot be retried (already posted, not a posting) is reported and does not undo the others.
import type { Db } from '../db/pool.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import { attentionItem } from '../db/queries/attention.ts';
import { retryable } from '../domain/attention.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError } from './context.ts';
import { retryPosting, type RetriedPosting } from './retry-posting.ts';

export const BULK_RETRY_MAX = 100;

export async function retryException(tx: Tx, tenantId: string, id: string, actor: Actor, now: Date): Promise<RetriedPosting> {
  // Lock the item, so two people pressing Retry on it queue one request each, in turn.
  const locked = await tx.selectFrom('exceptions').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  const item = locked ? await attentionItem(tx, id) : undefined;
  if (!item) throw new UseCaseError('not_found', `no exception ${id} in this workspace`);
  if (item.status !== 'open') throw new UseCaseError('conflict', `exception ${id} is already closed (${item.resolution ?? 'resolved'}); nothing to retry`);
  if (!item.posting_id) {
    throw new UseCaseError(
      'conflict',
      `"${item.title}" is not about a posting, so there is nothing to send again; fix the cause, then mark it resolved or dismiss it`,
    );
  }
  if (!retryable(item)) throw new UseCaseError('conflict', `the posting of "${item.title}" is already posted; nothing to retry`);
  const out = await retryPosting(tx, tenantId, item.posting_id, actor, now);
  await audit(tx, tenantId, actor, 'exception.retry_requested', { type: 'exception', id }, { kind: item.kind, posting_id: item.posting_id });
  return out;
}

export type BulkRetryOutcome =
  { readonly id: string; readonly ok: true; readonly posting: RetriedPosting } | { readonly id: string; readonly ok: false; readonly error: string };

export async function retryExceptions(db: Db, tenantId: string, ids: readonly string[], actor: Actor, now: () => Date): Promise<BulkRetryOutcome[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) throw new UseCaseError('invalid', 'choose at least one item to retry');
  if (unique.length > BULK_RETRY_MAX) throw new UseCaseError('invalid', `at most ${BULK_RETRY_MAX} items at once (${unique.length} chosen)`);
  const out: BulkRetryOutcome[] = [];
  for (const id of unique) {
    try {
      const posting = await withTenant(db, tenantId, (tx) => retryException(tx, tenantId, id, actor, now()));
      out.push({ id, ok: true, posting });
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      out.push({ id, ok: false, error: e.message });
    }
  }
  return out;
}
