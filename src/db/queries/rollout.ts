// The rollout view (staff /app/rollout): the three figures an MSP is told to watch weekly for 90 days after
// switching — DSO, collection time, manual touches — for the pilot clients against the rest, and the pilot
// check: did every pilot payment reach the PSA and the books. Pilot clients are those Settle collects for
// (clients.collection_enabled, chosen in the set-up wizard or on the client's page).
//
// Weeks start on Monday in the workspace's timezone; the last is the current week, measured up to now.
// DSO per week uses the dashboard's formula over the 28 days that end with the week (a single week's
// invoicing is too lumpy): open A/R at the week's end ÷ invoiced in those 28 days × 28, in the workspace's
// currency. Open A/R at a week's end is rolled back from now exactly as in ar-metrics-sql.ts.
import { sql } from 'kysely';
import type { Tx } from '../tenant.ts';

export const ROLLOUT_WEEKS = 13;
const DSO_DAYS = 28;

export interface RolloutWindow {
  readonly timeZone: string;
  /** Monday of the first week shown. */
  readonly firstWeek: string;
  /** Monday of the current week. */
  readonly lastWeek: string;
  readonly now: Date;
  readonly currency: string;
}

const weeksCte = (w: RolloutWindow) => sql`weeks AS (
  SELECT ws::date AS week_start, (ws::date + 7) AS week_end,
         least(((ws::date + 7)::timestamp AT TIME ZONE ${w.timeZone}::text), ${w.now}::timestamptz) AS e
    FROM generate_series(${w.firstWeek}::date, ${w.lastWeek}::date, interval '7 days') ws)`;

export interface DsoWeekRow {
  week_start: string;
  pilot: boolean;
  open_end_minor: bigint;
  invoiced_minor: bigint;
}

export async function dsoByWeek(tx: Tx, w: RolloutWindow): Promise<DsoWeekRow[]> {
  const r = await sql<DsoWeekRow>`
    WITH ${weeksCte(w)},
    first_end AS (SELECT min(e) AS e FROM weeks),
    -- owed at a week's end = owed now + allocations since then + what closed only in the PSA since then, summed
    -- part by part so each part reads only its own rows (no look-up per invoice and week)
    open_now AS MATERIALIZED (
      SELECT i.id, i.issued_on, i.total_minor, i.paid_minor, i.psa_updated_at, c.collection_enabled AS pilot,
             i.psa_balance_minor - CASE WHEN i.paid_minor > 0 THEN (
               SELECT (coalesce(sum(a.amount_minor) FILTER (
                         WHERE NOT EXISTS (SELECT 1 FROM postings p
                                            WHERE p.payment_id = a.payment_id AND p.invoice_id = a.invoice_id
                                              AND p.target = 'psa' AND p.kind = 'payment' AND p.status = 'posted')), 0)
                       - coalesce(sum(a.reversed_minor), 0)
                       + coalesce((SELECT sum(r.amount_minor) FROM postings r
                                    WHERE r.invoice_id = i.id AND r.target = 'psa'
                                      AND r.kind IN ('refund', 'payment_reversal') AND r.status = 'posted'), 0))::bigint
                 FROM allocations a WHERE a.invoice_id = i.id) ELSE 0 END AS open_minor
        FROM invoices i JOIN clients c ON c.id = i.client_id
       WHERE i.status IN ('open', 'partially_paid') AND i.currency = ${w.currency} AND i.type <> 'credit_memo' AND i.total_minor > 0
    ),
    parts AS (
      SELECT wk.week_start, o.pilot, o.open_minor AS amount
        FROM weeks wk JOIN open_now o ON o.issued_on < wk.week_end
      UNION ALL
      SELECT wk.week_start, c.collection_enabled, a.amount_minor - a.reversed_minor
        FROM allocations a
        JOIN invoices i ON i.id = a.invoice_id
        JOIN clients c ON c.id = i.client_id
        JOIN weeks wk ON a.created_at >= wk.e AND i.issued_on < wk.week_end
       WHERE a.created_at >= (SELECT e FROM first_end)
         AND i.currency = ${w.currency} AND i.type <> 'credit_memo' AND i.total_minor > 0
      UNION ALL
      SELECT wk.week_start, c.collection_enabled, i.total_minor - i.paid_minor
        FROM invoices i
        JOIN clients c ON c.id = i.client_id
        JOIN weeks wk ON i.psa_updated_at >= wk.e AND i.issued_on < wk.week_end
       WHERE i.status IN ('paid', 'void') AND i.psa_updated_at >= (SELECT e FROM first_end)
         AND i.currency = ${w.currency} AND i.type <> 'credit_memo' AND i.total_minor > 0
      UNION ALL
      SELECT wk.week_start, o.pilot, o.total_minor - o.paid_minor - o.open_minor
        FROM open_now o
        JOIN weeks wk ON o.psa_updated_at >= wk.e AND o.issued_on < wk.week_end
    ),
    owed AS (SELECT week_start, pilot, sum(amount)::bigint AS open_end_minor FROM parts GROUP BY 1, 2),
    sales AS (
      SELECT wk.week_start, c.collection_enabled AS pilot, sum(i.total_minor)::bigint AS invoiced_minor
        FROM weeks wk
        JOIN invoices i ON i.issued_on >= wk.week_end - ${DSO_DAYS}::int AND i.issued_on < wk.week_end
        JOIN clients c ON c.id = i.client_id
       WHERE i.currency = ${w.currency} AND i.status NOT IN ('void', 'credit') AND i.type <> 'credit_memo' AND i.total_minor > 0
       GROUP BY 1, 2
    )
    SELECT to_char(coalesce(o.week_start, s.week_start), 'YYYY-MM-DD') AS week_start, coalesce(o.pilot, s.pilot) AS pilot,
           coalesce(o.open_end_minor, 0)::bigint AS open_end_minor, coalesce(s.invoiced_minor, 0)::bigint AS invoiced_minor
      FROM owed o FULL JOIN sales s ON s.week_start = o.week_start AND s.pilot = o.pilot
     ORDER BY 1, 2`.execute(tx);
  return r.rows;
}

