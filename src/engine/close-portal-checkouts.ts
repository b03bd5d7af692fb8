// Closing an open portal checkout (checkout-guard.ts) so that another payment may be planned for its
// invoices: the client chose something else in another tab, or staff, autopay or an installment charge the
// invoice. The intent is canceled at the processor FIRST; only a cancel the processor confirms closes the
// checkout, so at no moment can two confirmable intents exist for one invoice. An intent the processor had
// already taken (processing, succeeded) cannot be canceled: its outcome is recorded instead, and the next
// planning counts that money as paid or in flight.
import { money, parseCurrency } from '../domain/money.ts';
import { withTenant } from '../db/tenant.ts';
import type { MethodKind, PortalPaymentInput } from '../connectors/payments/types.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { OpenCheckoutError } from './checkout-guard.ts';
import { lockPayment, transition } from './record-payment-outcome.ts';
import { applyChargeOutcome } from './apply-charge-outcome.ts';
import { processorCustomerFor } from './plan-payment.ts';
// (start-portal-payment imports this module too: only functions cross, called long after both have loaded)
import { ensureProcessorCustomer } from './start-portal-payment.ts';
import { audit } from './audit.ts';

/** The failure code of a payment whose checkout was canceled before the client confirmed it (no money moved). */
export const CHECKOUT_CANCELED = 'checkout_canceled';

/**
 * The processor request that opens a portal payment. Built only from stored facts, so that a reuse (or a
 * cancel of an intent whose creation answer was lost) repeats exactly the same request under the same key.
 */
export function portalPaymentRequest(
  tenantId: string,
  p: { paymentId: string; attemptId: string; idempotencyKey: string; amountMinor: bigint; currency: string },
  customerId: string,
  methodKinds: readonly MethodKind[],
): PortalPaymentInput {
  return {
    amount: money(p.amountMinor, parseCurrency(p.currency)),
    customerId,
    methodKinds,
    description: `Invoice payment ${p.paymentId}`,
    metadata: { settle_tenant: tenantId, settle_payment: p.paymentId, settle_attempt: p.attemptId },
    idempotencyKey: p.idempotencyKey,
  };
}

/** The stored facts of a checkout payment: what its intent was created with. */
export async function checkoutFacts(ctx: EngineContext, tenantId: string, paymentId: string) {
  return withTenant(ctx.db, tenantId, async (tx) => {
    const p = await tx
      .selectFrom('payments')
      .select(['id', 'client_id', 'state', 'amount_minor', 'currency', 'discount_minor', 'processor_payment_id'])
      .where('id', '=', paymentId)
      .executeTakeFirstOrThrow();
    const attempt = await tx
      .selectFrom('payment_attempts')
      .select(['id', 'idempotency_key', 'processor_payment_id'])
      .where('payment_id', '=', paymentId)
      .orderBy('attempt_no')
      .executeTakeFirstOrThrow();
    const rows = await tx
      .selectFrom('portal_checkouts')
      .select(['invoice_id', 'amount_minor', 'method_kinds', 'status'])
      .where('payment_id', '=', paymentId)
      .execute();
    const customer = await processorCustomerFor(tx, p.client_id);
    return {
      payment: p,
      attempt,
      open: rows.some((r) => r.status === 'open'),
      methodKinds: (rows[0]?.method_kinds ?? []) as MethodKind[],
      customerId: customer.customerId,
    };
  });
}

/**
 * The checkout's facts once its intent exists: a request that reuses a checkout opened a moment ago waits
 * (briefly) for the first request to store the intent's id, instead of racing it with the same key.
 */
export async function openedCheckout(ctx: EngineContext, tenantId: string, paymentId: string): Promise<Awaited<ReturnType<typeof checkoutFacts>>> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const facts = await checkoutFacts(ctx, tenantId, paymentId);
    if (!facts.open || facts.payment.processor_payment_id || facts.attempt.processor_payment_id || Date.now() > deadline) return facts;
    await new Promise((r) => setTimeout(r, 250)); // not too often: a burst of tabs waits here together
  }
}

/** Repeat the checkout's creation request (same key, same parameters): the processor answers with the same intent. */
export async function replayCheckout(
  ctx: EngineContext,
  tenantId: string,
  facts: Awaited<ReturnType<typeof checkoutFacts>>,
): Promise<{ processorPaymentId: string; clientSecret: string }> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) throw new UseCaseError('not_configured', 'this workspace has no payment processor connected yet');
  // The request that opened the checkout may still be creating the processor customer: the same key joins it.
  const customerId = facts.customerId ?? (await ensureProcessorCustomer(ctx, tenantId, facts.payment.client_id));
  return processor.createPortalPayment(
    portalPaymentRequest(
      tenantId,
      {
        paymentId: facts.payment.id,
        attemptId: facts.attempt.id,
        idempotencyKey: facts.attempt.idempotency_key,
        amountMinor: facts.payment.amount_minor,
        currency: facts.payment.currency,
      },
      customerId,
      facts.methodKinds,
    ),
  );
}

