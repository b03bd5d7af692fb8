// Sending the reminders (job `collections-send`, queued by the run's compose phase): the outbox rows the run
// wrote go to the relay in batches over the mailer's pooled connections, instead of one send-email job and one
// SMTP connection each (that held a run of 5,000 reminders to ~11 e-mails a second).
//
// Exactly once per reminder, as far as SMTP allows:
//  - a batch is claimed set-based: one UPDATE … FOR UPDATE SKIP LOCKED sets the rows' lease (sending_until,
//    sending_by), so a second sender (another worker, a job queued twice) claims other rows, never these; just
//    before each few rows go out the lease is renewed where it is still this sender's, so a sender that stalled
//    past its lease never sends what another has taken over;
//  - each row is marked 'sent' the moment the relay accepted it, in its own small commit — a crash loses at
//    most the marks of the messages in flight (a handful, one per connection), and those go again with the
//    same Message-ID, which mail systems deduplicate;
//  - a sender that dies leaves its other rows leased: they are claimed again when the lease is over (the next
//    collections run, every 15 minutes, queues a sender for any pending reminder), none lost;
//  - a reminder whose every invoice was closed (paid, voided) before it went out is not sent ('skipped').
// A relay that refuses a reminder gets it again later (backing off to an hour); after FAILING_AFTER tries
// staff see one exception for the workspace with the relay's words, and it closes itself once one is accepted.
import { sql } from 'kysely';
import crypto from 'node:crypto';
import type { Db } from '../../db/pool.ts';
import { withTenant, type Tx } from '../../db/tenant.ts';
import type { IsoDate } from '../../domain/rules/calendar-date.ts';
import type { EmailAttachment } from '../../notify/mailer.ts';
import { audit } from '../audit.ts';
import { emailBranding } from '../branding.ts';
import type { EngineContext } from '../context.ts';
import { enqueue } from '../enqueue.ts';
import { raiseException } from '../exceptions.ts';
import { outgoingOf } from '../send-email.ts';
import { readCollectionSettings, sendingWindow } from './sequences.ts';
import { statementOf, statementPdf } from './statement.ts';

/** Reminders claimed per batch. */
export const SEND_BATCH = 200;
/**
 * A batch's hold on its rows; far longer than a batch takes (a relay that stalls times out after 30 s). On the
 * database's clock, never the run's (a simulated day may pass while a batch is on its way).
 */
export const SEND_LEASE_MS = 5 * 60_000;
/** A sender stops starting sends this long before its lease ends (its clock and the database's differ a little). */
const LEASE_MARGIN_MS = 60_000;
/** Tries before staff are told the relay refuses reminders. */
export const FAILING_AFTER = 3;
const FAILING_KEY = 'collections:email-failing';
const ACTOR = 'system:collections';

interface Claimed {
  id: string;
  to_email: string;
  subject: string;
  body_text: string;
  body_html: string | null;
  idempotency_key: string;
  attempts: number;
  statement_client_id: string | null;
  statement_as_of: string | null;
}

export interface SendResult {
  readonly sent: number;
  readonly failed: number;
  readonly skipped: number;
}

/** Queue the workspace's sender (one pending at a time; a later `runAt` never delays one due sooner). */
export async function queueReminderSending(db: Tx | Db, tenantId: string, runAt?: Date): Promise<void> {
  await enqueue(
    db,
    'collections-send',
    { tenantId },
    { jobKey: `collections-send:${tenantId}`, maxAttempts: 25, ...(runAt ? { runAt, jobKeyMode: 'preserve_run_at' as const } : {}) },
  );
}

