// The three-way reconciliation's fix for a deposit edited by hand in the books (domain/reconciliation.ts
// deposit_edited): Settle puts the deposit back as it posts it — the payout's amount, each payment linked and
// the fee line — in place, through the ledger's connector (AccountingConnector.restoreDeposit; why in place
// and not void-and-repost: quickbooks-online/deposit-restore.ts). Offered only where the connector can
// (three-way-reconciliation.ts RESTORES_DEPOSITS).
//
// A person's click, answered in the same request: the drift is checked (and not fixed already) in one
// transaction, the ledger is written outside it (never hold a row lock over a vendor call), and the outcome
// recorded in a second one that marks the drift fixed only if no one else did meanwhile. Twice is harmless:
// the restore reads the deposit first and writes nothing when it already equals the payout. A refusal is
// shown to the person with the ledger's own words; nothing is marked.
import { withTenant } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { UseCaseError } from './context.ts';
import { audit, type Actor } from './audit.ts';
import { depositInput } from './books-deposit.ts';
import { planPayoutDeposit } from './payout-deposit-plan.ts';
import type { AppliedFix } from './reconciliation-fix.ts';

export async function restoreEditedDeposit(ctx: EngineContext, tenantId: string, driftId: string, actor: Actor): Promise<AppliedFix> {
  const found = await withTenant(ctx.db, tenantId, async (tx) => {
    const d = await tx.selectFrom('reconciliation_drifts').selectAll().where('id', '=', driftId).executeTakeFirst();
    if (!d) throw new UseCaseError('not_found', `no drift ${driftId} in this workspace`);
    if (d.fixed_at) throw new UseCaseError('conflict', `this drift was fixed already (${d.fixed_at.toISOString()} by ${d.fixed_by ?? 'someone'})`);
    if (d.fix?.action !== 'restore_deposit') throw new UseCaseError('invalid', 'this drift is not a deposit Settle can restore');
    const deposit = await tx.selectFrom('postings').selectAll().where('id', '=', d.fix.posting_id).executeTakeFirst();
    if (!deposit || deposit.kind !== 'deposit' || !deposit.payout_id)
      throw new UseCaseError('not_found', `the deposit posting ${d.fix.posting_id} of this drift no longer exists`);
    if (deposit.status !== 'posted' || !deposit.remote_id)
      throw new UseCaseError('conflict', 'the deposit is not posted in the books as it was when the report ran; run the report again');
    return { drift: d, deposit, plan: await planPayoutDeposit(tx, deposit.payout_id) };
  });
  const books = await ctx.connectors.accounting(tenantId);
  if (!books || books.vendor !== found.deposit.vendor)
    throw new UseCaseError('conflict', 'the books connection this deposit was posted to is no longer connected; reconnect it first');
  if (!books.restoreDeposit) throw new UseCaseError('invalid', `Settle cannot restore a deposit in ${books.vendor}; the advice says what to do by hand`);
  const r = await books.restoreDeposit({ ...depositInput(found.deposit, found.plan), depositRemoteId: found.deposit.remote_id! });
  // A ledger reached later (QuickBooks Desktop: the Web Connector's next run) has taken the restore but not made it yet.
  if (!r.ok && r.retryable && books.vendor === 'quickbooks-desktop')
    throw new UseCaseError('conflict', `the restore is on its way to the books, not made yet: ${r.error}; apply the fix again after that`);
  if (!r.ok) throw new UseCaseError('conflict', `the books refused to restore the deposit: ${r.error}`);
  return withTenant(ctx.db, tenantId, async (tx) => {
    const marked = await tx
      .updateTable('reconciliation_drifts')
      .set({ fixed_at: ctx.now(), fixed_by: actor })
      .where('id', '=', driftId)
      .where('fixed_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!marked) throw new UseCaseError('conflict', 'this drift was fixed by someone else meanwhile');
    // The restored deposit links every payment now in the books and carries the others on clearing lines.
    const onClearing = new Set(r.onClearing);
    for (const p of found.plan.payments) {
      const clearing = onClearing.has(p.idempotencyKey);
      await tx
        .updateTable('deposit_lines')
        .set({ status: clearing ? 'clearing' : 'linked', linked_at: clearing ? null : ctx.now() })
        .where('deposit_posting_id', '=', found.deposit.id)
        .where('payment_posting_id', '=', p.postingId)
        .where('status', '!=', clearing ? 'clearing' : 'linked')
        .execute();
    }
    await audit(
      tx,
      tenantId,
      actor,
      'deposit.restored',
      { type: 'posting', id: found.deposit.id },
      { vendor: books.vendor, remote_id: r.remoteId, found_by: 'reconciliation', drift_id: driftId },
    );
    await audit(
      tx,
      tenantId,
      actor,
      'reconciliation.fix_applied',
      { type: 'reconciliation_drift', id: driftId },
      {
        run_id: found.drift.run_id,
        kind: found.drift.kind,
        reference: found.drift.reference,
        posting_id: found.deposit.id,
        target: 'accounting',
        action: 'restore_deposit',
        difference_minor: found.drift.difference_minor.toString(),
      },
    );
    return { driftId, postingId: found.deposit.id, target: 'accounting' as const, action: 'restore_deposit' as const };
  });
}
