// The Collections Assist run for one workspace (job `collections-run`, queued for every workspace by the
// `collections-tick` cron). Two phases, so that a run over tens of thousands of open invoices stays fast and
// nothing is sent twice or lost:
//  1. claim — ONE set-based statement finds every invoice a step is due for now and inserts its
//     collection_sends row, keyed UNIQUE (invoice, step): a retried run or a second worker claims nothing
//     twice. The rules are dueReminders' (domain/rules/dunning.ts) in SQL: only steps after the last one sent,
//     only the latest ready one (no burst after an outage), at most one a day, pre-due steps dropped once the
//     due date has come and never before the invoice was issued.
//  2. compose — the claims are turned into one e-mail per client (compose.ts) in small transactions, each
//     queueing its e-mails through the outbox with the claim marked 'queued' in the same commit.
//  3. send — one `collections-send` job sends them in batches over the pooled SMTP connections (send.ts).
// An invoice is not chased while it is paid, covered by autopay or an installment plan, has money in flight
// (a payment pending or processing, a bank debit clearing, an open checkout), a card chargeback is open on a
// payment of it, or a hold stops it (a promise whose date has not passed, a dispute, a pause: holds.ts).
import { sql } from 'kysely';
import type { SendingNow } from '../../domain/rules/dunning.ts';
import type { IsoDate } from '../../domain/rules/calendar-date.ts';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { openMinorOf } from '../../db/queries/invoice-list.ts';
import type { EngineContext } from '../context.ts';
import { composeClaims } from './compose.ts';
import { settlePromises } from './holds.ts';
import { queueReminderSending } from './send.ts';
import { ensureDefaultSequence, readCollectionSettings, sendingWindow } from './sequences.ts';

export interface CollectionsRunResult {
  readonly window: SendingNow | null;
  readonly claimed: number;
  readonly emails: number;
  readonly cancelled: number;
  readonly escalated: number;
  readonly promisesKept: number;
  readonly promisesMissed: number;
}

export async function runCollections(ctx: EngineContext, tenantId: string, opts: { composeChunk?: number } = {}): Promise<CollectionsRunResult> {
  const now = ctx.now();
  const start = await withTenant(ctx.db, tenantId, async (tx) => {
    const settings = await readCollectionSettings(tx);
    if (!settings.enabled) return null;
    const window = await sendingWindow(ctx, tx, tenantId, settings, now);
    // Promises are settled whatever the hour: a kept one shows on the results at once.
    const promises = await settlePromises(tx, tenantId, window.day);
    // A claim whose day passed without its e-mail (a crash between the phases) is judged afresh.
    await tx.deleteFrom('collection_sends').where('outcome', '=', 'claimed').where('sent_on', '<', window.day).execute();
    const defaultSequence = await ensureDefaultSequence(tx, tenantId);
    return { window, promises, defaultSequence };
  });
  if (!start) return { window: null, claimed: 0, emails: 0, cancelled: 0, escalated: 0, promisesKept: 0, promisesMissed: 0 };
  const { window, promises } = start;
  let claimed = 0;
  if (window.open) claimed = await withTenant(ctx.db, tenantId, (tx) => claimDueSteps(tx, tenantId, window.day, now, start.defaultSequence));
  // Composed even when the window just closed: claims made inside it are sent (and a crash's leftovers).
  const composed = await composeClaims(ctx, tenantId, window.day, opts.composeChunk ?? 500);
  // A sender that died leaves its reminders leased: every run queues one for whatever still waits (send.ts).
  await withTenant(ctx.db, tenantId, async (tx) => {
    const waiting = await tx
      .selectFrom('notifications')
      .select('id')
      .where('kind', '=', 'collection_reminder')
      .where('status', '=', 'pending')
      .limit(1)
      .executeTakeFirst();
    if (waiting) await queueReminderSending(tx, tenantId);
  });
  return { window, claimed, ...composed, promisesKept: promises.kept, promisesMissed: promises.missed };
}

