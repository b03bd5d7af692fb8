// The statements behind the A/R dashboard (ar-metrics.ts), one per family of figures, each grouped by currency.
// Every sum is bigint minor units (cast back from numeric); ratios are left to the caller. Each statement reads
// only rows of the period or rows still open, through the indexes of 0029_ar_metrics_indexes.sql, so the work
// follows the size of the period, not of the book (bench: 1,000,000 invoices).
//
// Instants: a period day starts at local midnight in the workspace's timezone
// (`day::timestamp AT TIME ZONE tz`); the end of measuring is that midnight or now, whichever is earlier.
import { sql } from 'kysely';
import type { Tx } from '../tenant.ts';

export interface MetricsWindow {
  readonly timeZone: string;
  readonly from: string;
  readonly measuredTo: string;
  readonly asOf: string;
  readonly now: Date;
}

const start = (w: MetricsWindow) => sql`(${w.from}::date::timestamp AT TIME ZONE ${w.timeZone}::text)`;
const end = (w: MetricsWindow) => sql`least((${w.measuredTo}::date::timestamp AT TIME ZONE ${w.timeZone}::text), ${w.now}::timestamptz)`;

export interface PositionRow {
  currency: string;
  open_now_minor: bigint;
  open_now_count: bigint;
  open_end_minor: bigint;
  overdue_end_minor: bigint;
  overdue_end_count: bigint;
  current_minor: bigint;
  current_count: bigint;
  d1_30_minor: bigint;
  d1_30_count: bigint;
  d31_60_minor: bigint;
  d31_60_count: bigint;
  d61_90_minor: bigint;
  d61_90_count: bigint;
  d90_plus_minor: bigint;
  d90_plus_count: bigint;
  autopay_open_count: bigint;
  autopay_open_minor: bigint;
  clients_open: bigint;
  clients_open_autopay: bigint;
}

/**
 * What is owed now and what was owed at the end of the period, with aging and autopay coverage.
 *
 * Now: the open invoices' balance as everywhere else in Settle (invoice-balance.ts: the PSA's balance minus
 * what Settle allocated and has not yet written back, plus reversals not yet in the PSA).
 *
 * At the end E of the period, rolled back from now, per invoice issued before E:
 *   owed(E) = owed now + Settle's allocations made since E (net of their reversals)
 *           + what closed otherwise (paid in the PSA only, voided) if the PSA changed the invoice since E.
 * Only invoices open now, touched by the PSA since E or allocated since E can have owed anything at E that
 * differs from now, so only those are read. Settle knows when it allocated; for what happened only in the
 * PSA the invoice's last PSA change (psa_updated_at) is the best moment known. A refund or return of a payment
 * allocated before E counts from the allocation (an allocation keeps no reversal date).
 */
export async function positions(tx: Tx, w: MetricsWindow): Promise<PositionRow[]> {
  // Grouping the open invoices by currency and client (tens of thousands in a large book) spilled to disk at
  // PostgreSQL's default 4 MB; for the rest of this read-only transaction only.
  await sql`SET LOCAL work_mem = '32MB'`.execute(tx);
  return (await positionsSql(w).execute(tx)).rows;
}

/** What the positions statement reads of an invoice: the columns of 0031's covering index invoices_ar_open. */
const CANDIDATE_COLUMNS = sql`i.id, i.client_id, i.currency, i.due_on, i.issued_on, i.status, i.type, i.total_minor,
  i.psa_balance_minor, i.paid_minor, i.psa_updated_at`;

