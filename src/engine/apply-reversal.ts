// The common part of every reversal of a succeeded payment (refund, ACH return, lost dispute), inside
// the caller's transaction and under its lock on the payment: the plan (domain/reversal.ts), the
// allocations and invoices it reopens, and one reversal posting per PSA / books posting of the payment,
// each naming the posting it undoes. The caller books its own journal (refund, achReturn, disputeLost),
// moves the payment's state and writes the audit entry.
import { planReversal, type ReversalPlan } from '../domain/reversal.ts';
import { money, parseCurrency, type Money } from '../domain/money.ts';
import type { OriginalCharge } from '../domain/ledger.ts';
import type { Tx } from '../db/tenant.ts';
import type { Payment } from '../db/schema.ts';
import { refreshInvoiceStatus } from '../db/queries/invoice-balance.ts';
import { enqueue } from './enqueue.ts';
import { lockInvoices } from './invoice-locks.ts';

export interface ReversalRequest {
  /** 'refund' for refunds; 'payment_reversal' for returns and lost disputes (postings.kind). */
  readonly kind: 'refund' | 'payment_reversal';
  /** Our identity of this reversal: idempotency keys of its postings derive from it. */
  readonly key: string;
  readonly amountMinor: bigint;
  readonly order: 'credit_first' | 'invoices_first';
}

export interface AppliedReversal {
  readonly plan: ReversalPlan;
  /** What was charged on the invoice side (for the surcharge and plan fee shares in ledger builders). */
  readonly invoiceSide: OriginalCharge;
  readonly postings: number;
}

/** Money of this payment still held as the client's unapplied credit (collections' credit entries). */
async function creditAvailable(tx: Tx, p: Payment, unapplied: bigint): Promise<bigint> {
  if (unapplied <= 0n) return 0n;
  const r = await tx
    .selectFrom('client_credit_entries')
    .select((eb) => eb.fn.sum<bigint>('amount_minor').as('n'))
    .where('source_payment_id', '=', p.id)
    .executeTakeFirst();
  return r?.n == null ? unapplied : BigInt(r.n);
}

/**
 * The plan of a reversal of `amountMinor` and what it was computed from. applyReversal calls it under its
 * locks (lock: true); the staff refund confirmation calls it without, to state the effect before asking.
 */
export async function planReversalOf(
  tx: Tx,
  p: Payment,
  req: Pick<ReversalRequest, 'amountMinor' | 'order'>,
  lock: boolean,
): Promise<{
  plan: ReversalPlan;
  invoiceSide: OriginalCharge;
  allocations: { id: string; invoice_id: string; amount_minor: bigint; reversed_minor: bigint }[];
}> {
  const currency = parseCurrency(p.currency);
  let q = tx
    .selectFrom('allocations')
    .select(['id', 'invoice_id', 'amount_minor', 'reversed_minor'])
    .where('payment_id', '=', p.id)
    .orderBy('created_at')
    .orderBy('id');
  if (lock) q = q.forUpdate();
  const allocations = await q.execute();
  const applied = allocations.reduce((s, a) => s + a.amount_minor, 0n);
  const unapplied = p.amount_minor - p.surcharge_minor - p.plan_fee_minor - applied;
  const credit = await creditAvailable(tx, p, unapplied);
  const creditReversedBefore = unapplied - credit;
  const plan = planReversal({
    currency,
    amountMinor: req.amountMinor,
    grossMinor: p.amount_minor,
    surchargeMinor: p.surcharge_minor,
    planFeeMinor: p.plan_fee_minor,
    allocations: allocations.map((a) => ({ invoiceId: a.invoice_id, amountMinor: a.amount_minor, reversedMinor: a.reversed_minor })),
    reversedBeforeMinor: p.refunded_minor + creditReversedBefore - (await creditRefundedBefore(tx, p)),
    creditReversedBeforeMinor: creditReversedBefore,
    order: req.order,
  });
  const invoiceSide: OriginalCharge = {
    gross: money(p.amount_minor - unapplied, currency),
    surcharge: money(p.surcharge_minor, currency),
    planFee: money(p.plan_fee_minor, currency),
    reversedBefore: money(p.refunded_minor - (await creditRefundedBefore(tx, p)), currency),
  };
  return { plan, invoiceSide, allocations };
}

