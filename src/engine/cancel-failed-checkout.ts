// A portal bank debit that failed is final (apply-processor-event.ts): its invoices are open again and the
// client is asked to pay another way. But the PaymentIntent goes back to `requires_payment_method` at Stripe
// and can still be confirmed — the soak saw a client pay the invoice again and then re-confirm the old intent:
// charged twice (refunded automatically, with an exception). So the dead intent is canceled at the processor.
// Best effort and safe: the connector never cancels an intent that is processing or succeeded (the client
// re-confirmed first): a processing debit is recorded as in flight again, a success arrives by webhook and is
// handled as a late success.
import { withTenant } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { recordPaymentProcessing } from './record-payment-outcome.ts';

export async function cancelFailedCheckout(ctx: EngineContext, tenantId: string, paymentId: string, processorPaymentId: string): Promise<string> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) return 'no processor connected';
  const answer = await processor.cancelPortalPayment({ processorPaymentId, idempotencyKey: `failed-checkout:${paymentId}:cancel` });
  // The client confirmed it again before the cancel: its money is in flight again, and the payment must say
  // so, or a second checkout would offer the same invoices again (a double charge the soak found).
  if (answer.kind === 'not_cancelable' && answer.outcome.kind === 'processing') {
    const ppid = answer.outcome.processorPaymentId;
    await withTenant(ctx.db, tenantId, (tx) => recordPaymentProcessing(tx, paymentId, ppid, true));
  }
  return answer.kind === 'canceled' ? 'failed checkout canceled at the processor' : `not canceled: the processor has it ${answer.outcome.kind}`;
}