/** The statement of positions(), apart so its plan can be read (EXPLAIN) against a large book. */
export function positionsSql(w: MetricsWindow) {
  return sql<PositionRow>`
    WITH cand AS (
      -- three disjoint sets, read whole (no de-duplication and no second visit by id for the large one);
      -- only the columns used, so that the open invoices are read from 0031's invoices_ar_open alone
      SELECT ${CANDIDATE_COLUMNS} FROM invoices i WHERE i.status IN ('open', 'partially_paid')
      UNION ALL
      SELECT ${CANDIDATE_COLUMNS} FROM invoices i WHERE i.status IN ('paid', 'void') AND i.psa_updated_at >= ${end(w)}
      UNION ALL
      SELECT ${CANDIDATE_COLUMNS} FROM invoices i
       WHERE i.id IN (SELECT a.invoice_id FROM allocations a WHERE a.created_at >= ${end(w)})
         AND i.status NOT IN ('open', 'partially_paid')
         AND NOT (i.status IN ('paid', 'void') AND i.psa_updated_at >= ${end(w)})
    ),
    inv AS MATERIALIZED (
      -- MATERIALIZED: each invoice's amounts are computed once, not once per aggregate that reads them.
    -- Allocations are read only for an invoice with money of Settle's standing on it (paid_minor > 0): with
      -- none, nothing is allocated since E and nothing waits to be written back (an allocation fully reversed
      -- while its reversal is not yet in the PSA is the one moment this reads the PSA's balance as it is).
      SELECT i.currency, i.client_id, i.due_on, i.issued_on, c.autopay_enabled,
             CASE WHEN i.status IN ('open', 'partially_paid')
                  THEN i.psa_balance_minor - CASE WHEN i.paid_minor > 0 THEN (
                    SELECT (coalesce(sum(a.amount_minor) FILTER (
                              WHERE NOT EXISTS (SELECT 1 FROM postings p
                                                 WHERE p.payment_id = a.payment_id AND p.invoice_id = a.invoice_id
                                                   AND p.target = 'psa' AND p.kind = 'payment' AND p.status = 'posted')), 0)
                            - coalesce(sum(a.reversed_minor), 0)
                            + coalesce((SELECT sum(r.amount_minor) FROM postings r
                                         WHERE r.invoice_id = i.id AND r.target = 'psa'
                                           AND r.kind IN ('refund', 'payment_reversal') AND r.status = 'posted'), 0))::bigint
                      FROM allocations a WHERE a.invoice_id = i.id) ELSE 0 END
                  ELSE 0 END AS open_now,
             CASE WHEN i.paid_minor > 0 THEN (
               SELECT coalesce(sum(a.amount_minor - a.reversed_minor), 0)::bigint
                 FROM allocations a WHERE a.invoice_id = i.id AND a.created_at >= ${end(w)}) ELSE 0 END AS after_e,
             CASE WHEN i.psa_updated_at >= ${end(w)} THEN i.total_minor - i.paid_minor ELSE NULL END AS closed_otherwise_base
        FROM cand i
        JOIN clients c ON c.id = i.client_id
       WHERE i.type <> 'credit_memo' AND i.total_minor > 0
    ),
    owed AS (
      SELECT inv.*,
             CASE WHEN issued_on < ${w.measuredTo}::date
                  THEN open_now + after_e + coalesce(closed_otherwise_base - open_now, 0) ELSE 0 END AS owed_end,
             CASE WHEN due_on IS NULL OR due_on >= ${w.asOf}::date THEN 0 ELSE ${w.asOf}::date - due_on END AS days_late
        FROM inv
    )
    SELECT currency,
           coalesce(sum(open_now), 0)::bigint AS open_now_minor,
           count(*) FILTER (WHERE open_now > 0) AS open_now_count,
           coalesce(sum(owed_end), 0)::bigint AS open_end_minor,
           coalesce(sum(owed_end) FILTER (WHERE days_late > 0), 0)::bigint AS overdue_end_minor,
           count(*) FILTER (WHERE owed_end > 0 AND days_late > 0) AS overdue_end_count,
           coalesce(sum(owed_end) FILTER (WHERE days_late = 0), 0)::bigint AS current_minor,
           count(*) FILTER (WHERE owed_end > 0 AND days_late = 0) AS current_count,
           coalesce(sum(owed_end) FILTER (WHERE days_late BETWEEN 1 AND 30), 0)::bigint AS d1_30_minor,
           count(*) FILTER (WHERE owed_end > 0 AND days_late BETWEEN 1 AND 30) AS d1_30_count,
           coalesce(sum(owed_end) FILTER (WHERE days_late BETWEEN 31 AND 60), 0)::bigint AS d31_60_minor,
           count(*) FILTER (WHERE owed_end > 0 AND days_late BETWEEN 31 AND 60) AS d31_60_count,
           coalesce(sum(owed_end) FILTER (WHERE days_late BETWEEN 61 AND 90), 0)::bigint AS d61_90_minor,
           count(*) FILTER (WHERE owed_end > 0 AND days_late BETWEEN 61 AND 90) AS d61_90_count,
           coalesce(sum(owed_end) FILTER (WHERE days_late > 90), 0)::bigint AS d90_plus_minor,
           count(*) FILTER (WHERE owed_end > 0 AND days_late > 90) AS d90_plus_count,
           count(*) FILTER (WHERE open_now > 0 AND autopay_enabled) AS autopay_open_count,
           coalesce(sum(open_now) FILTER (WHERE open_now > 0 AND autopay_enabled), 0)::bigint AS autopay_open_minor,
           count(DISTINCT client_id) FILTER (WHERE open_now > 0) AS clients_open,
           count(DISTINCT client_id) FILTER (WHERE open_now > 0 AND autopay_enabled) AS clients_open_autopay
      FROM owed
     GROUP BY currency
     ORDER BY currency`;
}