export async function applyReversal(tx: Tx, p: Payment, req: ReversalRequest): Promise<AppliedReversal> {
  const { plan, invoiceSide, allocations } = await planReversalOf(tx, p, req, true);

  if (plan.fromCreditMinor > 0n) {
    // The client's credit is smaller by what goes back (collections' ledger of credit, kind 'refund').
    await tx
      .insertInto('client_credit_entries')
      .values({
        tenant_id: p.tenant_id,
        client_id: p.client_id,
        currency: p.currency,
        amount_minor: -plan.fromCreditMinor,
        kind: 'refund',
        source_payment_id: p.id,
        actor: 'system:lifecycle',
        note: `${req.kind} ${req.key}`,
      })
      .execute();
  }

  let postings = 0;
  const psaJobs: string[] = [];
  let books = false;
  await lockInvoices(
    tx,
    plan.invoices.map((part) => part.invoiceId),
  );
  for (const part of plan.invoices) {
    const a = allocations.find((x) => x.invoice_id === part.invoiceId)!;
    await tx
      .updateTable('allocations')
      .set({ reversed_minor: a.reversed_minor + part.amountMinor })
      .where('id', '=', a.id)
      .execute();
    const inv = await tx.selectFrom('invoices').select(['paid_minor']).where('id', '=', part.invoiceId).executeTakeFirstOrThrow();
    const paid = inv.paid_minor - part.amountMinor;
    await tx
      .updateTable('invoices')
      .set({ paid_minor: paid < 0n ? 0n : paid, updated_at: new Date() })
      .where('id', '=', part.invoiceId)
      .execute();

    // One reversal per posting the payment made for this invoice (PSA and books).
    const originals = await tx
      .selectFrom('postings')
      .select(['id', 'target', 'vendor', 'amount_minor'])
      .where('payment_id', '=', p.id)
      .where('invoice_id', '=', part.invoiceId)
      .where('kind', '=', 'payment')
      .execute();
    for (const o of originals) {
      const earlier = await tx
        .selectFrom('postings')
        .select((eb) => eb.fn.sum<bigint>('amount_minor').as('n'))
        .where('reverses_posting_id', '=', o.id)
        .executeTakeFirst();
      const remaining = o.amount_minor - BigInt(earlier?.n ?? 0) - part.amountMinor;
      const row = await tx
        .insertInto('postings')
        .values({
          tenant_id: p.tenant_id,
          target: o.target,
          vendor: o.vendor,
          kind: req.kind,
          payment_id: p.id,
          invoice_id: part.invoiceId,
          amount_minor: part.amountMinor,
          currency: p.currency,
          idempotency_key: `${req.key}:invoice:${part.invoiceId}:${o.vendor}:${req.kind}`,
          reverses_posting_id: o.id,
          remaining_minor: remaining < 0n ? 0n : remaining,
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'idempotency_key']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!row) continue;
      postings++;
      if (o.target === 'psa') psaJobs.push(row.id);
      else books = true;
    }
    await refreshInvoiceStatus(tx, part.invoiceId);
  }
  for (const id of psaJobs) {
    await enqueue(tx, 'post-psa-reversal', { tenantId: p.tenant_id, postingId: id }, { queueName: `psa:${p.tenant_id}`, jobKey: `psa-posting:${id}` });
  }
  if (books) {
    await enqueue(
      tx,
      'flush-accounting',
      { tenantId: p.tenant_id },
      { queueName: `accounting:${p.tenant_id}`, jobKey: `flush-accounting:${p.tenant_id}`, jobKeyMode: 'preserve_run_at', runAt: new Date(Date.now() + 150) },
    );
  }
  return { plan, invoiceSide, postings };
}

/** What earlier succeeded refunds of this payment took out of its unapplied credit. */
async function creditRefundedBefore(tx: Tx, p: Payment): Promise<bigint> {
  const r = await tx
    .selectFrom('refunds')
    .select((eb) => eb.fn.sum<bigint>('credit_minor').as('n'))
    .where('payment_id', '=', p.id)
    .where('status', '=', 'succeeded')
    .executeTakeFirst();
  return BigInt(r?.n ?? 0);
}

export const moneyOf = (p: Pick<Payment, 'currency'>, minor: bigint): Money => money(minor, parseCurrency(p.currency));
