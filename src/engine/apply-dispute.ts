// Disputes from the processor. A card dispute withdraws the money while it is argued: the payment is
// `disputed`, the ledger moves the amount to disputed_funds (journal.disputeOpened), staff get an
// exception, and the invoice stays paid (payment-state.ts countsAsCollected: reopening it would let
// autopay or dunning chase the client mid-dispute). Won: the funds come back (disputeWon) and the payment
// is succeeded again. Lost: the payment is charged_back, the invoices it paid owe the money again
// (disputeLost, treatment reopen_invoice — in B2B the client still owes for the work), the PSA payment is
// removed and the books get a reversing entry, as for a return.
//
// A dispute on an ACH debit is different: it cannot be contested and is final (payments-rules.md §2.8;
// it is how Stripe reports a bank return after success), so it is booked at once as a return after
// success (reverse-succeeded-payment.ts).
//
// Dispute fees are not booked here: they come out of the payout like every processor fee, and
// reconcile-payout books a payout's fees (booking them here too would count them twice).
import { afterDisputeWon } from '../domain/payment-state.ts';
import { journal } from '../domain/ledger.ts';
import { money, parseCurrency, toDecimalString } from '../domain/money.ts';
import { withTenant } from '../db/tenant.ts';
import type { ProcessorEvent } from '../connectors/payments/types.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { applyReversal } from './apply-reversal.ts';
import { writeJournal } from './ledger-writer.ts';
import { openException, resolveException } from './lifecycle-exceptions.ts';
import { isBankDebit } from './payment-lifecycle.ts';
import { lockPayment, transition } from './record-payment-outcome.ts';
import { reverseSucceededPaymentInTx } from './reverse-succeeded-payment.ts';

type Opened = Extract<ProcessorEvent, { type: 'dispute.created' }>;
type Closed = Extract<ProcessorEvent, { type: 'dispute.closed' }>;

