// Server-side staff sessions (issue #8 item 5). The cookie carries a random 256-bit id and nothing else;
// the database keeps its SHA-256 with the user, the absolute expiry fixed at sign-in and the last time it
// was used. Every request looks the session up, so sign-out, "sign out everywhere", a password change and
// removal of the user take effect on the very next request.
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { SessionEndReason } from '../db/schema/staff-accounts.ts';
import { hashToken } from '../http/passwords.ts';
import { audit, type Actor } from './audit.ts';

export interface SessionTimeouts {
  /** A session unused this long is ended (ASVS 3.3.2 allows up to 30 min at L2 for re-authentication-free idling). */
  readonly idleSec: number;
  /** A session ends this long after sign-in, used or not. */
  readonly absoluteSec: number;
}

export const DEFAULT_TIMEOUTS: SessionTimeouts = { idleSec: 30 * 60, absoluteSec: 12 * 3600 };

/** last_seen_at is written at most this often, so reading a page does not write a row every time. */
const TOUCH_EVERY_SEC = 60;

export interface StaffSession {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly role: 'owner' | 'finance' | 'viewer';
  readonly email: string;
}

export async function startSession(
  tx: Tx,
  tenantId: string,
  userId: string,
  timeouts: SessionTimeouts,
  client: { ip?: string | null; userAgent?: string | null } = {},
): Promise<{ token: string; sessionId: string }> {
  const token = crypto.randomBytes(32).toString('base64url');
  const row = await tx
    .insertInto('staff_sessions')
    .values({
      tenant_id: tenantId,
      user_id: userId,
      token_hash: hashToken(token),
      expires_at: new Date(Date.now() + timeouts.absoluteSec * 1000),
      ip: client.ip ?? null,
      user_agent: client.userAgent?.slice(0, 300) ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { token, sessionId: row.id };
}

/**
 * The live session for a cookie value, or null. `touch: false` for requests no person made (the dashboard's
 * automatic refresh): they are answered, but do not keep an unattended session from idling out. A session past its idle or absolute timeout is ended here
 * (with the reason), so the list of a user's sessions shows why it ended.
 */
export async function findSession(db: Db, token: string, timeouts: SessionTimeouts, opts: { touch?: boolean } = {}): Promise<StaffSession | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const tokenHash = hashToken(token);
  return db.transaction().execute(async (tx) => {
    await sql`SELECT set_config('settle.session_hash', ${tokenHash}, true)`.execute(tx);
    const s = await tx
      .selectFrom('staff_sessions')
      .select(['id', 'tenant_id', 'user_id', 'expires_at', 'last_seen_at', 'ended_at'])
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!s || s.ended_at) return null;
    await sql`SELECT set_config('settle.tenant_id', ${s.tenant_id}, true)`.execute(tx);
    const now = Date.now();
    const idleFor = (now - new Date(s.last_seen_at).getTime()) / 1000;
    const expired = new Date(s.expires_at).getTime() <= now;
    if (expired || idleFor > timeouts.idleSec) {
      await tx
        .updateTable('staff_sessions')
        .set({ ended_at: new Date(), ended_reason: expired ? 'expired' : 'idle' })
        .where('id', '=', s.id)
        .where('ended_at', 'is', null)
        .execute();
      return null;
    }
    const user = await tx.selectFrom('users').select(['role', 'email']).where('id', '=', s.user_id).executeTakeFirst();
    if (!user) return null;
    if (opts.touch !== false && idleFor > TOUCH_EVERY_SEC)
      await tx.updateTable('staff_sessions').set({ last_seen_at: new Date() }).where('id', '=', s.id).execute();
    return { id: s.id, tenantId: s.tenant_id, userId: s.user_id, role: user.role, email: user.email };
  });
}

/** Ends one session (sign-out). */
export async function endSession(db: Db, session: StaffSession, reason: SessionEndReason): Promise<void> {
  await withTenant(db, session.tenantId, async (tx) => {
    await tx
      .updateTable('staff_sessions')
      .set({ ended_at: new Date(), ended_reason: reason })
      .where('id', '=', session.id)
      .where('ended_at', 'is', null)
      .execute();
    await audit(tx, session.tenantId, `user:${session.userId}`, 'user.signed_out', { type: 'user', id: session.userId }, { session: session.id });
  });
}

/**
 * Ends every live session of a user, except `keep` (the session that changed its own password stays
 * signed in). Returns how many were ended. Runs in the caller's transaction, with the change that caused it.
 */
export async function endUserSessions(
  tx: Tx,
  tenantId: string,
  userId: string,
  reason: SessionEndReason,
  actor: Actor,
  keep: string | null = null,
): Promise<number> {
  let q = tx.updateTable('staff_sessions').set({ ended_at: new Date(), ended_reason: reason }).where('user_id', '=', userId).where('ended_at', 'is', null);
  if (keep) q = q.where('id', '!=', keep);
  const ended = await q.returning('id').execute();
  if (ended.length) await audit(tx, tenantId, actor, 'user.sessions_ended', { type: 'user', id: userId }, { reason, count: ended.length });
  return ended.length;
}

export async function liveSessions(
  tx: Tx,
  userId: string,
): Promise<{ id: string; created_at: Date; last_seen_at: Date; ip: string | null; user_agent: string | null }[]> {
  return tx
    .selectFrom('staff_sessions')
    .select(['id', 'created_at', 'last_seen_at', 'ip', 'user_agent'])
    .where('user_id', '=', userId)
    .where('ended_at', 'is', null)
    .where('expires_at', '>', new Date())
    .orderBy('created_at', 'desc')
    .execute();
}
