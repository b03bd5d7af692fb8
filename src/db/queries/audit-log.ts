// The audit log as the staff page (/app/settings/audit) and its CSV read it: newest first, filtered by period,
// actor, action, subject and text in the detail, paged by keyset on (created_at, id) — migration 0032's
// indexes — never OFFSET.
//
// Row-level security shapes the conditions (see 0028): only leakproof comparisons (=, <, > on text,
// timestamptz and bigint) can be index conditions; the actor-kind prefix and the text search (LIKE) are
// filters applied to rows the index already narrowed and ordered.
import { sql, type SqlBool, type Expression } from 'kysely';
import type { Tx } from '../tenant.ts';

export const ACTOR_KINDS = ['user', 'api_key', 'system', 'client', 'vendor'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export interface AuditFilter {
  /** First day (YYYY-MM-DD) in the workspace's timezone, included. */
  readonly fromDate?: string;
  /** Last day (YYYY-MM-DD) in the workspace's timezone, included. */
  readonly toDate?: string;
  /** The IANA timezone the days are in. */
  readonly timezone: string;
  /** One actor exactly ("user:<id>", "api_key:<id>") or every actor of a kind. */
  readonly actor?: string;
  readonly actorKind?: ActorKind;
  readonly action?: string;
  readonly subjectType?: string;
  readonly subjectId?: string;
  /** Text anywhere in the detail (case-insensitive). */
  readonly text?: string;
}

/** A position in the list: the exact created_at (microseconds, as PostgreSQL prints it in UTC) and the id. */
export interface AuditCursor {
  readonly at: string;
  readonly id: string;
}

export interface AuditRow {
  readonly id: string;
  /** created_at to the microsecond, UTC ("2026-03-14T09:05:01.123456Z"): the cursor's key. */
  readonly at: string;
  readonly created_at: Date;
  readonly actor: string;
  readonly action: string;
  readonly subject_type: string;
  readonly subject_id: string | null;
  readonly detail: unknown;
}

export interface AuditPage {
  readonly rows: AuditRow[];
  readonly next: AuditCursor | null;
  readonly prev: AuditCursor | null;
}

/** LIKE's own characters taken literally. */
const likeLiteral = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function conditions(f: AuditFilter): Expression<SqlBool>[] {
  const w: Expression<SqlBool>[] = [];
  // A day in the workspace's timezone starts at its local midnight: [from 00:00, day after `to` 00:00).
  if (f.fromDate) w.push(sql<SqlBool>`created_at >= (${f.fromDate}::date::timestamp AT TIME ZONE ${f.timezone})`);
  if (f.toDate) w.push(sql<SqlBool>`created_at < ((${f.toDate}::date + 1)::timestamp AT TIME ZONE ${f.timezone})`);
  if (f.actor) w.push(sql<SqlBool>`actor = ${f.actor}`);
  else if (f.actorKind) w.push(sql<SqlBool>`actor LIKE ${`${likeLiteral(f.actorKind)}:%`}`);
  if (f.action) w.push(sql<SqlBool>`action = ${f.action}`);
  if (f.subjectType) w.push(sql<SqlBool>`subject_type = ${f.subjectType}`);
  if (f.subjectId) w.push(sql<SqlBool>`subject_id = ${f.subjectId}`);
  if (f.text) w.push(sql<SqlBool>`detail::text ILIKE ${`%${likeLiteral(f.text)}%`}`);
  return w;
}

/** The statement for one page (exported so a test can EXPLAIN it: it must walk an index, not sort). */
export function auditPageQuery(tx: Tx, f: AuditFilter, page: { after?: AuditCursor | null; before?: AuditCursor | null; limit: number }) {
  const backwards = !page.after && !!page.before; // the previous page: read upwards, then turned round
  const cursor = page.after ?? page.before ?? null;
  let q = tx
    .selectFrom('audit_log')
    .select([
      'id',
      sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('at'),
      'created_at',
      'actor',
      'action',
      'subject_type',
      'subject_id',
      'detail',
    ])
    .limit(page.limit + 1);
  for (const c of conditions(f)) q = q.where(c);
  if (cursor) {
    q = backwards
      ? q.where(sql<SqlBool>`(created_at, id) > (${cursor.at}::timestamptz, ${cursor.id}::bigint)`)
      : q.where(sql<SqlBool>`(created_at, id) < (${cursor.at}::timestamptz, ${cursor.id}::bigint)`);
  }
  return backwards ? q.orderBy('created_at', 'asc').orderBy('id', 'asc') : q.orderBy('created_at', 'desc').orderBy('id', 'desc');
}

export async function listAuditPage(
  tx: Tx,
  f: AuditFilter,
  page: { after?: AuditCursor | null; before?: AuditCursor | null; limit: number },
): Promise<AuditPage> {
  const backwards = !page.after && !!page.before;
  const cursor = page.after ?? page.before ?? null;
  const q = auditPageQuery(tx, f, page);
  const rows: AuditRow[] = (await q.execute()).map((r) => ({ ...r, id: String(r.id), created_at: new Date(r.created_at) }));
  const more = rows.length > page.limit;
  if (more) rows.pop();
  if (backwards) rows.reverse();
  const at = (r: AuditRow | undefined): AuditCursor | null => (r ? { at: r.at, id: r.id } : null);
  return {
    rows,
    next: backwards ? at(rows.at(-1)) : more ? at(rows.at(-1)) : null,
    prev: backwards ? (more ? at(rows[0]) : null) : cursor ? at(rows[0]) : null,
  };
}

/** Every row of the filter, newest first, read in keyset batches (each in its own transaction) for the CSV. */
export async function* eachAuditRow(inTx: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>, f: AuditFilter, batch = 1000): AsyncGenerator<AuditRow> {
  let after: AuditCursor | null = null;
  for (;;) {
    const page: AuditPage = await inTx((tx) => listAuditPage(tx, f, { after, limit: batch }));
    for (const row of page.rows) yield row;
    if (!page.next) return;
    after = page.next;
  }
}

/**
 * The distinct values of an indexed column present in the workspace's log, by a skip scan: one index probe
 * per value (audit_log_action, audit_log_subject), not a read of the whole log.
 */
export async function distinctInLog(tx: Tx, column: 'action' | 'subject_type'): Promise<string[]> {
  const c = sql.ref(column);
  const r = await sql<{ v: string }>`
    WITH RECURSIVE present AS (
      (SELECT ${c} AS v FROM audit_log ORDER BY ${c} LIMIT 1)
      UNION ALL
      SELECT (SELECT ${c} FROM audit_log WHERE ${c} > present.v ORDER BY ${c} LIMIT 1) FROM present WHERE present.v IS NOT NULL
    )
    SELECT v FROM present WHERE v IS NOT NULL`.execute(tx);
  return r.rows.map((x) => x.v);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Who the actors of these rows are: the person's name and e-mail, the API key's label, the client's name. */
export async function actorNames(tx: Tx, actors: Iterable<string>): Promise<Map<string, string>> {
  const ids: Record<'user' | 'api_key' | 'client', Set<string>> = { user: new Set(), api_key: new Set(), client: new Set() };
  for (const a of actors) {
    const i = a.indexOf(':');
    const kind = a.slice(0, i) as keyof typeof ids;
    const id = a.slice(i + 1);
    if (ids[kind] && UUID.test(id)) ids[kind].add(id);
  }
  const names = new Map<string, string>();
  if (ids.user.size) {
    const rows = await tx
      .selectFrom('users')
      .select(['id', 'name', 'email'])
      .where('id', 'in', [...ids.user])
      .execute();
    for (const u of rows) names.set(`user:${u.id}`, u.name && u.name !== u.email ? `${u.name} (${u.email})` : u.email);
  }
  if (ids.api_key.size) {
    const rows = await tx
      .selectFrom('api_keys')
      .select(['id', 'name'])
      .where('id', 'in', [...ids.api_key])
      .execute();
    for (const k of rows) names.set(`api_key:${k.id}`, `API key “${k.name}”`);
  }
  if (ids.client.size) {
    const rows = await tx
      .selectFrom('clients')
      .select(['id', 'name'])
      .where('id', 'in', [...ids.client])
      .execute();
    for (const c of rows) names.set(`client:${c.id}`, `${c.name} (client, in the portal)`);
  }
  return names;
}

/** What the subjects of these rows are called: an invoice's number, a client's name ("type:id" → name). */
export async function subjectNames(tx: Tx, rows: readonly { subject_type: string; subject_id: string | null }[]): Promise<Map<string, string>> {
  const of = (type: string): string[] => [
    ...new Set(rows.filter((r) => r.subject_type === type && r.subject_id && UUID.test(r.subject_id)).map((r) => r.subject_id!)),
  ];
  const names = new Map<string, string>();
  const invoices = of('invoice');
  if (invoices.length) {
    for (const i of await tx.selectFrom('invoices').select(['id', 'number']).where('id', 'in', invoices).execute())
      names.set(`invoice:${i.id}`, `Invoice ${i.number}`);
  }
  const clients = of('client');
  if (clients.length) {
    for (const c of await tx.selectFrom('clients').select(['id', 'name']).where('id', 'in', clients).execute()) names.set(`client:${c.id}`, c.name);
  }
  return names;
}

/** The id of the invoice with this number (case-insensitive, as the invoice search), or null. */
export async function invoiceIdByNumber(tx: Tx, number: string): Promise<string | null> {
  const r = await sql<{ id: string }>`SELECT id FROM invoices WHERE number_key = upper(${number}) LIMIT 1`.execute(tx);
  return r.rows[0]?.id ?? null;
}
