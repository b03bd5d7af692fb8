// Writes one reversal (refund, return, lost dispute) back to the PSA: the payment Settle recorded is
// reduced to what remains of it, or removed. Runs in the tenant's PSA queue after the payment posting it
// undoes; if that posting has not reached the PSA yet, this waits for it; if it never will (failed),
// there is nothing to undo and this posting fails too, so the invoice balance keeps counting the reversal
// as not reflected (db/queries/invoice-balance.ts) and staff see it.
import { money, parseCurrency } from '../domain/money.ts';
import { withTenant } from '../db/tenant.ts';
import { refreshInvoiceStatus } from '../db/queries/invoice-balance.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { tellAboutPosting } from './posting-exceptions.ts';
import { RetryLater, recordPostingFailure } from './posting-failure.ts';
import { ingestInvoice } from './ingest-invoice.ts';

export async function postPsaReversal(ctx: EngineContext, tenantId: string, postingId: string): Promise<string> {
  const psa = await ctx.connectors.psa(tenantId);
  if (!psa) return 'no PSA connected';
  const job = await withTenant(ctx.db, tenantId, async (tx) => {
    const posting = await tx.selectFrom('postings').selectAll().where('id', '=', postingId).executeTakeFirst();
    if (!posting || posting.status !== 'pending' || !posting.reverses_posting_id || !posting.invoice_id) return null;
    const original = await tx.selectFrom('postings').selectAll().where('id', '=', posting.reverses_posting_id).executeTakeFirstOrThrow();
    const ref = await tx
      .selectFrom('external_refs')
      .select('remote_id')
      .where('entity', '=', 'invoice')
      .where('entity_id', '=', posting.invoice_id)
      .where('system', '=', psa.vendor)
      .executeTakeFirstOrThrow();
    return { posting, original, invoiceRemoteId: ref.remote_id };
  });
  if (!job) return 'nothing to do';
  const { posting, original } = job;
  if (original.status === 'pending') throw new RetryLater(`${psa.vendor}: the payment this reverses is not in the PSA yet; waiting for it`);
  if (original.status === 'failed' || !original.remote_id) {
    await withTenant(ctx.db, tenantId, async (tx) => {
      await tx
        .updateTable('postings')
        .set({ status: 'failed', last_error: 'the payment this reverses never reached the PSA; nothing to undo there' })
        .where('id', '=', posting.id)
        .where('status', '=', 'pending')
        .execute();
      await audit(
        tx,
        tenantId,
        'system:post-psa-reversal',
        'posting.failed',
        { type: 'posting', id: posting.id },
        { vendor: psa.vendor, reason: 'original payment posting failed' },
      );
      await tellAboutPosting(tx, tenantId, 'system:post-psa-reversal', posting.id, {
        kind: 'failed',
        error: `the payment it reverses never reached ${psa.vendor} (posting ${original.id}); retry that posting first, then this one`,
      });
    });
    return 'failed: original never posted';
  }
  try {
    const r = await psa.reversePayment({
      invoiceExternalId: job.invoiceRemoteId,
      paymentRemoteId: original.remote_id,
      remaining: money(posting.remaining_minor ?? 0n, parseCurrency(posting.currency)),
      idempotencyKey: posting.idempotency_key,
    });
    // Once posted, the reversal no longer counts as "not yet in the PSA", so the balance Settle holds for
    // the PSA must already include it: read the invoice back now (as post-psa-payment does) rather than
    // wait for the change notice, or the invoice would look paid again meanwhile.
    const fetchedAt = new Date();
    const current = await psa.getInvoice(job.invoiceRemoteId);
    await withTenant(ctx.db, tenantId, async (tx) => {
      if (current) {
        const inv = await tx.selectFrom('invoices').select('client_id').where('id', '=', posting.invoice_id!).executeTakeFirstOrThrow();
        await ingestInvoice(tx, tenantId, psa.vendor, current, inv.client_id, fetchedAt);
      }
      await tx
        .updateTable('postings')
        .set((eb) => ({ status: 'posted', remote_id: original.remote_id, posted_at: new Date(), attempts: eb('attempts', '+', 1), last_error: null }))
        .where('id', '=', posting.id)
        .where('status', '=', 'pending')
        .execute();
      await refreshInvoiceStatus(tx, posting.invoice_id!);
      await audit(
        tx,
        tenantId,
        'system:post-psa-reversal',
        'posting.posted',
        { type: 'posting', id: posting.id },
        { vendor: psa.vendor, kind: posting.kind, outcome: r.outcome, remote_id: original.remote_id, remaining_minor: posting.remaining_minor },
      );
    });
    return `${r.outcome} in ${psa.vendor} (payment ${original.remote_id})`;
  } catch (e) {
    return recordPostingFailure(ctx, tenantId, {
      postingId: posting.id,
      attempts: posting.attempts,
      vendor: psa.vendor,
      actor: 'system:post-psa-reversal',
      error: e,
    });
  }
}