export async function closePortalCheckouts(ctx: EngineContext, tenantId: string, paymentIds: readonly string[], reason: string): Promise<void> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) throw new UseCaseError('not_configured', 'this workspace has no payment processor connected yet');
  for (const paymentId of paymentIds) {
    const facts = await openedCheckout(ctx, tenantId, paymentId);
    if (!facts.open) continue;
    let answer;
    let processorPaymentId: string;
    try {
      // The intent's id may not be stored yet (its creation still under way, or its answer lost in a crash):
      // the same request under the same key returns it — or creates it, so that it can be canceled.
      processorPaymentId =
        facts.payment.processor_payment_id ?? facts.attempt.processor_payment_id ?? (await replayCheckout(ctx, tenantId, facts)).processorPaymentId;
      answer = await processor.cancelPortalPayment({ processorPaymentId, idempotencyKey: `checkout:${paymentId}:cancel` });
    } catch (e) {
      ctx.log.warn({ paymentId, err: (e as Error).message }, 'could not cancel an open portal checkout');
      throw new UseCaseError('conflict', 'a payment for these invoices is open in the client portal and could not be closed just now; try again in a moment');
    }
    if (answer.kind === 'not_cancelable') {
      // The client confirmed it meanwhile: record what it came to; the next planning counts that money.
      await applyChargeOutcome(ctx, tenantId, paymentId, facts.attempt.id, answer.outcome);
    }
    await withTenant(ctx.db, tenantId, async (tx) => {
      // Locks in the order every path that records a payment's news takes — its attempts, then the payment —
      // or this deadlocks with a webhook for the same intent (seen once in the soak: 40P01 here).
      await tx.selectFrom('payment_attempts').select('id').where('payment_id', '=', paymentId).orderBy('id').forUpdate().execute();
      const p = await lockPayment(tx, paymentId);
      const closed = await tx
        .updateTable('portal_checkouts')
        .set({
          status: 'closed',
          closed_at: new Date(),
          close_reason: answer.kind === 'canceled' ? reason : `taken by the processor (${answer.outcome.kind})`,
        })
        .where('payment_id', '=', paymentId)
        .where('status', '=', 'open')
        .returning('invoice_id')
        .execute();
      if (answer.kind !== 'canceled' || closed.length === 0) return;
      await tx
        .updateTable('payment_attempts')
        .set({ outcome: 'declined', decline_code: 'canceled', message: reason, resolved_at: new Date(), processor_payment_id: processorPaymentId })
        .where('payment_id', '=', paymentId)
        .where('outcome', 'in', ['sending', 'requires_action', 'processing'])
        .execute();
      // No money moved: the payment ends failed with a code of its own. Not recordPaymentFailed: nobody
      // needs a retry, an email or an exception for a checkout the client (or staff) replaced.
      // `processing`: the client confirmed a bank debit in the instant between the processor's answer that it
      // was still open and the cancel; the processor canceled the debit, so it will never settle either.
      if (p.state === 'pending' || p.state === 'unknown' || p.state === 'processing') {
        await transition(tx, p, 'charge_declined', { canceled: reason, processorPaymentId });
        await tx
          .updateTable('payments')
          .set({ failure_code: CHECKOUT_CANCELED, failure_message: reason, processor_payment_id: processorPaymentId })
          .where('id', '=', paymentId)
          .execute();
      }
      await audit(
        tx,
        tenantId,
        'system:portal-checkout',
        'payment.checkout_canceled',
        { type: 'payment', id: paymentId },
        { reason, processor_payment_id: processorPaymentId, invoice_ids: closed.map((c) => c.invoice_id), amount_minor: p.amount_minor },
      );
    });
  }
}

/**
 * Run a planning step; when it finds an open portal checkout on its invoices, close that checkout
 * (cancel at the processor) and plan again. Planning writes nothing before it refuses, so a repeat is safe.
 */
export async function withCheckoutsClosed<T>(ctx: EngineContext, tenantId: string, reason: string, fn: () => Promise<T>): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof OpenCheckoutError) || round >= 4) throw e;
      await closePortalCheckouts(ctx, tenantId, e.paymentIds, reason);
    }
  }
}
