// What a processor payout's deposit is made of (payments-rules.md §5.3): its charges' books payment
// postings, the fees as a negative line, card surcharges, installment-plan fees and clients' credit on lines of their own, and
// whatever else the payout holds (refunds, returns, adjustments) as one signed line — so the deposit always
// equals the bank line. books-deposit.ts posts it.
import { sql } from 'kysely';
import { parseCurrency, money, toDecimalString } from '../domain/money.ts';
import type { Tx } from '../db/tenant.ts';
import type { DepositPlan } from './books-deposit.ts';
import { trackingForInvoices } from './gl-mapping.ts';

export async function planPayoutDeposit(tx: Tx, payoutId: string): Promise<DepositPlan> {
  const payout = await tx.selectFrom('payouts').selectAll().where('id', '=', payoutId).executeTakeFirstOrThrow();
  const lines = await tx
    .selectFrom('payout_items as it')
    .innerJoin('postings as po', (j) => j.onRef('po.payment_id', '=', 'it.payment_id').on('po.target', '=', 'accounting').on('po.kind', '=', 'payment'))
    .leftJoin('invoices as i', 'i.id', 'po.invoice_id')
    // Only the charge itself links its payment; a refund or dispute item of the same payment is an
    // adjustment (it would otherwise link the payment a second time).
    .where('it.type', 'in', ['charge', 'payment'])
    .select(['po.id', 'po.idempotency_key', 'po.status', 'po.remote_id', 'po.amount_minor', 'po.invoice_id', 'i.number'])
    .where('it.payout_id', '=', payout.id)
    .orderBy('po.created_at')
    .execute();
  // Of the payout's charges: the surcharges (income of their own) and what no invoice needed (clients' credit).
  // An ACH discount (§1.5) pays invoices in full with less money: it is not credit, and the deposit
  // carries it as a negative "ACH discounts" adjustment so the deposit still equals the payout.
  // Installment-plan fees (collect-installments.ts) are income of their own too, on a line of their own.
  const extra = await sql<{ surcharges: string; plan_fees: string; credit: string; discounts: string }>`
    SELECT coalesce(sum(p.surcharge_minor), 0)::text AS surcharges,
           coalesce(sum(p.plan_fee_minor), 0)::text AS plan_fees,
           coalesce(sum(p.discount_minor), 0)::text AS discounts,
           coalesce(sum(p.amount_minor - p.surcharge_minor - p.plan_fee_minor + p.discount_minor - coalesce((SELECT sum(a.amount_minor) FROM allocations a WHERE a.payment_id = p.id), 0)), 0)::text AS credit
      FROM payments p
     WHERE p.id IN (SELECT it.payment_id FROM payout_items it WHERE it.payout_id = ${payout.id} AND it.type IN ('charge', 'payment') AND it.payment_id IS NOT NULL)`.execute(
    tx,
  );
  const surcharges = BigInt(extra.rows[0]?.surcharges ?? 0);
  const planFees = BigInt(extra.rows[0]?.plan_fees ?? 0);
  const credit = BigInt(extra.rows[0]?.credit ?? 0);
  const discounts = BigInt(extra.rows[0]?.discounts ?? 0);
  const currency = parseCurrency(payout.currency);
  // Each payment's class / location, as its own posting got it (post-to-accounting.ts): a ledger whose
  // deposit line linking a payment takes a class (QuickBooks Desktop) puts it there.
  const tracking = await trackingForInvoices(
    tx,
    lines.flatMap((l) => (l.invoice_id ? [l.invoice_id] : [])),
  );
  const paymentsTotal = lines.reduce((s, l) => s + l.amount_minor, 0n);
  // Whatever in the payout is not a payment, a fee, a surcharge or clients' credit (refunds, adjustments)
  // goes on its own line, so the deposit always equals the bank line. The connector books surcharges and
  // credit on their own lines where the MSP named accounts for them.
  const adjustments = payout.amount_minor - (paymentsTotal - payout.fees_minor) - surcharges - planFees - credit;
  return {
    reference: payout.processor_payout_id,
    depositedOn: payout.arrival_date,
    currency,
    payments: lines.map((l) => ({
      postingId: l.id,
      idempotencyKey: l.idempotency_key,
      amountMinor: l.amount_minor,
      status: l.status,
      remoteId: l.remote_id,
      invoiceNumber: l.number,
      ...(l.invoice_id && tracking.has(l.invoice_id) ? { tracking: tracking.get(l.invoice_id)! } : {}),
    })),
    feesMinor: payout.fees_minor,
    adjustmentsMinor: adjustments,
    surchargesMinor: surcharges,
    planFeesMinor: planFees,
    clientCreditMinor: credit,
    achDiscountsMinor: discounts,
    memo:
      `${payout.processor} payout ${payout.processor_payout_id}` +
      (discounts > 0n ? `; adjustments include ACH discounts of ${toDecimalString(money(discounts, currency))}` : ''),
  };
}
