// What the three-way reconciliation compares, read from Settle's own tables only: the PSA copy (invoices),
// Settle's allocations and postings, the books copy (books_*, 0042) and the processor's / bank's payout data.
// A handful of set-wise statements, whatever the number of invoices (bench/reconciliation-report.ts: 100,000).
import { sql } from 'kysely';
import type { Tx } from '../tenant.ts';
import { parseCurrency } from '../../domain/money.ts';
import type { BooksRecordFact, InvoiceFacts, PayoutFacts, PostingFact } from '../../domain/reconciliation.ts';
import { unmatchedSettlementLines } from './reconciliation-ach.ts';

export interface InvoiceRow extends InvoiceFacts {
  readonly invoiceId: string;
}
export interface PayoutRow extends PayoutFacts {
  readonly payoutId: string;
}

export interface PostingRow {
  id: string;
  target: 'psa' | 'accounting';
  kind: string;
  invoice_id: string | null;
  payout_id: string | null;
  payment_id?: string | null;
  amount_minor: bigint;
  status: 'pending' | 'posted' | 'failed';
  remote_id: string | null;
  posted_at: Date | null;
  last_error: string | null;
}

export function postingFact(p: PostingRow, reflected: boolean): PostingFact {
  return {
    id: p.id,
    kind: p.kind === 'payment' || p.kind === 'deposit' ? 'payment' : 'reversal',
    amount: p.amount_minor,
    status: p.status,
    reflected,
    remoteId: p.remote_id,
    lastError: p.last_error,
  };
}

