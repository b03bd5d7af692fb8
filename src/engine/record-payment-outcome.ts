// What happens when the processor's word on a payment arrives, from a webhook, from a synchronous charge
// answer, or from asking about an unknown outcome. All three go through here, under a row lock on the
// payment, so that the same news arriving twice (webhook + janitor, or a redelivered webhook) acts once.
import { sql } from 'kysely';
import { applyPaymentEvent, type PaymentEvent } from '../domain/payment-state.ts';
import { journal } from '../domain/ledger.ts';
import { money, parseCurrency } from '../domain/money.ts';
import type { MethodKind, SavedMethod } from '../connectors/payments/types.ts';
import type { Tx } from '../db/tenant.ts';
import type { Updateable } from 'kysely';
import type { Payment, PaymentState } from '../db/schema.ts';
import type { PaymentsTable } from '../db/schema/core.ts';
import { invoiceStatusFrom, openBalanceMinor } from '../db/queries/invoice-balance.ts';
import { audit } from './audit.ts';
import { enqueue, enqueueMany } from './enqueue.ts';
import { writeJournal } from './ledger-writer.ts';
import { creditOrRefundOverpayment } from './refund-duplicate-charge.ts';
import { paymentReceiptJob } from './receipt-job.ts';
import type { SecCode } from '../domain/rules/ach-return-window.ts';
import { achFinality, createPaymentPostings, isBankDebit, markPaidOn, markPaidOnFrom, markPaidOnSql, postingConnectionsSql } from './payment-lifecycle.ts';
import { reverseSubmittedPayment } from './reverse-succeeded-payment.ts';
import { raiseException } from './exceptions.ts';
import { lockInvoiceRows } from './invoice-locks.ts';

export interface SuccessDetail {
  readonly processorPaymentId: string;
  readonly method: SavedMethod | null;
  /** Without `method`: the method's id at the processor, so the receipt job can ask for its brand and last 4. */
  readonly processorMethodId?: string;
  /** A bank debit's SEC code (bank ACH knows it); decides when the payment is final (payment-lifecycle.ts). */
  readonly secCode?: SecCode;
  /** When the money was confirmed, if not now (an engine clock that stamps: context.ts `stampsWithClock`). */
  readonly at?: Date;
}

export async function lockPayment(tx: Tx, paymentId: string): Promise<Payment> {
  return tx.selectFrom('payments').selectAll().where('id', '=', paymentId).forUpdate().executeTakeFirstOrThrow();
}

/**
 * Moves the payment along one edge of its state machine and records the event, in one statement (the state
 * change and its history row are written by a data-modifying WITH). `also` sets more columns in the same
 * update (what the news brought: processor id, failure code, method).
 */
export async function transition(
  tx: Tx,
  p: Payment,
  event: PaymentEvent,
  detail: Record<string, unknown>,
  also: Updateable<PaymentsTable> = {},
): Promise<PaymentState | null> {
  const r = applyPaymentEvent(p.state, event);
  if (!r.ok) return null;
  await tx
    .with('moved', (db) =>
      db
        .updateTable('payments')
        .set({ ...also, state: r.to, updated_at: new Date() })
        .where('id', '=', p.id)
        .where('state', '=', p.state) // conditional update: the lock makes this hold, the guard documents it
        .returning(['id', 'tenant_id']),
    )
    .insertInto('payment_events')
    .columns(['tenant_id', 'payment_id', 'from_state', 'to_state', 'event', 'detail'])
    .expression((eb) =>
      eb
        .selectFrom('moved')
        .select([
          'moved.tenant_id',
          'moved.id',
          sql<string>`${p.state}::text`.as('from_state'),
          sql<string>`${r.to}::text`.as('to_state'),
          sql<string>`${event}::text`.as('event'),
          sql<string>`${JSON.stringify(detail)}::jsonb`.as('detail'),
        ]),
    )
    .execute();
  return r.to;
}

/**
 * The processor confirmed the money. Allocates to the invoices the client chose (never more than each
 * still owes after any PSA change; the rest becomes the client's credit), books the journal, and creates
 * the postings to the PSA and the books with their jobs, all in this one transaction.
 */
