// What the reminders brought in, per sequence and step (Collections → Results). Each invoice's money is
// credited to the LAST reminder it got before it was paid (not to every step, which would count it twice):
// recovered = what it owed at that reminder minus what it owes now; days to pay = from that reminder to the
// invoice's last successful payment. Per currency, integer minor units; days as a whole-day mean.
import { sql } from 'kysely';
import type { Tx } from '../../db/tenant.ts';
import { openMinorOf } from '../../db/queries/invoice-list.ts';

export interface StepResult {
  readonly sequenceId: string;
  readonly sequenceName: string;
  readonly stepKey: string;
  readonly offsetDays: number;
  readonly currency: string;
  /** Reminders of this step (queued e-mails). */
  readonly sent: number;
  /** Invoices whose last reminder was this step and that are paid now. */
  readonly paid: number;
  readonly recoveredMinor: bigint;
  /** Mean whole days from this reminder to payment, for the paid ones; null when none is paid. */
  readonly meanDaysToPay: number | null;
}

export interface ResultsSummary {
  readonly steps: readonly StepResult[];
  readonly promises: { readonly kept: number; readonly missed: number; readonly open: number };
  readonly disputesOpen: number;
}

export async function collectionResults(tx: Tx, tenantId: string): Promise<ResultsSummary> {
  const rows = await sql<{
    sequence_id: string;
    name: string;
    step_key: string;
    offset_days: number;
    currency: string;
    sent: string;
    paid: string;
    recovered: string;
    days: string | null;
  }>`
    WITH last AS (
      SELECT DISTINCT ON (s.invoice_id) s.invoice_id, s.sequence_id, s.step_key, s.offset_days, s.currency, s.open_minor, s.sent_at
        FROM collection_sends s WHERE s.tenant_id = ${tenantId} AND s.outcome = 'queued'
       ORDER BY s.invoice_id, s.offset_days DESC
    ),
    outcome AS (
      SELECT l.*, i.status,
             greatest(l.open_minor - greatest(${openMinorOf(sql.ref('i.id'), sql.ref('i.psa_balance_minor'))}, 0), 0) AS recovered,
             (SELECT max(p.succeeded_at) FROM allocations a JOIN payments p ON p.id = a.payment_id
               WHERE a.invoice_id = l.invoice_id AND p.succeeded_at >= l.sent_at) AS paid_at
        FROM last l JOIN invoices i ON i.id = l.invoice_id
    ),
    per_step AS (
      SELECT sequence_id, step_key, offset_days, currency,
             count(*) FILTER (WHERE status = 'paid') AS paid,
             coalesce(sum(recovered), 0) AS recovered,
             round(avg(extract(epoch FROM paid_at - sent_at) / 86400) FILTER (WHERE status = 'paid' AND paid_at IS NOT NULL)) AS days
        FROM outcome GROUP BY sequence_id, step_key, offset_days, currency
    ),
    sent AS (
      SELECT sequence_id, step_key, offset_days, currency, count(*) AS sent
        FROM collection_sends WHERE tenant_id = ${tenantId} AND outcome = 'queued'
       GROUP BY sequence_id, step_key, offset_days, currency
    )
    SELECT s.sequence_id, q.name, s.step_key, s.offset_days, s.currency, s.sent::text,
           coalesce(p.paid, 0)::text AS paid, coalesce(p.recovered, 0)::text AS recovered, p.days::text AS days
      FROM sent s
      JOIN collection_sequences q ON q.id = s.sequence_id
      LEFT JOIN per_step p USING (sequence_id, step_key, offset_days, currency)
     ORDER BY q.is_default DESC, q.name, s.offset_days, s.currency`.execute(tx);
  const holds = await sql<{ kept: string; missed: string; open: string; disputes: string }>`
    SELECT count(*) FILTER (WHERE kind = 'promise' AND release_reason = 'kept')::text AS kept,
           count(*) FILTER (WHERE kind = 'promise' AND release_reason = 'missed')::text AS missed,
           count(*) FILTER (WHERE kind = 'promise' AND released_at IS NULL)::text AS open,
           count(*) FILTER (WHERE kind = 'dispute' AND released_at IS NULL)::text AS disputes
      FROM collection_holds WHERE tenant_id = ${tenantId}`.execute(tx);
  const h = holds.rows[0]!;
  return {
    steps: rows.rows.map((r) => ({
      sequenceId: r.sequence_id,
      sequenceName: r.name,
      stepKey: r.step_key,
      offsetDays: r.offset_days,
      currency: r.currency,
      sent: Number(r.sent),
      paid: Number(r.paid),
      recoveredMinor: BigInt(r.recovered),
      meanDaysToPay: r.days === null ? null : Number(r.days),
    })),
    promises: { kept: Number(h.kept), missed: Number(h.missed), open: Number(h.open) },
    disputesOpen: Number(h.disputes),
  };
}
