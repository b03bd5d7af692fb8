// A verified Xero webhook delivery (http/webhooks/routes.ts): Xero names invoices and credit notes that were
// created or changed. An invoice — or a credit note — reaching Xero is what postings waiting for it need, so
// the look-up that makes them due (watch-books-invoices: it asks Xero which awaited invoices and credit notes
// are there now) runs now instead of at its next few-minute turn. The event is only a nudge: the look-up reads
// Xero itself, so a lost or repeated delivery costs nothing but latency. Payments have no Xero events.
import type { Db } from '../db/pool.ts';
import { enqueue } from './enqueue.ts';
import { invoiceWatchJobKey } from './watch-books-invoices.ts';

/** Events of these categories may end a wait (CONTACT and SUBSCRIPTION do not). */
export const WAKING_CATEGORIES: ReadonlySet<string> = new Set(['INVOICE', 'CREDITNOTE']);

export async function onXeroChanges(db: Db, tenantId: string, wakingEvents: number): Promise<void> {
  if (wakingEvents === 0) return;
  await enqueue(
    db,
    'watch-books-invoices',
    { tenantId },
    { jobKey: invoiceWatchJobKey(tenantId), jobKeyMode: 'replace', queueName: `accounting:${tenantId}`, maxAttempts: 5 },
  );
}