function groupBy<T, K>(xs: readonly T[], key: (x: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

/** Every invoice's facts. `booksAsOf`: the books copy is current to then (null: no copy, no books side). */
export async function invoiceFacts(tx: Tx, booksVendor: string | null, booksAsOf: Date | null): Promise<InvoiceRow[]> {
  const invoices = (
    await sql<{ id: string; number: string; currency: string; total_minor: bigint; psa_balance_minor: bigint; psa_seen: Date | null }>`
      SELECT id, number, currency, total_minor, psa_balance_minor, coalesce(psa_fetched_at, psa_updated_at::timestamptz) AS psa_seen
        FROM invoices WHERE type <> 'credit_memo' AND total_minor > 0 AND status <> 'void' ORDER BY number`.execute(tx)
  ).rows;
  const allocated = new Map(
    (
      await sql<{ invoice_id: string; n: bigint }>`
        SELECT a.invoice_id, sum(a.amount_minor - a.reversed_minor)::bigint AS n FROM allocations a GROUP BY a.invoice_id`.execute(tx)
    ).rows.map((r) => [r.invoice_id, r.n]),
  );
  const postings = (
    await sql<PostingRow>`
      SELECT id, target, kind, invoice_id, payout_id, amount_minor, status, remote_id, posted_at, last_error FROM postings
       WHERE invoice_id IS NOT NULL AND kind IN ('payment', 'refund', 'payment_reversal', 'credit_memo')
         AND (target = 'psa' OR vendor = ${booksVendor ?? ''})`.execute(tx)
  ).rows;
  const byInvoice = groupBy(postings, (p) => p.invoice_id!);

  let booksByNumber = new Map<string, { remote_id: string; total_minor: bigint; balance_minor: bigint }>();
  let records = new Map<string, { state: BooksRecordFact['state']; settle: boolean }>();
  let linesByInvoice = new Map<string, { payment_remote_id: string; amount_minor: bigint }[]>();
  if (booksVendor && booksAsOf) {
    booksByNumber = new Map(
      (
        await sql<{ number: string; remote_id: string; total_minor: bigint; balance_minor: bigint }>`
          SELECT number, remote_id, total_minor, balance_minor FROM books_invoices
           WHERE vendor = ${booksVendor} AND NOT deleted AND NOT voided`.execute(tx)
      ).rows.map((r) => [r.number, r]),
    );
    const settleIds = new Set(postings.filter((p) => p.target === 'accounting' && p.remote_id).map((p) => p.remote_id!));
    records = new Map(
      (
        await sql<{ remote_id: string; voided: boolean; deleted: boolean; settle_key: string | null }>`
          SELECT remote_id, voided, deleted, settle_key FROM books_payments WHERE vendor = ${booksVendor}`.execute(tx)
      ).rows.map((r) => [
        r.remote_id,
        { state: r.deleted ? 'deleted' : r.voided ? 'voided' : 'present', settle: r.settle_key !== null || settleIds.has(r.remote_id) },
      ]),
    );
    linesByInvoice = groupBy(
      (
        await sql<{ invoice_remote_id: string; payment_remote_id: string; amount_minor: bigint }>`
          SELECT l.invoice_remote_id, l.payment_remote_id, l.amount_minor FROM books_payment_lines l
            JOIN books_payments p ON p.vendor = l.vendor AND p.remote_id = l.payment_remote_id
           WHERE l.vendor = ${booksVendor} AND NOT p.deleted AND NOT p.voided`.execute(tx)
      ).rows,
      (l) => l.invoice_remote_id,
    );
  }

  return invoices.map((inv) => {
    const own = byInvoice.get(inv.id) ?? [];
    const psaSeen = inv.psa_seen ? new Date(inv.psa_seen).getTime() : -Infinity;
    const psaPostings = own
      .filter((p) => p.target === 'psa' && p.kind !== 'credit_memo')
      .map((p) => postingFact(p, p.posted_at !== null && p.posted_at.getTime() <= psaSeen));
    const bi = booksByNumber.get(inv.number);
    let books: InvoiceFacts['books'] = null;
    if (bi && booksAsOf) {
      const bookPostings = own.filter((p) => p.target === 'accounting' && p.kind !== 'credit_memo');
      // A PSA credit memo Settle applies in the books (credit-memo applications, 0041): once in the copy it is
      // a record of Settle's on both sides; until then, in flight.
      const inCopy = (p: PostingRow) => p.status === 'posted' && p.posted_at !== null && p.posted_at.getTime() <= booksAsOf.getTime();
      const creditsInFlight = own
        .filter((p) => p.target === 'accounting' && p.kind === 'credit_memo' && p.status !== 'failed' && !inCopy(p))
        .reduce((a, p) => a + p.amount_minor, 0n);
      const lines = linesByInvoice.get(bi.remote_id) ?? [];
      const settleRecords = new Map<string, BooksRecordFact>();
      for (const p of bookPostings) {
        if (p.kind !== 'payment' || !p.remote_id) continue;
        const r = records.get(p.remote_id);
        settleRecords.set(p.remote_id, { remoteId: p.remote_id, state: r?.state ?? 'missing', applied: 0n });
      }
      const byHand: { remoteId: string; applied: bigint }[] = [];
      for (const l of lines) {
        const known = settleRecords.get(l.payment_remote_id);
        if (known) settleRecords.set(l.payment_remote_id, { ...known, applied: known.applied + l.amount_minor });
        // Another record Settle wrote (a PSA credit memo applied in the books) mirrors something the PSA shows
        // too: it counts as paid outside Settle's payments on both sides, and is no one's hand entry.
        else if (!records.get(l.payment_remote_id)?.settle) byHand.push({ remoteId: l.payment_remote_id, applied: l.amount_minor });
      }
      books = {
        total: bi.total_minor,
        balance: bi.balance_minor,
        postings: bookPostings.map((p) => postingFact(p, p.posted_at !== null && p.posted_at.getTime() <= booksAsOf.getTime())),
        settleRecords,
        byHand,
        creditsInFlight,
      };
    }
    return {
      invoiceId: inv.id,
      number: inv.number,
      currency: parseCurrency(inv.currency),
      psaTotal: inv.total_minor,
      psaBalance: inv.psa_balance_minor,
      settleNet: allocated.get(inv.id) ?? 0n,
      psaPostings,
      books,
    };
  });
}

/**
 * Every payout's facts: the processor's payout and lines, the books deposit (copy), the bank line — for a bank
 * ACH settlement the statement's credit line (matched, or unmatched for the same file and date: it differs).
 * Bank ACH returns (negative payouts) are reconciliation-ach.ts's. `canRestoreDeposit`: the ledger's
 * connector can put an edited deposit back (AccountingConnector.restoreDeposit).
 */
export async function payoutFacts(tx: Tx, booksVendor: string | null, booksAsOf: Date | null, now: Date, canRestoreDeposit = false): Promise<PayoutRow[]> {
  const payouts = (
    await sql<{ id: string; processor: string; processor_payout_id: string; currency: string; amount_minor: bigint; arrival_date: string; status: string }>`
      SELECT id, processor, processor_payout_id, currency, amount_minor, arrival_date::text AS arrival_date, status FROM payouts
       WHERE amount_minor > 0 ORDER BY arrival_date, processor_payout_id`.execute(tx)
  ).rows;
  const items = new Map(
    (await sql<{ payout_id: string; n: bigint }>`SELECT payout_id, sum(net_minor)::bigint AS n FROM payout_items GROUP BY payout_id`.execute(tx)).rows.map(
      (r) => [r.payout_id, r.n],
    ),
  );
  const deposits = new Map(
    (
      await sql<PostingRow>`
        SELECT id, target, kind, invoice_id, payout_id, amount_minor, status, remote_id, posted_at, last_error FROM postings
         WHERE kind = 'deposit' AND target = 'accounting' AND vendor = ${booksVendor ?? ''}`.execute(tx)
    ).rows.map((p) => [p.payout_id!, p]),
  );
  const copy = new Map(
    booksVendor
      ? (
          await sql<{ remote_id: string; total_minor: bigint; voided: boolean; deleted: boolean }>`
            SELECT remote_id, total_minor, voided, deleted FROM books_deposits WHERE vendor = ${booksVendor}`.execute(tx)
        ).rows.map((r) => [r.remote_id, r])
      : [],
  );
  const statement = new Map(
    (
      await sql<{ payout_id: string; n: bigint }>`
        SELECT payout_id, sum(CASE WHEN direction = 'credit' THEN amount_minor ELSE -amount_minor END)::bigint AS n
          FROM bank_statement_lines WHERE payout_id IS NOT NULL GROUP BY payout_id`.execute(tx)
    ).rows.map((r) => [r.payout_id, r.n]),
  );
  const differing = await unmatchedSettlementLines(tx);
  const weekAgo = new Date(now.getTime() - 7 * 86_400_000).toISOString().slice(0, 10);
  return payouts.map((p) => {
    const d = deposits.get(p.id);
    const reflected = d?.posted_at != null && booksAsOf !== null && d.posted_at.getTime() <= booksAsOf.getTime();
    const c = d?.remote_id ? copy.get(d.remote_id) : undefined;
    const viaStatement = p.processor === 'bank-ach';
    const processorBank = p.status === 'paid' ? p.amount_minor : p.status === 'failed' || p.status === 'canceled' ? 0n : null;
    return {
      payoutId: p.id,
      reference: p.processor_payout_id,
      currency: parseCurrency(p.currency),
      amount: p.amount_minor,
      itemsNet: items.get(p.id) ?? null,
      deposit: d && booksAsOf ? postingFact(d, reflected) : null,
      booksDeposit:
        d && booksAsOf ? { total: c?.total_minor ?? 0n, state: !c || c.deleted ? (c ? 'deleted' : 'missing') : c.voided ? 'voided' : 'present' } : null,
      bank: viaStatement
        ? statementSide(statement.get(p.id) ?? differing.get(p.processor_payout_id) ?? null, p.arrival_date < weekAgo)
        : { source: 'processor', amount: processorBank, overdue: false },
      canRestoreDeposit,
    };
  });
}

const statementSide = (amount: bigint | null, weekOld: boolean): PayoutFacts['bank'] => ({ source: 'statement', amount, overdue: amount === null && weekOld });
