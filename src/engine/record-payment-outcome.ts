// What happens when the processor's word on a payment arrives, from a webhook, from a synchronous charge
// answer, or from asking about an unknown outcome. All three go through here, under a row lock on the
// payment, so that the same news arriving twice (webhook + janitor, or a redelivered webhook) acts once.
import { applyPaymentEvent, type PaymentEvent } from '../domain/payment-state.ts';
import { journal } from '../domain/ledger.ts';
import { money, parseCurrency } from '../domain/money.ts';
import type { SavedMethod } from '../connectors/payments/types.ts';
import type { Tx } from '../db/tenant.ts';
import type { Payment, PaymentState } from '../db/schema.ts';
import { openBalanceMinor, refreshInvoiceStatus } from '../db/queries/invoice-balance.ts';
import { audit } from './audit.ts';
import { enqueue } from './enqueue.ts';
import { writeJournal } from './ledger-writer.ts';
import { recordOverpaymentCredit } from './client-credit.ts';
import { queuePaymentReceipt } from '../notify/payment-receipt.ts';

export interface SuccessDetail {
  readonly processorPaymentId: string;
  readonly method: SavedMethod | null;
}

async function lockPayment(tx: Tx, paymentId: string): Promise<Payment> {
  return tx.selectFrom('payments').selectAll().where('id', '=', paymentId).forUpdate().executeTakeFirstOrThrow();
}

async function transition(tx: Tx, p: Payment, event: PaymentEvent, detail: Record<string, unknown>): Promise<PaymentState | null> {
  const r = applyPaymentEvent(p.state, event);
  if (!r.ok) return null;
  await tx
    .updateTable('payments')
    .set({ state: r.to, updated_at: new Date() })
    .where('id', '=', p.id)
    .where('state', '=', p.state) // conditional update: the lock makes this hold, the guard documents it
    .execute();
  await tx
    .insertInto('payment_events')
    .values({ tenant_id: p.tenant_id, payment_id: p.id, from_state: p.state, to_state: r.to, event, detail: JSON.stringify(detail) })
    .execute();
  return r.to;
}

/**
 * The processor confirmed the money. Allocates to the invoices the client chose (never more than each
 * still owes after any PSA change; the rest becomes the client's credit), books the journal, and creates
 * the postings to the PSA and the books with their jobs, all in this one transaction.
 */