export async function sendReminders(ctx: EngineContext, tenantId: string, opts: { batch?: number } = {}): Promise<SendResult> {
  const total = { sent: 0, failed: 0, skipped: 0 };
  const me = crypto.randomUUID();
  const who = await withTenant(ctx.db, tenantId, async (tx) => ({
    tenant: await tx.selectFrom('tenants').select(['name', 'slug']).where('id', '=', tenantId).executeTakeFirstOrThrow(),
    brand: await emailBranding(tx),
  }));
  let lastError = '';
  // Marked sent as soon as accepted, rows accepted meanwhile riding the same commit (group commit): as few
  // unmarked as with a commit each — the messages in flight — at a fraction of the round trips.
  const markSent = groupCommit((ids) =>
    withTenant(ctx.db, tenantId, async (tx) => {
      await sql`
        UPDATE notifications SET status = 'sent', sent_at = ${ctx.now()}, attempts = attempts + 1, last_error = null, sending_until = null, sending_by = null
         WHERE id = ANY(${ids}::uuid[]) AND status = 'pending'`.execute(tx);
    }),
  );
  const sendOne = async (row: Claimed, deadline: number): Promise<void> => {
    if (performance.now() > deadline) return; // stalled past the lease: the row is someone else's to send now
    try {
      const attachments = row.statement_client_id ? [await statementAttachment(ctx, tenantId, row.statement_client_id, row.statement_as_of!)] : [];
      await ctx.mailer.send({ ...outgoingOf(ctx, tenantId, row, who.tenant, who.brand), attachments });
    } catch (e) {
      lastError = (e as Error).message.slice(0, 1000);
      total.failed++;
      await withTenant(ctx.db, tenantId, (tx) => markFailed(tx, row, me, lastError));
      return;
    }
    await markSent(row.id);
    total.sent++;
  };
  for (;;) {
    const { rows, skipped } = await withTenant(ctx.db, tenantId, async (tx) => {
      // Quiet hours: outside the sending window only first tries go (the run composed them inside it moments
      // ago); a reminder the relay refused waits for the window to open again (the next run queues a sender).
      const open = (await sendingWindow(ctx, tx, tenantId, await readCollectionSettings(tx), ctx.now())).open;
      return claimBatch(tx, tenantId, me, opts.batch ?? SEND_BATCH, open);
    });
    total.skipped += skipped;
    if (!rows.length) break;
    if (!ctx.mailer.configured) {
      total.skipped += await withTenant(ctx.db, tenantId, (tx) => skipWithoutRelay(tx, rows));
      continue;
    }
    // As many in flight as the pool has connections, twice over: each connection always has its next message.
    // The lease is renewed, and checked to be still this sender's, just before each few rows go out.
    const inFlight = ctx.mailer.connections * 2;
    for (let i = 0; i < rows.length; i += inFlight * 5) {
      const next = rows.slice(i, i + inFlight * 5);
      const mine = await withTenant(ctx.db, tenantId, (tx) => renewLease(tx, me, next));
      const deadline = performance.now() + SEND_LEASE_MS - LEASE_MARGIN_MS;
      await eachLimited(
        next.filter((r) => mine.has(r.id)),
        inFlight,
        (row) => sendOne(row, deadline),
      );
    }
  }
  await withTenant(ctx.db, tenantId, (tx) => afterSending(tx, tenantId, total, lastError));
  return total;
}

