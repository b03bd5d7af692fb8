// Reads for the staff payments pages: the list (filters, keyset paging newest first) and one payment with
// everything that happened to it — attempts at the processor, state changes, allocations to invoices,
// postings to the PSA and the books, refunds, the payout it went out in, receipts e-mailed, and who did what.
import { sql } from 'kysely';
import type { PaymentState } from '../schema.ts';
import type { Tx } from '../tenant.ts';

export const PAYMENT_STATES: readonly PaymentState[] = [
  'pending',
  'processing',
  'succeeded',
  'failed',
  'unknown',
  'refunded',
  'partially_refunded',
  'returned',
  'disputed',
  'charged_back',
];
export const PAYMENT_METHODS = ['card', 'us_bank_account'] as const;
export const PAGE_SIZE = 50;

export interface PaymentFilters {
  readonly state?: PaymentState;
  readonly method?: (typeof PAYMENT_METHODS)[number];
  /** Part of the client's name (case-insensitive). */
  readonly client?: string;
  /** YYYY-MM-DD, inclusive, in `timezone`. */
  readonly from?: string;
  readonly to?: string;
  readonly timezone: string;
  /** Opaque: the last row of the previous page. */
  readonly after?: string;
}

export interface PaymentRow {
  readonly id: string;
  readonly client_id: string;
  readonly client_name: string;
  readonly currency: string;
  readonly amount_minor: bigint;
  readonly refunded_minor: bigint;
  readonly state: PaymentState;
  readonly source: string;
  readonly method_kind: string | null;
  readonly method_brand: string | null;
  readonly method_last4: string | null;
  readonly created_at: Date;
  readonly invoices: string | null;
}

const encodeCursor = (at: string, id: string): string => Buffer.from(`${at}|${id}`).toString('base64url');
function decodeCursor(c: string): { at: string; id: string } | null {
  const [at, id] = Buffer.from(c, 'base64url').toString().split('|');
  if (!at || !id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(Date.parse(at))) return null;
  return { at, id };
}

/** One page, newest first; `next` is the cursor of the following page (null on the last). */
export async function listPayments(tx: Tx, f: PaymentFilters): Promise<{ rows: PaymentRow[]; next: string | null }> {
  let q = tx
    .selectFrom('payments as p')
    .innerJoin('clients as c', 'c.id', 'p.client_id')
    .select([
      'p.id',
      'p.client_id',
      'c.name as client_name',
      'p.currency',
      'p.amount_minor',
      'p.refunded_minor',
      'p.state',
      'p.source',
      'p.method_kind',
      'p.method_brand',
      'p.method_last4',
      'p.created_at',
      sql<string>`p.created_at::text`.as('cursor_at'),
      sql<
        string | null
      >`(select string_agg(i.number, ', ' order by i.number) from allocations a join invoices i on i.id = a.invoice_id where a.payment_id = p.id)`.as(
        'invoices',
      ),
    ]);
  if (f.state) q = q.where('p.state', '=', f.state);
  if (f.method) q = q.where('p.method_kind', '=', f.method);
  if (f.client) q = q.where('c.name', 'ilike', `%${f.client.replace(/[\\%_]/g, (x) => `\\${x}`)}%`);
  if (f.from) q = q.where('p.created_at', '>=', sql<Date>`(${f.from}::date)::timestamp at time zone ${f.timezone}`);
  if (f.to) q = q.where('p.created_at', '<', sql<Date>`(${f.to}::date + 1)::timestamp at time zone ${f.timezone}`);
  const cursor = f.after ? decodeCursor(f.after) : null;
  if (cursor) q = q.where(sql<boolean>`(p.created_at, p.id) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)`);
  const rows = await q
    .orderBy('p.created_at', 'desc')
    .orderBy('p.id', 'desc')
    .limit(PAGE_SIZE + 1)
    .execute();
  const more = rows.length > PAGE_SIZE;
  const page = rows.slice(0, PAGE_SIZE);
  const last = page[page.length - 1];
  return { rows: page.map(({ cursor_at: _c, ...r }) => r), next: more && last ? encodeCursor(last.cursor_at, last.id) : null };
}

export interface TimelineEvent {
  readonly at: Date;
  /** Where it happened: Settle, the processor, the PSA, the books, e-mail. */
  readonly source: string;
  readonly title: string;
  readonly detail: string | null;
  /** ok / bad / warn / null: how the outcome reads (always also in words). */
  readonly tone: 'ok' | 'bad' | 'warn' | null;
  readonly remoteId: string | null;
}

export async function paymentDetail(tx: Tx, id: string) {
  const p = await tx
    .selectFrom('payments as p')
    .innerJoin('clients as c', 'c.id', 'p.client_id')
    .selectAll('p')
    .select(['c.name as client_name', 'c.billing_email'])
    .where('p.id', '=', id)
    .executeTakeFirst();
  if (!p) return null;
  const [attempts, events, allocations, postings, refunds, payoutItems, emails, audits] = await Promise.all([
    tx.selectFrom('payment_attempts').selectAll().where('payment_id', '=', id).orderBy('attempt_no').execute(),
    tx.selectFrom('payment_events').selectAll().where('payment_id', '=', id).orderBy('id').execute(),
    tx
      .selectFrom('allocations as a')
      .innerJoin('invoices as i', 'i.id', 'a.invoice_id')
      .select(['a.id', 'a.invoice_id', 'i.number', 'a.amount_minor', 'a.reversed_minor', 'a.created_at'])
      .where('a.payment_id', '=', id)
      .orderBy('a.created_at')
      .execute(),
    tx
      .selectFrom('postings as po')
      .leftJoin('invoices as i', 'i.id', 'po.invoice_id')
      .select([
        'po.id',
        'po.target',
        'po.vendor',
        'po.kind',
        'po.status',
        'po.amount_minor',
        'po.remote_id',
        'po.last_error',
        'po.waiting_for',
        'po.created_at',
        'po.posted_at',
        'i.number as invoice_number',
      ])
      .where('po.payment_id', '=', id)
      .orderBy('po.created_at')
      .execute(),
    tx.selectFrom('refunds').selectAll().where('payment_id', '=', id).orderBy('created_at').execute(),
    tx
      .selectFrom('payout_items as pi')
      .innerJoin('payouts as po', 'po.id', 'pi.payout_id')
      .select(['po.id as payout_id', 'po.processor_payout_id', 'po.arrival_date', 'po.created_at', 'pi.type', 'pi.gross_minor', 'pi.fee_minor'])
      .where('pi.payment_id', '=', id)
      .execute(),
    tx
      .selectFrom('notifications')
      .select(['id', 'kind', 'to_email', 'status', 'created_at', 'sent_at', 'last_error'])
      .where('kind', '=', 'payment_receipt')
      .where((eb) => eb.or([eb('idempotency_key', '=', `receipt:payment:${id}`), eb('idempotency_key', 'like', `receipt:resend:${id}:%`)]))
      .orderBy('created_at')
      .execute(),
    tx
      .selectFrom('audit_log')
      .select(['actor', 'action', 'detail', 'created_at'])
      .where('subject_type', '=', 'payment')
      .where('subject_id', '=', id)
      .orderBy('id')
      .execute(),
  ]);
  return { payment: p, attempts, events, allocations, postings, refunds, payoutItems, emails, audits };
}

export type PaymentDetail = NonNullable<Awaited<ReturnType<typeof paymentDetail>>>;
