// The books' side of reconciliation: what Settle posted must still be in the books. A bookkeeper can void or
// delete in QuickBooks a payment Settle posted (while it is not yet in a deposit) or a payout's deposit; the
// books then no longer show money Settle knows was received, and nothing in Settle would notice. So, about
// hourly per workspace (scheduled by the sweep), this check asks the books which of the payments and deposits
// posted in the last LOOKBACK_DAYS are voided or deleted (AccountingConnector.goneRecords: one Id IN (…)
// query per 100 records), and each one found:
//   - its posting goes back to `failed` with the reason — so the books flush does not treat it as done, and
//     the workspace's postings list shows it — audited as `posting.gone_in_books`;
//   - a person is told through the posting's exception (`posting:<id>`, kind books_record_gone) what happened
//     and the two ways out: retry the posting (`POST /api/v1/postings/:id/retry`: Settle posts it again — a
//     voided record no longer counts as the earlier posting) if the void/delete was a mistake, or dismiss the
//     exception if the money was recorded another way in the books on purpose;
//   - the exception closes by itself when the posting is posted again (migration 0012's trigger).
import { withTenant, type Tx } from '../db/tenant.ts';
import { money, parseCurrency, toDecimalString } from '../domain/money.ts';
import type { BooksRecordRef, GoneRecord } from '../connectors/accounting/types.ts';
import { audit } from './audit.ts';
import type { EngineContext } from './context.ts';
import { enqueue } from './enqueue.ts';
import { raiseException } from './exceptions.ts';
import { postingExceptionKey, retryPath } from './posting-exceptions.ts';

export const BOOKS_CHECK_INTERVAL_MS = 60 * 60_000;
const LOOKBACK_DAYS = 90;
const MAX_RECORDS = 5000;
const ACTOR = 'system:books-check' as const;

export const booksCheckJobKey = (tenantId: string): string => `check-books-records:${tenantId}`;

/** Queue the next check in about an hour unless one is queued already (called by the per-minute sweep). */
export async function scheduleBooksCheck(ctx: EngineContext, tx: Tx, tenantId: string): Promise<void> {
  await enqueue(
    tx,
    'check-books-records',
    { tenantId },
    {
      jobKey: booksCheckJobKey(tenantId),
      jobKeyMode: 'preserve_run_at',
      runAt: new Date(ctx.now().getTime() + BOOKS_CHECK_INTERVAL_MS),
      queueName: `accounting:${tenantId}`,
      maxAttempts: 3,
    },
  );
}

function explain(gone: GoneRecord, kind: BooksRecordRef['kind'], remoteId: string): string {
  return `the ${kind === 'deposit' ? 'Deposit' : 'Payment'} Settle posted (QuickBooks id ${remoteId}) was ${gone} in QuickBooks`;
}

/** The posting's exception (same key as every posting problem, so re-posting closes it: migration 0012). */
async function tell(tx: Tx, tenantId: string, postingId: string, gone: GoneRecord, remoteId: string): Promise<void> {
  const p = await tx
    .selectFrom('postings as po')
    .leftJoin('payments as pa', 'pa.id', 'po.payment_id')
    .leftJoin('invoices as i', 'i.id', 'po.invoice_id')
    .select(['po.id', 'po.kind', 'po.payment_id', 'po.payout_id', 'po.amount_minor', 'po.currency', 'pa.client_id', 'i.number'])
    .where('po.id', '=', postingId)
    .executeTakeFirstOrThrow();
  const thing = p.kind === 'deposit' ? 'payout deposit' : 'payment';
  const amount = `${toDecimalString(money(p.amount_minor, parseCurrency(p.currency)))} ${p.currency}`;
  const forWhat = p.number ? ` for invoice #${p.number}` : '';
  await raiseException(tx, tenantId, ACTOR, {
    kind: 'books_record_gone',
    dedupeKey: postingExceptionKey(p.id),
    clientId: p.client_id ?? null,
    invoiceIds: [],
    paymentId: p.payment_id,
    title: `The ${thing}${forWhat} was ${gone} in QuickBooks`,
    detail:
      `The ${thing} of ${amount}${forWhat} that Settle posted to QuickBooks (id ${remoteId}) was ${gone} there, so the books no ` +
      `longer show money Settle knows was received. If that was a mistake, post it again: ${retryPath(p.id)}. If it was recorded ` +
      `another way on purpose, dismiss this exception. It closes by itself when the ${thing} is posted again.`,
    data: { posting_id: p.id, posting_kind: p.kind, remote_id: remoteId, state: gone, payout_id: p.payout_id, retry: retryPath(p.id) },
  });
}

export async function checkBooksRecords(ctx: EngineContext, tenantId: string): Promise<string> {
  const books = await ctx.connectors.accounting(tenantId);
  if (!books?.goneRecords) return 'the books connected cannot tell voided or deleted records';
  const since = new Date(ctx.now().getTime() - LOOKBACK_DAYS * 86_400_000);
  const posted = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('postings')
      .select(['id', 'kind', 'remote_id'])
      .where('target', '=', 'accounting')
      .where('vendor', '=', books.vendor)
      .where('status', '=', 'posted')
      .where('kind', 'in', ['payment', 'deposit'])
      .where('remote_id', 'is not', null)
      .where('posted_at', '>', since)
      .orderBy('posted_at', 'desc')
      .limit(MAX_RECORDS)
      .execute(),
  );
  if (posted.length === 0) return 'nothing posted to check';
  const refs = posted.map((p) => ({ kind: p.kind as BooksRecordRef['kind'], remoteId: p.remote_id! }));
  const gone = await books.goneRecords(refs);
  let flagged = 0;
  for (const p of posted) {
    const state = gone.get(`${p.kind}:${p.remote_id}`);
    if (!state) continue;
    const error = explain(state, p.kind as BooksRecordRef['kind'], p.remote_id!);
    const changed = await withTenant(ctx.db, tenantId, async (tx) => {
      // Only if it is still the posting we looked at (a concurrent re-post has a new remote id).
      const row = await tx
        .updateTable('postings')
        .set({ status: 'failed', last_error: error })
        .where('id', '=', p.id)
        .where('status', '=', 'posted')
        .where('remote_id', '=', p.remote_id)
        .returning('id')
        .executeTakeFirst();
      if (!row) return false;
      await audit(tx, tenantId, ACTOR, 'posting.gone_in_books', { type: 'posting', id: p.id }, { kind: p.kind, remote_id: p.remote_id, state });
      await tell(tx, tenantId, p.id, state, p.remote_id!);
      return true;
    });
    if (changed) flagged++;
  }
  if (flagged > 0) ctx.log.warn({ tenantId, flagged }, 'records Settle posted were voided or deleted in the books; postings failed with an exception each');
  return `${posted.length} posted records checked, ${flagged} voided or deleted in the books`;
}