export interface InvoicedRow {
  currency: string;
  invoiced_count: bigint;
  invoiced_minor: bigint;
}

/** Invoiced in the period: invoices issued on its days (credit memos and voided invoices are not sales). */
export async function invoiced(tx: Tx, w: MetricsWindow): Promise<InvoicedRow[]> {
  const r = await sql<InvoicedRow>`
    SELECT i.currency, count(*) AS invoiced_count, coalesce(sum(i.total_minor), 0)::bigint AS invoiced_minor
      FROM invoices i
     WHERE i.issued_on >= ${w.from}::date AND i.issued_on < ${w.measuredTo}::date
       AND i.status NOT IN ('void', 'credit') AND i.type <> 'credit_memo' AND i.total_minor > 0
     GROUP BY i.currency ORDER BY i.currency`.execute(tx);
  return r.rows;
}

export interface DaysToPayRow {
  currency: string;
  paid_count: bigint;
  days_sum: bigint;
  weighted_days_sum: bigint;
  paid_total_minor: bigint;
}

/**
 * Invoices paid in full whose completing payment (the latest allocation still standing) fell in the period:
 * days from the issue date to that payment's day, in the workspace's timezone. Invoices the PSA marked paid
 * with no payment through Settle have no payment day Settle knows, and are left out.
 */
export async function daysToPay(tx: Tx, w: MetricsWindow): Promise<DaysToPayRow[]> {
  const r = await sql<DaysToPayRow>`
    WITH completing AS (
      SELECT i.currency, i.total_minor, ((a.created_at AT TIME ZONE ${w.timeZone}::text)::date - i.issued_on) AS days
        FROM allocations a
        JOIN invoices i ON i.id = a.invoice_id
       WHERE a.created_at >= ${start(w)} AND a.created_at < ${end(w)}
         AND a.amount_minor > a.reversed_minor
         AND i.status = 'paid'
         AND NOT EXISTS (SELECT 1 FROM allocations b
                          WHERE b.invoice_id = a.invoice_id AND b.amount_minor > b.reversed_minor
                            AND (b.created_at, b.id) > (a.created_at, a.id))
    )
    SELECT currency, count(*) AS paid_count, coalesce(sum(days), 0)::bigint AS days_sum,
           coalesce(sum(days::bigint * total_minor), 0)::bigint AS weighted_days_sum,
           coalesce(sum(total_minor), 0)::bigint AS paid_total_minor
      FROM completing GROUP BY currency ORDER BY currency`.execute(tx);
  return r.rows;
}

export type MethodGroup = 'card' | 'ach' | 'bank_ach' | 'other';

export interface CollectedRow {
  currency: string;
  week_start: string;
  method: MethodGroup;
  payment_count: bigint;
  amount_minor: bigint;
  fee_minor: bigint;
  fee_unknown_count: bigint;
  surcharge_minor: bigint;
  discount_minor: bigint;
}

