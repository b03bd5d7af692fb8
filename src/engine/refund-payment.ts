// Refunds, full or partial. Staff ask through the API (requestRefund): the request is stored first under
// its idempotency key, then sent to the processor with `refund:<id>` as the processor's idempotency key,
// so a repeated request, a crash or a lost answer never refunds twice. When the processor confirms (at
// once, or later by webhook), recordRefundSucceeded books it once: journal.refund with the proportional
// surcharge (payments-rules.md §1.7), the payment's state (partially_refunded / refunded), the invoices
// it reopens, and reversal postings to the PSA (the payment reduced) and the books (reversing entry).
// A refund made at the processor directly (its dashboard) arrives by webhook and is booked the same way.
import { journal } from '../domain/ledger.ts';
import { ReversalError } from '../domain/reversal.ts';
import { money, parseCurrency } from '../domain/money.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { Payment, Refund } from '../db/schema.ts';
import type { ProcessorEvent } from '../connectors/payments/types.ts';
import { UseCaseError, type EngineContext } from './context.ts';
import { audit, type Actor } from './audit.ts';
import { applyReversal } from './apply-reversal.ts';
import { raiseException } from './exceptions.ts';
import { enqueue } from './enqueue.ts';
import { writeJournal } from './ledger-writer.ts';
import { lockPayment, transition } from './record-payment-outcome.ts';
import { fingerprint, keyReused } from './idempotent-request.ts';

export interface RefundRequest {
  readonly paymentId: string;
  /** Absent: everything still refundable. */
  readonly amountMinor?: bigint;
  readonly reason: string;
  readonly idempotencyKey: string;
  readonly actor: Actor;
}

export interface RefundView {
  readonly refund: Refund;
  /** True when the same request was seen before and this is its stored result. */
  readonly replayed: boolean;
}

const REFUNDABLE = new Set(['succeeded', 'partially_refunded']);

export function requestHash(r: Pick<RefundRequest, 'paymentId' | 'amountMinor' | 'reason'>): string {
  return fingerprint([r.paymentId, r.amountMinor?.toString() ?? 'all', r.reason.trim()]);
}

