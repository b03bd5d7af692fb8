// A payment that had succeeded is taken back by the bank: an ACH return after settlement (a NACHA return
// entry, payments-rules.md §2.4) or, with Stripe, an ACH debit disputed after it succeeded ("Stripe
// creates a dispute", §2.8; such a dispute is final). The invoices it paid owe that money again: the
// allocations are reversed, the PSA payment is removed, the books get a reversing entry, the ledger books
// journal.achReturn, staff see an exception and the client is told by email. All in one transaction,
// idempotent per payment (the state machine moves succeeded → returned once).
import { journal } from '../domain/ledger.ts';
import { money, parseCurrency, toDecimalString } from '../domain/money.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { Payment } from '../db/schema.ts';
import { queueEmail } from '../notify/queue-email.ts';
import { composeEmail, templateOf } from '../notify/templates/compose.ts';
import type { EngineContext } from './context.ts';
import { UseCaseError } from './context.ts';
import { audit, type Actor } from './audit.ts';
import { applyReversal } from './apply-reversal.ts';
import { lockPayment, transition } from './record-payment-outcome.ts';
import { writeJournal } from './ledger-writer.ts';
import { openException } from './lifecycle-exceptions.ts';

export interface ReverseInput {
  readonly paymentId: string;
  /** Human words for staff and the client ("Insufficient funds", "Debit not authorized"). */
  readonly reason: string;
  /** R-code (R01…) of a NACHA return, or the processor's code (e.g. `dispute:debit_not_authorized`). */
  readonly code: string | null;
  /** A return or dispute fee the bank / processor charges, booked with the reversal. */
  readonly feeMinor?: bigint;
  readonly actor?: Actor;
}

export interface ReverseResult {
  readonly reversed: boolean;
  readonly state: string;
}

/** Exported for the bank-ACH return path (engine/apply-ach-return.ts) and the Stripe dispute path. */
export async function reverseSucceededPayment(ctx: EngineContext, tenantId: string, input: ReverseInput): Promise<ReverseResult> {
  return withTenant(ctx.db, tenantId, (tx) => reverseSucceededPaymentInTx(tx, input));
}

export async function reverseSucceededPaymentInTx(tx: Tx, input: ReverseInput): Promise<ReverseResult> {
  const p = await lockPayment(tx, input.paymentId).catch(() => null);
  if (!p) throw new UseCaseError('not_found', `no payment ${input.paymentId} in this workspace`);
  if (p.state === 'returned') return { reversed: false, state: p.state };
  if (p.state !== 'succeeded' && p.state !== 'partially_refunded') {
    throw new UseCaseError(
      'conflict',
      `payment ${p.id} is ${p.state}; only a succeeded payment can be returned (a return before settlement fails the payment instead)`,
    );
  }
  const to = await transition(tx, p, 'ach_returned', { code: input.code, reason: input.reason });
  if (to === null) return { reversed: false, state: p.state };
  const actor = input.actor ?? 'vendor:processor';
  const amount = p.amount_minor - p.refunded_minor;
  const r = await applyReversal(tx, p, { kind: 'payment_reversal', key: `reversal:${p.id}`, amountMinor: amount, order: 'invoices_first' });
  await tx.updateTable('payments').set({ failure_code: input.code, failure_message: input.reason, final_after: null }).where('id', '=', p.id).execute();
  await bookReturn(tx, p, r.plan.fromCreditMinor, r.invoiceSide, amount, input.feeMinor ?? 0n, input.code);
  const invoices = r.plan.invoices.map((x) => x.invoiceId);
  await audit(
    tx,
    p.tenant_id,
    actor,
    'payment.returned',
    { type: 'payment', id: p.id },
    {
      code: input.code,
      reason: input.reason,
      amount_minor: amount,
      surcharge_minor: r.plan.surchargeMinor,
      ...(r.plan.planFeeMinor > 0n ? { plan_fee_minor: r.plan.planFeeMinor } : {}),
      reopened: r.plan.invoices.map((x) => ({ invoice_id: x.invoiceId, amount_minor: x.amountMinor })),
      postings: r.postings,
    },
  );
  await openException(tx, p, {
    kind: 'payment_returned',
    dedupeKey: `returned:${p.id}`,
    invoiceIds: invoices,
    title: `Payment returned${input.code ? ` (${input.code})` : ''}`,
    detail: `${toDecimalString(money(amount, parseCurrency(p.currency)))} ${p.currency} came back: ${input.reason}. The invoices it paid are open again.`,
    data: { code: input.code, reason: input.reason },
  });
  await emailReturn(tx, p, amount, invoices, input);
  return { reversed: true, state: to };
}

