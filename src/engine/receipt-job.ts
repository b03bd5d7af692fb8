// The receipt of a successful payment is composed by a job queued in the success's transaction, not in the
// transaction itself: composing it reads the payment, its invoices, the client and the workspace and writes
// the e-mail (five statements on the path of every charge — bench/autopay-run measured them). The job is
// queued in the same statement as the payment's posting jobs, so the receipt exists if and only if the
// success committed, and its key makes a second success report queue nothing twice.
import { withTenant } from '../db/tenant.ts';
import { queuePaymentReceipt } from '../notify/payment-receipt.ts';
import type { EngineContext } from './context.ts';
import type { JobSpec } from './enqueue.ts';

export function paymentReceiptJob(tenantId: string, paymentId: string): JobSpec<'queue-payment-receipt'> {
  return { task: 'queue-payment-receipt', payload: { tenantId, paymentId }, options: { jobKey: `receipt:payment:${paymentId}` } };
}

/** Composes and queues the receipt (once: the e-mail's idempotency key is per payment). */
export async function queueReceiptOfPayment(ctx: EngineContext, tenantId: string, paymentId: string): Promise<void> {
  await withTenant(ctx.db, tenantId, (tx) => queuePaymentReceipt(tx, tenantId, paymentId));
}