export async function requestRefund(ctx: EngineContext, tenantId: string, req: RefundRequest): Promise<RefundView> {
  const reason = req.reason.trim();
  if (!reason) throw new UseCaseError('invalid', 'give a reason for the refund (kept in the audit log and sent to the processor)');
  const processor = await ctx.connectors.payments(tenantId);
  const stored = await withTenant(ctx.db, tenantId, async (tx) => {
    const p = await lockPayment(tx, req.paymentId).catch(() => null);
    if (!p) throw new UseCaseError('not_found', `no payment ${req.paymentId} in this workspace`);
    const hash = requestHash({ ...req, reason });
    const earlier = await tx.selectFrom('refunds').selectAll().where('idempotency_key', '=', req.idempotencyKey).executeTakeFirst();
    if (earlier) {
      if (earlier.request_hash !== hash) throw keyReused(req.idempotencyKey.replace(/^(key|derived):/, ''), 'refund request');
      return { refund: earlier, replayed: true };
    }
    if (!REFUNDABLE.has(p.state)) {
      const why = p.state === 'disputed' ? 'it is under dispute; the dispute decides where the money goes' : `it is ${p.state}`;
      throw new UseCaseError('conflict', `payment ${p.id} cannot be refunded: ${why}`);
    }
    if (!processor || processor.vendor !== p.processor || !processor.refunds || !p.processor_payment_id) {
      throw new UseCaseError(
        'not_configured',
        `payment ${p.id} was made through ${p.processor}, which Settle cannot refund; refund it there and the processor's notice will be booked`,
      );
    }
    const pending = await tx
      .selectFrom('refunds')
      .select((eb) => eb.fn.sum<bigint>('amount_minor').as('n'))
      .where('payment_id', '=', p.id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    const refundable = p.amount_minor - p.refunded_minor - BigInt(pending?.n ?? 0);
    const amount = req.amountMinor ?? refundable;
    if (amount <= 0n)
      throw new UseCaseError(
        refundable <= 0n ? 'conflict' : 'invalid',
        refundable <= 0n ? `payment ${p.id} has nothing left to refund` : 'amount_minor must be more than zero',
      );
    if (amount > refundable) {
      throw new UseCaseError(
        'invalid',
        `amount_minor ${amount} is more than the ${refundable} ${p.currency} minor units still refundable on payment ${p.id}; ask for at most that`,
      );
    }
    const refund = await tx
      .insertInto('refunds')
      .values({
        tenant_id: tenantId,
        payment_id: p.id,
        currency: p.currency,
        amount_minor: amount,
        reason,
        source: 'settle',
        idempotency_key: req.idempotencyKey,
        request_hash: hash,
        requested_by: req.actor,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(
      tx,
      tenantId,
      req.actor,
      'refund.requested',
      { type: 'payment', id: p.id },
      { refund_id: refund.id, amount_minor: amount, currency: p.currency, reason },
    );
    return { refund, replayed: false };
  });
  if (stored.replayed && stored.refund.status !== 'pending') return stored;
  await submitRefund(ctx, tenantId, stored.refund.id);
  const refund = await withTenant(ctx.db, tenantId, (tx) => tx.selectFrom('refunds').selectAll().where('id', '=', stored.refund.id).executeTakeFirstOrThrow());
  return { refund, replayed: stored.replayed };
}

/**
 * Send a pending refund to the processor (again: same idempotency key). An unknown outcome is retried by
 * a job; the job throws so graphile-worker backs off, and Stripe replays the first answer once it has one.
 */
export async function submitRefund(ctx: EngineContext, tenantId: string, refundId: string, fromJob = false): Promise<string> {
  const job = await withTenant(ctx.db, tenantId, async (tx) => {
    const refund = await tx.selectFrom('refunds').selectAll().where('id', '=', refundId).executeTakeFirst();
    if (!refund || refund.status !== 'pending' || refund.source !== 'settle') return null;
    const p = await tx.selectFrom('payments').select(['processor_payment_id', 'currency']).where('id', '=', refund.payment_id).executeTakeFirstOrThrow();
    return { refund, processorPaymentId: p.processor_payment_id! };
  });
  if (!job) return 'nothing to do';
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor?.refunds) return 'no processor that refunds';
  const { refund } = job;
  const outcome = await processor.refunds.refund({
    processorPaymentId: job.processorPaymentId,
    amount: money(refund.amount_minor, parseCurrency(refund.currency)),
    reason: refund.reason,
    metadata: { settle_tenant: tenantId, settle_payment: refund.payment_id, settle_refund: refund.id },
    idempotencyKey: `refund:${refund.id}`,
  });
  switch (outcome.kind) {
    case 'succeeded':
      await withTenant(ctx.db, tenantId, (tx) => recordRefundSucceeded(tx, refund.id, outcome.refundId, 'vendor:processor'));
      return 'refunded';
    case 'pending':
      await withTenant(ctx.db, tenantId, async (tx) => {
        await tx
          .updateTable('refunds')
          .set((eb) => ({ processor_refund_id: outcome.refundId, attempts: eb('attempts', '+', 1), updated_at: new Date() }))
          .where('id', '=', refund.id)
          .execute();
      });
      return 'pending at the processor';
    case 'failed':
      await withTenant(ctx.db, tenantId, async (tx) => {
        await tx
          .updateTable('refunds')
          .set((eb) => ({
            status: 'failed',
            failure_message: outcome.message,
            processor_refund_id: outcome.refundId,
            attempts: eb('attempts', '+', 1),
            updated_at: new Date(),
          }))
          .where('id', '=', refund.id)
          .where('status', '=', 'pending')
          .execute();
        await audit(
          tx,
          tenantId,
          'vendor:processor',
          'refund.failed',
          { type: 'payment', id: refund.payment_id },
          { refund_id: refund.id, message: outcome.message },
        );
      });
      return `failed: ${outcome.message}`;
    case 'unknown':
      await withTenant(ctx.db, tenantId, async (tx) => {
        await tx
          .updateTable('refunds')
          .set((eb) => ({ attempts: eb('attempts', '+', 1), failure_message: outcome.reason, updated_at: new Date() }))
          .where('id', '=', refund.id)
          .execute();
        if (!fromJob)
          await enqueue(tx, 'submit-refund', { tenantId, refundId: refund.id }, { jobKey: `refund:${refund.id}`, runAt: new Date(Date.now() + 2000) });
      });
      if (fromJob) throw new Error(`refund ${refund.id}: outcome unknown (${outcome.reason}); asking again`);
      return 'unknown; retrying';
    default: {
      const _: never = outcome;
      throw new Error(`unhandled refund outcome ${JSON.stringify(_)}`);
    }
  }
}

/** Book a refund the processor confirmed. Once per refund: false when it was booked already. */
export async function recordRefundSucceeded(tx: Tx, refundId: string, processorRefundId: string, actor: Actor): Promise<boolean> {
  const pre = await tx.selectFrom('refunds').select('payment_id').where('id', '=', refundId).executeTakeFirstOrThrow();
  const p = await lockPayment(tx, pre.payment_id); // payment first, then refund: the order every path takes
  const refund = await tx.selectFrom('refunds').selectAll().where('id', '=', refundId).forUpdate().executeTakeFirstOrThrow();
  if (refund.status === 'succeeded') return false;
  const total = p.refunded_minor + refund.amount_minor;
  const to = await transition(tx, p, total >= p.amount_minor ? 'refund_full' : 'refund_partial', {
    refund_id: refund.id,
    amount_minor: refund.amount_minor.toString(),
  });
  if (to === null) {
    // The processor refunded a payment our state machine says cannot be (e.g. under dispute): record
    // the money, leave the state, and let staff look.
    await audit(tx, p.tenant_id, actor, 'refund.unexpected', { type: 'payment', id: p.id }, { refund_id: refund.id, state: p.state });
  }
  let r;
  try {
    r = await applyReversal(tx, p, { kind: 'refund', key: `refund:${refund.id}`, amountMinor: refund.amount_minor, order: 'credit_first' });
  } catch (e) {
    // Nothing of the payment is left to take back (it was returned or charged back first, and the processor
    // refunded it anyway): planning wrote nothing. The money did leave, so the refund is recorded — with no
    // booking Settle could choose — and a person is told; failing here would retry the event for ever.
    if (!(e instanceof ReversalError) || to !== null) throw e;
    return recordUnbookableRefund(tx, p, refund, processorRefundId, actor, e.message);
  }
  await tx.updateTable('payments').set({ refunded_minor: total, updated_at: new Date() }).where('id', '=', p.id).execute();
  await tx
    .updateTable('refunds')
    .set({
      status: 'succeeded',
      processor_refund_id: processorRefundId,
      surcharge_minor: r.plan.surchargeMinor,
      plan_fee_minor: r.plan.planFeeMinor,
      credit_minor: r.plan.fromCreditMinor,
      succeeded_at: new Date(),
      updated_at: new Date(),
      failure_message: null,
    })
    .where('id', '=', refund.id)
    .execute();
  const currency = parseCurrency(p.currency);
  const memo = `refund ${refund.id} of payment ${p.id}`;
  if (r.plan.fromCreditMinor > 0n) {
    await writeJournal(tx, p.tenant_id, 'refund', journal.refund({ amount: money(r.plan.fromCreditMinor, currency), against: 'client_credit', memo }), {
      paymentId: p.id,
    });
  }
  const invoiceSide = refund.amount_minor - r.plan.fromCreditMinor;
  if (invoiceSide > 0n) {
    await writeJournal(tx, p.tenant_id, 'refund', journal.refund({ amount: money(invoiceSide, currency), original: r.invoiceSide, memo }), { paymentId: p.id });
  }
  await audit(
    tx,
    p.tenant_id,
    actor,
    'refund.succeeded',
    { type: 'payment', id: p.id },
    {
      refund_id: refund.id,
      processor_refund_id: processorRefundId,
      amount_minor: refund.amount_minor,
      surcharge_minor: r.plan.surchargeMinor,
      ...(r.plan.planFeeMinor > 0n ? { plan_fee_minor: r.plan.planFeeMinor } : {}),
      credit_minor: r.plan.fromCreditMinor,
      reopened: r.plan.invoices.map((x) => ({ invoice_id: x.invoiceId, amount_minor: x.amountMinor })),
      state: to ?? p.state,
    },
  );
  return true;
}

/** A refund the processor made of a payment Settle has nothing left of to take back: recorded, and an exception. */
async function recordUnbookableRefund(tx: Tx, p: Payment, refund: Refund, processorRefundId: string, actor: Actor, why: string): Promise<boolean> {
  await tx
    .updateTable('refunds')
    .set({
      status: 'succeeded',
      processor_refund_id: processorRefundId,
      succeeded_at: new Date(),
      updated_at: new Date(),
      failure_message: `not booked: ${why}`,
    })
    .where('id', '=', refund.id)
    .execute();
  await raiseException(tx, p.tenant_id, actor, {
    kind: 'refund_of_reversed_payment',
    dedupeKey: `refund-of-reversed:${refund.id}`,
    clientId: p.client_id,
    invoiceIds: [], // no invoice's state clears it: the money is out either way
    paymentId: p.id,
    title: 'Processor refunded a payment that was already taken back',
    detail: `The processor refunded ${refund.amount_minor} minor units (refund ${processorRefundId}) of payment ${p.id}, which Settle had already recorded as ${p.state}: ${why}. Nothing was booked for it. Ask the processor whether the refund can be reversed, or record the loss in the books by hand; the payout's deposit carries it on its adjustments line.`,
  });
  await audit(
    tx,
    p.tenant_id,
    actor,
    'refund.not_booked',
    { type: 'payment', id: p.id },
    { refund_id: refund.id, processor_refund_id: processorRefundId, amount_minor: refund.amount_minor, state: p.state, reason: why },
  );
  return true;
}

/** refund.created / refund.updated from the processor, after the inbox. */
export async function applyRefundEvent(
  ctx: EngineContext,
  tenantId: string,
  e: Extract<ProcessorEvent, { type: 'refund.updated' }>,
  paymentId: string,
): Promise<string> {
  return withTenant(ctx.db, tenantId, async (tx) => {
    const ours = e.metadata['settle_refund'];
    let refund = ours && /^[0-9a-f-]{36}$/i.test(ours) ? await tx.selectFrom('refunds').selectAll().where('id', '=', ours).executeTakeFirst() : undefined;
    refund ??= await tx.selectFrom('refunds').selectAll().where('processor_refund_id', '=', e.refundId).executeTakeFirst();
    const status = e.status;
    if (!refund) {
      if (status !== 'succeeded') return `refund ${e.refundId} ${status}: waiting for it to succeed`;
      // Made at the processor directly: record it, then book it like ours.
      const p = await tx.selectFrom('payments').select(['id', 'currency']).where('id', '=', paymentId).executeTakeFirstOrThrow();
      refund = await tx
        .insertInto('refunds')
        .values({
          tenant_id: tenantId,
          payment_id: p.id,
          currency: p.currency,
          amount_minor: e.amount.amountMinor,
          reason: 'refunded at the processor',
          source: 'processor',
          processor_refund_id: e.refundId,
          idempotency_key: `processor:${e.refundId}`,
          request_hash: '-',
          requested_by: 'vendor:processor',
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'idempotency_key']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!refund) return 'already recorded';
    }
    if (status === 'succeeded') return (await recordRefundSucceeded(tx, refund.id, e.refundId, 'vendor:processor')) ? 'refund booked' : 'already booked';
    if ((status === 'failed' || status === 'canceled') && refund.status === 'pending') {
      await tx
        .updateTable('refunds')
        .set({ status: 'failed', failure_message: `refund ${status} at the processor`, processor_refund_id: e.refundId, updated_at: new Date() })
        .where('id', '=', refund.id)
        .execute();
      await audit(tx, tenantId, 'vendor:processor', 'refund.failed', { type: 'payment', id: refund.payment_id }, { refund_id: refund.id, status });
      return 'refund failed';
    }
    if ((status === 'failed' || status === 'canceled') && refund.status === 'succeeded') {
      // The money came back from the payer's bank after the refund was booked: rare, and a decision for staff.
      ctx.log.warn({ tenantId, refund: refund.id, status }, 'a booked refund failed at the processor');
      await audit(
        tx,
        tenantId,
        'vendor:processor',
        'refund.failed_after_success',
        { type: 'payment', id: refund.payment_id },
        { refund_id: refund.id, status },
      );
      return 'refund failed after it was booked; left for staff';
    }
    return `refund ${status}`;
  });
}
