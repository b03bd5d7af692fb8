// A verified Xero webhook delivery (http/webhooks/routes.ts): Xero names invoices that were created or
// changed. An invoice reaching Xero is what postings waiting for it need, so the look-up that makes them due
// (watch-books-invoices) runs now instead of at its next few-minute turn. Payments have no Xero events.
import type { Db } from '../db/pool.ts';
import { enqueue } from './enqueue.ts';
import { invoiceWatchJobKey } from './watch-books-invoices.ts';

export async function onXeroInvoicesChanged(db: Db, tenantId: string, invoiceEvents: number): Promise<void> {
  if (invoiceEvents === 0) return;
  await enqueue(
    db,
    'watch-books-invoices',
    { tenantId },
    { jobKey: invoiceWatchJobKey(tenantId), jobKeyMode: 'replace', queueName: `accounting:${tenantId}`, maxAttempts: 5 },
  );
}
