// The staff clients list (search, keyset paging by name) and one client's page: what they owe and how old
// it is (aging per currency), the methods on file, autopay and pilot switches, the billing location used
// for surcharging, and the e-mails Settle sent them. Reads are by index from the client (migration 0028).
import { sql } from 'kysely';
import type { Tx } from '../tenant.ts';
import { openMinorOf } from './invoice-list.ts';

export interface ClientCursor {
  readonly name: string;
  readonly id: string;
}

export interface ClientListRow {
  id: string;
  name: string;
  identifier: string;
  billing_email: string | null;
  collection_enabled: boolean;
  autopay_enabled: boolean;
  /** What is still open per currency: "USD:12345,CAD:500" (minor units), null = nothing open. */
  open: { currency: string; minor: bigint }[];
}

const likeEscaped = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** One page of clients by name; `q` matches a part of the name, the PSA identifier or the billing e-mail. */
export async function listClientPage(
  tx: Tx,
  q: { q?: string | undefined; after?: ClientCursor | null; limit: number },
): Promise<{ rows: ClientListRow[]; next: ClientCursor | null }> {
  const where = [];
  const search = q.q?.trim();
  if (search) {
    const like = `%${likeEscaped(search)}%`;
    where.push(sql`(c.name ILIKE ${like} OR c.identifier ILIKE ${like} OR c.billing_email ILIKE ${like})`);
  }
  if (q.after) where.push(sql`(c.name, c.id) > (${q.after.name}::text, ${q.after.id}::uuid)`);
  const r = await sql<Omit<ClientListRow, 'open'> & { open: string | null }>`
    WITH page AS (
      SELECT c.id, c.name, c.identifier, c.billing_email, c.collection_enabled, c.autopay_enabled FROM clients c
       ${where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}
       ORDER BY c.name, c.id LIMIT ${q.limit + 1})
    SELECT page.*,
           (SELECT string_agg(currency || ':' || open::text, ',' ORDER BY currency) FROM (
              SELECT i.currency, sum(${openMinorOf(sql.ref('i.id'), sql.ref('i.psa_balance_minor'))})::bigint AS open
                FROM invoices i WHERE i.client_id = page.id AND i.status IN ('open', 'partially_paid')
               GROUP BY i.currency) o WHERE o.open <> 0) AS open
      FROM page ORDER BY page.name, page.id`.execute(tx);
  const rows = r.rows.map((row) => ({
    ...row,
    open: (row.open ?? '')
      .split(',')
      .filter(Boolean)
      .map((part) => {
        const [currency = '', minor = '0'] = part.split(':');
        return { currency, minor: BigInt(minor) };
      }),
  }));
  const more = rows.length > q.limit;
  if (more) rows.pop();
  const last = rows.at(-1);
  return { rows, next: more && last ? { name: last.name, id: last.id } : null };
}

export interface AgingRow {
  currency: string;
  open: bigint;
  overdue: bigint;
  current: bigint;
  d1_30: bigint;
  d31_60: bigint;
  d61_90: bigint;
  d90_plus: bigint;
  invoices: number;
}

export interface ClientPageData {
  readonly client: {
    id: string;
    name: string;
    identifier: string;
    billing_email: string | null;
    billing_contact: string | null;
    region: string | null;
    country: string | null;
    collection_enabled: boolean;
    autopay_enabled: boolean;
    processor_customer_id: string | null;
    created_at: Date;
  };
  readonly remoteIds: Record<string, string>;
  readonly aging: AgingRow[];
  readonly methods: {
    id: string;
    kind: string;
    brand: string | null;
    last4: string;
    exp_month: number | null;
    exp_year: number | null;
    is_default: boolean;
    processor: string;
  }[];
  readonly surchargeExemptReason: string | null;
  /** The client's own autopay authorisation from the portal, while it stands (engine/portal-autopay.ts). */
  readonly autopayConsent: { accepted_at: Date; accepted_ip: string; terms_text: string } | null;
  readonly emails: { kind: string; to_email: string; subject: string; status: string; last_error: string | null; created_at: Date; sent_at: Date | null }[];
  readonly recentInvoices: { id: string; number: string; currency: string; total_minor: bigint; status: string; issued_on: string; due_on: string | null }[];
}

