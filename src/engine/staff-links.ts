// Password-reset and invitation links for staff (issue #8 item 6). The link carries a random 256-bit secret;
// only its SHA-256 is stored, with the purpose, an expiry and when it was used (once). These e-mails are
// sent straight through the SMTP relay, not through the notifications outbox: the outbox keeps bodies in
// the database, and a copy of the database must not hand out working reset links.
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import type { Tx } from '../db/tenant.ts';
import { hashToken } from '../http/passwords.ts';
import { audit, type Actor } from './audit.ts';
import type { EngineContext } from './context.ts';

export type LinkPurpose = 'password_reset' | 'invitation';

export const LINK_TTL_SEC: Record<LinkPurpose, number> = { password_reset: 30 * 60, invitation: 7 * 24 * 3600 };
const PATH: Record<LinkPurpose, string> = { password_reset: '/account/reset', invitation: '/account/invitation' };

export async function createStaffLink(
  tx: Tx,
  publicUrl: string,
  tenantId: string,
  userId: string,
  purpose: LinkPurpose,
  actor: Actor,
): Promise<{ url: string; expiresAt: Date }> {
  const token = crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + LINK_TTL_SEC[purpose] * 1000);
  // A new link replaces the user's earlier unused ones of the same purpose.
  await tx
    .updateTable('staff_links')
    .set({ used_at: new Date() })
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
  const row = await tx
    .insertInto('staff_links')
    .values({ tenant_id: tenantId, user_id: userId, purpose, token_hash: hashToken(token), created_by: actor, expires_at: expiresAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  await audit(
    tx,
    tenantId,
    actor,
    purpose === 'password_reset' ? 'user.password_reset_link_created' : 'user.invitation_link_created',
    { type: 'user', id: userId },
    {
      link: row.id,
      expiresAt: expiresAt.toISOString(),
    },
  );
  return { url: `${publicUrl}${PATH[purpose]}/${token}`, expiresAt };
}

export type LinkCheck =
  { ok: true; linkId: string; tenantId: string; userId: string; email: string; workspace: string } | { ok: false; reason: 'unknown' | 'expired' | 'used' };

/** What a link's secret opens, if it is still good. Read without a tenant context, by the secret's hash only. */
export async function checkStaffLink(db: Db, token: string, purpose: LinkPurpose): Promise<LinkCheck> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return { ok: false, reason: 'unknown' };
  const tokenHash = hashToken(token);
  return db.transaction().execute(async (tx) => {
    await sql`SELECT set_config('settle.link_hash', ${tokenHash}, true)`.execute(tx);
    const link = await tx
      .selectFrom('staff_links')
      .select(['id', 'tenant_id', 'user_id', 'expires_at', 'used_at'])
      .where('token_hash', '=', tokenHash)
      .where('purpose', '=', purpose)
      .executeTakeFirst();
    if (!link) return { ok: false, reason: 'unknown' } as const;
    if (link.used_at) return { ok: false, reason: 'used' } as const;
    if (new Date(link.expires_at).getTime() <= Date.now()) return { ok: false, reason: 'expired' } as const;
    await sql`SELECT set_config('settle.tenant_id', ${link.tenant_id}, true)`.execute(tx);
    const user = await tx.selectFrom('users').select('email').where('id', '=', link.user_id).executeTakeFirst();
    const tenant = await tx.selectFrom('tenants').select('slug').where('id', '=', link.tenant_id).executeTakeFirstOrThrow();
    if (!user) return { ok: false, reason: 'unknown' } as const;
    return { ok: true, linkId: link.id, tenantId: link.tenant_id, userId: link.user_id, email: user.email, workspace: tenant.slug } as const;
  });
}

/** Marks the link used, in the transaction that acts on it; false when it was used meanwhile (a double submit). */
export async function useStaffLink(tx: Tx, linkId: string): Promise<boolean> {
  const r = await tx
    .updateTable('staff_links')
    .set({ used_at: new Date() })
    .where('id', '=', linkId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', new Date())
    .returning('id')
    .executeTakeFirst();
  return r !== undefined;
}

/** Sends a reset or invitation e-mail now. Throws when there is no SMTP relay or it refuses (the caller says so). */
export async function mailStaffLink(
  ctx: EngineContext,
  to: string,
  purpose: LinkPurpose,
  link: { url: string; expiresAt: Date },
  workspaceName: string,
): Promise<void> {
  const minutes = Math.round((link.expiresAt.getTime() - Date.now()) / 60_000);
  const lasts = minutes >= 120 ? `${Math.round(minutes / 60 / 24)} days` : `${minutes} minutes`;
  const text =
    purpose === 'password_reset'
      ? `Someone asked to reset the password of ${to} for ${workspaceName} on Settle.\n\nChoose a new password here (the link works once, for ${lasts}):\n${link.url}\n\nIf it was not you, ignore this e-mail: your password stays as it is.\n`
      : `You are invited to ${workspaceName} on Settle as ${to}.\n\nChoose your password here (the link works once, for ${lasts}):\n${link.url}\n`;
  await ctx.mailer.send({
    from: ctx.mailFrom,
    to,
    subject: purpose === 'password_reset' ? `Reset your Settle password (${workspaceName})` : `You are invited to ${workspaceName} on Settle`,
    text,
    messageId: `<staff-${purpose}-${crypto.randomUUID()}@settle>`,
  });
}
