// What the staff dashboard shows: each invoice with its state in the PSA, at the processor and in the
// books, the recent payouts with their deposits, and the exceptions that need a person.
import { sql } from 'kysely';
import type { Tx } from '../tenant.ts';

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

export async function exceptions(tx: Tx): Promise<ExceptionRow[]> {
  const r = await sql<ExceptionRow>`
    SELECT 'posting failed' AS kind, po.vendor || ': ' || coalesce(po.last_error, '') AS detail, po.created_at AS at
      FROM postings po WHERE po.status = 'failed'
       -- a failed posting shows through its exception (posting-exceptions.ts) where it has one
       AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.dedupe_key = 'posting:' || po.id::text AND e.status = 'open')
    UNION ALL
    SELECT e.kind, e.title || ' — ' || e.detail, e.updated_at
      FROM exceptions e WHERE e.status = 'open'
    UNION ALL
    SELECT 'payment ' || p.state, coalesce(p.failure_code || ': ', '') || coalesce(p.failure_message, p.id::text), p.updated_at
      FROM payments p WHERE p.state IN ('failed', 'unknown', 'returned', 'disputed')
       -- failed payments Settle handled are shown through their exception (open until paid or dismissed)
       AND NOT EXISTS (SELECT 1 FROM payment_failures f WHERE f.payment_id = p.id)
       -- so is any payment with an open exception of its own (a dispute, a return): once, with its explanation
       AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.payment_id = p.id AND e.status = 'open')
    UNION ALL
    SELECT 'vendor event not processed', ie.source || ' ' || ie.event_type || ': ' || coalesce(ie.last_error, ''), ie.received_at
      FROM inbox_events ie WHERE ie.processed_at IS NULL AND ie.attempts > 0
    ORDER BY at DESC LIMIT 50`.execute(tx);
  return r.rows;
}
