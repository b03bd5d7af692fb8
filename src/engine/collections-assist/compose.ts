// Phase 2 of the Collections Assist run (run.ts): the claimed sends become e-mails. One e-mail per client
// per day, listing every invoice reminded that day with its lines and open amount, worded by the firmest step
// among them; the portal link, the statement of account and the promise/dispute page are links in it (on a
// step that attaches the statement, the PDF is also in the e-mail: send.ts draws it when it sends). Each
// chunk of clients is one transaction: notifications inserted (idempotency key from the claims, so a retried
// chunk queues nothing twice), the workspace's sender queued (send.ts), the claims marked 'queued', staff
// items raised and PSA notes queued — all or nothing. Claims whose invoice closed since (paid, voided) are 'cancelled' unsent.
import { sql } from 'kysely';
import crypto from 'node:crypto';
import { withTenant, type Tx } from '../../db/tenant.ts';
import { portalSecretOf } from '../../db/portal-secret.ts';
import { format, money, parseCurrency, type Currency } from '../../domain/money.ts';
import { daysBetween, type IsoDate } from '../../domain/rules/calendar-date.ts';
import { signToken } from '../../http/signed-token.ts';
import { escapeHtml, type TemplateValue, type TemplateValues } from '../../notify/templates/syntax.ts';
import { emailBranding } from '../branding.ts';
import { boxOf, type EngineContext } from '../context.ts';
import { enqueueMany, type JobSpec } from '../enqueue.ts';
import { raiseException } from '../exceptions.ts';
import { queueReminderSending } from './send.ts';
import { composeReminder, STATEMENT_ATTACHED_LABEL, STATEMENT_LABEL } from './templates.ts';

/** Links in a reminder stay valid this long (the client may act on a reminder weeks later). */
export const REMINDER_LINK_TTL_SEC = 45 * 24 * 3600;

interface Claim {
  id: string;
  invoice_id: string;
  client_id: string;
  step_id: string;
  offset_days: number;
  currency: string;
  open_minor: string;
  number: string;
  due_on: string;
  status: string;
  client_name: string;
  billing_email: string | null;
  subject: string;
  body: string;
  attach_statement: boolean;
  statement_attached: boolean;
  notify_staff: boolean;
  psa_note: boolean;
  escalate: boolean;
  step_key: string;
}

const m = (minor: bigint | string, currency: string): string => format(money(BigInt(minor), parseCurrency(currency) as Currency));

/** Sums per currency, "$1,250.00" or "$1,250.00 and €80.00". */
function totalOf(claims: readonly Claim[]): string {
  const by = new Map<string, bigint>();
  for (const c of claims) by.set(c.currency, (by.get(c.currency) ?? 0n) + BigInt(c.open_minor));
  return [...by].map(([cur, n]) => m(n, cur)).join(' and ');
}

function dueSummary(claims: readonly Claim[], today: IsoDate): string {
  const earliest = claims.map((c) => c.due_on).sort()[0]!;
  const d = daysBetween(earliest, today);
  if (d < 0) return `${claims.length > 1 ? 'The first is' : 'It is'} due on ${earliest} (in ${-d} day${d === -1 ? '' : 's'}).`;
  if (d === 0) return `${claims.length > 1 ? 'The first was' : 'It is'} due today.`;
  return `${claims.length > 1 ? 'The oldest was' : 'It was'} due on ${earliest} (${d} day${d === 1 ? '' : 's'} ago).`;
}

type Lines = Map<string, { description: string; quantity: string; amount_minor: bigint }[]>;

/**
 * Each invoice with its due date, open amount and lines, and a link to the invoice's own PDF (the portal's
 * invoice page fetches it from the PSA where the PSA offers one: http/portal/invoice-detail.ts).
 */
function invoicesBlock(claims: readonly Claim[], lines: Lines, portal: string): { text: string; html: string } {
  const text: string[] = [];
  const rows: string[] = [];
  for (const c of claims) {
    const pdf = `${portal}/invoices/${c.invoice_id}/pdf`;
    text.push(`Invoice ${c.number}, due ${c.due_on}, open ${m(c.open_minor, c.currency)} (PDF: ${pdf})`);
    rows.push(
      `<tr><th scope="row"><a href="${escapeHtml(pdf)}">Invoice ${escapeHtml(c.number)}</a></th><td>due ${escapeHtml(c.due_on)}</td><td>open ${escapeHtml(m(c.open_minor, c.currency))}</td></tr>`,
    );
    for (const l of lines.get(c.invoice_id) ?? []) {
      text.push(`  ${l.description} × ${l.quantity}: ${m(l.amount_minor, c.currency)}`);
      rows.push(`<tr><td>${escapeHtml(l.description)} × ${escapeHtml(l.quantity)}</td><td></td><td>${escapeHtml(m(l.amount_minor, c.currency))}</td></tr>`);
    }
  }
  return { text: text.join('\n'), html: `<table>${rows.join('')}</table>` };
}

