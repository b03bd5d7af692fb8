// Staff decide to give a client's credit back instead of applying it. The decision is recorded first (the
// credit is no longer available to apply), per paying payment, oldest credit first: a refund returns money
// to the method it came from, so a credit made of two payments becomes two refunds.
import type { Tx } from '../db/tenant.ts';
import { UseCaseError } from './context.ts';
import { audit, type Actor } from './audit.ts';
import { creditSources } from './client-credit.ts';

export interface CreditRefundDecision {
  readonly refundId: string;
  readonly sourcePaymentId: string;
  readonly amountMinor: bigint;
  readonly status: 'decided' | 'sent' | 'refunded' | 'failed';
}

export async function decideCreditRefund(
  tx: Tx,
  tenantId: string,
  input: { clientId: string; currency: string; amountMinor: bigint; reason: string; actor: Actor; idempotencyKey: string },
): Promise<CreditRefundDecision[]> {
  if (input.amountMinor <= 0n) throw new UseCaseError('invalid', 'amount_minor must be more than zero');
  if (!input.reason.trim()) throw new UseCaseError('invalid', 'give a reason for the refund; it is kept in the audit log');
  const client = await tx.selectFrom('clients').select('id').where('id', '=', input.clientId).forUpdate().executeTakeFirst();
  if (!client) throw new UseCaseError('not_found', `no client ${input.clientId} in this workspace`);
  // The same decision sent twice (a retried request) is one decision.
  const earlier = await tx.selectFrom('credit_refunds').selectAll().where('idempotency_key', 'like', `${input.idempotencyKey.replace(/[\\%_]/g, (c) => `\\${c}`)}:%`).execute();
  if (earlier.length > 0) return earlier.map((r) => ({ refundId: r.id, sourcePaymentId: r.source_payment_id, amountMinor: r.amount_minor, status: r.status }));
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
      .values({ tenant_id: tenantId, client_id: input.clientId, source_payment_id: s.sourcePaymentId, currency: input.currency, amount_minor: amount, reason: input.reason, idempotency_key: `${input.idempotencyKey}:${s.sourcePaymentId}`, decided_by: input.actor })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx
      .insertInto('client_credit_entries')
      .values({ tenant_id: tenantId, client_id: input.clientId, currency: input.currency, amount_minor: -amount, kind: 'refund', source_payment_id: s.sourcePaymentId, refund_id: refund.id, actor: input.actor, note: input.reason })
      .execute();
    await audit(tx, tenantId, input.actor, 'credit.refund_decided', { type: 'client', id: input.clientId }, { refund_id: refund.id, source_payment_id: s.sourcePaymentId, amount_minor: amount, currency: input.currency, reason: input.reason });
    // TODO(issue #3, payment lifecycle): PaymentsConnector has no refund yet. When it does, send
    // `refund:<refund id>` against the source payment here (after commit), book journal.refund with
    // against: 'client_credit', and move the row to 'sent' → 'refunded'. Until then the money is still at
    // the processor and staff refund it there; the decision above keeps the credit from being applied.
    out.push({ refundId: refund.id, sourcePaymentId: s.sourcePaymentId, amountMinor: amount, status: 'decided' });
  }
  return out;
}
