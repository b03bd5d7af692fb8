// A processor payout landed in the bank. We list what it is made of (the processor's balance
// transactions), tie each charge to our payment, book the fees and the transfer to the bank, and queue one
// deposit for the books that links those payments and carries the fees as a negative line — so the
// deposit equals the bank line (payments-rules.md §5.3).
import { journal } from '../domain/ledger.ts';
import { money, parseCurrency } from '../domain/money.ts';
import { withTenant } from '../db/tenant.ts';
import type { PayoutItem } from '../connectors/payments/types.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { enqueue } from './enqueue.ts';
import { writeJournal } from './ledger-writer.ts';
import { createPaymentPostings } from './payment-lifecycle.ts';

export async function reconcilePayout(ctx: EngineContext, tenantId: string, processorPayoutId: string): Promise<string> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) return 'no processor connected';
  const payout = await processor.getPayout(processorPayoutId);
  const items: PayoutItem[] = [];
  for await (const page of processor.listPayoutItems(processorPayoutId, payout.amount.currency)) items.push(...page);
  // The payout itself appears among its balance transactions as a 'payout' entry; the rest make it up.
  const parts = items.filter((i) => i.type !== 'other' || i.net.amountMinor !== -payout.amount.amountMinor);
  const currency = parseCurrency(payout.amount.currency);
  const gross = parts.reduce((s, i) => s + i.gross.amountMinor, 0n);
  const fees = parts.reduce((s, i) => s + i.fee.amountMinor, 0n);
  const net = parts.reduce((s, i) => s + i.net.amountMinor, 0n);
  if (net !== payout.amount.amountMinor) {
    ctx.log.warn(
      { tenantId, payout: processorPayoutId, net, amount: payout.amount.amountMinor },
      'payout items do not add up to the payout; booking the difference as an adjustment',
    );
  }
  const books = await withTenant(ctx.db, tenantId, (tx) =>
    tx.selectFrom('connections').select('vendor').where('role', '=', 'accounting').where('status', '!=', 'disabled').executeTakeFirst(),
  );

  return withTenant(ctx.db, tenantId, async (tx) => {
    const inserted = await tx
      .insertInto('payouts')
      .values({
        tenant_id: tenantId,
        processor: processor.vendor,
        processor_payout_id: processorPayoutId,
        currency,
        amount_minor: payout.amount.amountMinor,
        gross_minor: gross,
        fees_minor: fees,
        adjustments_minor: payout.amount.amountMinor - (gross - fees),
        arrival_date: payout.arrivalDate,
        status: payout.status,
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'processor', 'processor_payout_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return 'payout already reconciled';
    const payoutId = inserted.id;
    const ids = parts.map((p) => p.processorPaymentId).filter((x): x is string => !!x);
    const payments = ids.length
      ? await tx.selectFrom('payments').select(['id', 'processor_payment_id']).where('processor_payment_id', 'in', ids).execute()
      : [];
    const byProcessorId = new Map(payments.map((p) => [p.processor_payment_id!, p.id]));
    for (const it of parts) {
      const paymentId = it.processorPaymentId ? (byProcessorId.get(it.processorPaymentId) ?? null) : null;
      await tx
        .insertInto('payout_items')
        .values({
          tenant_id: tenantId,
          payout_id: payoutId,
          balance_transaction_id: it.balanceTransactionId,
          type: it.type,
          processor_payment_id: it.processorPaymentId,
          payment_id: paymentId,
          gross_minor: it.gross.amountMinor,
          fee_minor: it.fee.amountMinor,
          net_minor: it.net.amountMinor,
        })
        .execute();
      if (paymentId && (it.type === 'charge' || it.type === 'payment')) {
        await tx.updateTable('payments').set({ fee_minor: it.fee.amountMinor }).where('id', '=', paymentId).execute();
        // "Mark invoice paid on payout" (payment-lifecycle.ts): the PSA and the books hear of the payment
        // now that its money is in the bank. Otherwise they already have; this adds nothing.
        await createPaymentPostings(tx, paymentId);
      }
    }
    await writeJournal(tx, tenantId, 'processor_fees', journal.processorFee({ fee: money(fees, currency), memo: `fees in payout ${processorPayoutId}` }), {
      payoutId,
    });
    await writeJournal(tx, tenantId, 'payout', journal.payout({ amount: payout.amount, memo: `payout ${processorPayoutId}` }), { payoutId });
    if (books) {
      await tx
        .insertInto('postings')
        .values({
          tenant_id: tenantId,
          target: 'accounting',
          vendor: books.vendor,
          kind: 'deposit',
          payout_id: payoutId,
          amount_minor: payout.amount.amountMinor,
          currency,
          idempotency_key: `payout:${payoutId}:${books.vendor}:deposit`,
        })
        .execute();
      await enqueue(
        tx,
        'flush-accounting',
        { tenantId },
        { queueName: `accounting:${tenantId}`, jobKey: `flush-accounting:${tenantId}`, jobKeyMode: 'preserve_run_at', runAt: new Date(Date.now() + 150) },
      );
    }
    await audit(
      tx,
      tenantId,
      'vendor:processor',
      'payout.reconciled',
      { type: 'payout', id: payoutId },
      {
        processor_payout_id: processorPayoutId,
        amount_minor: payout.amount.amountMinor,
        fees_minor: fees,
        items: parts.length,
        matched: [...byProcessorId.keys()].length,
      },
    );
    return `payout reconciled: ${parts.length} items`;
  });
}