/** One client's page, or null when there is no such client here. `today` is the workspace's date (aging). */
export async function clientPage(tx: Tx, clientId: string, today: string): Promise<ClientPageData | null> {
  const client = await tx
    .selectFrom('clients')
    .select([
      'id',
      'name',
      'identifier',
      'billing_email',
      'billing_contact',
      'region',
      'country',
      'collection_enabled',
      'autopay_enabled',
      'processor_customer_id',
      'created_at',
    ])
    .where('id', '=', clientId)
    .executeTakeFirst();
  if (!client) return null;
  const refs = await tx.selectFrom('external_refs').select(['system', 'remote_id']).where('entity', '=', 'client').where('entity_id', '=', clientId).execute();
  // Aging by days past due, of what is still open (the same balance as the invoice list).
  const aging = await sql<AgingRow>`
    SELECT currency, count(*)::int AS invoices, sum(open)::bigint AS open,
           coalesce(sum(open) FILTER (WHERE due_on < ${today}::date), 0)::bigint AS overdue,
           coalesce(sum(open) FILTER (WHERE due_on IS NULL OR due_on >= ${today}::date), 0)::bigint AS current,
           coalesce(sum(open) FILTER (WHERE ${today}::date - due_on BETWEEN 1 AND 30), 0)::bigint AS d1_30,
           coalesce(sum(open) FILTER (WHERE ${today}::date - due_on BETWEEN 31 AND 60), 0)::bigint AS d31_60,
           coalesce(sum(open) FILTER (WHERE ${today}::date - due_on BETWEEN 61 AND 90), 0)::bigint AS d61_90,
           coalesce(sum(open) FILTER (WHERE ${today}::date - due_on > 90), 0)::bigint AS d90_plus
      FROM (SELECT i.currency, i.due_on, ${openMinorOf(sql.ref('i.id'), sql.ref('i.psa_balance_minor'))} AS open
              FROM invoices i WHERE i.client_id = ${clientId}::uuid AND i.status IN ('open', 'partially_paid')) o
     WHERE open <> 0
     GROUP BY currency ORDER BY currency`.execute(tx);
  const methods = await tx
    .selectFrom('payment_methods')
    .select(['id', 'kind', 'brand', 'last4', 'exp_month', 'exp_year', 'is_default', 'processor'])
    .where('client_id', '=', clientId)
    .where('removed_at', 'is', null) // removed by the client in the portal (engine/portal-methods.ts)
    .orderBy('is_default', 'desc')
    .orderBy('created_at')
    .execute();
  const consent = await tx
    .selectFrom('autopay_consents')
    .select(['accepted_at', 'accepted_ip', 'terms_text'])
    .where('client_id', '=', clientId)
    .where('left_at', 'is', null)
    .executeTakeFirst();
  const exempt = await tx.selectFrom('surcharge_exemptions').select('reason').where('client_id', '=', clientId).executeTakeFirst();
  const emails = await tx
    .selectFrom('notifications')
    .select(['kind', 'to_email', 'subject', 'status', 'last_error', 'created_at', 'sent_at'])
    .where('client_id', '=', clientId)
    .orderBy('created_at', 'desc')
    .limit(10)
    .execute();
  const recentInvoices = (
    await sql<ClientPageData['recentInvoices'][number]>`
      SELECT id, number, currency, total_minor, status, to_char(issued_on, 'YYYY-MM-DD') AS issued_on, to_char(due_on, 'YYYY-MM-DD') AS due_on
        FROM invoices WHERE client_id = ${clientId}::uuid ORDER BY issued_on DESC, id DESC LIMIT 10`.execute(tx)
  ).rows;
  return {
    client,
    remoteIds: Object.fromEntries(refs.map((r) => [r.system, r.remote_id])),
    aging: aging.rows.map((a) => ({
      ...a,
      open: BigInt(a.open),
      overdue: BigInt(a.overdue),
      current: BigInt(a.current),
      d1_30: BigInt(a.d1_30),
      d31_60: BigInt(a.d31_60),
      d61_90: BigInt(a.d61_90),
      d90_plus: BigInt(a.d90_plus),
    })),
    methods,
    surchargeExemptReason: exempt?.reason ?? null,
    autopayConsent: consent ?? null,
    emails,
    recentInvoices: recentInvoices.map((i) => ({ ...i, total_minor: BigInt(i.total_minor) })),
  };
}
