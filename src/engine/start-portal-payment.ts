// A client pays in the portal: we plan the payment, make sure the client exists at the processor, and
// open an on-session payment whose card or bank details the client types into the processor's hosted
// fields; Settle only ever sees the client secret and, later, the processor's verdict by webhook.
import { money, parseCurrency } from '../domain/money.ts';
import { withTenant } from '../db/tenant.ts';
import type { MethodKind } from '../connectors/payments/types.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { planPayment, processorCustomerFor, type InvoiceChoice } from './plan-payment.ts';
import { audit } from './audit.ts';
import { grantAchDiscount } from './ach-discount.ts';

export interface PortalPaymentStarted {
  readonly paymentId: string;
  readonly clientSecret: string;
  /** What the processor is asked to charge: the invoices' amounts less any ACH discount. */
  readonly amountMinor: bigint;
  readonly currency: string;
  /** The ACH discount granted (payments-rules.md §1.5; engine/ach-discount.ts), 0 when none. */
  readonly discountMinor: bigint;
}

export async function startPortalPayment(
  ctx: EngineContext,
  tenantId: string,
  input: { clientId: string; choices: readonly InvoiceChoice[]; methodKinds: readonly MethodKind[] },
): Promise<PortalPaymentStarted> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) throw new UseCaseError('not_configured', 'this workspace has no payment processor connected yet');
  const plan = await withTenant(ctx.db, tenantId, async (tx) => {
    const p = await planPayment(tx, tenantId, {
      clientId: input.clientId,
      choices: input.choices,
      source: 'portal',
      processor: processor.vendor,
      keyPrefix: 'portal',
    });
    await audit(
      tx,
      tenantId,
      `client:${input.clientId}`,
      'payment.started',
      { type: 'payment', id: p.paymentId },
      { amount_minor: p.amountMinor, currency: p.currency },
    );
    // A bank payment where card surcharges are refused may be discounted (§1.5): charged less, invoices paid in full.
    const bankOnly = input.methodKinds.length > 0 && input.methodKinds.every((k) => k === 'us_bank_account');
    const discountMinor = bankOnly ? await grantAchDiscount(tx, tenantId, p.paymentId, ctx.now()) : 0n;
    return { ...p, amountMinor: p.amountMinor - discountMinor, discountMinor };
  });
  const customerId = await ensureProcessorCustomer(ctx, tenantId, plan.clientId);
  const started = await processor.createPortalPayment({
    amount: money(plan.amountMinor, parseCurrency(plan.currency)),
    customerId,
    methodKinds: input.methodKinds,
    description: `Invoice payment ${plan.paymentId}`,
    metadata: { settle_tenant: tenantId, settle_payment: plan.paymentId, settle_attempt: plan.attemptId },
    idempotencyKey: plan.idempotencyKey,
  });
  await withTenant(ctx.db, tenantId, async (tx) => {
    await tx.updateTable('payments').set({ processor_payment_id: started.processorPaymentId }).where('id', '=', plan.paymentId).execute();
    await tx
      .updateTable('payment_attempts')
      .set({ processor_payment_id: started.processorPaymentId, outcome: 'requires_action' })
      .where('id', '=', plan.attemptId)
      .where('outcome', '=', 'sending')
      .execute();
  });
  return {
    paymentId: plan.paymentId,
    clientSecret: started.clientSecret,
    amountMinor: plan.amountMinor,
    currency: plan.currency,
    discountMinor: plan.discountMinor,
  };
}

export async function ensureProcessorCustomer(ctx: EngineContext, tenantId: string, clientId: string): Promise<string> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) throw new UseCaseError('not_configured', 'this workspace has no payment processor connected yet');
  const c = await withTenant(ctx.db, tenantId, (tx) => processorCustomerFor(tx, clientId));
  if (c.customerId) return c.customerId;
  const { customerId } = await processor.ensureCustomer({
    name: c.name,
    email: c.email,
    clientId,
    idempotencyKey: `client:${clientId}:${processor.vendor}:customer`,
  });
  await withTenant(ctx.db, tenantId, (tx) => tx.updateTable('clients').set({ processor_customer_id: customerId }).where('id', '=', clientId).execute());
  return customerId;
}
