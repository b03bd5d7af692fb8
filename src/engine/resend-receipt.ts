// Staff resend a payment's receipt (the client lost it, or the billing address was fixed in the PSA since).
// Through the e-mail outbox like every e-mail, to the client's billing address as it is now; audited. The
// key comes from the form that asked, so a double submit queues one e-mail, and each new press another.
import { withTenant } from '../db/tenant.ts';
import { queuePaymentReceipt } from '../notify/payment-receipt.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError, type EngineContext } from './context.ts';

const SENDABLE = new Set(['succeeded', 'partially_refunded', 'refunded']);

export async function resendReceipt(
  ctx: EngineContext,
  tenantId: string,
  input: { paymentId: string; requestKey: string; actor: Actor },
): Promise<{ to: string; queued: boolean }> {
  if (!/^[A-Za-z0-9_-]{8,100}$/.test(input.requestKey)) throw new UseCaseError('invalid', 'the form is out of date; reload the payment and press Resend again');
  return withTenant(ctx.db, tenantId, async (tx) => {
    const p = await tx
      .selectFrom('payments as p')
      .innerJoin('clients as c', 'c.id', 'p.client_id')
      .select(['p.id', 'p.state', 'c.billing_email', 'c.name'])
      .where('p.id', '=', input.paymentId)
      .executeTakeFirst();
    if (!p) throw new UseCaseError('not_found', `no payment ${input.paymentId} in this workspace`);
    if (!SENDABLE.has(p.state)) throw new UseCaseError('conflict', `there is no receipt for a payment that is ${p.state.replace(/_/g, ' ')}`);
    if (!p.billing_email)
      throw new UseCaseError('conflict', `${p.name} has no billing e-mail address; add one to the client in the PSA, then resend the receipt`);
    const id = await queuePaymentReceipt(tx, tenantId, p.id, `receipt:resend:${p.id}:${input.requestKey}`);
    if (id) await audit(tx, tenantId, input.actor, 'receipt.resent', { type: 'payment', id: p.id }, { to: p.billing_email, notification_id: id });
    return { to: p.billing_email, queued: id !== null };
  });
}