/**
 * A bank debit marked paid on submit (payment-lifecycle.ts) that then failed or came back before it
 * settled: undo its allocations, journal and postings. The caller has already moved the payment to
 * `failed`; the failure handler tells the client, as for any failed payment.
 */
export async function reverseSubmittedPayment(tx: Tx, p: Payment, code: string | null, message: string): Promise<void> {
  const r = await applyReversal(tx, p, { kind: 'payment_reversal', key: `reversal:${p.id}`, amountMinor: p.amount_minor, order: 'invoices_first' });
  await bookReturn(tx, p, r.plan.fromCreditMinor, r.invoiceSide, p.amount_minor, 0n, code);
  await audit(
    tx,
    p.tenant_id,
    'vendor:processor',
    'payment.submission_reversed',
    { type: 'payment', id: p.id },
    {
      code,
      message,
      reopened: r.plan.invoices.map((x) => ({ invoice_id: x.invoiceId, amount_minor: x.amountMinor })),
      postings: r.postings,
    },
  );
}

async function bookReturn(
  tx: Tx,
  p: Payment,
  fromCredit: bigint,
  invoiceSide: import('../domain/ledger.ts').OriginalCharge,
  amount: bigint,
  fee: bigint,
  code: string | null,
): Promise<void> {
  const currency = parseCurrency(p.currency);
  const memo = `return${code ? ` ${code}` : ''} of payment ${p.id}`;
  if (fromCredit > 0n) {
    await writeJournal(tx, p.tenant_id, 'ach_return', journal.refund({ amount: money(fromCredit, currency), against: 'client_credit', memo }), {
      paymentId: p.id,
    });
  }
  await writeJournal(
    tx,
    p.tenant_id,
    'ach_return',
    journal.achReturn({ amount: money(amount - fromCredit, currency), original: invoiceSide, returnFee: money(fee, currency), memo }),
    { paymentId: p.id },
  );
}

async function emailReturn(tx: Tx, p: Payment, amount: bigint, invoiceIds: readonly string[], input: ReverseInput): Promise<void> {
  const client = await tx.selectFrom('clients').select(['name', 'billing_email']).where('id', '=', p.client_id).executeTakeFirstOrThrow();
  if (!client.billing_email) return;
  const tenant = await tx.selectFrom('tenants').select('name').where('id', '=', p.tenant_id).executeTakeFirstOrThrow();
  const numbers = invoiceIds.length
    ? (
        await tx
          .selectFrom('invoices')
          .select('number')
          .where('id', 'in', [...invoiceIds])
          .orderBy('number')
          .execute()
      ).map((i) => i.number)
    : [];
  const shown = `${toDecimalString(money(amount, parseCurrency(p.currency)))} ${p.currency}`;
  const method = p.method_last4 ? ` from the account ending ${p.method_last4}` : '';
  const email = composeEmail(
    'payment_returned',
    {
      msp_name: tenant.name,
      client_name: client.name,
      amount: shown,
      account_last4: p.method_last4 ?? '',
      return_code: input.code ?? '',
      reason: input.reason,
      what_happened: `Your bank returned the payment of ${shown}${method}${input.code ? ` (return code ${input.code})` : ''}: ${input.reason}.`,
      reopened_invoices: numbers.length
        ? `Invoice${numbers.length > 1 ? 's' : ''} ${numbers.join(', ')} ${numbers.length > 1 ? 'are' : 'is'} therefore open again.`
        : '',
    },
    await templateOf(tx, 'payment_returned'),
  );
  await queueEmail(tx, p.tenant_id, {
    kind: 'payment_returned',
    clientId: p.client_id,
    to: client.billing_email,
    ...email,
    idempotencyKey: `payment:${p.id}:returned:email`,
  });
}
