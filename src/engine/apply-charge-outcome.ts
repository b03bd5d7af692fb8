// Records what a charge attempt came to (ARCHITECTURE.md: succeeded, declined, not-sent, unknown — plus
// ACH's processing and 3-D Secure's requires_action). No branch here guesses: unknown stays unknown until
// the processor is asked (resolve-unknown-payments.ts).
import { withTenant, type Tx } from '../db/tenant.ts';
import type { ChargeOutcome } from '../connectors/payments/types.ts';
import type { EngineContext } from './context.ts';
import { recordPaymentFailed, recordPaymentProcessing, recordPaymentSucceeded, recordPaymentUnknown } from './record-payment-outcome.ts';
import { crashPoint } from './crash-points.ts';

/** `withinTx`: the caller's own bookkeeping, in the same transaction (e.g. an autopay schedule marked charged). */
export async function applyChargeOutcome(
  ctx: EngineContext,
  tenantId: string,
  paymentId: string,
  attemptId: string,
  outcome: ChargeOutcome,
  withinTx?: (tx: Tx) => Promise<void>,
): Promise<void> {
  await withTenant(ctx.db, tenantId, async (tx) => {
    await withinTx?.(tx);
    const attempt = (o: string, extra: { processor_payment_id?: string | null; decline_code?: string | null; message?: string | null } = {}) =>
      tx
        .updateTable('payment_attempts')
        .set({ outcome: o as never, resolved_at: o === 'unknown' ? null : new Date(), ...extra })
        .where('id', '=', attemptId)
        .execute();
    switch (outcome.kind) {
      case 'succeeded':
        await attempt('succeeded', { processor_payment_id: outcome.processorPaymentId });
        await recordPaymentSucceeded(tx, paymentId, {
          processorPaymentId: outcome.processorPaymentId,
          method: null,
          ...(ctx.stampsWithClock ? { at: ctx.now() } : {}),
        });
        return;
      case 'processing':
        await attempt('processing', { processor_payment_id: outcome.processorPaymentId });
        await recordPaymentProcessing(tx, paymentId, outcome.processorPaymentId, true); // a call's answer: the intent as it is now
        return;
      case 'requires_action':
        await attempt('requires_action', { processor_payment_id: outcome.processorPaymentId });
        await tx.updateTable('payments').set({ processor_payment_id: outcome.processorPaymentId }).where('id', '=', paymentId).execute();
        return;
      case 'declined':
        await attempt('declined', { processor_payment_id: outcome.processorPaymentId, decline_code: outcome.declineCode, message: outcome.message });
        // Keep the declined intent's id on the payment: its later events (a success after all) find it by id.
        if (outcome.processorPaymentId)
          await tx
            .updateTable('payments')
            .set({ processor_payment_id: outcome.processorPaymentId })
            .where('id', '=', paymentId)
            .where('processor_payment_id', 'is', null)
            .execute();
        await recordPaymentFailed(tx, paymentId, outcome.declineCode, outcome.message);
        return;
      case 'not_sent':
        await attempt('not_sent', { message: outcome.reason });
        await recordPaymentFailed(tx, paymentId, 'not_sent', outcome.reason);
        return;
      case 'unknown':
        await attempt('unknown', { message: outcome.reason });
        await recordPaymentUnknown(tx, paymentId, outcome.reason);
        ctx.log.warn({ paymentId, reason: outcome.reason }, 'charge outcome unknown; will ask the processor');
        return;
      default: {
        const _exhaustive: never = outcome;
        throw new Error(`unhandled charge outcome ${JSON.stringify(_exhaustive)}`);
      }
    }
  });
  if (outcome.kind === 'succeeded') crashPoint('after-payment-succeeded-committed');
}
