// QuickBooks Desktop answers when its Web Connector runs, not when Settle asks: when a run settles queued
// work (written, refused, waiting for an invoice), the workspace's pending books postings are due again at
// once and the books flush is woken, so the result reaches the postings within the same run rather than at
// the postings' next back-off time.
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import { wakeBooksFlush } from './wake-books-flush.ts';

export async function wakeQbdPostings(db: Db, tenantId: string): Promise<void> {
  await withTenant(db, tenantId, (tx) =>
    tx.updateTable('postings').set({ next_attempt_at: new Date() }).where('target', '=', 'accounting').where('status', '=', 'pending').execute(),
  );
  await wakeBooksFlush(db, tenantId);
}
