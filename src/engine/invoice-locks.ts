// Every transaction that changes invoices locks them here: in one order (by id), so two transactions over
// overlapping invoices queue instead of deadlocking, and FOR NO KEY UPDATE — nothing changes an invoice's
// id — so the foreign-key checks of rows that only refer to an invoice (an autopay schedule, an allocation,
// a posting) are not blocked by it. FOR UPDATE would make every such insert wait for, and deadlock with,
// a payment being recorded: the soak's autopay-run "deadlock detected" was its schedules' inserts
// (FOR KEY SHARE of invoices, in no order) against a payment holding one of those invoices FOR UPDATE and
// waiting for another.
import type { Tx } from '../db/tenant.ts';
import type { Invoice } from '../db/schema.ts';

/** Lock these invoices (ids; repeats and unknown ids are fine) for this transaction, in id order. */
export async function lockInvoices(tx: Tx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .selectFrom('invoices')
    .select('id')
    .where('id', 'in', [...new Set(ids)])
    .orderBy('id')
    .forNoKeyUpdate()
    .execute();
}

/** lockInvoices that also reads the locked rows (one statement instead of a lock and a read). */
export async function lockInvoiceRows(tx: Tx, ids: readonly string[]): Promise<Invoice[]> {
  if (ids.length === 0) return [];
  return tx
    .selectFrom('invoices')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .orderBy('id')
    .forNoKeyUpdate()
    .execute();
}
