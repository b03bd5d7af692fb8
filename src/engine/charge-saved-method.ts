// Charging a saved payment method without the client present (staff "charge card on file", autopay,
// installment parts).
// The attempt and its idempotency key are committed before the call; whatever the call's fate — answer,
// timeout, crash — the outcome is either recorded now or resolved later by asking the processor, and a
// repeat of the call with the same key can never charge twice.
import { money, parseCurrency } from '../domain/money.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { ChargeOutcome, OffSessionChargeInput } from '../connectors/payments/types.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { planPayment, type InvoiceChoice, type PlannedPayment } from './plan-payment.ts';
import { ensureProcessorCustomer } from './start-portal-payment.ts';
import { audit, type Actor } from './audit.ts';
import { applyChargeOutcome } from './apply-charge-outcome.ts';
import { originateAchDebit } from './ach-originate-debit.ts';
import { withCheckoutsClosed } from './close-portal-checkouts.ts';

const STAFF_REPLACES_CHECKOUT = 'replaced by a charge of the saved payment method (staff, autopay or installment)';

/** What callers such as the autopay run add around a charge; all optional. */
export interface ChargeOptions {
  /** The charge's idempotency key; default: derived from the new payment's id. */
  readonly idempotencyKey?: string;
  /** The client's processor customer, when the caller already read it (saves a round trip per charge). */
  readonly customerId?: string;
  /** Runs inside the planning transaction: link the payment to what asked for it, or throw to refuse. */
  readonly onPlanned?: (tx: Tx, plan: PlannedPayment) => Promise<void>;
  /** Awaited just before the processor call (pacing under the processor's rate limit). */
  readonly beforeCall?: () => Promise<void>;
  /** Called with the processor's answer before it is recorded. */
  readonly afterCall?: (outcome: ChargeOutcome) => void;
  /** Runs inside the transaction that records the processor's answer, before it is recorded (atomic with it). */
  readonly onOutcome?: (tx: Tx, outcome: ChargeOutcome) => Promise<void>;
}

/**
 * The processor request for a planned payment. Built only from stored facts, so that re-sending a planned
 * charge whose fate a crash hid (same key) sends exactly the same parameters, as the processor requires.
 */
export function offSessionRequest(
  tenantId: string,
  plan: { paymentId: string; attemptId: string; idempotencyKey: string; amountMinor: bigint; currency: string },
  customerId: string,
  processorMethodId: string,
): OffSessionChargeInput {
  return {
    amount: money(plan.amountMinor, parseCurrency(plan.currency)),
    customerId,
    processorMethodId,
    description: `Invoice payment ${plan.paymentId}`,
    metadata: { settle_tenant: tenantId, settle_payment: plan.paymentId, settle_attempt: plan.attemptId },
    idempotencyKey: plan.idempotencyKey,
  };
}

export interface ChargeInput {
  readonly choices: readonly InvoiceChoice[];
  readonly paymentMethodId: string;
  readonly actor: Actor;
  readonly source: 'manual' | 'autopay' | 'installment';
  /** An installment-plan fee charged on top of the invoices (plan-payment.ts). */
  readonly planFeeMinor?: bigint;
}

export async function chargeSavedMethod(
  ctx: EngineContext,
  tenantId: string,
  input: ChargeInput,
  opts: ChargeOptions = {},
): Promise<{ paymentId: string; outcome: ChargeOutcome['kind'] }> {
  // A client's open portal checkout on these invoices is canceled at the processor, then the charge is planned
  // again (planning refuses, writing nothing, while one is open: checkout-guard.ts). Never two payments at once.
  return withCheckoutsClosed(ctx, tenantId, STAFF_REPLACES_CHECKOUT, () => chargeSavedMethodOnce(ctx, tenantId, input, opts));
}

async function chargeSavedMethodOnce(
  ctx: EngineContext,
  tenantId: string,
  input: ChargeInput,
  opts: ChargeOptions = {},
): Promise<{ paymentId: string; outcome: ChargeOutcome['kind'] }> {
  const processor = await ctx.connectors.payments(tenantId);
  const planned = await withTenant(ctx.db, tenantId, async (tx) => {
    const method = await tx.selectFrom('payment_methods').selectAll().where('id', '=', input.paymentMethodId).executeTakeFirst();
    if (!method) throw new UseCaseError('not_found', `payment method ${input.paymentMethodId} does not exist in this workspace`);
    if (method.removed_at)
      throw new UseCaseError(
        'conflict',
        `payment method ${input.paymentMethodId} was removed by the client in the portal; charge another saved method or ask the client to save one`,
      );
    // A bank account authorized for NACHA debits is charged through the MSP's bank, not the card processor
    // (nothing written yet: the bank path plans in its own transaction).
    if (method.processor === 'bank-ach') return { bankAccountId: method.processor_method_id };
    if (!processor) throw new UseCaseError('not_configured', 'this workspace has no payment processor connected yet');
    const plan = await planPayment(tx, tenantId, {
      clientId: method.client_id,
      choices: input.choices,
      source: input.source,
      processor: processor.vendor,
      keyPrefix: input.source,
      ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
      method: { kind: method.kind, brand: method.brand, last4: method.last4 },
      ...(ctx.stampsWithClock ? { at: ctx.now() } : {}),
      ...(input.planFeeMinor ? { planFeeMinor: input.planFeeMinor } : {}),
    });
    await audit(
      tx,
      tenantId,
      input.actor,
      'payment.charge_requested',
      { type: 'payment', id: plan.paymentId },
      { amount_minor: plan.amountMinor, method: `${method.kind} ${method.last4}` },
    );
    await opts.onPlanned?.(tx, plan);
    return { plan, method };
  });
  if ('bankAccountId' in planned) {
    const d = await originateAchDebit(
      ctx,
      tenantId,
      {
        bankAccountId: planned.bankAccountId,
        choices: input.choices,
        actor: input.actor,
        source: input.source,
        ...(input.planFeeMinor ? { planFeeMinor: input.planFeeMinor } : {}),
      },
      {
        ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
        ...(opts.onPlanned ? { onPlanned: opts.onPlanned } : {}),
      },
    );
    return { paymentId: d.paymentId, outcome: 'processing' };
  }
  const { plan, method } = planned;
  let customerId: string;
  try {
    customerId = opts.customerId ?? (await ensureProcessorCustomer(ctx, tenantId, plan.clientId));
    await opts.beforeCall?.();
  } catch (e) {
    // Nothing was sent for this charge: the attempt provably never left Settle, so it is closed now (not
    // left `sending` for the janitor to guess about), and the invoice is free to be charged again.
    const reason = `not sent: ${(e as Error).message}`;
    ctx.log.warn({ err: e, paymentId: plan.paymentId }, 'charge not sent; attempt closed at once');
    await applyChargeOutcome(ctx, tenantId, plan.paymentId, plan.attemptId, { kind: 'not_sent', reason });
    return { paymentId: plan.paymentId, outcome: 'not_sent' };
  }
  const outcome = await processor!.chargeOffSession(offSessionRequest(tenantId, plan, customerId, method.processor_method_id));
  opts.afterCall?.(outcome);
  await applyChargeOutcome(ctx, tenantId, plan.paymentId, plan.attemptId, outcome, opts.onOutcome ? (tx) => opts.onOutcome!(tx, outcome) : undefined);
  return { paymentId: plan.paymentId, outcome: outcome.kind };
}