export async function recordPaymentSucceeded(tx: Tx, paymentId: string, d: SuccessDetail): Promise<boolean> {
  const p = await lockPayment(tx, paymentId);
  const to = await transition(tx, p, 'charge_succeeded', { processorPaymentId: d.processorPaymentId });
  if (to === null) return false; // already succeeded (or later): nothing to do twice
  const tenantId = p.tenant_id;
  const currency = parseCurrency(p.currency);
  await tx
    .updateTable('payments')
    .set({
      processor_payment_id: d.processorPaymentId,
      succeeded_at: new Date(),
      method_kind: d.method?.kind ?? p.method_kind,
      method_brand: d.method?.brand ?? p.method_brand,
      method_last4: d.method?.last4 ?? p.method_last4,
    })
    .where('id', '=', p.id)
    .execute();

  const planned = p.planned_allocations;
  let remaining = p.amount_minor - p.surcharge_minor;
  const psa = await tx.selectFrom('connections').select('vendor').where('role', '=', 'psa').where('status', '!=', 'disabled').executeTakeFirst();
  const books = await tx.selectFrom('connections').select('vendor').where('role', '=', 'accounting').where('status', '!=', 'disabled').executeTakeFirst();
  let allocated = 0n;
  for (const plan of planned) {
    const inv = await tx.selectFrom('invoices').selectAll().where('id', '=', plan.invoiceId).forUpdate().executeTakeFirstOrThrow();
    const owed = await openBalanceMinor(tx, inv.id);
    const amount = [BigInt(plan.amountMinor), owed, remaining].reduce((a, b) => (a < b ? a : b));
    if (amount <= 0n) continue;
    remaining -= amount;
    allocated += amount;
    await tx.insertInto('allocations').values({ tenant_id: tenantId, payment_id: p.id, invoice_id: inv.id, amount_minor: amount }).execute();
    await tx.updateTable('invoices').set({ paid_minor: inv.paid_minor + amount }).where('id', '=', inv.id).execute();
    await refreshInvoiceStatus(tx, inv.id);
    const postings = [
      ...(psa ? [{ target: 'psa' as const, vendor: psa.vendor }] : []),
      ...(books ? [{ target: 'accounting' as const, vendor: books.vendor }] : []),
    ];
    for (const t of postings) {
      const posting = await tx
        .insertInto('postings')
        .values({
          tenant_id: tenantId,
          target: t.target,
          vendor: t.vendor,
          kind: 'payment',
          payment_id: p.id,
          invoice_id: inv.id,
          amount_minor: amount,
          currency: p.currency,
          idempotency_key: `payment:${p.id}:invoice:${inv.id}:${t.vendor}:payment`,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (t.target === 'psa') {
        await enqueue(tx, 'post-psa-payment', { tenantId, postingId: posting.id }, { queueName: `psa:${tenantId}`, jobKey: `psa-posting:${posting.id}` });
      }
    }
  }
  if (books) {
    // Coalesce: one flush a short moment later picks up every payment that succeeded meanwhile, so a
    // backlog goes to QuickBooks in batches of 30 instead of one call per payment.
    await enqueue(tx, 'flush-accounting', { tenantId }, { queueName: `accounting:${tenantId}`, jobKey: `flush-accounting:${tenantId}`, jobKeyMode: 'preserve_run_at', runAt: new Date(Date.now() + 150) });
  }
  const gross = money(p.amount_minor, currency);
  await writeJournal(
    tx,
    tenantId,
    'payment_received',
    journal.paymentReceived({ gross, surcharge: money(p.surcharge_minor, currency), unapplied: money(remaining, currency), memo: `payment ${p.id}` }),
    { paymentId: p.id },
  );
  await audit(tx, tenantId, 'vendor:processor', 'payment.succeeded', { type: 'payment', id: p.id }, {
    amount_minor: p.amount_minor,
    allocated_minor: allocated,
    credit_minor: remaining,
    processor_payment_id: d.processorPaymentId,
  });
  // What no invoice needed is the client's credit (applied to the next invoice, or refunded by decision).
  await recordOverpaymentCredit(tx, p, remaining);
  await queuePaymentReceipt(tx, tenantId, p.id);
  return true;
}

export async function recordPaymentProcessing(tx: Tx, paymentId: string, processorPaymentId: string): Promise<boolean> {
  const p = await lockPayment(tx, paymentId);
  const to = await transition(tx, p, 'charge_submitted', { processorPaymentId });
  if (to === null) return false;
  await tx.updateTable('payments').set({ processor_payment_id: processorPaymentId }).where('id', '=', p.id).execute();
  return true;
}

export async function recordPaymentFailed(tx: Tx, paymentId: string, code: string | null, message: string): Promise<boolean> {
  const p = await lockPayment(tx, paymentId);
  const to = await transition(tx, p, 'charge_declined', { code, message });
  if (to === null) return false;
  await tx.updateTable('payments').set({ failure_code: code, failure_message: message }).where('id', '=', p.id).execute();
  await audit(tx, p.tenant_id, 'vendor:processor', 'payment.failed', { type: 'payment', id: p.id }, { code, message, amount_minor: p.amount_minor });
  // Retry decision, client email, staff exception and PSA note: engine/handle-payment-failure.ts, once per payment.
  await enqueue(tx, 'handle-payment-failure', { tenantId: p.tenant_id, paymentId: p.id }, { jobKey: `payment-failure:${p.id}` });
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
  const to = await transition(tx, p, 'ach_returned', { code, message });
  if (to === null) return false;
  await tx.updateTable('payments').set({ failure_code: code, failure_message: message }).where('id', '=', p.id).execute();
  await audit(tx, p.tenant_id, 'vendor:bank-ach', 'payment.ach_returned', { type: 'payment', id: p.id }, { code, message, amount_minor: p.amount_minor });
  return true;
}

export async function recordPaymentUnknown(tx: Tx, paymentId: string, reason: string): Promise<boolean> {
  const p = await lockPayment(tx, paymentId);
  return (await transition(tx, p, 'outcome_unknown', { reason })) !== null;
}
