// A verified processor event, taken from the inbox: move the payment along its state machine, or start
// reconciling a payout. Every branch is idempotent on its own (row lock + state guard), on top of the
// inbox's deduplication by event id.
import { withTenant, type Tx } from '../db/tenant.ts';
import type { ProcessorEvent } from '../connectors/payments/types.ts';
import type { EngineContext } from './context.ts';
import { recordAttemptDeclined, recordPaymentFailed, recordPaymentProcessing, recordPaymentSucceeded } from './record-payment-outcome.ts';
import { enqueue } from './enqueue.ts';
import { crashPoint } from './crash-points.ts';
import { applyRefundEvent } from './refund-payment.ts';
import { applyDisputeClosed, applyDisputeOpened } from './apply-dispute.ts';
import { endVerificationWait, recordAwaitingVerification } from './ach-microdeposits.ts';

async function findPayment(ctx: EngineContext, tenantId: string, processorPaymentId: string, metadata: Record<string, string>): Promise<string | null> {
  return withTenant(ctx.db, tenantId, async (tx) => {
    const byId = await tx.selectFrom('payments').select('id').where('processor_payment_id', '=', processorPaymentId).executeTakeFirst();
    if (byId) return byId.id;
    const ours = metadata.settle_payment;
    if (!ours || !/^[0-9a-f-]{36}$/i.test(ours)) return null;
    const byMeta = await tx.selectFrom('payments').select('id').where('id', '=', ours).executeTakeFirst();
    return byMeta?.id ?? null;
  });
}

/**
 * Whether the client still holds this payment's intent: a portal checkout, still open, whose attempt was
 * handed to the client's browser (client secret in the hosted fields) for this very intent. A charge
 * Settle confirmed itself (portal card review, autopay, staff) is never re-confirmed, so its decline is final.
 */
async function clientCanConfirmAgain(tx: Tx, paymentId: string, processorPaymentId: string): Promise<boolean> {
  const p = await tx.selectFrom('payments').select(['state', 'source', 'processor_payment_id']).where('id', '=', paymentId).executeTakeFirst();
  if (!p || p.source !== 'portal' || p.state !== 'pending' || p.processor_payment_id !== processorPaymentId) return false;
  const handed = await tx
    .selectFrom('payment_attempts')
    .select('id')
    .where('payment_id', '=', paymentId)
    .where('outcome', '=', 'requires_action')
    .where('processor_payment_id', '=', processorPaymentId)
    .executeTakeFirst();
  if (!handed) return false;
  // A card review (pay-card-with-surcharge) hands the client only a 3-D Secure step; a decline ends it.
  const reviewed = await tx.selectFrom('surcharge_quotes').select('id').where('payment_id', '=', paymentId).executeTakeFirst();
  return reviewed === undefined;
}

