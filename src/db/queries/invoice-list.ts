// The invoice list as the API and dashboard show it: PSA totals, what is still open after payments Settle
// collected but has not yet written back, and the client's name.
import { sql, type RawBuilder } from 'kysely';
import type { Tx } from '../tenant.ts';

/**
 * What is still open on an invoice: the PSA's balance minus allocations not yet written back to the PSA,
 * plus reversals not yet written back (same rule as invoice-balance.ts). Used by every list of invoices.
 */
export function openMinorOf(invoiceId: RawBuilder<unknown>, psaBalance: RawBuilder<unknown>): RawBuilder<bigint> {
  return sql<bigint>`${psaBalance} - coalesce((
        SELECT (coalesce(sum(a.amount_minor) FILTER (
                  WHERE NOT EXISTS (SELECT 1 FROM postings p WHERE p.payment_id = a.payment_id AND p.invoice_id = a.invoice_id
                                     AND p.target = 'psa' AND p.kind = 'payment' AND p.status = 'posted')), 0)
              - coalesce(sum(a.reversed_minor), 0))::bigint
          FROM allocations a WHERE a.invoice_id = ${invoiceId}), 0)
        - coalesce((SELECT sum(r.amount_minor)::bigint FROM postings r
                      WHERE r.invoice_id = ${invoiceId} AND r.target = 'psa' AND r.kind IN ('refund', 'payment_reversal') AND r.status = 'posted'), 0)`;
}

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
      openMinorOf(sql.ref('i.id'), sql.ref('i.psa_balance_minor')).as('open_minor'),
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

// ---- The staff invoice list (/app/invoices and its CSV): search, filters, sort, keyset paging ----
// Every page is "the next N rows after (sort key, id)" read from a b-tree on (tenant_id, sort key, id)
// (migration 0028), never OFFSET: page 20,000 costs what page 1 costs. Balances and payment methods are
// computed for the page's rows only, after the page is chosen.

export const INVOICE_SORTS = ['issued', 'due', 'amount', 'number'] as const;
export type InvoiceSort = (typeof INVOICE_SORTS)[number];
export const INVOICE_STATUSES = ['open', 'partially_paid', 'paid', 'void', 'credit'] as const;
export const METHOD_KINDS = ['card', 'us_bank_account'] as const;

export interface InvoiceListFilter {
  /** An invoice number prefix or a part of the client's name (case-insensitive). */
  readonly q?: string | undefined;
  readonly status?: (typeof INVOICE_STATUSES)[number] | undefined;
  /** Unpaid (open or partially paid) and due before `today`. */
  readonly overdue?: boolean | undefined;
  readonly clientId?: string | undefined;
  /** Issue date from/to, both inclusive (YYYY-MM-DD). */
  readonly issuedFrom?: string | undefined;
  readonly issuedTo?: string | undefined;
  /** The client is (or is not) in autopay. */
  readonly autopay?: boolean | undefined;
  /** Paid, at least in part, with this kind of method. */
  readonly method?: (typeof METHOD_KINDS)[number] | undefined;
}

/** A position in the list: the sort key of a row (as text) and its id. */
export interface InvoiceCursor {
  readonly key: string;
  readonly id: string;
}

export interface InvoiceListQuery extends InvoiceListFilter {
  readonly sort: InvoiceSort;
  readonly dir: 'asc' | 'desc';
  /** Rows after this one (the next page) … */
  readonly after?: InvoiceCursor | null | undefined;
  /** … or before this one (the previous page). */
  readonly before?: InvoiceCursor | null | undefined;
  readonly limit: number;
  /** Today in the workspace's timezone (YYYY-MM-DD), for "overdue". */
  readonly today: string;
}

export interface StaffInvoiceRow {
  id: string;
  number: string;
  client_id: string;
  client_name: string;
  currency: string;
  total_minor: bigint;
  open_minor: bigint;
  status: string;
  psa_status: string;
  issued_on: string;
  due_on: string | null;
  overdue: boolean;
  autopay: boolean;
  /** The kinds of method that paid it ('card', 'us_bank_account'), comma-separated; null = none. */
  paid_with: string | null;
  /** This row's cursor key (the sort value as text). */
  sort_key: string;
}

