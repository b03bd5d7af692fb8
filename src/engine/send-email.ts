// Sends one queued email. Marked sent only after the relay accepted it; a crash in between can resend it
// once, with the same Message-ID (SMTP has no idempotency key; the Message-ID lets mail systems dedupe).
import crypto from 'node:crypto';
import { withTenant } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { emailBranding } from './branding.ts';

export async function sendEmail(ctx: EngineContext, tenantId: string, notificationId: string): Promise<string> {
  const n = await withTenant(ctx.db, tenantId, async (tx) => {
    const row = await tx.selectFrom('notifications').selectAll().where('id', '=', notificationId).executeTakeFirst();
    const tenant = await tx.selectFrom('tenants').select(['name', 'slug']).where('id', '=', tenantId).executeTakeFirstOrThrow();
    return row ? { row, tenant, brand: await emailBranding(tx) } : null;
  });
  if (!n || n.row.status !== 'pending') return 'nothing to send';
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
  const digest = crypto.createHash('sha256').update(`${tenantId}:${n.row.idempotency_key}`).digest('hex').slice(0, 32);
  try {
    await ctx.mailer.send({
      // Branding: the MSP's sender name (else the workspace's), always at Settle's own address (SETTLE_MAIL_FROM,
      // which the relay may send as); the name loses what could break the header (branding refuses it on save).
      from: `"${(n.brand.senderName ?? n.tenant.name).replace(/["\\<>\r\n]/g, '')}" <${ctx.mailFrom}>`,
      replyTo: n.brand.replyTo,
      to: n.row.to_email,
      subject: n.row.subject,
      text: n.row.body_text,
      html: n.row.body_html,
      messageId: `<${digest}@settle.${n.tenant.slug}>`,
    });
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