export async function applyProcessorEvent(ctx: EngineContext, tenantId: string, event: ProcessorEvent): Promise<string> {
  switch (event.type) {
    case 'payment.succeeded': {
      const id = await findPayment(ctx, tenantId, event.processorPaymentId, event.metadata);
      if (!id) return 'ignored: not a payment Settle started';
      const changed = await withTenant(ctx.db, tenantId, async (tx) => {
        await tx
          .updateTable('payment_attempts')
          .set({ outcome: 'succeeded', processor_payment_id: event.processorPaymentId, resolved_at: new Date() })
          .where('payment_id', '=', id)
          // `declined`: the processor's success overtakes a decline of the same intent (record-payment-outcome).
          .where('outcome', 'in', ['sending', 'requires_action', 'processing', 'unknown', 'declined'])
          .where((eb) => eb.or([eb('processor_payment_id', 'is', null), eb('processor_payment_id', '=', event.processorPaymentId)]))
          .execute();
        await endVerificationWait(tx, tenantId, id, 'debit_succeeded');
        return recordPaymentSucceeded(tx, id, {
          processorPaymentId: event.processorPaymentId,
          method: event.method,
          ...(event.processorMethodId ? { processorMethodId: event.processorMethodId } : {}),
        });
      });
      if (changed) crashPoint('after-payment-succeeded-committed');
      return changed ? 'payment succeeded' : 'already recorded';
    }
    case 'payment.processing': {
      const id = await findPayment(ctx, tenantId, event.processorPaymentId, event.metadata);
      if (!id) return 'ignored: not a payment Settle started';
      const changed = await withTenant(ctx.db, tenantId, async (tx) => {
        await endVerificationWait(tx, tenantId, id, 'bank_account_verified'); // the debit started
        return recordPaymentProcessing(tx, id, event.processorPaymentId);
      });
      return changed ? 'payment processing' : 'already recorded';
    }
    case 'payment.awaiting_verification': {
      const id = await findPayment(ctx, tenantId, event.processorPaymentId, event.metadata);
      if (!id) return 'ignored: not a payment Settle started';
      return (await recordAwaitingVerification(ctx, tenantId, id, event.verification)) ? 'waiting for microdeposit verification' : 'already past verification';
    }
    case 'payment.failed': {
      const id = await findPayment(ctx, tenantId, event.processorPaymentId, event.metadata);
      if (!id) return 'ignored: not a payment Settle started';
      const r = await withTenant(ctx.db, tenantId, async (tx) => {
        // A checkout the client confirms in the hosted fields (its attempt handed to the client, awaiting
        // them) is still open after a decline: the intent can be confirmed again with another card.
        // A bank debit that failed (days after the client left) is final, whatever order its events came in.
        if (event.methodKind !== 'us_bank_account' && (await clientCanConfirmAgain(tx, id, event.processorPaymentId))) {
          await tx
            .updateTable('payment_attempts')
            .set({ decline_code: event.declineCode, message: event.message })
            .where('payment_id', '=', id)
            .where('outcome', '=', 'requires_action')
            .execute();
          return (await recordAttemptDeclined(tx, id, event.declineCode, event.message, event.eventId))
            ? 'card declined; the checkout stays open for another card'
            : null;
        }
        await tx
          .updateTable('payment_attempts')
          .set({ outcome: 'declined', decline_code: event.declineCode, message: event.message, resolved_at: new Date() })
          .where('payment_id', '=', id)
          .where('outcome', 'in', ['sending', 'requires_action', 'processing', 'unknown'])
          .execute();
        await endVerificationWait(tx, tenantId, id, 'payment_failed');
        const failed = await recordPaymentFailed(tx, id, event.declineCode, event.message, event.methodKind ?? null);
        // A portal checkout's intent could be confirmed again at the processor: close it (cancel-failed-checkout.ts).
        if (failed) {
          const p = await tx.selectFrom('payments').select('source').where('id', '=', id).executeTakeFirst();
          if (p?.source === 'portal')
            await enqueue(
              tx,
              'cancel-failed-checkout',
              { tenantId, paymentId: id, processorPaymentId: event.processorPaymentId },
              { jobKey: `cancel-failed-checkout:${id}` },
            );
        }
        return failed ? 'payment failed' : null;
      });
      return r ?? 'already recorded';
    }
    case 'payout.paid':
      // Payouts have a queue of their own: in `accounting:<tenant>` they waited behind the books flush, which
      // can run for minutes (a QuickBooks request unanswered for 120 s, retried), and the soak found them
      // overdue. Reconciling talks only to the processor; the deposit it creates is the flush's job.
      await withTenant(ctx.db, tenantId, (tx) =>
        enqueue(
          tx,
          'reconcile-payout',
          { tenantId, processorPayoutId: event.payoutId },
          { jobKey: `reconcile-payout:${event.payoutId}`, queueName: `payouts:${tenantId}` },
        ),
      );
      return 'payout reconciliation queued';
    case 'payout.failed':
      ctx.log.warn({ tenantId, payout: event.payoutId }, 'processor reports a failed payout');
      return 'payout failed noted';
    case 'refund.updated': {
      const id = await findPayment(ctx, tenantId, event.processorPaymentId, event.metadata);
      if (!id) return 'ignored: a refund of a payment Settle did not start';
      return applyRefundEvent(ctx, tenantId, event, id);
    }
    case 'dispute.created': {
      const id = await findPayment(ctx, tenantId, event.processorPaymentId, {});
      if (!id) return 'ignored: a dispute of a payment Settle did not start';
      return applyDisputeOpened(ctx, tenantId, event, id);
    }
    case 'dispute.closed':
      return applyDisputeClosed(ctx, tenantId, event);
    case 'ignored':
      return `ignored: ${event.vendorType}`;
    default: {
      const _exhaustive: never = event;
      throw new Error(`unhandled processor event ${JSON.stringify(_exhaustive)}`);
    }
  }
}
