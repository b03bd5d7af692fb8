// Apply the fix the reconciliation offered for a drift (three-way-reconciliation.ts). The only fix Settle
// makes itself is to post again a record it posted that a person removed in the other system (a payment
// deleted in the PSA, a payment or deposit voided or deleted in the books) or that the system refused: the
// posting goes back to `failed` with the reason — as the books check does (check-books-records.ts) — and is
// retried through the same engine function as the API's retry (retry-posting.ts), a new request generation
// so nothing is replayed. Audited twice: the posting's own entries and `reconciliation.fix_applied`.
// Never twice: the drift row is locked and marked fixed in the same transaction. A deposit edited by hand is
// restored in place instead (reconciliation-deposit-restore.ts); applyOfferedFix picks the one a drift offers.
import { withTenant, type Tx } from '../db/tenant.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { restoreEditedDeposit } from './reconciliation-deposit-restore.ts';
import { retryPosting } from './retry-posting.ts';

export interface AppliedFix {
  readonly driftId: string;
  readonly postingId: string;
  readonly target: 'psa' | 'accounting';
  /** repost: queued to be posted again; restore_deposit: the deposit was put back in the books already. */
  readonly action: 'repost' | 'restore_deposit';
}

/** The fix a drift offers, whichever it is: the staff page's "fix" button. */
export async function applyOfferedFix(ctx: EngineContext, tenantId: string, driftId: string, actor: Actor): Promise<AppliedFix> {
  const action = await withTenant(ctx.db, tenantId, async (tx) => {
    const d = await tx.selectFrom('reconciliation_drifts').select('fix').where('id', '=', driftId).executeTakeFirst();
    if (!d) throw new UseCaseError('not_found', `no drift ${driftId} in this workspace`);
    return d.fix?.action ?? null;
  });
  if (action === 'restore_deposit') return restoreEditedDeposit(ctx, tenantId, driftId, actor);
  return withTenant(ctx.db, tenantId, (tx) => applyDriftFix(tx, tenantId, driftId, actor, ctx.now()));
}

export async function applyDriftFix(tx: Tx, tenantId: string, driftId: string, actor: Actor, now: Date): Promise<AppliedFix> {
  const d = await tx.selectFrom('reconciliation_drifts').selectAll().where('id', '=', driftId).forUpdate().executeTakeFirst();
  if (!d) throw new UseCaseError('not_found', `no drift ${driftId} in this workspace`);
  if (d.fixed_at) throw new UseCaseError('conflict', `this drift was fixed already (${d.fixed_at.toISOString()} by ${d.fixed_by ?? 'someone'})`);
  if (!d.fix || d.fix.action !== 'repost') throw new UseCaseError('invalid', 'Settle cannot post this again; the advice says what can be done');
  const p = await tx.selectFrom('postings').selectAll().where('id', '=', d.fix.posting_id).forUpdate().executeTakeFirst();
  if (!p) throw new UseCaseError('not_found', `the posting ${d.fix.posting_id} of this drift no longer exists`);
  if (p.status === 'pending') throw new UseCaseError('conflict', 'Settle is posting this record already; run the report again when it is done');
  if (p.status === 'posted') {
    const where = p.target === 'psa' ? 'the PSA' : 'the books';
    await tx
      .updateTable('postings')
      .set({ status: 'failed', last_error: `removed in ${where} (found by the reconciliation: ${d.cause})` })
      .where('id', '=', p.id)
      .where('status', '=', 'posted')
      .execute();
    await audit(
      tx,
      tenantId,
      actor,
      p.target === 'psa' ? 'posting.gone_in_psa' : 'posting.gone_in_books',
      { type: 'posting', id: p.id },
      {
        kind: p.kind,
        remote_id: p.remote_id,
        found_by: 'reconciliation',
        drift_id: d.id,
      },
    );
  }
  await retryPosting(tx, tenantId, p.id, actor, now);
  await tx.updateTable('reconciliation_drifts').set({ fixed_at: now, fixed_by: actor }).where('id', '=', d.id).execute();
  await audit(
    tx,
    tenantId,
    actor,
    'reconciliation.fix_applied',
    { type: 'reconciliation_drift', id: d.id },
    {
      run_id: d.run_id,
      kind: d.kind,
      reference: d.reference,
      posting_id: p.id,
      target: p.target,
      difference_minor: d.difference_minor.toString(),
    },
  );
  return { driftId: d.id, postingId: p.id, target: p.target, action: 'repost' };
}
