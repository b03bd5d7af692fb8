// The invoice list as the API and dashboard show it: PSA totals, what is still open after payments Settle
// collected but has not yet written back, and the client's name.
import { sql } from 'kysely';
import type { Tx } from '../tenant.ts';

export interface InvoiceRow {
  id: string;
  number: string;
  client_id: string;
  client_name: string;
  currency: string;
  total_minor: string;
  open_minor: string;
  status: string;
  psa_status: string;
  issued_on: string;
  due_on: string | null;
  version: number;
  final_after: string | null;
  final: boolean;
}

export async function listInvoiceRows(
  tx: Tx,
  q: { id?: string; status?: string | undefined; client_id?: string | undefined; limit: number; offset: number },
): Promise<InvoiceRow[]> {
  let query = tx
    .selectFrom('invoices as i')
    .innerJoin('clients as c', 'c.id', 'i.client_id')
    .select([
      'i.id',
      'i.number',
      'i.client_id',
      'c.name as client_name',
      'i.currency',
      'i.total_minor',
      'i.status',
      'i.psa_status',
      'i.issued_on',
      'i.due_on',
      'i.current_version as version',
      // Same rule as invoice-balance.ts: allocations not yet in the PSA, minus reversals not yet in the PSA.
      sql<bigint>`i.psa_balance_minor - coalesce((
        SELECT (coalesce(sum(a.amount_minor) FILTER (
                  WHERE NOT EXISTS (SELECT 1 FROM postings p WHERE p.payment_id = a.payment_id AND p.invoice_id = a.invoice_id
                                     AND p.target = 'psa' AND p.kind = 'payment' AND p.status = 'posted')), 0)
              - coalesce(sum(a.reversed_minor), 0))::bigint
          FROM allocations a WHERE a.invoice_id = i.id), 0)
        - coalesce((SELECT sum(r.amount_minor)::bigint FROM postings r
                      WHERE r.invoice_id = i.id AND r.target = 'psa' AND r.kind IN ('refund', 'payment_reversal') AND r.status = 'posted'), 0)`.as(
        'open_minor',
      ),
      // Paid vs final (engine/payment-lifecycle.ts): the last day a bank debit on it may still come back,
      // and whether the invoice is paid with nothing left that could be returned.
      sql<string | null>`(SELECT to_char(max(p.final_after), 'YYYY-MM-DD') FROM allocations a JOIN payments p ON p.id = a.payment_id
                           WHERE a.invoice_id = i.id AND a.amount_minor > a.reversed_minor)`.as('final_after'),
      sql<boolean>`(i.status = 'paid' AND NOT EXISTS (
          SELECT 1 FROM allocations a JOIN payments p ON p.id = a.payment_id
           WHERE a.invoice_id = i.id AND a.amount_minor > a.reversed_minor
             AND (p.state = 'processing' OR p.final_after >= current_date)))`.as('final'),
    ])
    .orderBy('i.issued_on', 'desc')
    .orderBy('i.number', 'desc')
    .limit(q.limit)
    .offset(q.offset);
  if (q.id) query = query.where('i.id', '=', q.id);
  if (q.status) query = query.where('i.status', '=', q.status as never);
  if (q.client_id) query = query.where('i.client_id', '=', q.client_id);
  const rows = await query.execute();
  return rows.map((r) => ({ ...r, total_minor: r.total_minor.toString(), open_minor: BigInt(r.open_minor).toString() }));
}