/** Phase 1: every (invoice, step) due today, claimed in one statement. Returns how many were claimed. */
export async function claimDueSteps(tx: Tx, tenantId: string, today: IsoDate, now: Date, defaultSequence: string): Promise<number> {
  const r = await sql<{ n: string }>`
    WITH blocked AS (
      -- money in flight: a payment that planned money for the invoice and may still take it (checkout-guard.ts's rule)
      SELECT (a->>'invoiceId')::uuid AS invoice_id
        FROM payments p, jsonb_array_elements(p.planned_allocations) a
       WHERE p.tenant_id = ${tenantId} AND p.state IN ('pending', 'processing', 'unknown')
         AND NOT EXISTS (SELECT 1 FROM allocations al WHERE al.payment_id = p.id)
         AND (p.state <> 'pending' OR p.source <> 'portal' OR p.created_at > now() - interval '1 hour'
              OR EXISTS (SELECT 1 FROM portal_checkouts c WHERE c.payment_id = p.id AND c.status = 'open'))
      UNION
      -- an open checkout whose payment has taken nothing yet (one left open after its payment succeeded is not)
      SELECT c.invoice_id FROM portal_checkouts c
       WHERE c.tenant_id = ${tenantId} AND c.status = 'open' AND NOT EXISTS (SELECT 1 FROM allocations al WHERE al.payment_id = c.payment_id)
      UNION
      -- a bank debit allocated but still clearing
      SELECT a.invoice_id FROM payments p JOIN allocations a ON a.payment_id = p.id
       WHERE p.tenant_id = ${tenantId} AND p.state = 'processing' AND a.amount_minor > a.reversed_minor
      UNION
      -- a card chargeback opened on a payment of the invoice: the client is disputing it with their bank
      SELECT a.invoice_id FROM disputes d JOIN allocations a ON a.payment_id = d.payment_id
       WHERE d.tenant_id = ${tenantId} AND d.status = 'open'
    ),
    cand AS (
      SELECT i.id, i.client_id, i.currency, i.due_on, i.issued_on,
             coalesce(ac.sequence_id, ar.sequence_id, an.sequence_id, ${defaultSequence}::uuid) AS sequence_id,
             ${openMinorOf(sql.ref('i.id'), sql.ref('i.psa_balance_minor'))} AS open_minor
        FROM invoices i
        JOIN clients c ON c.id = i.client_id
        LEFT JOIN collection_assignments ac ON ac.client_id = i.client_id
        LEFT JOIN collection_assignments ar ON ar.segment = 'region:' || c.region
        LEFT JOIN collection_assignments an ON an.segment = 'country:' || c.country
       WHERE i.tenant_id = ${tenantId} AND i.status IN ('open', 'partially_paid') AND i.due_on IS NOT NULL
         AND i.due_on <= ${today}::date + 60
         AND c.collection_enabled AND coalesce(c.billing_email, '') <> ''
         AND NOT EXISTS (SELECT 1 FROM collection_holds h
                          WHERE h.client_id = i.client_id AND h.released_at IS NULL AND (h.invoice_id IS NULL OR h.invoice_id = i.id)
                            AND (h.kind <> 'promise' OR h.until_on >= ${today}::date))
         AND NOT EXISTS (SELECT 1 FROM autopay_schedules s
                          WHERE s.invoice_id = i.id AND s.state IN ('pending_notice', 'awaiting_approval', 'noticed', 'charging'))
         AND NOT EXISTS (SELECT 1 FROM installment_plans ip WHERE ip.invoice_id = i.id AND ip.status = 'active')
         AND NOT EXISTS (SELECT 1 FROM blocked b WHERE b.invoice_id = i.id)
    ),
    last AS (
      SELECT s.invoice_id, max(s.offset_days) AS off, max(s.sent_on) AS sent_on
        FROM collection_sends s WHERE s.tenant_id = ${tenantId} AND s.outcome <> 'cancelled'
       GROUP BY s.invoice_id
    ),
    due AS (
      SELECT DISTINCT ON (c.id) c.id, c.client_id, c.currency, c.open_minor, c.sequence_id, st.id AS step_id, st.key, st.offset_days
        FROM cand c
        JOIN collection_steps st ON st.sequence_id = c.sequence_id
        LEFT JOIN last l ON l.invoice_id = c.id
       WHERE c.open_minor > 0
         AND c.due_on + st.offset_days <= ${today}::date
         AND st.offset_days > coalesce(l.off, -2147483648)
         AND (l.sent_on IS NULL OR l.sent_on < ${today}::date)
         AND (st.offset_days >= 0 OR (${today}::date < c.due_on AND c.due_on + st.offset_days >= c.issued_on))
       ORDER BY c.id, st.offset_days DESC
    ),
    ins AS (
      INSERT INTO collection_sends (tenant_id, invoice_id, client_id, sequence_id, step_id, step_key, offset_days, currency, open_minor, sent_on, sent_at)
      SELECT ${tenantId}, id, client_id, sequence_id, step_id, key, offset_days, currency, open_minor, ${today}::date, ${now}
        FROM due
      ON CONFLICT (invoice_id, step_id) DO NOTHING
      RETURNING 1
    )
    SELECT count(*)::text AS n FROM ins`.execute(tx);
  return Number(r.rows[0]?.n ?? 0);
}
