// Credit memos from the PSA, applied in the books (issue #11). A credit memo staff apply to an invoice in the
// PSA lowers what the client owes there; Settle already collects only the PSA's balance (invoice-balance.ts),
// so the client is never charged for the credited part. What was missing is the books: the PSA's accounting
// export creates the credit memo in the books, but nothing applied it, so the books' invoice stayed open by
// that much. Now:
//   checkCreditMemos   — for invoices whose PSA balance fell by more than Settle's own PSA payments explain and
//                        that changed since they were last looked at, ask the PSA which credit memos were
//                        applied to them (PsaConnector.creditApplications); each new one becomes one books
//                        posting of kind 'credit_memo' (found once, by the PSA's id of the application).
//   postCreditMemos    — in the books flush: apply each (AccountingConnector.applyCreditMemo) — the memo found
//                        by number, against the same invoice, never created; a memo or invoice not in the
//                        books yet waits (backing off like a payment waiting for its invoice), a refusal is a
//                        posting failure a person sees (books-posting-outcome.ts).
import { sql } from 'kysely';
import { money, parseCurrency } from '../domain/money.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { AccountingConnector, PostResult } from '../connectors/accounting/types.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { enqueue } from './enqueue.ts';
import { recordBooksAttempt } from './books-posting-outcome.ts';
import { booksInvoiceNumber } from './remap-books-invoice.ts';
import { trackingForInvoices } from './gl-mapping.ts';

const ACTOR = 'system:credit-memos' as const;
/** Invoices looked at per run: the rest on the next (the sweep queues one a minute while any are due). */
const BATCH = 50;

/** What the PSA's balance of invoice `i` would be from Settle's own PSA payments and reversals alone. */
const settleExplained = sql`(i.total_minor
  - coalesce((SELECT sum(p.amount_minor) FROM postings p
               WHERE p.invoice_id = i.id AND p.target = 'psa' AND p.kind = 'payment' AND p.status = 'posted'), 0)
  + coalesce((SELECT sum(p.amount_minor) FROM postings p
               WHERE p.invoice_id = i.id AND p.target = 'psa' AND p.kind IN ('refund', 'payment_reversal') AND p.status = 'posted'), 0))`;

/** Invoices to ask the PSA about: reduced beyond Settle's own PSA payments, changed since last asked. */
export async function invoicesDueForCreditCheck(tx: Tx, psaVendor: string, limit = BATCH): Promise<{ id: string; remote: string; psa_at: Date }[]> {
  const r = await sql<{ id: string; remote: string; psa_at: Date }>`
    SELECT i.id, r.remote_id AS remote, i.psa_updated_at AS psa_at
      FROM invoices i
      JOIN external_refs r ON r.entity = 'invoice' AND r.entity_id = i.id AND r.system = ${psaVendor}
     WHERE i.type <> 'credit_memo' AND i.total_minor > 0
       AND i.credits_checked_psa_at IS DISTINCT FROM i.psa_updated_at
       AND i.psa_balance_minor < ${settleExplained}
     ORDER BY i.psa_updated_at
     LIMIT ${limit}`.execute(tx);
  return r.rows;
}

/** How often the sweep has the PSA asked: a credit memo reaches the books within this (plus its export). */
export const CREDIT_CHECK_INTERVAL_MS = 5 * 60_000;

/** Queue the next check in a few minutes unless one is queued (the per-minute sweep; only with a PSA connected). */
export async function scheduleCreditMemoCheck(ctx: EngineContext, tx: Tx, tenantId: string): Promise<void> {
  const psa = await tx.selectFrom('connections').select('vendor').where('role', '=', 'psa').where('status', '!=', 'disabled').executeTakeFirst();
  if (!psa) return;
  await enqueue(
    tx,
    'check-credit-memos',
    { tenantId },
    {
      jobKey: `check-credit-memos:${tenantId}`,
      jobKeyMode: 'preserve_run_at',
      runAt: new Date(ctx.now().getTime() + CREDIT_CHECK_INTERVAL_MS),
      maxAttempts: 3,
    },
  );
}

/**
 * Invoices the PSA changed whose balance Settle's own payments explain are marked looked-at in one statement,
 * so each run compares only what changed since (a 100,000-invoice workspace is not re-read every few minutes).
 */
async function markUnreduced(tx: Tx): Promise<void> {
  await sql`
    UPDATE invoices i SET credits_checked_psa_at = i.psa_updated_at
     WHERE i.credits_checked_psa_at IS DISTINCT FROM i.psa_updated_at
       AND NOT (i.type <> 'credit_memo' AND i.total_minor > 0 AND i.psa_balance_minor < ${settleExplained})`.execute(tx);
}

