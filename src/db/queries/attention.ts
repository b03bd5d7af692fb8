// The Needs-attention queue: THE query behind both the staff page (/app/attention) and GET /api/v1/exceptions,
// so the two always list the same items. An item is an exception row (engine/exceptions.ts) — anything that
// cannot complete becomes one — with what a person needs beside it: the client's name, the invoices by number,
// the amount, and for a posting exception the posting's own state (where it goes, its last error, its next
// attempt). The badge count (attention-count.ts) counts the same open rows.
import { sql } from 'kysely';
import type { Tx } from '../tenant.ts';

export { openAttentionCount } from './attention-count.ts';

export type AttentionStatus = 'open' | 'resolved' | 'all';

export interface AttentionFilter {
  readonly status?: AttentionStatus;
  readonly kind?: string;
  /** Only these items (bulk actions, one row re-rendered after a fix). */
  readonly ids?: readonly string[];
  readonly limit?: number;
  readonly offset?: number;
}

export interface AttentionInvoice {
  readonly id: string;
  readonly number: string;
  readonly status: string;
}

export interface AttentionRow {
  readonly id: string;
  readonly kind: string;
  readonly status: 'open' | 'resolved';
  readonly title: string;
  readonly detail: string;
  readonly client_id: string | null;
  readonly client_name: string | null;
  readonly invoice_ids: string[];
  /** The invoices it is about: those it names, else its posting's invoice; by number. */
  readonly invoices: AttentionInvoice[];
  readonly payment_id: string | null;
  readonly data: Record<string, unknown>;
  /** The posting's amount, else the payment's; null when the item is about no money (a PSA record, a job). */
  readonly amount_minor: bigint | null;
  readonly currency: string | null;
  readonly posting_id: string | null;
  readonly posting_target: 'psa' | 'accounting' | null;
  readonly posting_vendor: string | null;
  readonly posting_kind: string | null;
  readonly posting_status: 'pending' | 'posted' | 'failed' | null;
  readonly posting_last_error: string | null;
  readonly posting_next_attempt_at: Date | null;
  readonly posting_waiting_for: string | null;
  readonly payment_state: string | null;
  readonly opened_at: Date;
  readonly updated_at: Date;
  readonly resolved_at: Date | null;
  readonly resolved_by: string | null;
  readonly resolution: string | null;
  readonly resolution_note: string | null;
}

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/**
 * The items, newest first (opened_at, then id). Open ones by default; `resolved` lists what was closed, by
 * Settle or a person, with the note. Runs under the tenant's row-level security like every query.
 */
export async function attentionItems(tx: Tx, f: AttentionFilter = {}): Promise<AttentionRow[]> {
  const status = f.status ?? 'open';
  const ids = f.ids ? [...f.ids] : null;
  if (ids && ids.length === 0) return [];
  const r = await sql<AttentionRow>`
    SELECT e.id, e.kind, e.status, e.title, e.detail, e.client_id, c.name AS client_name, e.invoice_ids, e.payment_id, e.data,
           coalesce(po.amount_minor, pa.amount_minor) AS amount_minor, coalesce(po.currency, pa.currency) AS currency,
           po.id AS posting_id, po.target AS posting_target, po.vendor AS posting_vendor, po.kind AS posting_kind,
           po.status AS posting_status, po.last_error AS posting_last_error, po.next_attempt_at AS posting_next_attempt_at,
           po.waiting_for AS posting_waiting_for, pa.state AS payment_state,
           coalesce((SELECT json_agg(json_build_object('id', i.id, 'number', i.number, 'status', i.status) ORDER BY i.number)
                       FROM invoices i
                      WHERE i.id = ANY (CASE WHEN cardinality(e.invoice_ids) > 0 THEN e.invoice_ids ELSE ARRAY[po.invoice_id] END)), '[]') AS invoices,
           e.opened_at, e.updated_at, e.resolved_at, e.resolved_by, e.resolution, e.resolution_note
      FROM exceptions e
      LEFT JOIN clients c ON c.id = e.client_id
      LEFT JOIN postings po ON po.id = CASE WHEN e.data->>'posting_id' ~ ${UUID} THEN (e.data->>'posting_id')::uuid END
      LEFT JOIN payments pa ON pa.id = e.payment_id
     WHERE (${status}::text = 'all' OR e.status = ${status}::text)
       AND (${f.kind ?? null}::text IS NULL OR e.kind = ${f.kind ?? null})
       AND (${ids}::uuid[] IS NULL OR e.id = ANY (${ids}::uuid[]))
     ORDER BY ${status === 'resolved' ? sql`e.resolved_at DESC NULLS LAST` : sql`e.opened_at DESC`}, e.id
     LIMIT ${f.limit ?? 100} OFFSET ${f.offset ?? 0}`.execute(tx);
  return r.rows.map((row) => ({
    ...row,
    amount_minor: row.amount_minor === null ? null : BigInt(row.amount_minor),
    posting_next_attempt_at: row.posting_next_attempt_at === null ? null : new Date(row.posting_next_attempt_at),
  }));
}

/** One item (open or closed), or undefined. */
export async function attentionItem(tx: Tx, id: string): Promise<AttentionRow | undefined> {
  return (await attentionItems(tx, { status: 'all', ids: [id], limit: 1 }))[0];
}
