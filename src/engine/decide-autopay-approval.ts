// Staff decide on a charge that waits for approval (over a rule's cap, or a jump against the client's previous
// invoice). Approve: the next run notices and charges (a run is queued at once). Reject: the schedule is
// cancelled — and the client told, if a notice had gone out. Audited with the amount and who decided.
import { withTenant } from '../db/tenant.ts';
import { audit, type Actor } from './audit.ts';
import { cancelLocked, lockActiveSchedule } from './advance-autopay-schedule.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { enqueue } from './enqueue.ts';

export async function decideAutopayApproval(
  ctx: EngineContext,
  tenantId: string,
  input: { approvalId: string; decision: 'approve' | 'reject'; note: string | null; actor: Actor },
): Promise<{ status: 'approved' | 'rejected' }> {
  return withTenant(ctx.db, tenantId, async (tx) => {
    const a = await tx.selectFrom('autopay_approvals').selectAll().where('id', '=', input.approvalId).forUpdate().executeTakeFirst();
    if (!a) throw new UseCaseError('not_found', `no autopay approval ${input.approvalId} in this workspace`);
    if (a.status !== 'pending') {
      throw new UseCaseError(
        'conflict',
        `approval ${a.id} is already ${a.status}${a.status === 'superseded' ? ' (the invoice changed; decide on the newest approval for it: GET /api/v1/autopay/approvals?status=pending)' : ''}`,
      );
    }
    const s = await lockActiveSchedule(tx, a.schedule_id);
    if (!s) throw new UseCaseError('conflict', 'this charge is no longer waiting (the invoice was paid, voided or cancelled meanwhile)');
    const status = input.decision === 'approve' ? 'approved' : 'rejected';
    await tx
      .updateTable('autopay_approvals')
      .set({ status, decided_by: input.actor, decided_at: new Date(), note: input.note })
      .where('id', '=', a.id)
      .execute();
    const inv = await tx.selectFrom('invoices').select('number').where('id', '=', a.invoice_id).executeTakeFirstOrThrow();
    await audit(
      tx,
      tenantId,
      input.actor,
      `autopay.approval_${status}`,
      { type: 'autopay_approval', id: a.id },
      {
        invoice: inv.number,
        amount_minor: a.amount_minor,
        currency: a.currency,
        reasons: a.reasons,
        version: a.invoice_version,
        note: input.note,
      },
    );
    if (status === 'rejected') {
      const tenant = await tx.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirstOrThrow();
      await cancelLocked(tx, tenantId, s, 'rejected_by_staff', tenant.name, input.actor);
    } else {
      await enqueue(tx, 'autopay-run', { tenantId }, { jobKey: `autopay-run:${tenantId}`, queueName: `autopay:${tenantId}`, maxAttempts: 5 });
    }
    return { status };
  });
}
