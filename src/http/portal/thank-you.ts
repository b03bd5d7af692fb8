// After paying (issue #6 item 9): the portal page the client lands on says what was paid — amount,
// invoices, method, reference — and what is still open, and never offers again an invoice whose money is
// on its way. The hosted fields confirm a payment in the browser, so the processor's webhook may not have
// arrived yet when the page loads: as Stripe recommends for the return page, Settle asks the processor
// about that one payment and records a success (or an ACH debit now processing) at once, through the same
// idempotent path the webhook takes (record-payment-outcome.ts).
import { withTenant, type Tx } from '../../db/tenant.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import type { EngineContext } from '../../engine/context.ts';
import { applyChargeOutcome } from '../../engine/apply-charge-outcome.ts';
import { inFlightMinor } from '../../engine/checkout-guard.ts';
import { CHECKOUT_CANCELED } from '../../engine/close-portal-checkouts.ts';
import { pendingVerification, recordAwaitingVerification } from '../../engine/ach-microdeposits.ts';
import type { BankVerification } from '../../connectors/payments/types.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ask the processor about the payment the client just confirmed, if Settle has not heard yet. Best effort. */
export async function catchUpOnPaid(ctx: EngineContext, tenantId: string, clientId: string, paid: string | undefined): Promise<void> {
  if (!paid || !UUID.test(paid)) return;
  const p = await withTenant(ctx.db, tenantId, async (tx) => {
    const payment = await tx.selectFrom('payments').select(['id', 'client_id', 'state', 'processor_payment_id']).where('id', '=', paid).executeTakeFirst();
    const attempt = await tx.selectFrom('payment_attempts').select('id').where('payment_id', '=', paid).orderBy('attempt_no', 'desc').executeTakeFirst();
    return payment && attempt ? { ...payment, attemptId: attempt.id } : null;
  });
  if (!p || p.client_id !== clientId || !p.processor_payment_id || (p.state !== 'pending' && p.state !== 'unknown')) return;
  try {
    const processor = await ctx.connectors.payments(tenantId);
    if (!processor) return;
    const status = await processor.getPayment(p.processor_payment_id);
    // Only the processor's yes is recorded here; anything else is left to the webhook and the janitor.
    if (status.outcome.kind === 'succeeded' || status.outcome.kind === 'processing') await applyChargeOutcome(ctx, tenantId, p.id, p.attemptId, status.outcome);
    // A bank account typed by its numbers: the client must confirm the microdeposits first (ach-microdeposits.ts).
    else if (status.outcome.kind === 'requires_action' && status.outcome.verification)
      await recordAwaitingVerification(ctx, tenantId, p.id, status.outcome.verification);
  } catch (e) {
    ctx.log.info({ paymentId: p.id, err: (e as Error).message }, 'could not ask the processor about a portal payment; the webhook will tell');
  }
}

export interface PaidSummary {
  readonly reference: string;
  readonly state: string;
  readonly amount: string;
  readonly method: string;
  readonly invoices: readonly { number: string; amount: string }[];
  readonly failure: string | null;
  /** Waiting for the client to confirm the microdeposits sent to the bank account they typed in. */
  readonly verification: BankVerification | null;
}

