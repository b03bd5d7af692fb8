// What the staff dashboard shows: each invoice with its state in the PSA, at the processor and in the
// books, the recent payouts with their deposits, and the exceptions that need a person.
import { sql } from 'kysely';
import type { Tx } from '../tenant.ts';
import { attentionItems } from './attention.ts';

export interface InvoiceAcrossSystems {
  id: string;
  number: string;
  client_name: string;
  currency: string;
  total_minor: bigint;
  status: string;
  psa_status: string;
  due_on: string | null;
  payment_state: string | null;
  psa_posting: string | null;
  books_posting: string | null;
  paid_minor: bigint;
}

export async function invoicesAcrossSystems(tx: Tx, limit = 100): Promise<InvoiceAcrossSystems[]> {
  const r = await sql<InvoiceAcrossSystems>`
    SELECT i.id, i.number, c.name AS client_name, i.currency, i.total_minor, i.status, i.psa_status, i.due_on, i.paid_minor,
           (SELECT p.state FROM allocations a JOIN payments p ON p.id = a.payment_id
             WHERE a.invoice_id = i.id ORDER BY p.created_at DESC LIMIT 1) AS payment_state,
           (SELECT string_agg(DISTINCT po.status, ',') FROM postings po WHERE po.invoice_id = i.id AND po.target = 'psa') AS psa_posting,
           (SELECT string_agg(DISTINCT po.status, ',') FROM postings po WHERE po.invoice_id = i.id AND po.target = 'accounting') AS books_posting
      FROM invoices i JOIN clients c ON c.id = i.client_id
     ORDER BY (SELECT max(a.created_at) FROM allocations a WHERE a.invoice_id = i.id) DESC NULLS LAST, i.first_seen_at DESC, i.number DESC
     LIMIT ${limit}`.execute(tx);
  return r.rows;
}

export interface PayoutRow {
  processor_payout_id: string;
  amount_minor: bigint;
  fees_minor: bigint;
  currency: string;
  arrival_date: string;
  deposit_status: string | null;
  deposit_remote_id: string | null;
}

export async function recentPayouts(tx: Tx): Promise<PayoutRow[]> {
  return tx
    .selectFrom('payouts as p')
    .leftJoin('postings as po', (j) => j.onRef('po.payout_id', '=', 'p.id').on('po.kind', '=', 'deposit'))
    .select([
      'p.processor_payout_id',
      'p.amount_minor',
      'p.fees_minor',
      'p.currency',
      'p.arrival_date',
      'po.status as deposit_status',
      'po.remote_id as deposit_remote_id',
    ])
    .orderBy('p.created_at', 'desc')
    .limit(20)
    .execute();
}

export interface ExceptionRow {
  kind: string;
  detail: string;
  at: Date;
}

/**
 * The Needs-attention queue as the dashboard lists it: the very items of /app/attention and
 * GET /api/v1/exceptions (db/queries/attention.ts). It used to add failed payments and postings of its own,
 * which the API did not list and which stayed listed after their invoice was paid.
 */
export async function exceptions(tx: Tx): Promise<ExceptionRow[]> {
  const items = await attentionItems(tx, { status: 'open', limit: 50 });
  return items.map((e) => ({ kind: e.kind, detail: `${e.title} — ${e.detail}`, at: e.opened_at }));
}