/** The job: find new credit memo applications in the PSA and queue their books postings. Returns how many. */
export async function checkCreditMemos(ctx: EngineContext, tenantId: string): Promise<number> {
  const psa = await ctx.connectors.psa(tenantId);
  if (!psa?.creditApplications) return 0;
  await withTenant(ctx.db, tenantId, (tx) => markUnreduced(tx));
  const due = await withTenant(ctx.db, tenantId, (tx) => invoicesDueForCreditCheck(tx, psa.vendor));
  let added = 0;
  for (const inv of due) {
    const apps = await psa.creditApplications(inv.remote);
    added += await withTenant(ctx.db, tenantId, async (tx) => {
      const books = await tx.selectFrom('connections').select('vendor').where('role', '=', 'accounting').where('status', '!=', 'disabled').executeTakeFirst();
      let n = 0;
      for (const a of books ? apps : []) {
        const known = await tx.selectFrom('credit_memo_applications').select('posting_id').where('psa_remote_id', '=', a.remoteId).executeTakeFirst();
        if (known) continue;
        const posting = await tx
          .insertInto('postings')
          .values({
            tenant_id: tenantId,
            target: 'accounting',
            vendor: books!.vendor,
            kind: 'credit_memo',
            invoice_id: inv.id,
            amount_minor: a.amount.amountMinor,
            currency: a.amount.currency,
            idempotency_key: `credit-memo:${psa.vendor}:${a.remoteId}:${books!.vendor}`,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await tx
          .insertInto('credit_memo_applications')
          .values({
            tenant_id: tenantId,
            psa_remote_id: a.remoteId,
            invoice_id: inv.id,
            credit_memo_number: a.creditMemoNumber,
            applied_on: a.appliedOn,
            posting_id: posting.id,
          })
          .execute();
        await audit(
          tx,
          tenantId,
          ACTOR,
          'posting.created',
          { type: 'posting', id: posting.id },
          {
            kind: 'credit_memo',
            credit_memo: a.creditMemoNumber,
            invoice_id: inv.id,
            amount_minor: a.amount.amountMinor.toString(),
            psa_application: a.remoteId,
          },
        );
        n++;
      }
      // The PSA's version asked about: a later change of the invoice is asked about on a later run.
      await tx.updateTable('invoices').set({ credits_checked_psa_at: inv.psa_at }).where('id', '=', inv.id).execute();
      if (n > 0)
        await enqueue(
          tx,
          'flush-accounting',
          { tenantId },
          { queueName: `accounting:${tenantId}`, jobKey: `flush-accounting:${tenantId}`, jobKeyMode: 'preserve_run_at' },
        );
      return n;
    });
  }
  return added;
}

/** In the books flush: apply each due credit memo posting in the books. Returns how many were posted. */
export async function postCreditMemos(ctx: EngineContext, tenantId: string, books: AccountingConnector): Promise<number> {
  const rows = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('postings as po')
      .innerJoin('credit_memo_applications as c', 'c.posting_id', 'po.id')
      .innerJoin('invoices as i', 'i.id', 'po.invoice_id')
      .selectAll('po')
      .select([booksInvoiceNumber('po').as('invoice_number'), 'c.credit_memo_number', 'c.applied_on'])
      .where('po.target', '=', 'accounting')
      .where('po.kind', '=', 'credit_memo')
      .where('po.status', '=', 'pending')
      .where('po.next_attempt_at', '<=', ctx.now())
      .orderBy('po.created_at')
      .limit(100)
      .execute(),
  );
  if (rows.length === 0) return 0;
  const tracking = await withTenant(ctx.db, tenantId, (tx) =>
    trackingForInvoices(
      tx,
      rows.flatMap((r) => (r.invoice_id ? [r.invoice_id] : [])),
    ),
  );
  let posted = 0;
  for (const r of rows) {
    let result: PostResult;
    if (!books.applyCreditMemo)
      result = {
        ok: false,
        retryable: false,
        error: `${books.vendor}: Settle cannot apply credit memos in these books yet; apply credit memo ${r.credit_memo_number} to invoice ${r.invoice_number} by hand`,
      };
    else {
      const own = r.invoice_id ? tracking.get(r.invoice_id) : undefined;
      result = await books.applyCreditMemo({
        idempotencyKey: r.idempotency_key,
        creditMemoNumber: r.credit_memo_number,
        invoiceNumber: r.invoice_number,
        amount: money(r.amount_minor, parseCurrency(r.currency)),
        appliedOn: String(r.applied_on).slice(0, 10),
        memo: `Settle: credit memo ${r.credit_memo_number} applied to invoice ${r.invoice_number} in the PSA`,
        requestGeneration: r.request_generation,
        ...(own ? { tracking: own } : {}),
      });
    }
    // A memo not in the books yet waits as a payment waits for its invoice: the person is told which number
    // the PSA's export has not brought over.
    const asWait: PostResult = !result.ok && result.waitingForCreditMemo ? { ...result, waitingForInvoice: result.waitingForCreditMemo } : result;
    const outcome = await withTenant(ctx.db, tenantId, (tx) => recordBooksAttempt(ctx, tx, tenantId, books.vendor, r, asWait));
    if (outcome === 'posted') {
      posted++;
      await withTenant(ctx.db, tenantId, (tx) =>
        audit(tx, tenantId, ACTOR, 'posting.posted', { type: 'posting', id: r.id }, { vendor: books.vendor, remote_id: result.ok ? result.remoteId : null }),
      );
    }
  }
  return posted;
}
