// Reversals (refunds, returns, lost disputes) to the books, inside the tenant's accounting flush: after
// the payments (a reversal needs the payment it undoes to be in the books) and before the deposits (a
// deposit's adjustment line takes the reversed money out of the same account the reversal credits; see
// connectors/accounting/quickbooks-online/reversal.ts). One call per reversal: they are rare.
import { money, parseCurrency } from '../domain/money.ts';
import { withTenant } from '../db/tenant.ts';
import type { AccountingConnector } from '../connectors/accounting/types.ts';
import type { EngineContext } from './context.ts';
import { today } from './context.ts';
import { audit } from './audit.ts';

export async function postPendingReversals(
  ctx: EngineContext,
  tenantId: string,
  books: AccountingConnector,
): Promise<{ posted: number; failed: number; waiting: number }> {
  const out = { posted: 0, failed: 0, waiting: 0 };
  const rows = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('postings as r')
      .innerJoin('postings as o', 'o.id', 'r.reverses_posting_id')
      .innerJoin('invoices as i', 'i.id', 'r.invoice_id')
      .selectAll('r')
      .select(['o.status as original_status', 'o.remote_id as original_remote_id', 'i.number as invoice_number'])
      .where('r.target', '=', 'accounting')
      .where('r.kind', 'in', ['refund', 'payment_reversal'])
      .where('r.status', '=', 'pending')
      .where('r.next_attempt_at', '<=', ctx.now())
      .orderBy('r.created_at')
      .limit(200)
      .execute(),
  );
  for (const r of rows) {
    if (r.original_status === 'pending') {
      out.waiting++;
      continue; // the payment is not in the books yet; the next flush tries again
    }
    if (r.original_status === 'failed' || !r.original_remote_id) {
      await withTenant(ctx.db, tenantId, async (tx) => {
        await tx
          .updateTable('postings')
          .set({ status: 'failed', last_error: 'the payment this reverses never reached the books; nothing to undo there' })
          .where('id', '=', r.id)
          .where('status', '=', 'pending')
          .execute();
        await audit(
          tx,
          tenantId,
          'system:post-to-accounting',
          'posting.failed',
          { type: 'posting', id: r.id },
          { vendor: books.vendor, reason: 'original payment posting failed' },
        );
      });
      out.failed++;
      continue;
    }
    const result = await books.reversePayment({
      idempotencyKey: r.idempotency_key,
      paymentRemoteId: r.original_remote_id,
      invoiceNumber: r.invoice_number,
      amount: money(r.amount_minor, parseCurrency(r.currency)),
      reversedOn: today(new Date(r.created_at)),
      memo: `Settle ${r.kind === 'refund' ? 'refund' : 'reversal'} of payment ${r.payment_id} (invoice ${r.invoice_number})`,
    });
    await withTenant(ctx.db, tenantId, async (tx) => {
      if (result.ok) {
        await tx
          .updateTable('postings')
          .set((eb) => ({ status: 'posted', remote_id: result.remoteId, posted_at: new Date(), attempts: eb('attempts', '+', 1), last_error: null }))
          .where('id', '=', r.id)
          .where('status', '=', 'pending')
          .execute();
        await audit(
          tx,
          tenantId,
          'system:post-to-accounting',
          'posting.posted',
          { type: 'posting', id: r.id },
          { vendor: books.vendor, kind: r.kind, remote_id: result.remoteId, amount_minor: r.amount_minor },
        );
        out.posted++;
        return;
      }
      const attempts = r.attempts + 1;
      const giveUp = !result.retryable || attempts >= 12;
      await tx
        .updateTable('postings')
        .set({
          attempts,
          last_error: result.error.slice(0, 2000),
          status: giveUp ? 'failed' : 'pending',
          next_attempt_at: new Date(ctx.now().getTime() + Math.min(3_600_000, 1000 * 2 ** attempts)),
        })
        .where('id', '=', r.id)
        .execute();
      if (giveUp) {
        out.failed++;
        await audit(tx, tenantId, 'system:post-to-accounting', 'posting.failed', { type: 'posting', id: r.id }, { vendor: books.vendor, error: result.error });
      } else out.waiting++;
    });
  }
  return out;
}
