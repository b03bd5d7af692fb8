// The receipt of a successful payment is composed by a job queued in the success's transaction, not in the
// transaction itself: composing it reads the payment, its invoices, the client and the workspace and writes
// the e-mail (five statements on the path of every charge — bench/autopay-run measured them). The job is
// queued in the same statement as the payment's posting jobs, so the receipt exists if and only if the
// success committed, and its key makes a second success report queue nothing twice.
//
// A portal payment's success arrives by webhook, which names the card only by its processor id: the job asks
// the processor for the brand and last 4 first and keeps them on the payment (the receipt, the staff pages
// and the client's history show "Visa ·4242", not just "card").
import { withTenant } from '../db/tenant.ts';
import { queuePaymentReceipt } from '../notify/payment-receipt.ts';
import type { EngineContext } from './context.ts';
import type { JobSpec } from './enqueue.ts';

export function paymentReceiptJob(tenantId: string, paymentId: string, processorMethodId: string | null = null): JobSpec<'queue-payment-receipt'> {
  return {
    task: 'queue-payment-receipt',
    payload: { tenantId, paymentId, ...(processorMethodId ? { processorMethodId } : {}) },
    options: { jobKey: `receipt:payment:${paymentId}` },
  };
}

/** Composes and queues the receipt (once: the e-mail's idempotency key is per payment). */
export async function queueReceiptOfPayment(ctx: EngineContext, tenantId: string, paymentId: string, processorMethodId?: string): Promise<void> {
  if (processorMethodId) await recordMethodDetails(ctx, tenantId, paymentId, processorMethodId);
  await withTenant(ctx.db, tenantId, (tx) => queuePaymentReceipt(tx, tenantId, paymentId));
}

/**
 * Brand and last 4 of the method that paid, from the processor. Best effort: if the processor cannot answer
 * now, the receipt goes out without them rather than waiting (it says "card"); the payment is unaffected.
 */
async function recordMethodDetails(ctx: EngineContext, tenantId: string, paymentId: string, processorMethodId: string): Promise<void> {
  try {
    const processor = await ctx.connectors.payments(tenantId);
    if (!processor) return;
    const m = await processor.describeMethod(processorMethodId);
    await withTenant(ctx.db, tenantId, (tx) =>
      tx
        .updateTable('payments')
        .set((eb) => ({
          method_kind: eb.fn.coalesce('method_kind', eb.val(m.kind)),
          method_brand: eb.fn.coalesce('method_brand', eb.val(m.brand)),
          method_last4: eb.fn.coalesce('method_last4', eb.val(m.last4)),
        }))
        .where('id', '=', paymentId)
        .execute(),
    );
  } catch (e) {
    ctx.log.warn({ err: e, paymentId }, 'could not read the paying method from the processor; the receipt says "card"');
  }
}