/** The statement: linked, or attached with the link kept (a mail filter may strip the attachment), or absent. */
function statementValue(step: Claim, link: string): TemplateValue {
  if (!step.attach_statement) return '';
  if (!step.statement_attached) return { link, label: STATEMENT_LABEL };
  return { text: `${STATEMENT_ATTACHED_LABEL}: ${link}`, html: `<a href="${escapeHtml(link)}">${escapeHtml(STATEMENT_ATTACHED_LABEL)}</a>` };
}

export async function composeClaims(
  ctx: EngineContext,
  tenantId: string,
  today: IsoDate,
  chunk: number,
): Promise<{ emails: number; cancelled: number; escalated: number }> {
  const total = { emails: 0, cancelled: 0, escalated: 0 };
  const secret = await portalSecretOf(ctx.db, boxOf(ctx), tenantId);
  if (!secret) throw new Error(`no workspace ${tenantId}`);
  for (;;) {
    const done = await withTenant(ctx.db, tenantId, (tx) => composeChunk(ctx, tx, tenantId, today, chunk, secret));
    total.emails += done.emails;
    total.cancelled += done.cancelled;
    total.escalated += done.escalated;
    if (done.clients < chunk) return total;
  }
}

async function composeChunk(ctx: EngineContext, tx: Tx, tenantId: string, today: IsoDate, chunk: number, secret: string) {
  // A chunk of clients with claims; SKIP LOCKED so a second worker composes other clients, never the same.
  const claims = (
    await sql<Claim>`
      WITH clients_now AS (
        SELECT DISTINCT s.client_id FROM collection_sends s WHERE s.tenant_id = ${tenantId} AND s.outcome = 'claimed' AND s.sent_on = ${today}::date
         ORDER BY s.client_id LIMIT ${chunk}
      )
      SELECT s.id, s.invoice_id, s.client_id, s.step_id, s.offset_days, s.currency, s.open_minor::text, s.step_key,
             i.number, i.due_on::text, i.status, c.name AS client_name, c.billing_email,
             st.subject, st.body, st.attach_statement, st.statement_attached, st.notify_staff, st.psa_note, st.escalate
        FROM collection_sends s
        JOIN clients_now cn ON cn.client_id = s.client_id
        JOIN invoices i ON i.id = s.invoice_id
        JOIN clients c ON c.id = s.client_id
        JOIN collection_steps st ON st.id = s.step_id
       WHERE s.outcome = 'claimed' AND s.sent_on = ${today}::date
       ORDER BY s.client_id, i.due_on, i.number
         FOR UPDATE OF s SKIP LOCKED`.execute(tx)
  ).rows;
  const clientIds = [...new Set(claims.map((c) => c.client_id))];
  const closed = claims.filter((c) => c.status !== 'open' && c.status !== 'partially_paid');
  if (closed.length)
    await tx
      .updateTable('collection_sends')
      .set({ outcome: 'cancelled' })
      .where(
        'id',
        'in',
        closed.map((c) => c.id),
      )
      .execute();
  const live = claims.filter((c) => !closed.includes(c));
  if (!live.length) return { clients: clientIds.length, emails: 0, cancelled: closed.length, escalated: 0 };

  const tenant = await tx.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirstOrThrow();
  const brand = await emailBranding(tx);
  const lineRows = await sql<{ invoice_id: string; description: string; quantity: string; amount_minor: bigint }>`
    SELECT l.invoice_id, l.description, l.quantity::text, l.amount_minor
      FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id AND l.version = i.current_version
     WHERE l.invoice_id = ANY(${live.map((c) => c.invoice_id)}::uuid[])
     ORDER BY l.invoice_id, l.line_no`.execute(tx);
  const lines: Lines = new Map();
  for (const l of lineRows.rows) lines.set(l.invoice_id, [...(lines.get(l.invoice_id) ?? []), l]);

  const byClient = new Map<string, Claim[]>();
  for (const c of live) byClient.set(c.client_id, [...(byClient.get(c.client_id) ?? []), c]);
  const exp = Math.floor(Date.now() / 1000) + REMINDER_LINK_TTL_SEC;
  const mails: { clientId: string; to: string; key: string; subject: string; text: string; html: string; attach: boolean; claims: Claim[] }[] = [];
  for (const [clientId, cs] of byClient) {
    const step = cs.reduce((a, b) => (b.offset_days > a.offset_days ? b : a));
    const portal = `${ctx.publicUrl}/portal/${signToken({ t: tenantId, c: clientId, exp }, secret)}`;
    const values: TemplateValues = {
      msp_name: brand.senderName ?? tenant.name,
      client_name: cs[0]!.client_name,
      total: totalOf(cs),
      invoice_numbers: `${cs.length > 1 ? 'Invoices' : 'Invoice'} ${cs.map((c) => c.number).join(', ')}`,
      due_summary: dueSummary(cs, today),
      invoices: invoicesBlock(cs, lines, portal),
      portal_link: { link: portal, label: 'View and pay your invoices' },
      statement_link: statementValue(step, `${portal}/statement.pdf`),
      promise_link: { link: `${portal}/promise`, label: 'Tell us when you will pay, or that something is wrong' },
      reply_to: brand.replyTo ?? '',
    };
    const mail = composeReminder(step, values);
    const key = `collections:${crypto
      .createHash('sha256')
      .update(
        cs
          .map((c) => c.id)
          .sort()
          .join(','),
      )
      .digest('hex')
      .slice(0, 32)}`;
    mails.push({ clientId, to: cs[0]!.billing_email!.trim(), key, ...mail, attach: step.attach_statement && step.statement_attached, claims: cs });
  }

  const inserted = await sql<{ id: string; idempotency_key: string }>`
    INSERT INTO notifications (tenant_id, kind, client_id, to_email, subject, body_text, body_html, idempotency_key, statement_client_id, statement_as_of)
    SELECT ${tenantId}, 'collection_reminder', x.client_id, x.to_email, x.subject, x.body_text, x.body_html, x.key,
           CASE WHEN x.attach THEN x.client_id END, CASE WHEN x.attach THEN ${today}::date END
      FROM json_to_recordset(${JSON.stringify(mails.map((x) => ({ client_id: x.clientId, to_email: x.to, subject: x.subject, body_text: x.text, body_html: x.html, key: x.key, attach: x.attach })))}::json)
           AS x(client_id uuid, to_email text, subject text, body_text text, body_html text, key text, attach boolean)
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING id, idempotency_key`.execute(tx);
  const idOf = new Map(inserted.rows.map((r) => [r.idempotency_key, r.id]));
  // The e-mails go out in batches over the pooled relay connections (send.ts), one sender for the workspace.
  const jobs: JobSpec[] = [];
  if (inserted.rows.length) await queueReminderSending(tx, tenantId);
  let escalated = 0;
  const updates: { id: string; notification_id: string | null; exception_id: string | null }[] = [];
  for (const mail of mails) {
    const notificationId = idOf.get(mail.key) ?? null;
    for (const c of mail.claims) {
      let exceptionId: string | null = null;
      if (c.escalate || c.notify_staff) {
        exceptionId = await raiseException(tx, tenantId, 'system:collections', {
          kind: c.escalate ? 'collections_escalated' : 'collections_attention',
          dedupeKey: `collections:${c.invoice_id}:${c.step_key}`,
          clientId: c.client_id,
          invoiceIds: [c.invoice_id],
          paymentId: null,
          title: c.escalate
            ? `Invoice ${c.number} is still unpaid after every reminder: ${m(c.open_minor, c.currency)} from ${c.client_name}`
            : `Invoice ${c.number} reached reminder ${c.step_key}: ${m(c.open_minor, c.currency)} from ${c.client_name}`,
          detail: c.escalate
            ? `Collections Assist sent its last reminder (${c.step_key}, ${c.offset_days} days after the due date ${c.due_on}) and stops here. Call the client, agree a payment plan, or pause and hand it on. This item closes by itself when the invoice is paid.`
            : `Collections Assist sent reminder ${c.step_key} (${c.offset_days} days from the due date ${c.due_on}); this step asks staff to follow up.`,
          data: { step_key: c.step_key, offset_days: c.offset_days, send_id: c.id },
        });
        if (c.escalate) escalated++;
      }
      if (c.psa_note)
        jobs.push({ task: 'collections-psa-note', payload: { tenantId, sendId: c.id }, options: { jobKey: `collections-psa-note:${c.id}`, maxAttempts: 10 } });
      updates.push({ id: c.id, notification_id: notificationId, exception_id: exceptionId });
    }
  }
  await sql`
    UPDATE collection_sends s SET outcome = 'queued', notification_id = u.notification_id, exception_id = u.exception_id
      FROM json_to_recordset(${JSON.stringify(updates)}::json) AS u(id uuid, notification_id uuid, exception_id uuid)
     WHERE s.id = u.id`.execute(tx);
  await enqueueMany(tx, jobs);
  return { clients: clientIds.length, emails: inserted.rows.length, cancelled: closed.length, escalated };
}
