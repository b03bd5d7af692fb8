// Writes one allocated payment back to the PSA as a payment against the invoice. The PSA has no
// idempotency key, so the connector checks for our reference before writing; the posting row records the
// remote id once the PSA has it. A crash between the two is healed by running this again.
import { money, parseCurrency } from '../domain/money.ts';
import { withTenant } from '../db/tenant.ts';
import { refreshInvoiceStatus } from '../db/queries/invoice-balance.ts';
import type { EngineContext } from './context.ts';
import { today } from './context.ts';
import { audit } from './audit.ts';
import { crashPoint } from './crash-points.ts';
import { ingestInvoice } from './ingest-invoice.ts';
import { RetryLater, recordPostingFailure } from './posting-failure.ts';
import { postPsaReversal } from './post-psa-reversal.ts';

export async function postPsaPayment(ctx: EngineContext, tenantId: string, postingId: string): Promise<string> {
  const psa = await ctx.connectors.psa(tenantId);
  if (!psa) return 'no PSA connected';
  const job = await withTenant(ctx.db, tenantId, async (tx) => {
    const posting = await tx.selectFrom('postings').selectAll().where('id', '=', postingId).executeTakeFirst();
    if (!posting || posting.status !== 'pending' || !posting.invoice_id || !posting.payment_id) return null;
    if (posting.kind !== 'payment') return 'reversal' as const;
    const ref = await tx
      .selectFrom('external_refs')
      .select('remote_id')
      .where('entity', '=', 'invoice')
      .where('entity_id', '=', posting.invoice_id)
      .where('system', '=', psa.vendor)
      .executeTakeFirstOrThrow();
    const payment = await tx
      .selectFrom('payments')
      .select(['succeeded_at', 'processor_payment_id'])
      .where('id', '=', posting.payment_id)
      .executeTakeFirstOrThrow();
    // The PSA records our other payments on this invoice already stand for: never "find" one of them as this one.
    const claimed = await tx
      .selectFrom('postings')
      .select('remote_id')
      .where('invoice_id', '=', posting.invoice_id)
      .where('target', '=', 'psa')
      .where('vendor', '=', psa.vendor)
      .where('kind', '=', 'payment')
      .where('id', '!=', posting.id)
      .where('remote_id', 'is not', null)
      .execute();
    // A refund of another payment on this invoice that is not in the PSA yet goes first: until it is, the
    // PSA's balance has no room for this payment and refuses it for good ("exceeds the invoice balance") —
    // the soak saw exactly that when a refund and the next payment of one invoice were queued together.
    // Only reversals whose own payment is in the PSA are waited for: those never wait themselves, so two
    // payments of one invoice, each refunded, cannot wait for each other.
    const reversalFirst = await tx
      .selectFrom('postings as r')
      .innerJoin('postings as o', 'o.id', 'r.reverses_posting_id')
      .select('r.id')
      .where('r.invoice_id', '=', posting.invoice_id)
      .where('r.target', '=', 'psa')
      .where('r.status', '=', 'pending')
      .where('r.payment_id', '!=', posting.payment_id)
      .where('o.status', '=', 'posted')
      .limit(1)
      .executeTakeFirst();
    if (reversalFirst) return 'after-reversal' as const;
    return { posting, invoiceRemoteId: ref.remote_id, payment, claimedRemoteIds: claimed.map((c) => c.remote_id!) };
  });
  if (!job) return 'nothing to do';
  if (job === 'after-reversal') throw new RetryLater(`${psa.vendor}: a refund on this invoice is not in the PSA yet; this payment follows it`);
  // A reversal posting queued under this task (by a sweep before it told the two apart) is a reversal: it
  // reduces or removes the PSA payment, never writes its amount as a new one.
  if (job === 'reversal') return postPsaReversal(ctx, tenantId, postingId);
  const { posting } = job;
  try {
    const r = await psa.recordPayment({
      invoiceExternalId: job.invoiceRemoteId,
      amount: money(posting.amount_minor, parseCurrency(posting.currency)),
      paidOn: today(job.payment.succeeded_at ?? ctx.now()),
      reference: job.payment.processor_payment_id ?? posting.payment_id!,
      idempotencyKey: posting.idempotency_key,
      claimedRemoteIds: job.claimedRemoteIds,
    });
    crashPoint('after-psa-payment-sent');
    // Once posted, the allocation no longer counts against the balance Settle holds for the PSA, so that
    // balance must already include this payment: read the invoice back now rather than waiting for the
    // PSA's change notice (which may be late or lost), or the invoice would look fully open again meanwhile.
    const fetchedAt = new Date();
    const current = await psa.getInvoice(job.invoiceRemoteId);
    await withTenant(ctx.db, tenantId, async (tx) => {
      await tx
        .updateTable('postings')
        .set((eb) => ({ status: 'posted', remote_id: r.remoteId, posted_at: new Date(), attempts: eb('attempts', '+', 1), last_error: null }))
        .where('id', '=', posting.id)
        .where('status', '=', 'pending')
        .execute();
      if (current) {
        const inv = await tx.selectFrom('invoices').select('client_id').where('id', '=', posting.invoice_id!).executeTakeFirstOrThrow();
        await ingestInvoice(tx, tenantId, psa.vendor, current, inv.client_id, fetchedAt);
      }
      await refreshInvoiceStatus(tx, posting.invoice_id!);
      await audit(
        tx,
        tenantId,
        'system:post-psa-payment',
        'posting.posted',
        { type: 'posting', id: posting.id },
        { vendor: psa.vendor, remote_id: r.remoteId, already_recorded: r.alreadyRecorded, amount_minor: posting.amount_minor },
      );
    });
    return r.alreadyRecorded ? `found already in ${psa.vendor} (${r.remoteId})` : `posted to ${psa.vendor} (${r.remoteId})`;
  } catch (e) {
    return recordPostingFailure(ctx, tenantId, {
      postingId: posting.id,
      attempts: posting.attempts,
      vendor: psa.vendor,
      actor: 'system:post-psa-payment',
      error: e,
    });
  }
}