/**
 * Cash collected in the period: payments the processor or the bank confirmed in it (succeeded_at), grouped by
 * the week (Monday, workspace timezone) and the method. Gross of later refunds; payments returned or charged
 * back are left out (the money went back); a client-credit application moves no cash and is not counted.
 * Card = card through the processor, ACH = a bank debit through the processor, bank ACH = a NACHA file
 * debit through the MSP's own bank.
 */
export async function collected(tx: Tx, w: MetricsWindow): Promise<CollectedRow[]> {
  const r = await sql<CollectedRow>`
    SELECT p.currency,
           to_char(date_trunc('week', p.succeeded_at AT TIME ZONE ${w.timeZone}::text), 'YYYY-MM-DD') AS week_start,
           CASE WHEN p.processor = 'bank-ach' THEN 'bank_ach'
                WHEN p.method_kind = 'card' THEN 'card'
                WHEN p.method_kind = 'us_bank_account' THEN 'ach'
                ELSE 'other' END AS method,
           count(*) AS payment_count,
           coalesce(sum(p.amount_minor), 0)::bigint AS amount_minor,
           coalesce(sum(p.fee_minor), 0)::bigint AS fee_minor,
           count(*) FILTER (WHERE p.fee_minor IS NULL) AS fee_unknown_count,
           coalesce(sum(p.surcharge_minor), 0)::bigint AS surcharge_minor,
           coalesce(sum(p.discount_minor), 0)::bigint AS discount_minor
      FROM payments p
     WHERE p.succeeded_at >= ${start(w)} AND p.succeeded_at < ${end(w)}
       AND p.processor <> 'client_credit'
       AND p.state NOT IN ('returned', 'charged_back', 'failed')
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`.execute(tx);
  return r.rows;
}

export interface FailureRow {
  currency: string;
  attempted_count: bigint;
  failed_count: bigint;
  failed_minor: bigint;
  recovered_count: bigint;
  recovered_minor: bigint;
}

/**
 * Payments started in the period that reached an outcome (the money came, or it failed), and of the failed
 * ones those recovered: an invoice the failed payment was for was paid after it by another payment (a retry
 * is a new payment, so a retry that worked counts, as does the client paying by another way). A portal
 * checkout the client abandoned or replaced (checkout_canceled) is not an attempt.
 */
export async function failures(tx: Tx, w: MetricsWindow): Promise<FailureRow[]> {
  const r = await sql<FailureRow>`
    WITH attempts AS (
      SELECT p.id, p.currency, p.amount_minor, p.created_at, p.state = 'failed' AS failed
        FROM payments p
       WHERE p.created_at >= ${start(w)} AND p.created_at < ${end(w)}
         AND p.processor <> 'client_credit'
         AND (p.succeeded_at IS NOT NULL OR p.state = 'failed')
         AND p.failure_code IS DISTINCT FROM 'checkout_canceled'
    ),
    judged AS (
      -- Attempts are counted from 0031's covering index; only a failed one's plan is read from its row. The
      -- planned invoices are an array the allocations index is probed with (= ANY): joined to
      -- jsonb_array_elements instead, the planner guessed 100 elements and hashed every allocation of the book
      -- for each failed payment (a month of a 1,000,000-invoice book: minutes).
      SELECT t.*, t.failed AND EXISTS (
               SELECT 1 FROM allocations a
                WHERE a.invoice_id = ANY (ARRAY(SELECT (pa ->> 'invoiceId')::uuid
                                                  FROM payments f CROSS JOIN jsonb_array_elements(f.planned_allocations) pa
                                                 WHERE f.id = t.id))
                  AND a.payment_id <> t.id AND a.created_at > t.created_at AND a.amount_minor > a.reversed_minor
             ) AS recovered
        FROM attempts t
    )
    SELECT currency, count(*) AS attempted_count,
           count(*) FILTER (WHERE failed) AS failed_count,
           coalesce(sum(amount_minor) FILTER (WHERE failed), 0)::bigint AS failed_minor,
           count(*) FILTER (WHERE recovered) AS recovered_count,
           coalesce(sum(amount_minor) FILTER (WHERE recovered), 0)::bigint AS recovered_minor
      FROM judged GROUP BY currency ORDER BY currency`.execute(tx);
  return r.rows;
}