export interface InvoicePage {
  readonly rows: StaffInvoiceRow[];
  /** Cursor of the last row when there are more rows after it (in the list's order). */
  readonly next: InvoiceCursor | null;
  /** Cursor of the first row when there are rows before it. */
  readonly prev: InvoiceCursor | null;
}

/** The sort key as SQL, matching the expression of its index in 0028; and how a cursor's text is cast back. */
function sortKey(sort: InvoiceSort): { expr: RawBuilder<unknown>; param: (v: string) => RawBuilder<unknown> } {
  switch (sort) {
    case 'issued':
      return { expr: sql`i.issued_on`, param: (v) => sql`${v}::date` };
    case 'due':
      return { expr: sql`coalesce(i.due_on, 'infinity'::date)`, param: (v) => sql`${v}::date` };
    case 'amount':
      return { expr: sql`i.total_minor`, param: (v) => sql`${v}::bigint` };
    case 'number':
      // invoices.number_key: upper(number) in byte order, stored (0028).
      return { expr: sql`i.number_key`, param: (v) => sql`(${v}::text COLLATE "C")` };
  }
}

/** The conditions every branch of the query shares (filters, no search). */
function filterConditions(f: InvoiceListFilter, today: string): RawBuilder<unknown>[] {
  const where: RawBuilder<unknown>[] = [];
  if (f.status) where.push(sql`i.status = ${f.status}`);
  if (f.overdue === true) where.push(sql`i.status IN ('open', 'partially_paid') AND i.due_on < ${today}::date`);
  if (f.overdue === false) where.push(sql`NOT (i.status IN ('open', 'partially_paid') AND i.due_on IS NOT NULL AND i.due_on < ${today}::date)`);
  if (f.clientId) where.push(sql`i.client_id = ${f.clientId}::uuid`);
  if (f.issuedFrom) where.push(sql`i.issued_on >= ${f.issuedFrom}::date`);
  if (f.issuedTo) where.push(sql`i.issued_on <= ${f.issuedTo}::date`);
  if (f.autopay !== undefined) where.push(sql`EXISTS (SELECT 1 FROM clients ac WHERE ac.id = i.client_id AND ac.autopay_enabled = ${f.autopay})`);
  if (f.method)
    where.push(sql`EXISTS (SELECT 1 FROM allocations ma JOIN payments mp ON mp.id = ma.payment_id
                            WHERE ma.invoice_id = i.id AND mp.method_kind = ${f.method})`);
  return where;
}

/** Characters that are LIKE wildcards, taken literally in a search. */
const likeEscaped = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * One page of the staff invoice list. The search is two branches — number prefix, client name — each read
 * in the list's order from its own index and limited, then merged: an OR across the two would read every
 * invoice (see 0028 on why LIKE cannot use an index under row-level security).
 */
