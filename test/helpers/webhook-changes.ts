// Row changes that Settle's webhook triggers report (migrations/0047_webhooks_out.sql), for the webhook tests
// and the fan-out bench: each is the change the engine's use case makes to that row, written directly so a
// test can make any event of the catalogue without driving the whole payment flow that leads to it (the
// engine paths themselves are covered by their own tests; the triggers see the row change whatever made it).
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Tx } from '../../src/db/tenant.ts';

/** A reconciled payout (payout.reconciled), as engine/reconcile-payout.ts writes it. */
export async function reconciledPayout(tx: Tx, tenantId: string, amountMinor = 10_000n): Promise<string> {
  const id = `po_test_${crypto.randomBytes(6).toString('hex')}`;
  await tx
    .insertInto('payouts')
    .values({
      tenant_id: tenantId,
      processor: 'stripe',
      processor_payout_id: id,
      currency: 'USD',
      amount_minor: amountMinor,
      gross_minor: amountMinor,
      fees_minor: 0n,
      adjustments_minor: 0n,
      arrival_date: '2026-12-01',
      status: 'paid',
    })
    .execute();
  return id;
}

/** The rest of the catalogue beyond what the engine paths of the test make, one row change each. */
export async function everyOtherChange(tx: Tx, tenantId: string, paymentId: string, invoiceId: string): Promise<void> {
  const t = tenantId;
  await reconciledPayout(tx, t);
  const key = crypto.randomBytes(6).toString('hex');
  // payment.refunded: a refund that succeeded (engine/refund-payment.ts)
  await tx
    .insertInto('refunds')
    .values({
      tenant_id: t,
      payment_id: paymentId,
      currency: 'USD',
      amount_minor: 100n,
      reason: 'requested_by_customer',
      status: 'succeeded',
      source: 'settle',
      idempotency_key: `refund-${key}`,
      request_hash: key,
      requested_by: 'system:test',
    } as never)
    .execute();
  // posting.failed then posting.resolved (engine/posting-failure.ts, then a retry that posted)
  const posting = await tx
    .insertInto('postings')
    .values({
      tenant_id: t,
      target: 'psa',
      vendor: 'connectwise',
      kind: 'payment',
      payment_id: paymentId,
      amount_minor: 100n,
      currency: 'USD',
      idempotency_key: `p-${key}`,
    } as never)
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx.updateTable('postings').set({ status: 'failed', last_error: 'refused' }).where('id', '=', posting.id).execute();
  await tx.updateTable('postings').set({ status: 'posted', remote_id: '1' }).where('id', '=', posting.id).execute();
  // payment.failed and payment.returned, on payments of their own
  for (const state of ['failed', 'returned'] as const) {
    const p = await sql<{ id: string }>`INSERT INTO payments (tenant_id, client_id, currency, amount_minor, state, source, processor)
      SELECT tenant_id, client_id, currency, amount_minor, 'processing', 'manual', 'stripe' FROM payments WHERE id = ${paymentId}::uuid RETURNING id`.execute(
      tx,
    );
    await tx.updateTable('payments').set({ state }).where('id', '=', p.rows[0]!.id).execute();
  }
  // autopay.approval_needed: a charge above the rule's cap waits for staff (engine/screen-due-autopay.ts)
  const inv = await tx
    .selectFrom('invoices')
    .select(['client_id', 'total_minor', 'currency', 'current_version'])
    .where('id', '=', invoiceId)
    .executeTakeFirstOrThrow();
  const rule = await tx
    .insertInto('autopay_rules')
    .values({ tenant_id: t, name: `cap ${key}` } as never)
    .returning('id')
    .executeTakeFirstOrThrow();
  const schedule = await tx
    .insertInto('autopay_schedules')
    .values({
      tenant_id: t,
      invoice_id: invoiceId,
      client_id: inv.client_id,
      rule_id: rule.id,
      state: 'awaiting_approval',
      charge_on: '2026-12-31',
      notice_days: 3,
    } as never)
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx
    .insertInto('autopay_approvals')
    .values({
      tenant_id: t,
      schedule_id: schedule.id,
      invoice_id: invoiceId,
      invoice_version: inv.current_version,
      amount_minor: inv.total_minor,
      currency: inv.currency,
      reasons: ['over_cap'],
    } as never)
    .execute();
  // invoice.voided: voided in the PSA (engine/ingest-invoice.ts re-derives the status)
  await tx.updateTable('invoices').set({ status: 'void' }).where('id', '=', invoiceId).execute();
}
