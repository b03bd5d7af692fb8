// A client pays in the portal: we plan the payment, make sure the client exists at the processor, and
// open an on-session payment whose card or bank details the client types into the processor's hosted
// fields; Settle only ever sees the client secret and, later, the processor's verdict by webhook.
import { withTenant, type Tx } from '../db/tenant.ts';
import { openBalanceMinor } from '../db/queries/invoice-balance.ts';
import type { MethodKind } from '../connectors/payments/types.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { VendorError } from '../connectors/http.ts';
import { planPayment, processorCustomerFor, type InvoiceChoice } from './plan-payment.ts';
import { audit } from './audit.ts';
import { grantAchDiscount } from './ach-discount.ts';
import { closeTakenCheckouts, inFlightMinor, openCheckoutsOn, type OpenCheckout } from './checkout-guard.ts';
import { closePortalCheckouts, openedCheckout, portalPaymentRequest, replayCheckout } from './close-portal-checkouts.ts';
import { applyChargeOutcome } from './apply-charge-outcome.ts';
import { closeNeverSentCheckout } from './resolve-unknown-payments.ts';
import { lockInvoices } from './invoice-locks.ts';

export interface PortalPaymentStarted {
  readonly paymentId: string;
  readonly clientSecret: string;
  /** What the processor is asked to charge: the invoices' amounts less any ACH discount. */
  readonly amountMinor: bigint;
  readonly currency: string;
  /** The ACH discount granted (payments-rules.md §1.5; engine/ach-discount.ts), 0 when none. */
  readonly discountMinor: bigint;
}

/**
 * At most one open checkout per invoice (checkout-guard.ts): a request for exactly what an open checkout
 * already covers (a second tab, a double click, the same link opened twice) gets that checkout back — the
 * same intent and client secret, by repeating its creation request under its key — and anything else first
 * has the open one canceled at the processor (close-portal-checkouts.ts). Money in flight is never offered
 * again (planPayment). The invoices' row locks serialise all of this; the partial unique index on
 * portal_checkouts would refuse a second open checkout even if they did not.
 */
