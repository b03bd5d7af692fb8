// Staff decide to give a client's credit back instead of applying it. The decision is recorded first, per
// paying payment, oldest credit first (a refund returns money to the method it came from, so a credit
// made of two payments becomes two refunds), and reserves that credit so it cannot also be applied. Then
// each decision becomes a refund of its source payment through the payment lifecycle's refund path
// (refund-payment.ts requestRefund, idempotency key `credit-refund:<decision id>`), which takes the
// amount from the payment's unapplied credit first, books journal.refund against client_credit and writes
// the credit's 'refund' movement when the processor confirms.
import type { Tx } from '../db/tenant.ts';
import { withTenant } from '../db/tenant.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { audit, type Actor } from './audit.ts';
import { creditSources } from './client-credit.ts';
import { requestRefund } from './refund-payment.ts';

export interface CreditRefundDecision {
  readonly refundId: string;
  readonly sourcePaymentId: string;
  readonly amountMinor: bigint;
  readonly status: 'decided' | 'sent' | 'refunded' | 'failed';
  readonly message: string | null;
}

const likePrefix = (s: string): string => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}:%`;

export async function decideCreditRefund(
  tx: Tx,
  tenantId: string,
  input: { clientId: string; currency: string; amountMinor: bigint; reason: string; actor: Actor; idempotencyKey: string },
): Promise<CreditRefundDecision[]> {
  if (input.amountMinor <= 0n) throw new UseCaseError('invalid', 'amount_minor must be more than zero');
  if (!input.reason.trim()) throw new UseCaseError('invalid', 'give a reason for the refund; it is kept in the audit log');
  const client = await tx.selectFrom('clients').select('id').where('id', '=', input.clientId).forNoKeyUpdate().executeTakeFirst();
  if (!client) throw new UseCaseError('not_found', `no client ${input.clientId} in this workspace`);
  // The same decision sent twice (a retried request) is one decision.
  const earlier = await tx.selectFrom('credit_refunds').selectAll().where('idempotency_key', 'like', likePrefix(input.idempotencyKey)).execute();
  if (earlier.length > 0)
    return earlier.map((r) => ({ refundId: r.id, sourcePaymentId: r.source_payment_id, amountMinor: r.amount_minor, status: r.status, message: null }));
  const sources = await creditSources(tx, input.clientId, input.currency);
  const available = sources.reduce((s, x) => s + x.availableMinor, 0n);
  if (input.amountMinor > available) {
    throw new UseCaseError('invalid', `the client has ${available} ${input.currency} minor units of credit; ${input.amountMinor} is more than that`);
  }
  let left = input.amountMinor;
  const out: CreditRefundDecision[] = [];
  for (const s of sources) {
    if (left === 0n) break;
    const amount = s.availableMinor < left ? s.availableMinor : left;
    left -= amount;
    const refund = await tx
      .insertInto('credit_refunds')
      .values({
        tenant_id: tenantId,
        client_id: input.clientId,
        source_payment_id: s.sourcePaymentId,
        currency: input.currency,
        amount_minor: amount,
        reason: input.reason,
        idempotency_key: `${input.idempotencyKey}:${s.sourcePaymentId}`,
        decided_by: input.actor,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(
      tx,
      tenantId,
      input.actor,
      'credit.refund_decided',
      { type: 'client', id: input.clientId },
      { credit_refund_id: refund.id, source_payment_id: s.sourcePaymentId, amount_minor: amount, currency: input.currency, reason: input.reason },
    );
    out.push({ refundId: refund.id, sourcePaymentId: s.sourcePaymentId, amountMinor: amount, status: 'decided', message: null });
  }
  return out;
}

/** Send each decided refund to the processor through the refund path; a repeat is replayed by its key. */
export async function sendCreditRefunds(
  ctx: EngineContext,
  tenantId: string,
  decisions: readonly CreditRefundDecision[],
  actor: Actor,
): Promise<CreditRefundDecision[]> {
  const out: CreditRefundDecision[] = [];
  for (const d of decisions) {
    if (d.status === 'refunded' || d.status === 'failed') {
      out.push(d);
      continue;
    }
    const row = await withTenant(ctx.db, tenantId, (tx) =>
      tx.selectFrom('credit_refunds').select('reason').where('id', '=', d.refundId).executeTakeFirstOrThrow(),
    );
    let status: CreditRefundDecision['status'];
    let message: string | null = null;
    let processorRefundId: string | null = null;
    try {
      const r = await requestRefund(ctx, tenantId, {
        paymentId: d.sourcePaymentId,
        amountMinor: d.amountMinor,
        reason: `credit refund: ${row.reason}`,
        idempotencyKey: `credit-refund:${d.refundId}`,
        actor,
      });
      status = r.refund.status === 'succeeded' ? 'refunded' : r.refund.status === 'failed' ? 'failed' : 'sent';
      message = r.refund.failure_message;
      processorRefundId = r.refund.processor_refund_id;
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      // E.g. a bank-file payment Settle cannot refund: the decision stands, and staff refund it by hand.
      status = 'decided';
      message = e.message;
    }
    await withTenant(ctx.db, tenantId, async (tx) => {
      await tx.updateTable('credit_refunds').set({ status, processor_refund_id: processorRefundId }).where('id', '=', d.refundId).execute();
      if (status !== 'decided')
        await audit(
          tx,
          tenantId,
          actor,
          `credit.refund_${status}`,
          { type: 'payment', id: d.sourcePaymentId },
          { credit_refund_id: d.refundId, amount_minor: d.amountMinor, message },
        );
    });
    out.push({ ...d, status, message });
  }
  return out;
}
