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
import { recordBooksAttempt } from './books-posting-outcome.ts';
import { tellAboutPosting } from './posting-exceptions.ts';
import { booksInvoiceNumber } from './remap-books-invoice.ts';

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
      .select([
        'o.status as original_status',
        'o.remote_id as original_remote_id',
        'o.next_attempt_at as original_next_attempt_at',
        booksInvoiceNumber('r').as('invoice_number'),
      ])
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
      // The payment is not in the books yet (it may wait days for its invoice): look again after its next
      // attempt, not at every flush.
      await withTenant(ctx.db, tenantId, (tx) =>
        tx
          .updateTable('postings')
          .set({ next_attempt_at: new Date(Math.max(new Date(r.original_next_attempt_at).getTime(), ctx.now().getTime()) + 1000) })
          .where('id', '=', r.id)
          .where('status', '=', 'pending')
          .execute(),
      );
      out.waiting++;
      continue;
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
        await tellAboutPosting(tx, tenantId, 'system:post-to-accounting', r.id, {
          kind: 'failed',
          error: `the payment it reverses never reached the books (posting ${r.reverses_posting_id}); retry that posting first, then this one`,
        });
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
      // Bumped by a person's retry after a refusal (retry-posting.ts): a new request, not the refusal replayed.
      requestGeneration: r.request_generation,
    });
    await withTenant(ctx.db, tenantId, async (tx) => {
      const outcome = await recordBooksAttempt(ctx, tx, tenantId, books.vendor, r, result);
      if (outcome === 'posted' && result.ok) {
        await audit(
          tx,
          tenantId,
          'system:post-to-accounting',
          'posting.posted',
          { type: 'posting', id: r.id },
          { vendor: books.vendor, kind: r.kind, remote_id: result.remoteId, amount_minor: r.amount_minor },
        );
        // The reversal re-opened its invoice in the books: a payment on it refused meanwhile
        // (books-posting-outcome.ts › reversalOnItsWay) goes at once.
        await tx
          .updateTable('postings')
          .set({ next_attempt_at: ctx.now() })
          .where('invoice_id', '=', r.invoice_id)
          .where('target', '=', 'accounting')
          .where('kind', '=', 'payment')
          .where('status', '=', 'pending')
          .where('attempts', '>', 0)
          .execute();
        out.posted++;
      } else if (outcome === 'failed') out.failed++;
      else out.waiting++;
    });
  }
  return out;
}