export async function applyDisputeOpened(ctx: EngineContext, tenantId: string, e: Opened, paymentId: string): Promise<string> {
  return withTenant(ctx.db, tenantId, async (tx) => {
    const p = await lockPayment(tx, paymentId);
    if (p.state === 'pending' || p.state === 'processing' || p.state === 'unknown') {
      // The dispute's event overtook the payment's success (events are processed in parallel): the inbox
      // retries this one after a back-off, by when the success is booked.
      throw new Error(`dispute ${e.disputeId} arrived before payment ${p.id} was recorded as succeeded (${p.state}); retrying`);
    }
    const ach = isBankDebit(p);
    const inserted = await tx
      .insertInto('disputes')
      .values({
        tenant_id: tenantId,
        payment_id: p.id,
        processor_dispute_id: e.disputeId,
        kind: ach ? 'ach' : 'card',
        currency: e.amount.currency,
        amount_minor: e.amount.amountMinor,
        fee_minor: e.fee?.amountMinor ?? 0n,
        reason: e.reason,
        status: ach ? 'lost' : 'open',
        ...(ach ? { closed_at: new Date() } : {}),
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'processor_dispute_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return 'dispute already recorded';
    if (ach) {
      const r = await reverseSucceededPaymentInTx(tx, {
        paymentId: p.id,
        reason: `the account holder disputed the debit (${e.reason.replace(/_/g, ' ')})`,
        code: `dispute:${e.reason}`,
      });
      return r.reversed ? 'bank debit disputed: booked as a return' : `bank debit disputed; payment already ${r.state}`;
    }
    const to = await transition(tx, p, 'dispute_opened', { dispute: e.disputeId, reason: e.reason });
    if (to === null) {
      await audit(tx, tenantId, 'vendor:processor', 'dispute.unexpected', { type: 'payment', id: p.id }, { dispute: e.disputeId, state: p.state });
      return `dispute on a ${p.state} payment: recorded for staff`;
    }
    await writeJournal(tx, tenantId, 'dispute_opened', journal.disputeOpened({ amount: e.amount, memo: `dispute ${e.disputeId} on payment ${p.id}` }), {
      paymentId: p.id,
    });
    const invoiceIds = (await tx.selectFrom('allocations').select('invoice_id').where('payment_id', '=', p.id).execute()).map((a) => a.invoice_id);
    await openException(tx, p, {
      kind: 'dispute',
      dedupeKey: `dispute:${e.disputeId}`,
      invoiceIds: [],
      title: `Payment disputed (${e.reason.replace(/_/g, ' ')})`,
      detail: `${toDecimalString(e.amount)} ${e.amount.currency} withdrawn by the processor while the dispute is open; respond with evidence at the processor before the deadline.`,
      data: { dispute: e.disputeId, reason: e.reason, invoices: invoiceIds },
    });
    await audit(
      tx,
      tenantId,
      'vendor:processor',
      'dispute.opened',
      { type: 'payment', id: p.id },
      { dispute: e.disputeId, amount_minor: e.amount.amountMinor, fee_minor: e.fee?.amountMinor ?? null, reason: e.reason },
    );
    return 'dispute opened';
  });
}

export async function applyDisputeClosed(ctx: EngineContext, tenantId: string, e: Closed): Promise<string> {
  return withTenant(ctx.db, tenantId, async (tx) => {
    const d = await tx.selectFrom('disputes').selectAll().where('processor_dispute_id', '=', e.disputeId).executeTakeFirst();
    if (!d) return 'ignored: a dispute Settle never saw open';
    const p = await lockPayment(tx, d.payment_id);
    const dispute = await tx.selectFrom('disputes').selectAll().where('id', '=', d.id).forUpdate().executeTakeFirstOrThrow();
    if (dispute.status !== 'open') return `dispute already ${dispute.status}`;
    const currency = parseCurrency(p.currency);
    const amount = money(dispute.amount_minor, currency);
    await tx.updateTable('disputes').set({ status: e.outcome, closed_at: new Date() }).where('id', '=', dispute.id).execute();
    if (e.outcome === 'won') {
      const to = await transition(tx, p, 'dispute_won', { dispute: e.disputeId });
      // Won after part had been refunded: the label goes back to partially_refunded (payment-state.ts).
      const label = afterDisputeWon(p.refunded_minor);
      if (to !== null && label !== to) {
        await tx.updateTable('payments').set({ state: label, updated_at: new Date() }).where('id', '=', p.id).execute();
        await tx
          .insertInto('payment_events')
          .values({
            tenant_id: tenantId,
            payment_id: p.id,
            from_state: to,
            to_state: label,
            event: 'dispute_won',
            detail: JSON.stringify({ refunded_minor: p.refunded_minor.toString() }),
          })
          .execute();
      }
      await writeJournal(tx, tenantId, 'dispute_won', journal.disputeWon({ amount, memo: `dispute ${e.disputeId} won` }), { paymentId: p.id });
      await resolveException(tx, tenantId, `dispute:${e.disputeId}`, 'dispute_won');
      await audit(tx, tenantId, 'vendor:processor', 'dispute.won', { type: 'payment', id: p.id }, { dispute: e.disputeId, amount_minor: dispute.amount_minor });
      return 'dispute won';
    }
    const to = await transition(tx, p, 'dispute_lost', { dispute: e.disputeId });
    if (to === null) return `dispute lost on a ${p.state} payment: recorded`;
    const r = await applyReversal(tx, p, {
      kind: 'payment_reversal',
      key: `dispute:${dispute.id}`,
      amountMinor: dispute.amount_minor,
      order: 'invoices_first',
    });
    const memo = `dispute ${e.disputeId} lost`;
    const fromInvoices = money(dispute.amount_minor - r.plan.fromCreditMinor, currency);
    if (fromInvoices.amountMinor > 0n) {
      await writeJournal(
        tx,
        tenantId,
        'dispute_lost',
        journal.disputeLost({ amount: fromInvoices, treatment: 'reopen_invoice', original: r.invoiceSide, memo }),
        { paymentId: p.id },
      );
    }
    if (r.plan.fromCreditMinor > 0n) {
      // The unapplied part was the client's credit, not an invoice: Dr client_credit / Cr disputed_funds,
      // written as the reopen entry followed by the credit applied to what it reopened.
      const credit = money(r.plan.fromCreditMinor, currency);
      await writeJournal(tx, tenantId, 'dispute_lost', journal.disputeLost({ amount: credit, treatment: 'reopen_invoice', memo }), { paymentId: p.id });
      await writeJournal(tx, tenantId, 'dispute_lost', journal.creditApplied({ amount: credit, memo }), { paymentId: p.id });
    }
    await resolveException(tx, tenantId, `dispute:${e.disputeId}`, 'dispute_lost');
    await openException(tx, p, {
      kind: 'payment_charged_back',
      dedupeKey: `charged_back:${p.id}`,
      invoiceIds: r.plan.invoices.map((x) => x.invoiceId),
      title: 'Dispute lost: invoices open again',
      detail: `${toDecimalString(amount)} ${amount.currency} is gone for good (dispute ${e.disputeId}); the invoices it paid are open again in Settle, the PSA and the books.`,
      data: { dispute: e.disputeId },
    });
    await audit(
      tx,
      tenantId,
      'vendor:processor',
      'dispute.lost',
      { type: 'payment', id: p.id },
      {
        dispute: e.disputeId,
        amount_minor: dispute.amount_minor,
        reopened: r.plan.invoices.map((x) => ({ invoice_id: x.invoiceId, amount_minor: x.amountMinor })),
      },
    );
    return 'dispute lost';
  });
}
