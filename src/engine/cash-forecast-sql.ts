// The statements behind the cash forecast (cash-forecast.ts): one set-based read each for the open invoices,
// the paid history, and the money already promised (debits in flight, installment parts, autopay schedules).
// No statement runs per invoice: 100,000 open invoices are five statements (bench/cash-forecast.ts).
// Days are workspace-local (`AT TIME ZONE tz`); amounts stay bigint minor units.
import { sql } from 'kysely';
import { unreflectedSql } from '../db/queries/invoice-balance.ts';
import type { Tx } from '../db/tenant.ts';
import { NO_DUE_DATE_TERMS_DAYS } from '../domain/forecast/history.ts';

export interface OpenInvoiceRow {
  id: string;
  number: string;
  client_id: string;
  client_name: string;
  currency: string;
  due_on: string;
  open_minor: bigint;
  reminders_active: boolean;
}

/**
 * Every open invoice with what is still owed on it (the PSA's balance less Settle's payments not yet written
 * back: invoice-balance.ts, read here for the invoices with money of Settle's on them only), its due date (or
 * the terms' date when the PSA gave none) and whether Collections Assist will remind its client.
 */
export async function openInvoices(tx: Tx): Promise<OpenInvoiceRow[]> {
  const r = await sql<OpenInvoiceRow>`
    WITH open AS (
      SELECT i.id, i.number, i.client_id, i.currency,
             coalesce(i.due_on, i.issued_on + ${NO_DUE_DATE_TERMS_DAYS}::int)::text AS due_on,
             (i.psa_balance_minor - CASE WHEN i.paid_minor > 0 THEN ${unreflectedSql(sql.ref('i.id'))} ELSE 0 END)::bigint AS open_minor
        FROM invoices i
       WHERE i.status IN ('open', 'partially_paid') AND i.type <> 'credit_memo' AND i.total_minor > 0
    )
    SELECT o.*, c.name AS client_name,
           (c.collection_enabled AND coalesce((SELECT s.enabled FROM collection_settings s), false)) AS reminders_active
      FROM open o JOIN clients c ON c.id = o.client_id
     WHERE o.open_minor > 0`.execute(tx);
  return r.rows;
}

export interface PaidRow {
  id: string;
  client_id: string;
  due_on: string;
  paid_on: string;
  /** Reminders queued for the invoice, oldest first: [[sent_on, offset_days], ...] */
  reminders: Array<[string, number]> | null;
}

/**
 * Invoices paid in full through Settle whose completing payment (the latest allocation still standing) fell
 * on or after `since`, with the day of that payment and the reminders Collections Assist sent for them.
 * Invoices the PSA marked paid with no payment through Settle have no payment day Settle knows, and are left
 * out (as from the dashboard's days to pay).
 */
export async function paidHistory(tx: Tx, since: Date, timeZone: string): Promise<PaidRow[]> {
  const r = await sql<PaidRow>`
    WITH last_alloc AS (
      -- the latest standing allocation on or after since is the latest of all (a later one would be too)
      SELECT a.invoice_id, max(a.created_at) AS paid_at
        FROM allocations a
       WHERE a.created_at >= ${since} AND a.amount_minor > a.reversed_minor
       GROUP BY a.invoice_id
    )
    SELECT i.id, i.client_id, coalesce(i.due_on, i.issued_on + ${NO_DUE_DATE_TERMS_DAYS}::int)::text AS due_on,
           (l.paid_at AT TIME ZONE ${timeZone}::text)::date::text AS paid_on,
           r.reminders
      FROM last_alloc l
      JOIN invoices i ON i.id = l.invoice_id
      LEFT JOIN (SELECT s.invoice_id, json_agg(json_build_array(s.sent_on::text, s.offset_days) ORDER BY s.sent_on, s.offset_days) AS reminders
                   FROM collection_sends s WHERE s.outcome = 'queued' GROUP BY s.invoice_id) r ON r.invoice_id = l.invoice_id
     WHERE i.status = 'paid' AND i.type <> 'credit_memo' AND i.total_minor > 0`.execute(tx);
  return r.rows;
}

export interface InFlightRow {
  invoice_id: string;
  via: 'processor' | 'bank';
  started_on: string;
  effective_on: string | null;
  amount_minor: bigint;
}

/**
 * Bank debits on their way: payments started and not yet known to have succeeded or failed whose method is a
 * bank account (through the processor) or a NACHA entry of Settle's own file, one row per invoice they pay.
 */
export async function achInFlight(tx: Tx, timeZone: string): Promise<InFlightRow[]> {
  const r = await sql<InFlightRow>`
    SELECT (pa ->> 'invoiceId')::uuid AS invoice_id,
           CASE WHEN p.processor = 'bank-ach' THEN 'bank' ELSE 'processor' END AS via,
           (p.created_at AT TIME ZONE ${timeZone}::text)::date::text AS started_on,
           (SELECT max(coalesce(e.effective_date, e.not_before))::text FROM ach_entries e
             WHERE e.payment_id = p.id AND e.kind = 'debit' AND e.status IN ('pending', 'batched', 'sent')) AS effective_on,
           (pa ->> 'amountMinor')::bigint AS amount_minor
      FROM payments p CROSS JOIN jsonb_array_elements(p.planned_allocations) pa
     WHERE p.state IN ('pending', 'processing', 'unknown')
       AND (p.processor = 'bank-ach' OR p.method_kind = 'us_bank_account')`.execute(tx);
  return r.rows;
}

export interface PartRow {
  invoice_id: string;
  due_on: string;
  amount_minor: bigint;
}

/** Parts still to be collected of the active installment plans. */
export async function installmentParts(tx: Tx): Promise<PartRow[]> {
  const r = await sql<PartRow>`
    SELECT pl.invoice_id, pt.due_on::text AS due_on, pt.amount_minor
      FROM installment_parts pt JOIN installment_plans pl ON pl.id = pt.plan_id
     WHERE pl.status = 'active' AND pt.status IN ('scheduled', 'collecting')`.execute(tx);
  return r.rows;
}

export interface AutopayRow {
  invoice_id: string;
  charge_on: string;
  method_kind: 'card' | 'us_bank_account' | null;
}

/**
 * Autopay charges scheduled and still to happen (waiting for their notice, noticed, waiting for a person's
 * approval, or charging), with the kind of method they will charge: the schedule's own, else the client's default.
 */
export async function autopaySchedules(tx: Tx): Promise<AutopayRow[]> {
  const r = await sql<AutopayRow>`
    SELECT s.invoice_id, greatest(s.charge_on, coalesce(s.not_before, s.charge_on))::text AS charge_on,
           coalesce(m.kind, (SELECT d.kind FROM payment_methods d WHERE d.client_id = s.client_id AND d.is_default LIMIT 1)) AS method_kind
      FROM autopay_schedules s LEFT JOIN payment_methods m ON m.id = s.method_id
     WHERE s.state IN ('pending_notice', 'noticed', 'awaiting_approval', 'charging')`.execute(tx);
  return r.rows;
}
