// A client charged twice for the same invoices (issue #6 item 2). Settle keeps this from happening — one open
// checkout per invoice, money in flight never offered again (checkout-guard.ts) — but if the processor took
// two payments anyway (two intents confirmed in the browser, a path we did not foresee), the second is not
// kept as the client's credit: what it could not pay is refunded to the card or account it came from,
// automatically, and staff get an exception saying so.
//
// It is told apart from an ordinary overpayment (the PSA lowered an invoice while the client paid: that
// stays credit, client-credit.ts) by what took the invoice's money: another payment allocated to the same
// invoice after this one was planned, i.e. while this one was on its way.
import { sql } from 'kysely';
import { format, money, parseCurrency } from '../domain/money.ts';
import type { Payment } from '../db/schema.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { enqueue } from './enqueue.ts';
import { raiseException } from './exceptions.ts';
import { resolveException } from './lifecycle-exceptions.ts';
import { CREDIT_PROCESSOR, recordOverpaymentCredit } from './client-credit.ts';
import { sendCreditRefunds } from './refund-client-credit.ts';

const ACTOR = 'system:duplicate-charge';
const keyFor = (paymentId: string): string => `duplicate-charge:${paymentId}`;

/** Called by recordPaymentSucceeded with what no invoice needed: the client's credit, or a duplicate to refund. */
export async function creditOrRefundOverpayment(tx: Tx, p: Payment, remainingMinor: bigint): Promise<void> {
  await recordOverpaymentCredit(tx, p, remainingMinor);
  if (remainingMinor <= 0n || p.processor === CREDIT_PROCESSOR) return;
  const invoiceIds = p.planned_allocations.map((a) => a.invoiceId);
  if (invoiceIds.length === 0) return;
  const r = await sql<{ payment_id: string; number: string }>`
    SELECT DISTINCT a.payment_id, i.number
      FROM allocations a JOIN invoices i ON i.id = a.invoice_id
     WHERE a.invoice_id = ANY(${invoiceIds}::uuid[]) AND a.payment_id <> ${p.id}
       AND a.created_at >= ${p.created_at} AND a.reversed_minor < a.amount_minor`.execute(tx);
  if (r.rows.length === 0) return; // an ordinary overpayment: the client's credit
  const key = keyFor(p.id);
  const exists = await tx.selectFrom('credit_refunds').select('id').where('idempotency_key', '=', key).executeTakeFirst();
  if (exists) return;
  const amount = format(money(remainingMinor, parseCurrency(p.currency)));
  // Reserved at once (creditSources counts a decided refund as spoken for): it is never applied to an invoice.
  const decision = await tx
    .insertInto('credit_refunds')
    .values({
      tenant_id: p.tenant_id,
      client_id: p.client_id,
      source_payment_id: p.id,
      currency: p.currency,
      amount_minor: remainingMinor,
      reason: `charged twice: invoice ${r.rows.map((x) => x.number).join(', ')} was already paid by payment ${r.rows.map((x) => x.payment_id).join(', ')}`,
      idempotency_key: key,
      decided_by: ACTOR,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await audit(
    tx,
    p.tenant_id,
    ACTOR,
    'credit.refund_decided',
    { type: 'client', id: p.client_id },
    {
      credit_refund_id: decision.id,
      source_payment_id: p.id,
      amount_minor: remainingMinor,
      currency: p.currency,
      duplicate_of: r.rows.map((x) => x.payment_id),
    },
  );
  await raiseException(tx, p.tenant_id, ACTOR, {
    kind: 'duplicate_charge',
    dedupeKey: key,
    clientId: p.client_id,
    // Not tied to the invoices: they are paid, which would close it at once (0006 trigger).
    invoiceIds: [],
    paymentId: p.id,
    title: `Client charged twice: ${amount} is being refunded`,
    detail:
      `Payment ${p.id} (${amount} not needed by any invoice) came in after invoice ${r.rows.map((x) => x.number).join(', ')} ` +
      `had been paid by another payment. Settle is refunding ${amount} to the method it came from; tell the client ` +
      `they will see the charge and its refund. This closes itself once the processor confirms the refund.`,
    data: { credit_refund_id: decision.id, duplicate_of: r.rows.map((x) => x.payment_id), amount_minor: remainingMinor },
  });
  await enqueue(tx, 'refund-duplicate-charge', { tenantId: p.tenant_id, creditRefundId: decision.id }, { jobKey: key });
}

/** The job: send the refund (keyed, through the credit-refund path) and keep the exception true. */
export async function refundDuplicateCharge(ctx: EngineContext, tenantId: string, creditRefundId: string): Promise<string> {
  const d = await withTenant(ctx.db, tenantId, (tx) => tx.selectFrom('credit_refunds').selectAll().where('id', '=', creditRefundId).executeTakeFirst());
  if (!d) return 'no such refund decision';
  if (d.status === 'refunded' || d.status === 'failed') return `already ${d.status}`;
  const [out] = await sendCreditRefunds(
    ctx,
    tenantId,
    [{ refundId: d.id, sourcePaymentId: d.source_payment_id, amountMinor: d.amount_minor, status: d.status, message: null }],
    ACTOR,
  );
  await withTenant(ctx.db, tenantId, async (tx) => {
    if (out?.status === 'refunded') return resolveException(tx, tenantId, keyFor(d.source_payment_id), 'refunded automatically');
    if (out?.status === 'failed' || out?.status === 'decided') {
      const amount = format(money(d.amount_minor, parseCurrency(d.currency)));
      await raiseException(tx, tenantId, ACTOR, {
        kind: 'duplicate_charge',
        dedupeKey: keyFor(d.source_payment_id),
        clientId: d.client_id,
        invoiceIds: [],
        paymentId: d.source_payment_id,
        title: `Client charged twice: the automatic refund of ${amount} did not go through`,
        detail: `${d.reason}. The processor said: ${out.message ?? 'no reason given'}. Refund ${amount} by hand (POST /api/v1/clients/${d.client_id}/credit/refunds) and dismiss this.`,
        data: { credit_refund_id: d.id },
      });
    }
  });
  return out?.status ?? 'nothing sent';
}
