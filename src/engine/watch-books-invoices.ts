// Postings waiting for their invoice to appear in the books back off up to daily; this look-up brings them
// forward as soon as the invoice is there. Every few minutes while anything waits, one cheap query asks
// the books which of the awaited invoice numbers exist now (one `DocNumber IN (…)` query per 100 numbers),
// and the postings of those that do are made due at once and the tenant's flush is queued. Scheduled by
// the flush when a posting starts waiting, re-scheduled by itself while any still wait, and re-added by
// the per-minute sweep if its job was lost. A credit memo's application also waits for its memo: where the
// books can say (creditMemosInBooks) it is woken only once the memo is there. Xero's webhooks for invoices and
// credit notes queue this look-up at once (xero-webhook.ts).
import { withTenant, type Tx } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { enqueue } from './enqueue.ts';
import { booksInvoiceNumber } from './remap-books-invoice.ts';

export const WATCH_INTERVAL_MS = 5 * 60_000;
const MAX_NUMBERS = 2000;

export const invoiceWatchJobKey = (tenantId: string): string => `watch-books-invoices:${tenantId}`;

/** Queue the next look-up in a few minutes, unless one is already queued sooner. */
export async function scheduleInvoiceWatch(ctx: EngineContext, tx: Tx, tenantId: string): Promise<void> {
  await enqueue(
    tx,
    'watch-books-invoices',
    { tenantId },
    {
      jobKey: invoiceWatchJobKey(tenantId),
      jobKeyMode: 'preserve_run_at',
      runAt: new Date(ctx.now().getTime() + WATCH_INTERVAL_MS),
      queueName: `accounting:${tenantId}`,
      maxAttempts: 5,
    },
  );
}

export async function watchBooksInvoices(ctx: EngineContext, tenantId: string): Promise<string> {
  const books = await ctx.connectors.accounting(tenantId);
  if (!books) return 'no books connected';
  const waiting = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('postings as po')
      .innerJoin('invoices as i', 'i.id', 'po.invoice_id')
      .leftJoin('credit_memo_applications as c', 'c.posting_id', 'po.id')
      .select(['po.id', booksInvoiceNumber('po').as('number'), 'c.credit_memo_number as memo'])
      .where('po.target', '=', 'accounting')
      .where('po.status', '=', 'pending')
      .where('po.waiting_for', '=', 'invoice_in_books')
      .orderBy('po.waiting_since')
      .limit(MAX_NUMBERS)
      .execute(),
  );
  if (waiting.length === 0) return 'nothing waits for an invoice';
  const present = await books.invoicesInBooks([...new Set(waiting.map((w) => w.number))]);
  // A credit memo's application waits for its memo too: woken only when both are there, where the books can tell.
  const memos = waiting.flatMap((w) => (w.memo && present.has(w.number) ? [w.memo] : []));
  const memosPresent = books.creditMemosInBooks && memos.length ? await books.creditMemosInBooks(memos) : null;
  const due = waiting.filter((w) => present.has(w.number) && (!w.memo || !memosPresent || memosPresent.has(w.memo))).map((w) => w.id);
  await withTenant(ctx.db, tenantId, async (tx) => {
    if (due.length > 0) {
      await tx.updateTable('postings').set({ next_attempt_at: ctx.now() }).where('id', 'in', due).where('status', '=', 'pending').execute();
      await enqueue(tx, 'flush-accounting', { tenantId }, { queueName: `accounting:${tenantId}`, jobKey: `flush-accounting:${tenantId}`, runAt: ctx.now() });
    }
    if (due.length < waiting.length) await scheduleInvoiceWatch(ctx, tx, tenantId);
  });
  if (due.length > 0) ctx.log.info({ tenantId, postings: due.length }, 'invoices appeared in the books; their waiting postings are due now');
  return `${due.length} of ${waiting.length} waiting postings have their invoice now`;
}