export async function recordPaymentSucceeded(tx: Tx, paymentId: string, d: SuccessDetail): Promise<boolean> {
  // The workspace's "mark paid on" setting comes with the locked row (one statement on every success's path).
  const { mark_paid_on, posting_connections, ...p } = await tx
    .selectFrom('payments')
    .selectAll('payments')
    .select(markPaidOnSql('payments.tenant_id').as('mark_paid_on'))
    .select(postingConnectionsSql().as('posting_connections'))
    .where('payments.id', '=', paymentId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  if (p.state === 'failed' && !(await lateSuccessAllowed(tx, p, d.processorPaymentId))) return false;
  // A bank debit is final only once its return window has passed (payment-lifecycle.ts, §2.8).
  const bank = d.method?.kind === 'us_bank_account' || (d.method === null && isBankDebit(p));
  const finality = bank ? achFinality(p, d.secCode, d.at ?? new Date()) : null;
  const to = await transition(
    tx,
    p,
    'charge_succeeded',
    { processorPaymentId: d.processorPaymentId, ...(p.state === 'failed' ? { after: 'failed' } : {}) },
    {
      processor_payment_id: d.processorPaymentId,
      succeeded_at: d.at ?? new Date(),
      // An earlier declined card (or a failure the processor has now overtaken) stays in the history only.
      failure_code: null,
      failure_message: null,
      method_kind: d.method?.kind ?? p.method_kind ?? (bank ? 'us_bank_account' : null),
      method_brand: d.method?.brand ?? p.method_brand,
      method_last4: d.method?.last4 ?? p.method_last4,
      ...(finality ? { sec_code: finality.secCode, final_after: finality.finalAfter } : {}),
    },
  );
  if (to === null) return false; // already succeeded (or later): nothing to do twice
  const tenantId = p.tenant_id;
  if (p.state === 'failed') {
    // The processor took the money after all (the same intent confirmed again): it is booked like any
    // success below; the audit says it followed a failure, so whoever told the client "failed" can see it.
    await audit(
      tx,
      tenantId,
      'vendor:processor',
      'payment.succeeded_after_failure',
      { type: 'payment', id: p.id },
      { processor_payment_id: d.processorPaymentId, earlier_failure_code: p.failure_code, earlier_failure_message: p.failure_message },
    );
  }
  // Allocations before the success exist only for a bank debit marked paid when submitted (it was
  // `processing`), or one whose failure reversed them; a card payment still `pending` has none.
  if (p.state !== 'pending' && (await hasAllocations(tx, p.id))) {
    // "Mark paid on submit": allocations, journal and postings were made when the debit was submitted.
    await audit(
      tx,
      tenantId,
      'vendor:processor',
      'payment.settled',
      { type: 'payment', id: p.id },
      { processor_payment_id: d.processorPaymentId, final_after: finality?.finalAfter ?? null },
    );
    return true;
  }
  const describe = !d.method && !p.method_last4 && d.processorMethodId ? d.processorMethodId : null;
  await allocateAndBook(tx, p, d.processorPaymentId, markPaidOnFrom(mark_paid_on) !== 'payout', 'payment.succeeded', describe, posting_connections, d.at);
  return true;
}

/**
 * A success for a payment we recorded as failed: only for the same processor intent, and only when the
 * failure reversed nothing (a bank debit marked paid on submit and then reversed would need its reversal
 * undone, which no processor does for the same intent) — otherwise a person looks at it.
 */
async function lateSuccessAllowed(
  tx: Tx,
  p: Payment,
  processorPaymentId: string,
  /** What the processor now says of the intent, for the exception's words. */
  reported: 'succeeded' | 'processing again' = 'succeeded',
): Promise<boolean> {
  if (p.processor_payment_id !== null && p.processor_payment_id !== processorPaymentId) return false;
  if (!(await hasAllocations(tx, p.id))) return true;
  await raiseException(tx, p.tenant_id, 'vendor:processor', {
    kind: 'payment_succeeded_after_reversal',
    dedupeKey: `succeeded-after-reversal:${p.id}`,
    clientId: p.client_id,
    invoiceIds: p.planned_allocations.map((a) => a.invoiceId),
    paymentId: p.id,
    title: `Processor reports a reversed payment as ${reported}`,
    detail: `Payment ${p.id} failed and its bookings were reversed; the processor now reports intent ${processorPaymentId} ${reported}. Check the processor's dashboard and record the money by hand.`,
  });
  return false;
}

async function hasAllocations(tx: Tx, paymentId: string): Promise<boolean> {
  return (await tx.selectFrom('allocations').select('id').where('payment_id', '=', paymentId).limit(1).executeTakeFirst()) !== undefined;
}

/**
 * Allocates to the invoices the client chose (never more than each still owes after any PSA change; the
 * rest becomes the client's credit), books the journal and, unless the tenant marks invoices paid only on
 * payout, creates the postings to the PSA and the books with their jobs.
 */
async function allocateAndBook(
  tx: Tx,
  p: Payment,
  processorPaymentId: string,
  withPostings: boolean,
  action: 'payment.succeeded' | 'payment.submitted',
  /** A processor method to describe (brand, last 4) before the receipt is composed. */
  describeMethod: string | null = null,
  /** The PSA and books connections when the caller read them already (createPaymentPostings reads them otherwise). */
  connections?: ReadonlyArray<{ readonly role: string; readonly vendor: string }>,
  /** When the allocations are made, if not the database's now() (SuccessDetail.at). */
  at?: Date,
): Promise<void> {
  const tenantId = p.tenant_id;
  const currency = parseCurrency(p.currency);
  const planned = p.planned_allocations;
  // An ACH discount (§1.5, engine/ach-discount.ts) pays the invoices in full with less money received.
  // An installment-plan fee, like a surcharge, is money beyond the invoices: never allocated, never credit.
  let remaining = p.amount_minor - p.surcharge_minor - p.plan_fee_minor + p.discount_minor;
  let allocated = 0n;
  const made: Array<{ invoice_id: string; amount_minor: bigint; reversed_minor: bigint }> = [];
  // All of them first, in id order (the allocation below follows the client's order).
  const locked = await lockInvoiceRows(
    tx,
    planned.map((plan) => plan.invoiceId),
  );
  for (const plan of planned) {
    const inv = locked.find((i) => i.id === plan.invoiceId);
    if (!inv) throw new Error(`invoice ${plan.invoiceId} of payment ${p.id} does not exist`);
    const owed = await openBalanceMinor(tx, inv.id);
    const amount = [BigInt(plan.amountMinor), owed, remaining].reduce((a, b) => (a < b ? a : b));
    if (amount <= 0n) continue;
    remaining -= amount;
    allocated += amount;
    await tx
      .insertInto('allocations')
      .values({ tenant_id: tenantId, payment_id: p.id, invoice_id: inv.id, amount_minor: amount, ...(at ? { created_at: at } : {}) })
      .execute();
    made.push({ invoice_id: inv.id, amount_minor: amount, reversed_minor: 0n });
    // What is open now follows without reading it again: the allocation just made is not in the PSA yet, so it
    // takes exactly `amount` off (invoice-balance.ts), and the invoice row is locked. One statement for both.
    const status = invoiceStatusFrom(inv, owed - amount);
    await tx
      .updateTable('invoices')
      .set({ paid_minor: inv.paid_minor + amount, ...(status !== inv.status ? { status, updated_at: new Date() } : {}) })
      .where('id', '=', inv.id)
      .execute();
    Object.assign(inv, { paid_minor: inv.paid_minor + amount, status }); // should the invoice come twice
  }
  const gross = money(p.amount_minor, currency);
  await writeJournal(
    tx,
    tenantId,
    'payment_received',
    p.discount_minor > 0n
      ? journal.paymentReceivedWithDiscount({
          received: gross,
          discount: money(p.discount_minor, currency),
          unapplied: money(remaining, currency),
          memo: `payment ${p.id}`,
        })
      : journal.paymentReceived({
          gross,
          surcharge: money(p.surcharge_minor, currency),
          planFee: money(p.plan_fee_minor, currency),
          unapplied: money(remaining, currency),
          memo: `payment ${p.id}`,
        }),
    { paymentId: p.id },
  );
  await audit(
    tx,
    tenantId,
    'vendor:processor',
    action,
    { type: 'payment', id: p.id },
    {
      amount_minor: p.amount_minor,
      discount_minor: p.discount_minor,
      ...(p.plan_fee_minor > 0n ? { plan_fee_minor: p.plan_fee_minor } : {}),
      allocated_minor: allocated,
      credit_minor: remaining,
      processor_payment_id: processorPaymentId,
    },
  );
  // What no invoice needed is the client's credit (applied to the next invoice, or refunded by decision) —
  // unless another payment took the invoice while this one was on its way: that is refunded (refund-duplicate-charge.ts).
  await creditOrRefundOverpayment(tx, p, remaining);
  // The receipt is composed by its own job (receipt-job.ts), queued in the same statement as the postings' jobs.
  const receipt = paymentReceiptJob(tenantId, p.id, describeMethod);
  // PSA and books postings with their jobs (payment-lifecycle.ts; on payout, reconcile-payout makes them).
  if (withPostings) await createPaymentPostings(tx, p.id, { payment: p, allocations: made, jobs: [receipt], ...(connections ? { connections } : {}) });
  else await enqueueMany(tx, [receipt]);
}

export async function recordPaymentProcessing(
  tx: Tx,
  paymentId: string,
  processorPaymentId: string,
  /**
   * The processor's answer about the intent as it is now (a call's answer), rather than a webhook, which
   * can be older than the failure we recorded (events arrive in any order).
   */
  asOfNow = false,
): Promise<boolean> {
  const p = await lockPayment(tx, paymentId);
  // A debit we recorded as failed that the client confirmed again (same intent): it is at the processor
  // once more and its money is in flight, so it must be `processing` here too (checkout-guard.ts counts it).
  // Only on the processor's current word: a `processing` event may be the one from before the failure.
  if (p.state === 'failed' && (!asOfNow || !(await lateSuccessAllowed(tx, p, processorPaymentId, 'processing again')))) return false;
  // Only delayed-notification methods (bank debits) are ever `processing` (payment-lifecycle.ts).
  const to = await transition(
    tx,
    p,
    'charge_submitted',
    { processorPaymentId, ...(p.state === 'failed' ? { after: 'failed' } : {}) },
    {
      processor_payment_id: processorPaymentId,
      method_kind: p.method_kind ?? 'us_bank_account',
      ...(p.state === 'failed' ? { failure_code: null, failure_message: null } : {}),
    },
  );
  if (to === null) return false;
  if (p.state === 'failed') {
    await audit(
      tx,
      p.tenant_id,
      'vendor:processor',
      'payment.resubmitted_after_failure',
      { type: 'payment', id: p.id },
      { processor_payment_id: processorPaymentId, earlier_failure_code: p.failure_code, earlier_failure_message: p.failure_message },
    );
  }
  if ((await markPaidOn(tx, p.tenant_id)) === 'submit' && !(await hasAllocations(tx, p.id))) {
    await allocateAndBook(tx, p, processorPaymentId, true, 'payment.submitted');
  }
  return true;
}

export async function recordPaymentFailed(
  tx: Tx,
  paymentId: string,
  code: string | null,
  message: string,
  /** The kind of method that failed, when the processor said (a portal checkout names none until then). */
  methodKind: MethodKind | null = null,
): Promise<boolean> {
  const p = await lockPayment(tx, paymentId);
  const to = await transition(
    tx,
    p,
    'charge_declined',
    { code, message },
    { failure_code: code, failure_message: message, method_kind: p.method_kind ?? methodKind },
  );
  if (to === null) return false;
  await audit(tx, p.tenant_id, 'vendor:processor', 'payment.failed', { type: 'payment', id: p.id }, { code, message, amount_minor: p.amount_minor });
  // Marked paid on submit and then failed: take the allocations, journal and postings back.
  if (await hasAllocations(tx, p.id)) await reverseSubmittedPayment(tx, p, code, message);
  // Retry decision, client email, staff exception and PSA note: engine/handle-payment-failure.ts, once per payment.
  await enqueue(tx, 'handle-payment-failure', { tenantId: p.tenant_id, paymentId: p.id }, { jobKey: `payment-failure:${p.id}` });
  return true;
}

/**
 * The client's card was declined in the hosted fields of a portal checkout, and the processor's intent is
 * waiting for another card (Stripe: back to requires_payment_method with last_payment_error). The payment
 * stays open — the client may pay in the same form — so nothing here is final: no failure handling, no
 * dunning (the client saw the decline on the spot). The decline is kept on the payment and in its history.
 */
export async function recordAttemptDeclined(
  tx: Tx,
  paymentId: string,
  code: string | null,
  message: string,
  /** The processor's identity of this decline (its event id): the same news acted on twice records it once. */
  declineRef: string,
): Promise<boolean> {
  const p = await lockPayment(tx, paymentId);
  const seen = await tx
    .selectFrom('payment_events')
    .select('id')
    .where('payment_id', '=', p.id)
    .where('event', '=', 'attempt_declined')
    .where(sql<boolean>`detail->>'declineRef' = ${declineRef}`)
    .executeTakeFirst();
  if (seen) return false;
  const to = await transition(tx, p, 'attempt_declined', { code, message, declineRef }, { failure_code: code, failure_message: message });
  if (to === null) return false;
  await audit(tx, p.tenant_id, 'vendor:processor', 'payment.attempt_declined', { type: 'payment', id: p.id }, { code, message, amount_minor: p.amount_minor });
  return true;
}

/**
 * A NACHA return of a bank debit that had not yet been confirmed as settled (payments-rules.md §2.4): the
 * money never arrived, so the payment failed — through the `ach_returned` edge, so the history says why.
 * Only for `processing` payments; a return after success is a reversal (reverse-succeeded-payment).
 */
export async function recordAchReturnedBeforeSuccess(tx: Tx, paymentId: string, code: string, message: string): Promise<boolean> {
  const p = await lockPayment(tx, paymentId);
  if (p.state !== 'processing') return false;
  const to = await transition(tx, p, 'ach_returned', { code, message }, { failure_code: code, failure_message: message });
  if (to === null) return false;
  await audit(tx, p.tenant_id, 'vendor:bank-ach', 'payment.ach_returned', { type: 'payment', id: p.id }, { code, message, amount_minor: p.amount_minor });
  if (await hasAllocations(tx, p.id)) await reverseSubmittedPayment(tx, p, code, message);
  return true;
}

export async function recordPaymentUnknown(tx: Tx, paymentId: string, reason: string): Promise<boolean> {
  const p = await lockPayment(tx, paymentId);
  return (await transition(tx, p, 'outcome_unknown', { reason })) !== null;
}
