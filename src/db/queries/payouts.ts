// Reads for the staff payouts pages: the processor's payouts newest first (keyset paging) with the state of
// each one's deposit in the books, and one payout's composition — the payments in it, fees, refunds and
// other adjustments — with the deposit posted, its lines (linked to a payment in the books, or on the clearing
// account until that payment is there) and the bank statement line matched to it, if the bank sends one.
import { sql } from 'kysely';
import type { Tx } from '../tenant.ts';

export const PAYOUT_PAGE = 50;

const encode = (at: string, id: string): string => Buffer.from(`${at}|${id}`).toString('base64url');
function decode(c: string): { at: string; id: string } | null {
  const [at, id] = Buffer.from(c, 'base64url').toString().split('|');
  return at && id && /^\d{4}-\d{2}-\d{2}$/.test(at) && /^[0-9a-f-]{36}$/.test(id) ? { at, id } : null;
}

export async function listPayouts(tx: Tx, after?: string) {
  let q = tx
    .selectFrom('payouts as p')
    .leftJoin('postings as d', (j) => j.onRef('d.payout_id', '=', 'p.id').on('d.kind', '=', 'deposit').on('d.target', '=', 'accounting'))
    .select([
      'p.id',
      'p.processor',
      'p.processor_payout_id',
      'p.currency',
      'p.amount_minor',
      'p.gross_minor',
      'p.fees_minor',
      'p.adjustments_minor',
      'p.arrival_date',
      'p.status',
      'd.status as deposit_status',
      'd.vendor as deposit_vendor',
      'd.amount_minor as deposit_minor',
      sql<number>`(select count(*)::int from payout_items i where i.payout_id = p.id and i.type in ('charge', 'payment'))`.as('payments'),
    ]);
  const c = after ? decode(after) : null;
  if (c) q = q.where(sql<boolean>`(p.arrival_date, p.id) < (${c.at}::date, ${c.id}::uuid)`);
  const rows = await q
    .orderBy('p.arrival_date', 'desc')
    .orderBy('p.id', 'desc')
    .limit(PAYOUT_PAGE + 1)
    .execute();
  const page = rows.slice(0, PAYOUT_PAGE);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > PAYOUT_PAGE && last ? encode(String(last.arrival_date).slice(0, 10), last.id) : null };
}

export async function payoutDetail(tx: Tx, id: string) {
  const payout = await tx.selectFrom('payouts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!payout) return null;
  const items = await tx
    .selectFrom('payout_items as i')
    .leftJoin('payments as p', 'p.id', 'i.payment_id')
    .leftJoin('clients as c', 'c.id', 'p.client_id')
    .select([
      'i.balance_transaction_id',
      'i.type',
      'i.processor_payment_id',
      'i.payment_id',
      'i.gross_minor',
      'i.fee_minor',
      'i.net_minor',
      'c.name as client_name',
      sql<
        string | null
      >`(select string_agg(inv.number, ', ' order by inv.number) from allocations a join invoices inv on inv.id = a.invoice_id where a.payment_id = i.payment_id)`.as(
        'invoices',
      ),
    ])
    .where('i.payout_id', '=', id)
    .orderBy('i.type')
    .orderBy('i.balance_transaction_id')
    .execute();
  const deposits = await tx
    .selectFrom('postings')
    .select(['id', 'vendor', 'status', 'amount_minor', 'remote_id', 'last_error', 'created_at', 'posted_at'])
    .where('payout_id', '=', id)
    .where('kind', '=', 'deposit')
    .execute();
  const lines = deposits.length
    ? await tx
        .selectFrom('deposit_lines as l')
        .innerJoin('postings as pp', 'pp.id', 'l.payment_posting_id')
        .leftJoin('invoices as inv', 'inv.id', 'pp.invoice_id')
        .select(['l.deposit_posting_id', 'l.status', 'l.amount_minor', 'pp.payment_id', 'inv.number'])
        .where(
          'l.deposit_posting_id',
          'in',
          deposits.map((d) => d.id),
        )
        .execute()
    : [];
  const bankLine = await tx
    .selectFrom('bank_statement_lines')
    .select(['as_of_date', 'amount_minor', 'direction', 'bank_reference', 'text'])
    .where('payout_id', '=', id)
    .executeTakeFirst();
  return { payout, items, deposits, lines, bankLine: bankLine ?? null };
}