async function skipWithoutRelay(tx: Tx, rows: readonly Claimed[]): Promise<number> {
  // Kept in the outbox as 'skipped' with the reason, as every other e-mail is without a relay.
  const r = await tx
    .updateTable('notifications')
    .set({ status: 'skipped', last_error: 'no SMTP relay configured (SETTLE_SMTP_URL)', sending_until: null, sending_by: null })
    .where(
      'id',
      'in',
      rows.map((x) => x.id),
    )
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** The rows of `rows` still leased by this sender (lease unexpired), their lease renewed from now. */
async function renewLease(tx: Tx, me: string, rows: readonly Claimed[]): Promise<Set<string>> {
  const r = await sql<{ id: string }>`
    UPDATE notifications SET sending_until = now() + ${`${SEND_LEASE_MS} milliseconds`}::interval
     WHERE id = ANY(${rows.map((x) => x.id)}::uuid[]) AND status = 'pending' AND sending_by = ${me}::uuid AND sending_until > now()
    RETURNING id`.execute(tx);
  return new Set(r.rows.map((x) => x.id));
}

/** One batch, leased; those of its reminders whose every invoice has closed since are skipped instead. */
async function claimBatch(tx: Tx, tenantId: string, me: string, size: number, retries: boolean): Promise<{ rows: Claimed[]; skipped: number }> {
  const claimed = await sql<Claimed>`
    UPDATE notifications n SET sending_until = now() + ${`${SEND_LEASE_MS} milliseconds`}::interval, sending_by = ${me}::uuid
     WHERE n.id IN (SELECT id FROM notifications
                     WHERE tenant_id = ${tenantId} AND kind = 'collection_reminder' AND status = 'pending'
                       AND (sending_until IS NULL OR sending_until <= now()) AND (${retries} OR attempts = 0)
                     ORDER BY created_at, id LIMIT ${size}
                       FOR UPDATE SKIP LOCKED)
    RETURNING n.id, n.to_email, n.subject, n.body_text, n.body_html, n.idempotency_key, n.attempts,
              n.statement_client_id, n.statement_as_of::text`.execute(tx);
  if (!claimed.rows.length) return { rows: [], skipped: 0 };
  const stale = await sql<{ id: string }>`
    UPDATE notifications n SET status = 'skipped', sending_until = null, sending_by = null,
           last_error = 'not sent: every invoice it reminded of was closed (paid, voided or credited) before it went out'
     WHERE n.id = ANY(${claimed.rows.map((r) => r.id)}::uuid[])
       AND EXISTS (SELECT 1 FROM collection_sends s WHERE s.notification_id = n.id)
       AND NOT EXISTS (SELECT 1 FROM collection_sends s JOIN invoices i ON i.id = s.invoice_id
                        WHERE s.notification_id = n.id AND i.status IN ('open', 'partially_paid'))
    RETURNING n.id`.execute(tx);
  if (stale.rows.length)
    await tx
      .updateTable('collection_sends')
      .set({ outcome: 'cancelled' })
      .where(
        'notification_id',
        'in',
        stale.rows.map((r) => r.id),
      )
      .execute();
  const gone = new Set(stale.rows.map((r) => r.id));
  return { rows: claimed.rows.filter((r) => !gone.has(r.id)), skipped: gone.size };
}

/** Tried again after 1, 2, 4 … minutes, at most an hour apart; it stays pending (never dropped). */
async function markFailed(tx: Tx, row: Claimed, me: string, error: string): Promise<void> {
  const waitMs = Math.min(60_000 * 2 ** Math.min(row.attempts, 10), 3600_000);
  await sql`
    UPDATE notifications SET attempts = ${row.attempts + 1}, last_error = ${error}, sending_until = now() + ${`${waitMs} milliseconds`}::interval
     WHERE id = ${row.id} AND status = 'pending' AND sending_by = ${me}::uuid`.execute(tx);
}

/** The failing relay's exception (raised or closed), and the next sender for reminders waiting on a lease. */
async function afterSending(tx: Tx, tenantId: string, total: SendResult, lastError: string): Promise<void> {
  const waiting = await sql<{ in_ms: string | null; failing: string }>`
    SELECT (extract(epoch FROM min(sending_until) FILTER (WHERE sending_until > now()) - now()) * 1000)::bigint::text AS in_ms,
           count(*) FILTER (WHERE attempts >= ${FAILING_AFTER})::text AS failing
      FROM notifications WHERE kind = 'collection_reminder' AND status = 'pending'`.execute(tx);
  const { in_ms: inMs, failing } = waiting.rows[0]!;
  if (Number(failing) > 0 && total.failed > 0)
    await raiseException(tx, tenantId, ACTOR, {
      kind: 'collections_email_failing',
      dedupeKey: FAILING_KEY,
      clientId: null,
      invoiceIds: [],
      paymentId: null,
      title: `The mail relay refuses payment reminders: ${failing} waiting`,
      detail: `The SMTP relay (SETTLE_SMTP_URL) answered: “${lastError}”. Check the relay's address, user and password, and that it accepts mail from Settle's sender address; the reminders are kept and tried again every hour, and this item closes by itself once the relay accepts them.`,
      data: { waiting: Number(failing), error: lastError },
    });
  if (total.sent > 0 && total.failed === 0) {
    const closed = await tx
      .updateTable('exceptions')
      .set({ status: 'resolved', resolved_at: new Date(), resolved_by: ACTOR, resolution: 'email_accepted', updated_at: new Date() })
      .where('dedupe_key', '=', FAILING_KEY)
      .where('status', '=', 'open')
      .returning('id')
      .executeTakeFirst();
    if (closed) await audit(tx, tenantId, ACTOR, 'exception.resolved', { type: 'exception', id: closed.id }, { resolution: 'email_accepted' });
  }
  if (inMs !== null) await queueReminderSending(tx, tenantId, new Date(Date.now() + Math.max(0, Number(inMs))));
}

/** The statement of account as of the day the reminder was written, drawn for this e-mail. */
async function statementAttachment(ctx: EngineContext, tenantId: string, clientId: string, asOf: string): Promise<EmailAttachment> {
  const s = await withTenant(ctx.db, tenantId, (tx) => statementOf(tx, clientId, asOf as IsoDate));
  if (!s) throw new Error(`no client ${clientId} for the statement of account`);
  return { filename: `statement-${asOf}.pdf`, contentType: 'application/pdf', content: await statementPdf(s) };
}

/** add(id) resolves once `write` has committed a group holding id; one write at a time, the next taking all that waited. */
function groupCommit(write: (ids: string[]) => Promise<void>): (id: string) => Promise<void> {
  let waiting: { id: string; done: () => void; fail: (e: unknown) => void }[] = [];
  let writing = false;
  const pump = async (): Promise<void> => {
    writing = true;
    while (waiting.length) {
      const group = waiting;
      waiting = [];
      try {
        await write(group.map((g) => g.id));
        for (const g of group) g.done();
      } catch (e) {
        for (const g of group) g.fail(e);
      }
    }
    writing = false;
  };
  return (id) =>
    new Promise<void>((done, fail) => {
      waiting.push({ id, done, fail });
      if (!writing) void pump();
    });
}

/** Runs fn over items with at most `limit` at once. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  const lane = async (): Promise<void> => {
    while (i < items.length) await fn(items[i++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}
