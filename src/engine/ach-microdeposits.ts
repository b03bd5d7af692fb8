// A client who types their bank account's numbers into the hosted fields (instead of signing in to their
// bank) must confirm two small deposits before Stripe debits anything: the PaymentIntent waits in
// requires_action / verify_with_microdeposits, for days if need be. Settle must not let that wait go
// unseen: the payment's attempt says what it waits for, the portal's payment page shows the client where to
// confirm the deposits, and staff get an exception with the fix (remind the client, or have them pay another
// way). The exception clears itself when the debit starts, fails, or the invoices get paid otherwise.
import { withTenant, type Tx } from '../db/tenant.ts';
import type { BankVerification } from '../connectors/payments/types.ts';
import type { EngineContext } from './context.ts';
import { openException, resolveException } from './lifecycle-exceptions.ts';
import { lockPayment } from './record-payment-outcome.ts';

export const ACH_VERIFICATION_KIND = 'ach_verification_pending';
const dedupeKey = (paymentId: string): string => `ach-verification:${paymentId}`;

const day = (d: Date | null): string => (d ? d.toISOString().slice(0, 10) : 'in 1–2 business days');

/** Record that this portal payment waits for the client's microdeposit confirmation (idempotent). */
export async function recordAwaitingVerification(ctx: EngineContext, tenantId: string, paymentId: string, v: BankVerification): Promise<boolean> {
  return withTenant(ctx.db, tenantId, async (tx) => {
    const p = await lockPayment(tx, paymentId);
    if (p.state !== 'pending') return false; // already debiting, paid, failed or replaced
    const message = `Waiting for the client to confirm two microdeposits sent to their bank account (expected ${day(v.arrivalDate)}).`;
    await tx
      .updateTable('payment_attempts')
      .set({ message })
      .where('payment_id', '=', paymentId)
      .where('outcome', 'in', ['sending', 'requires_action'])
      .execute();
    await openException(tx, p, {
      kind: ACH_VERIFICATION_KIND,
      dedupeKey: dedupeKey(paymentId),
      invoiceIds: p.planned_allocations.map((a) => a.invoiceId),
      title: 'Bank payment waiting for the client to verify their account',
      detail:
        `The client entered their bank account by its numbers, so Stripe sent two small deposits to it (expected ${day(v.arrivalDate)}). ` +
        'Nothing is debited until the client confirms their amounts on the verification page (the portal shows them the link; so does this exception). ' +
        'If they do not, remind them, or ask them to pay another way: paying the invoice otherwise closes this checkout. ' +
        'Three wrong answers end it and the payment fails.',
      data: { verification_url: v.url, arrival_date: v.arrivalDate?.toISOString() ?? null, processor_payment_id: p.processor_payment_id },
    });
    return true;
  });
}

/** The debit started, failed or was replaced: the wait is over. */
export async function endVerificationWait(tx: Tx, tenantId: string, paymentId: string, resolution: string): Promise<void> {
  await resolveException(tx, tenantId, dedupeKey(paymentId), resolution);
}

/** The verification a payment still waits for (from its open exception), for the client's payment page. */
export async function pendingVerification(tx: Tx, paymentId: string): Promise<BankVerification | null> {
  const row = await tx.selectFrom('exceptions').select('data').where('dedupe_key', '=', dedupeKey(paymentId)).where('status', '=', 'open').executeTakeFirst();
  const data = (typeof row?.data === 'string' ? JSON.parse(row.data) : row?.data) as { verification_url?: unknown; arrival_date?: unknown } | undefined;
  if (!data || typeof data.verification_url !== 'string') return null;
  return { url: data.verification_url, arrivalDate: typeof data.arrival_date === 'string' ? new Date(data.arrival_date) : null };
}
