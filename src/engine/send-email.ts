// Sends one queued email. Marked sent only after the relay accepted it; a crash in between can resend it
// once, with the same Message-ID (SMTP has no idempotency key; the Message-ID lets mail systems dedupe).
import crypto from 'node:crypto';
import { withTenant } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { emailBranding } from './branding.ts';
import type { OutgoingEmail } from '../notify/mailer.ts';
import { queueReminderSending } from './collections-assist/send.ts';

type EmailBranding = Awaited<ReturnType<typeof emailBranding>>;

type OutboxRow = {
  readonly to_email: string;
  readonly subject: string;
  readonly body_text: string;
  readonly body_html: string | null;
  readonly idempotency_key: string;
};

/**
 * An outbox row as the message the relay gets. Branding: the MSP's sender name (else the workspace's), always
 * at Settle's own address (SETTLE_MAIL_FROM, which the relay may send as); the name loses what could break the
 * header (branding refuses it on save). The Message-ID comes from the idempotency key: the same on every try.
 */
export function outgoingOf(ctx: EngineContext, tenantId: string, row: OutboxRow, tenant: { name: string; slug: string }, brand: EmailBranding): OutgoingEmail {
  const digest = crypto.createHash('sha256').update(`${tenantId}:${row.idempotency_key}`).digest('hex').slice(0, 32);
  return {
    from: `"${(brand.senderName ?? tenant.name).replace(/["\\<>\r\n]/g, '')}" <${ctx.mailFrom}>`,
    replyTo: brand.replyTo,
    to: row.to_email,
    subject: row.subject,
    text: row.body_text,
    html: row.body_html,
    messageId: `<${digest}@settle.${tenant.slug}>`,
  };
}

export async function sendEmail(ctx: EngineContext, tenantId: string, notificationId: string): Promise<string> {
  const n = await withTenant(ctx.db, tenantId, async (tx) => {
    const row = await tx.selectFrom('notifications').selectAll().where('id', '=', notificationId).executeTakeFirst();
    const tenant = await tx.selectFrom('tenants').select(['name', 'slug']).where('id', '=', tenantId).executeTakeFirstOrThrow();
    return row ? { row, tenant, brand: await emailBranding(tx) } : null;
  });
  if (!n || n.row.status !== 'pending') return 'nothing to send';
  // Reminders go out in batches over the pool (collections-assist/send.ts), never one by one beside it: a
  // send-email job queued for one before the upgrade hands it to the batch sender.
  if (n.row.kind === 'collection_reminder') {
    await queueReminderSending(ctx.db, tenantId);
    return 'left to the collections batch sender';
  }
  if (!ctx.mailer.configured) {
    await withTenant(ctx.db, tenantId, (tx) =>
      tx
        .updateTable('notifications')
        .set({ status: 'skipped', last_error: 'no SMTP relay configured (SETTLE_SMTP_URL)' })
        .where('id', '=', notificationId)
        .execute(),
    );
    return 'skipped: no SMTP relay';
  }
  try {
    await ctx.mailer.send(outgoingOf(ctx, tenantId, n.row, n.tenant, n.brand));
  } catch (e) {
    await withTenant(ctx.db, tenantId, (tx) =>
      tx
        .updateTable('notifications')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: (e as Error).message.slice(0, 1000) }))
        .where('id', '=', notificationId)
        .execute(),
    );
    throw e;
  }
  await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .updateTable('notifications')
      .set((eb) => ({ status: 'sent', sent_at: new Date(), attempts: eb('attempts', '+', 1), last_error: null }))
      .where('id', '=', notificationId)
      .execute(),
  );
  return 'sent';
}
