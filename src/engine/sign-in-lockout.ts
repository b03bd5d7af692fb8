// Account lockout after repeated failed sign-ins (issue #8 item 2), kept in PostgreSQL (sign_in_lockouts).
// Failures are counted per workspace, e-mail and client address: after `after` failures from one address the
// e-mail is locked for sign-ins from that address for `firstMinutes`, doubling with each further lock up to
// `maxMinutes`. A lock ends by itself; an owner (staff page /staff/lockouts) or `settle user unlock` lifts it
// at once, so a workspace's only owner is never locked out for good. Every failed sign-in is audited, never
// with the password.
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import { audit, type Actor } from './audit.ts';

export interface LockoutPolicy {
  /** Failed sign-ins from one address before the e-mail is locked for that address. */
  readonly after: number;
  /** The first lock's length; each further lock doubles it. */
  readonly firstMinutes: number;
  /** The longest a lock lasts. */
  readonly maxMinutes: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { after: 10, firstMinutes: 15, maxMinutes: 24 * 60 };

/** Failures older than this no longer count toward a lock (an occasional typo never adds up to one). */
const FAILURE_MEMORY_MIN = 60;

export interface SignInAttempt {
  readonly tenantId: string;
  readonly email: string;
  readonly address: string;
}

const norm = (email: string): string => email.trim().toLowerCase();

export function lockMinutes(policy: LockoutPolicy, lockNumber: number): number {
  return Math.min(policy.maxMinutes, policy.firstMinutes * 2 ** Math.max(0, lockNumber - 1));
}

/** When the lock on this e-mail from this address ends, or null when it is not locked. */
export async function lockedUntil(db: Db, a: SignInAttempt, now = new Date()): Promise<Date | null> {
  const row = await withTenant(db, a.tenantId, (tx) =>
    tx.selectFrom('sign_in_lockouts').select('locked_until').where('email', '=', norm(a.email)).where('address', '=', a.address).executeTakeFirst(),
  );
  return row?.locked_until && row.locked_until > now ? row.locked_until : null;
}

/**
 * Counts a failed sign-in and audits it (reason: wrong_password, unknown_email, second_factor, …). Returns the
 * end of the lock this failure started, or null.
 */
export async function recordFailedSignIn(
  db: Db,
  a: SignInAttempt & { readonly userId: string | null; readonly reason: string },
  policy: LockoutPolicy,
  now = new Date(),
): Promise<{ failures: number; lockedUntil: Date | null }> {
  const email = norm(a.email);
  return withTenant(db, a.tenantId, async (tx) => {
    const forgetBefore = new Date(now.getTime() - FAILURE_MEMORY_MIN * 60_000);
    const row = await tx
      .insertInto('sign_in_lockouts')
      .values({ tenant_id: a.tenantId, email, address: a.address, failures: 1, last_failed_at: now })
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'email', 'address']).doUpdateSet({
          failures: sql<number>`CASE WHEN sign_in_lockouts.last_failed_at < ${forgetBefore} THEN 1 ELSE sign_in_lockouts.failures + 1 END`,
          last_failed_at: now,
        }),
      )
      .returning(['failures', 'locks'])
      .executeTakeFirstOrThrow();
    let until: Date | null = null;
    if (row.failures >= policy.after) {
      const lockNumber = row.locks + 1;
      until = new Date(now.getTime() + lockMinutes(policy, lockNumber) * 60_000);
      await tx
        .updateTable('sign_in_lockouts')
        .set({ failures: 0, locks: lockNumber, locked_until: until })
        .where('email', '=', email)
        .where('address', '=', a.address)
        .execute();
    }
    const subject = { type: 'user', id: a.userId };
    const detail = { email, address: a.address, reason: a.reason, failures: row.failures };
    await audit(tx, a.tenantId, 'system:sign-in', 'user.sign_in_failed', subject, detail);
    if (until) await audit(tx, a.tenantId, 'system:sign-in', 'user.sign_in_locked', subject, { ...detail, locked_until: until.toISOString() });
    return { failures: row.failures, lockedUntil: until };
  });
}

/** A successful sign-in from this address forgets its failures and locks. */
export async function clearSignInFailures(db: Db, a: SignInAttempt): Promise<void> {
  await withTenant(db, a.tenantId, (tx) => tx.deleteFrom('sign_in_lockouts').where('email', '=', norm(a.email)).where('address', '=', a.address).execute());
}

export interface Lockout {
  readonly email: string;
  readonly address: string;
  readonly lockedUntil: Date;
  readonly locks: number;
}

/** The locks in force in a workspace, for the staff page. */
export async function activeLockouts(db: Db, tenantId: string, now = new Date()): Promise<Lockout[]> {
  const rows = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('sign_in_lockouts')
      .select(['email', 'address', 'locked_until', 'locks'])
      .where('locked_until', '>', now)
      .orderBy('locked_until', 'desc')
      .execute(),
  );
  return rows.map((r) => ({ email: r.email, address: r.address, lockedUntil: r.locked_until!, locks: r.locks }));
}

/**
 * Lifts every lock and forgets every failure on an e-mail (from all addresses, or one). Audited with who did it.
 * Returns how many locks were in force.
 */
export async function unlockSignIn(db: Db, tenantId: string, email: string, by: Actor, address?: string, now = new Date()): Promise<number> {
  return withTenant(db, tenantId, async (tx) => {
    let q = tx.deleteFrom('sign_in_lockouts').where('email', '=', norm(email));
    if (address) q = q.where('address', '=', address);
    const gone = await q.returning(['address', 'locked_until']).execute();
    const lifted = gone.filter((g) => g.locked_until && g.locked_until > now);
    await audit(tx, tenantId, by, 'user.sign_in_unlocked', { type: 'user', id: null }, { email: norm(email), addresses: lifted.map((g) => g.address) });
    return lifted.length;
  });
}
