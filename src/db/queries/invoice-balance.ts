// What a client still owes on an invoice. The PSA's balance is the truth, but it only reflects the
// payments the PSA has been told about: a payment Settle allocated and has not yet written back to the PSA
// must still be taken off, or a second payment could be collected for the same amount.
import { sql, type RawBuilder } from 'kysely';
import type { Tx } from '../tenant.ts';
import type { InvoiceStatus } from '../schema.ts';

// The same holds the other way for reversals (refunds, returns, lost disputes: allocations.reversed_minor):
// money taken back is owed again at once, but the PSA's balance only rises once the PSA payment has been
// reduced or removed (a posted reversal posting). So the result is: allocations not yet in the PSA, minus
// reversals not yet in the PSA (it can be negative).
/** unreflectedAllocationsMinor as a scalar subquery, so a caller reads it with the invoice in one statement. */
export function unreflectedSql(invoiceId: string | RawBuilder<unknown>) {
  return sql<bigint>`(
    SELECT (coalesce(sum(a.amount_minor) FILTER (
              WHERE NOT EXISTS (SELECT 1 FROM postings p
                                 WHERE p.payment_id = a.payment_id AND p.invoice_id = a.invoice_id
                                   AND p.target = 'psa' AND p.kind = 'payment' AND p.status = 'posted')), 0)
          - coalesce(sum(a.reversed_minor), 0)
          + coalesce((SELECT sum(r.amount_minor) FROM postings r
                       WHERE r.invoice_id = ${invoiceId} AND r.target = 'psa'
                         AND r.kind IN ('refund', 'payment_reversal') AND r.status = 'posted'), 0))::bigint
      FROM allocations a
     WHERE a.invoice_id = ${invoiceId})`;
}

export async function unreflectedAllocationsMinor(tx: Tx, invoiceId: string): Promise<bigint> {
  const r = await sql<{ n: bigint | null }>`SELECT ${unreflectedSql(invoiceId)} AS n`.execute(tx);
  return r.rows[0]?.n ?? 0n;
}

// One statement for the invoice and its unreflected allocations: this runs for every payment planned and
// every payment recorded (bench autopay-run counts statements per charge).
export async function openBalanceMinor(tx: Tx, invoiceId: string): Promise<bigint> {
  const r = await sql<{
    n: bigint;
  }>`SELECT (i.psa_balance_minor - ${unreflectedSql(invoiceId)})::bigint AS n FROM invoices i WHERE i.id = ${invoiceId}`.execute(tx);
  const row = r.rows[0];
  if (!row) throw new Error(`invoice ${invoiceId} does not exist`);
  return row.n;
}

/** The status that follows from the PSA's view of an invoice and what is still open after our allocations. */
export function invoiceStatusFrom(inv: { type: string; total_minor: bigint; psa_status: string }, openMinor: bigint): InvoiceStatus {
  if (inv.type === 'credit_memo' || inv.total_minor < 0n) return 'credit';
  if (/void/i.test(inv.psa_status)) return 'void';
  return openMinor <= 0n ? 'paid' : openMinor < inv.total_minor ? 'partially_paid' : 'open';
}

/** Re-derive the invoice status from the PSA's view and our allocations. */
export async function refreshInvoiceStatus(tx: Tx, invoiceId: string): Promise<InvoiceStatus> {
  const r = await sql<{ status: InvoiceStatus; total_minor: bigint; psa_status: string; type: string; open_minor: bigint }>`
    SELECT i.status, i.total_minor, i.psa_status, i.type, (i.psa_balance_minor - ${unreflectedSql(invoiceId)})::bigint AS open_minor
      FROM invoices i WHERE i.id = ${invoiceId}`.execute(tx);
  const inv = r.rows[0];
  if (!inv) throw new Error(`invoice ${invoiceId} does not exist`);
  const status = invoiceStatusFrom(inv, inv.open_minor);
  if (status !== inv.status) await tx.updateTable('invoices').set({ status, updated_at: new Date() }).where('id', '=', invoiceId).execute();
  return status;
}