export interface CollectionWeekRow {
  week_start: string;
  pilot: boolean;
  paid_count: bigint;
  days_sum: bigint;
}

/** Invoices completed by a payment in each week: days from issue to that payment (as the dashboard's days to pay). */
export async function collectionTimeByWeek(tx: Tx, w: RolloutWindow): Promise<CollectionWeekRow[]> {
  const r = await sql<CollectionWeekRow>`
    SELECT to_char(date_trunc('week', a.created_at AT TIME ZONE ${w.timeZone}::text), 'YYYY-MM-DD') AS week_start,
           c.collection_enabled AS pilot, count(*) AS paid_count,
           coalesce(sum((a.created_at AT TIME ZONE ${w.timeZone}::text)::date - i.issued_on), 0)::bigint AS days_sum
      FROM allocations a
      JOIN invoices i ON i.id = a.invoice_id
      JOIN clients c ON c.id = i.client_id
     WHERE a.created_at >= (${w.firstWeek}::date::timestamp AT TIME ZONE ${w.timeZone}::text)
       AND a.amount_minor > a.reversed_minor AND i.status = 'paid'
       AND NOT EXISTS (SELECT 1 FROM allocations b
                        WHERE b.invoice_id = a.invoice_id AND b.amount_minor > b.reversed_minor
                          AND (b.created_at, b.id) > (a.created_at, a.id))
     GROUP BY 1, 2 ORDER BY 1, 2`.execute(tx);
  return r.rows;
}

export interface TouchWeekRow {
  week_start: string;
  pilot: boolean;
  touches: bigint;
  minutes_sum: bigint;
}

/**
 * Manual touches: exceptions a person closed (resolved or dismissed by a signed-in user, not cleared by Settle
 * itself when the cause went away), by the week they were closed, with the time from opening to closing. An
 * exception about no client counts with the rest.
 */
export async function touchesByWeek(tx: Tx, w: RolloutWindow): Promise<TouchWeekRow[]> {
  const r = await sql<TouchWeekRow>`
    SELECT to_char(date_trunc('week', e.resolved_at AT TIME ZONE ${w.timeZone}::text), 'YYYY-MM-DD') AS week_start,
           coalesce(c.collection_enabled, false) AS pilot, count(*) AS touches,
           coalesce(sum(floor(extract(epoch FROM (e.resolved_at - e.opened_at)) / 60)), 0)::bigint AS minutes_sum
      FROM exceptions e
      LEFT JOIN clients c ON c.id = e.client_id
     WHERE e.status = 'resolved' AND e.resolved_by LIKE 'user:%'
       AND e.resolved_at >= (${w.firstWeek}::date::timestamp AT TIME ZONE ${w.timeZone}::text)
     GROUP BY 1, 2 ORDER BY 1, 2`.execute(tx);
  return r.rows;
}

export type ReachedState = 'posted' | 'pending' | 'failed' | 'none';

export interface PilotPaymentRow {
  id: string;
  client_name: string;
  currency: string;
  amount_minor: bigint;
  succeeded_at: Date;
  psa: ReachedState;
  books: ReachedState;
}

/**
 * The pilot check: every payment of a pilot client confirmed since the first week, with whether its postings
 * reached the PSA and the books ('posted' = every one posted; 'failed' / 'pending' = at least one is; 'none' =
 * none created yet, e.g. a workspace that writes back only when the payout lands). Client-credit applications
 * are payments too and are checked the same way.
 */
export async function pilotPayments(tx: Tx, w: RolloutWindow): Promise<PilotPaymentRow[]> {
  const reached = (target: string) => sql<ReachedState>`(
    SELECT CASE WHEN count(*) = 0 THEN 'none'
                WHEN count(*) FILTER (WHERE x.status = 'failed') > 0 THEN 'failed'
                WHEN count(*) FILTER (WHERE x.status = 'pending') > 0 THEN 'pending'
                ELSE 'posted' END
      FROM postings x WHERE x.payment_id = p.id AND x.target = ${target} AND x.kind = 'payment')`;
  const r = await sql<PilotPaymentRow>`
    SELECT p.id, c.name AS client_name, p.currency, p.amount_minor, p.succeeded_at,
           ${reached('psa')} AS psa, ${reached('accounting')} AS books
      FROM payments p JOIN clients c ON c.id = p.client_id
     WHERE c.collection_enabled
       AND p.succeeded_at >= (${w.firstWeek}::date::timestamp AT TIME ZONE ${w.timeZone}::text)
       AND p.state IN ('succeeded', 'partially_refunded', 'refunded', 'disputed')
     ORDER BY p.succeeded_at DESC`.execute(tx);
  return r.rows;
}
