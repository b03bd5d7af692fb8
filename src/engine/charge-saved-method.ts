// Charging a saved payment method without the client present (staff "charge card on file", autopay).
// The attempt and its idempotency key are committed before the call; whatever the call's fate — answer,
// timeout, crash — the outcome is either recorded now or resolved later by asking the processor, and a
// repeat of the call with the same key can never charge twice.
import { money, parseCurrency } from '../domain/money.ts';
import { withTenant } from '../db/tenant.ts';
import type { ChargeOutcome } from '../connectors/payments/types.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { planPayment, type InvoiceChoice } from './plan-payment.ts';
import { ensureProcessorCustomer } from './start-portal-payment.ts';
import { audit, type Actor } from './audit.ts';
import { applyChargeOutcome } from './apply-charge-outcome.ts';

export async function chargeSavedMethod(
  ctx: EngineContext,
  tenantId: string,
  input: { choices: readonly InvoiceChoice[]; paymentMethodId: string; actor: Actor; source: 'manual' | 'autopay' },
): Promise<{ paymentId: string; outcome: ChargeOutcome['kind'] }> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) throw new UseCaseError('not_configured', 'this workspace has no payment processor connected yet');
  const { plan, method } = await withTenant(ctx.db, tenantId, async (tx) => {
    const method = await tx.selectFrom('payment_methods').selectAll().where('id', '=', input.paymentMethodId).executeTakeFirst();
    if (!method) throw new UseCaseError('not_found', `payment method ${input.paymentMethodId} does not exist in this workspace`);
    const plan = await planPayment(tx, tenantId, { clientId: method.client_id, choices: input.choices, source: input.source, processor: processor.vendor, keyPrefix: input.source });
    await tx
      .updateTable('payments')
      .set({ method_kind: method.kind, method_brand: method.brand, method_last4: method.last4 })
      .where('id', '=', plan.paymentId)
      .execute();
    await audit(tx, tenantId, input.actor, 'payment.charge_requested', { type: 'payment', id: plan.paymentId }, { amount_minor: plan.amountMinor, method: `${method.kind} ${method.last4}` });
    return { plan, method };
  });
  const customerId = await ensureProcessorCustomer(ctx, tenantId, plan.clientId);
  const outcome = await processor.chargeOffSession({
    amount: money(plan.amountMinor, parseCurrency(plan.currency)),
    customerId,
    processorMethodId: method.processor_method_id,
    description: `Invoice payment ${plan.paymentId}`,
    metadata: { settle_tenant: tenantId, settle_payment: plan.paymentId, settle_attempt: plan.attemptId },
    idempotencyKey: plan.idempotencyKey,
  });
  await applyChargeOutcome(ctx, tenantId, plan.paymentId, plan.attemptId, outcome);
  return { paymentId: plan.paymentId, outcome: outcome.kind };
}
