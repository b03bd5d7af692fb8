// Reversals (refunds, returns, lost disputes) to the books, inside the tenant's accounting flush: after
// the payments (a reversal needs the payment it undoes to be in the books) and before the deposits (a
// deposit's adjustment line takes the reversed money out of the same account the reversal credits; see
// connectors/accounting/quickbooks-online/reversal.ts). Each reversal is a few calls (read the payment, the
// journal entry, re-apply the payment); reversals of different payments go side by side, those of one
// payment one after the other (each re-applies that payment's lines). One at a time, the soak's drain posted
// ~75 a minute and a backlog of a few hundred held every deposit behind it for minutes.
import { money, parseCurrency } from '../domain/money.ts';
import { withTenant } from '../db/tenant.ts';
import type { AccountingConnector } from '../connectors/accounting/types.ts';
import type { EngineContext } from './context.ts';
import { today } from './context.ts';
import { audit } from './audit.ts';
import { recordBooksAttempt } from './books-posting-outcome.ts';
import { tellAboutPosting } from './posting-exceptions.ts';
import { booksInvoiceNumber } from './remap-books-invoice.ts';
import { trackingForInvoices } from './gl-mapping.ts';

export async function postPendingReversals(
  ctx: EngineContext,
  tenantId: string,
  books: AccountingConnector,
  /**
   * Only reversals on invoices a payment posting is waiting to be applied to: the flush posts those before
   * its payments (each re-opens its invoice in the books), and leaves the rest for after them — all of them
   * first starved the payments in the soak (a backlog of reversals took longer than a process lived).
   */
  opts: { blockingPayments?: boolean } = {},
): Promise<{ posted: number; failed: number; waiting: number }> {
  const out = { posted: 0, failed: 0, waiting: 0 };
  const rows = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('postings as r')
      .$if(opts.blockingPayments === true, (q) =>
        q.where('r.invoice_id', 'in', (eb) =>
          eb
            .selectFrom('postings as waiting')
            .select('waiting.invoice_id')
            .where('waiting.target', '=', 'accounting')
            .where('waiting.kind', '=', 'payment')
            .where('waiting.status', '=', 'pending')
            .where('waiting.invoice_id', 'is not', null),
        ),
      )
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
  type Row = (typeof rows)[number];
  // Class / location of each reversal's invoice by the GL mapping's rules (gl-mapping.ts), as its payment had.
  const tracking = await withTenant(ctx.db, tenantId, (tx) =>
    trackingForInvoices(
      tx,
      rows.flatMap((r) => (r.invoice_id ? [r.invoice_id] : [])),
    ),
  );
  const byPayment = new Map<string, Row[]>();
  for (const r of rows) {
    const lane = r.reverses_posting_id ?? r.id;
    byPayment.set(lane, [...(byPayment.get(lane) ?? []), r]);
  }
  const lanes = [...byPayment.values()];
  let nextLane = 0;
  const work = async (): Promise<void> => {
    for (let lane = lanes[nextLane++]; lane; lane = lanes[nextLane++]) for (const r of lane) await postOne(r);
  };
  // allSettled, then the first error: no lane may still be writing when the job ends (and is retried).
  const settled = await Promise.allSettled(Array.from({ length: Math.min(REVERSAL_LANES, lanes.length) }, work));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return out;

  async function postOne(r: Row): Promise<void> {
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
      return;
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
      return;
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
      ...(r.invoice_id && tracking.has(r.invoice_id) ? { tracking: tracking.get(r.invoice_id)! } : {}),
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
}

/** Payments whose reversals go to the books at once (QuickBooks allows 10 requests in flight per company). */
const REVERSAL_LANES = 4;