/** What the client's payment `paid` was: amount, invoices (as allocated, or as planned while on its way), method. */
export async function paidSummary(tx: Tx, clientId: string, paid: string | undefined): Promise<PaidSummary | null> {
  if (!paid || !UUID.test(paid)) return null;
  const p = await tx.selectFrom('payments').selectAll().where('id', '=', paid).where('client_id', '=', clientId).executeTakeFirst();
  if (!p) return null;
  const cur = parseCurrency(p.currency);
  const f = (n: bigint) => format(money(n, cur));
  const allocated = await tx
    .selectFrom('allocations as a')
    .innerJoin('invoices as i', 'i.id', 'a.invoice_id')
    .select(['i.number', 'a.amount_minor'])
    .where('a.payment_id', '=', p.id)
    .execute();
  const lines = allocated.length
    ? allocated.map((a) => ({ number: a.number, amountMinor: BigInt(a.amount_minor) }))
    : await Promise.all(
        p.planned_allocations.map(async (a) => {
          const inv = await tx.selectFrom('invoices').select('number').where('id', '=', a.invoiceId).executeTakeFirst();
          return { number: inv?.number ?? '', amountMinor: BigInt(a.amountMinor) };
        }),
      );
  const checkout = await tx.selectFrom('portal_checkouts').select('method_kinds').where('payment_id', '=', p.id).executeTakeFirst();
  const kind = p.method_kind ?? (checkout?.method_kinds.length === 1 ? checkout.method_kinds[0] : null);
  const method =
    kind === 'card'
      ? `Card${p.method_brand ? ` (${p.method_brand}${p.method_last4 ? ` ·${p.method_last4}` : ''})` : ''}`
      : kind === 'us_bank_account'
        ? `Bank account (ACH)${p.method_last4 ? ` ·${p.method_last4}` : ''}`
        : kind === 'credit'
          ? 'Credit on your account'
          : 'Card or bank account';
  return {
    reference: p.id,
    state: p.state,
    amount: f(p.amount_minor),
    method,
    invoices: lines.map((l) => ({ number: l.number, amount: f(l.amountMinor) })),
    failure:
      p.state === 'failed'
        ? p.failure_code === CHECKOUT_CANCELED
          ? 'This payment was replaced before it was made.'
          : (p.failure_message ?? 'The payment did not go through.')
        : null,
    verification: p.state === 'pending' ? await pendingVerification(tx, p.id) : null,
  };
}

/** What may still be offered on an invoice: open, less what payments on their way will pay (not an unconfirmed checkout). */
export async function offerableMinor(tx: Tx, invoiceId: string, openMinor: bigint): Promise<bigint> {
  // An open checkout that nobody confirmed yet is offered again (paying reuses or replaces it); a payment the
  // processor has, or is taking, is not.
  const checkouts = await tx
    .selectFrom('portal_checkouts as c')
    .innerJoin('payments as p', 'p.id', 'c.payment_id')
    .select('c.payment_id')
    .where('c.invoice_id', '=', invoiceId)
    .where('c.status', '=', 'open')
    .where('p.state', 'in', ['pending', 'failed'])
    .execute();
  return (
    openMinor -
    (await inFlightMinor(
      tx,
      invoiceId,
      checkouts.map((c) => c.payment_id),
    ))
  );
}

const STATE_WORDS: Record<string, string> = {
  succeeded: 'Paid',
  processing: 'Submitted — a bank payment takes up to 4 business days to clear',
  pending: 'Being confirmed by the payment processor',
  unknown: 'Being confirmed by the payment processor',
  failed: 'Not paid',
};

/** What views/partials/thank-you.eta shows after paying (null: the page was not opened from a payment). */
export interface ThankYou {
  readonly credit: boolean;
  readonly summary: PaidSummary | null;
  readonly stillOpen: number;
  readonly stillOpenText: string;
  readonly stateWords: string;
  readonly invoicesText: string;
  readonly arrival: string;
}

export function thankYouView(s: PaidSummary | null, credit: boolean, stillOpen: number): ThankYou | null {
  if (!credit && !s) return null;
  return {
    credit,
    summary: s,
    stillOpen,
    stillOpenText: stillOpen === 0 ? 'Nothing else is due.' : `${stillOpen} invoice${stillOpen === 1 ? ' is' : 's are'} still open below.`,
    stateWords: s ? (STATE_WORDS[s.state] ?? s.state) : '',
    invoicesText: s ? s.invoices.map((i) => `${i.number} (${i.amount})`).join(', ') : '',
    arrival: s?.verification?.arrivalDate ? s.verification.arrivalDate.toISOString().slice(0, 10) : 'the next 1–2 business days',
  };
}