export async function startPortalPayment(
  ctx: EngineContext,
  tenantId: string,
  input: { clientId: string; choices: readonly InvoiceChoice[]; methodKinds: readonly MethodKind[] },
): Promise<PortalPaymentStarted> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) throw new UseCaseError('not_configured', 'this workspace has no payment processor connected yet');
  for (let round = 1; round <= 4; round++) {
    const step = await withTenant(ctx.db, tenantId, async (tx) => {
      const ids = input.choices.map((c) => c.invoiceId);
      // Locked in one order (by id), so that two requests for overlapping invoices queue instead of deadlocking.
      await lockInvoices(tx, ids);
      await closeTakenCheckouts(tx, ids);
      const open = await openCheckoutsOn(tx, ids);
      if (open.length > 0) {
        const same = await sameCheckout(tx, open, input, ctx.now());
        return same ? { reuse: same } : { supersede: [...new Set(open.map((o) => o.paymentId))] };
      }
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
      const planned = await tx.selectFrom('payments').select('planned_allocations').where('id', '=', p.paymentId).executeTakeFirstOrThrow();
      await tx
        .insertInto('portal_checkouts')
        .values(
          planned.planned_allocations.map((a) => ({
            tenant_id: tenantId,
            client_id: p.clientId,
            payment_id: p.paymentId,
            invoice_id: a.invoiceId,
            amount_minor: BigInt(a.amountMinor),
            method_kinds: [...input.methodKinds],
          })),
        )
        .execute();
      return { plan: { ...p, amountMinor: p.amountMinor - discountMinor, discountMinor } };
    });
    if ('supersede' in step) {
      await closePortalCheckouts(ctx, tenantId, step.supersede, 'replaced by another checkout in the client portal');
      continue;
    }
    if ('reuse' in step) {
      const facts = await openedCheckout(ctx, tenantId, step.reuse);
      if (!facts.open) continue; // closed meanwhile (never sent, or replaced): plan afresh
      let again;
      try {
        again = await replayCheckout(ctx, tenantId, facts);
      } catch (e) {
        // The first request is still creating it under the same key (the processor says "in use"), or the
        // processor is busy (a burst of tabs hits its rate limit): the client is told to try again in a
        // moment, rather than a second intent ever being made.
        if (e instanceof VendorError && (e.kind === 'conflict' || e.kind === 'rate_limited' || e.kind === 'timeout' || e.kind === 'server'))
          throw new UseCaseError('conflict', 'this payment is being started in another window right now; try again in a moment');
        throw e;
      }
      return {
        paymentId: facts.payment.id,
        clientSecret: again.clientSecret,
        amountMinor: facts.payment.amount_minor,
        currency: facts.payment.currency,
        discountMinor: facts.payment.discount_minor,
      };
    }
    const { plan } = step;
    let customerId: string;
    try {
      customerId = await ensureProcessorCustomer(ctx, tenantId, plan.clientId);
    } catch (e) {
      // Nothing was sent for this checkout: its attempt and checkout are closed now, not left for the janitor.
      const reason = `not sent: ${(e as Error).message}`;
      await applyChargeOutcome(ctx, tenantId, plan.paymentId, plan.attemptId, { kind: 'not_sent', reason }, (tx) => closeNeverSentCheckout(tx, plan.paymentId));
      throw e;
    }
    const started = await processor.createPortalPayment(portalPaymentRequest(tenantId, plan, customerId, input.methodKinds));
    await withTenant(ctx.db, tenantId, async (tx) => {
      // Attempt first, then payment: the order every path that records news takes (apply-processor-event,
      // apply-charge-outcome), so this cannot deadlock with the intent's webhook arriving at once.
      await tx
        .updateTable('payment_attempts')
        .set({ processor_payment_id: started.processorPaymentId, outcome: 'requires_action' })
        .where('id', '=', plan.attemptId)
        .where('outcome', '=', 'sending')
        .execute();
      await tx.updateTable('payments').set({ processor_payment_id: started.processorPaymentId }).where('id', '=', plan.paymentId).execute();
    });
    return {
      paymentId: plan.paymentId,
      clientSecret: started.clientSecret,
      amountMinor: plan.amountMinor,
      currency: plan.currency,
      discountMinor: plan.discountMinor,
    };
  }
  throw new UseCaseError('conflict', 'these invoices are being paid in another window right now; reload the page to see what is still open');
}

/** Idempotency keys live 24 hours at the processor; an older checkout is replaced rather than replayed. */
const REUSE_WITHIN_MS = 23 * 3600_000;

/** The open checkout that is exactly this request (same invoices, amounts and methods), if there is one. */
async function sameCheckout(
  tx: Tx,
  open: readonly OpenCheckout[],
  input: { choices: readonly InvoiceChoice[]; methodKinds: readonly MethodKind[] },
  now: Date,
): Promise<string | null> {
  const paymentId = open[0]!.paymentId;
  if (open.some((o) => o.paymentId !== paymentId || now.getTime() - o.openedAt.getTime() > REUSE_WITHIN_MS)) return null;
  // Only a checkout still waiting for the client is handed back: one whose payment failed (a bank debit the
  // bank refused) is closed instead — closing asks the processor what its intent is now, and a debit the
  // client confirmed again is then recorded as in flight rather than its intent handed out once more.
  const payment = await tx.selectFrom('payments').select('state').where('id', '=', paymentId).executeTakeFirst();
  if (payment?.state !== 'pending') return null;
  const rows = await tx.selectFrom('portal_checkouts').select(['invoice_id', 'amount_minor', 'method_kinds']).where('payment_id', '=', paymentId).execute();
  if (rows.length !== input.choices.length) return null;
  if ([...rows[0]!.method_kinds].sort().join() !== [...input.methodKinds].sort().join()) return null;
  for (const c of input.choices) {
    const row = rows.find((r) => r.invoice_id === c.invoiceId);
    if (!row) return null;
    // "All of it" means what is open besides this checkout.
    const wanted = c.amountMinor ?? (await openBalanceMinor(tx, c.invoiceId)) - (await inFlightMinor(tx, c.invoiceId, [paymentId]));
    if (BigInt(row.amount_minor) !== wanted) return null;
  }
  return paymentId;
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