export async function listInvoicePage(tx: Tx, q: InvoiceListQuery): Promise<InvoicePage> {
  const key = sortKey(q.sort);
  const backwards = !q.after && !!q.before; // reading the previous page: the list's order reversed
  const desc = (q.dir === 'desc') !== backwards;
  const order = desc ? sql`DESC` : sql`ASC`;
  const cursor = q.after ?? q.before ?? null;
  const base = filterConditions(q, q.today);
  if (cursor)
    base.push(
      desc
        ? sql`(${key.expr}, i.id) < (${key.param(cursor.key)}, ${cursor.id}::uuid)`
        : sql`(${key.expr}, i.id) > (${key.param(cursor.key)}, ${cursor.id}::uuid)`,
    );
  const take = q.limit + 1;
  const branch = (extra: RawBuilder<unknown> | null) => {
    const where = extra ? [...base, extra] : base;
    return sql`SELECT i.id, ${key.expr} AS k FROM invoices i ${where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}
                ORDER BY ${key.expr} ${order}, i.id ${order} LIMIT ${take}`;
  };
  const search = q.q?.trim();
  let chosen: RawBuilder<unknown> = branch(null);
  if (search) {
    const prefix = search.toUpperCase();
    // Byte order (COLLATE "C"): every number that starts with the prefix sorts between it and prefix + U+10FFFF.
    const byNumber = sql`i.number_key >= (${prefix}::text COLLATE "C") AND i.number_key < ((${prefix}::text || chr(1114111)) COLLATE "C")`;
    // The clients whose name matches, read first and passed as a constant array: the planner then knows how
    // many there are (a few: their invoices by index; most: the list's own order, filtered) and no match
    // costs nothing.
    const clients = await sql<{ id: string }>`SELECT id FROM clients WHERE name ILIKE ${`%${likeEscaped(search)}%`}`.execute(tx);
    const ids = clients.rows.map((c) => c.id);
    chosen = ids.length
      ? sql`SELECT * FROM ((${branch(byNumber)}) UNION (${branch(sql`i.client_id = ANY(${ids}::uuid[])`)})) s ORDER BY k ${order}, id ${order} LIMIT ${take}`
      : branch(byNumber);
  }
  const r = await sql<StaffInvoiceRow>`
    WITH page AS (${chosen})
    SELECT i.id, i.number, i.client_id, c.name AS client_name, i.currency, i.total_minor,
           ${openMinorOf(sql.ref('i.id'), sql.ref('i.psa_balance_minor'))} AS open_minor,
           i.status, i.psa_status, to_char(i.issued_on, 'YYYY-MM-DD') AS issued_on, to_char(i.due_on, 'YYYY-MM-DD') AS due_on,
           coalesce(i.status IN ('open', 'partially_paid') AND i.due_on < ${q.today}::date, false) AS overdue,
           c.autopay_enabled AS autopay,
           (SELECT string_agg(DISTINCT p.method_kind, ',' ORDER BY p.method_kind) FROM allocations a JOIN payments p ON p.id = a.payment_id
             WHERE a.invoice_id = i.id AND p.method_kind IS NOT NULL) AS paid_with,
           page.k::text AS sort_key
      FROM page JOIN invoices i ON i.id = page.id JOIN clients c ON c.id = i.client_id
     ORDER BY page.k ${order}, page.id ${order}`.execute(tx);
  const rows = r.rows.map((row) => ({ ...row, total_minor: BigInt(row.total_minor), open_minor: BigInt(row.open_minor) }));
  const more = rows.length > q.limit;
  if (more) rows.pop();
  if (backwards) rows.reverse();
  const at = (row: StaffInvoiceRow | undefined): InvoiceCursor | null => (row ? { key: row.sort_key, id: row.id } : null);
  return {
    rows,
    // Forwards: more after the last row if the extra row came; rows before the first if we came from a cursor.
    next: backwards ? (rows.length ? at(rows.at(-1)) : null) : more ? at(rows.at(-1)) : null,
    prev: backwards ? (more ? at(rows[0]) : null) : cursor ? at(rows[0]) : null,
  };
}

/**
 * Every row of the filtered, sorted list, one keyset batch at a time (for the CSV export): at most one batch
 * is held at a time, and each batch is its own short transaction, so an export of a million rows neither holds
 * them in memory nor keeps one snapshot open for minutes. Batches of 250, each let go as soon as it is text.
 * (The export's memory peak was V8 collecting lazily, not the batches: see cli/node-flags.ts.)
 */
export async function* eachInvoicePage(
  inTx: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>,
  q: Omit<InvoiceListQuery, 'after' | 'before' | 'limit'>,
  batch = 250,
): AsyncGenerator<readonly StaffInvoiceRow[]> {
  let after: InvoiceCursor | null = null;
  for (;;) {
    const page: InvoicePage = await inTx((tx) => listInvoicePage(tx, { ...q, after, limit: batch }));
    if (page.rows.length) yield page.rows;
    if (!page.next) return;
    after = page.next;
  }
}
