// Staff users of a workspace (issue #8 item 6): add, list, remove, change a password. The same functions
// serve the staff pages (http/dashboard/users.ts, account.ts) and the CLI (`settle user …`), so both doors
// apply the same password policy, keep the last owner, end sessions and write the same audit lines.
import type { Tx } from '../db/tenant.ts';
import type { StaffRole } from '../domain/roles.ts';
import { passwordProblem } from '../domain/password-policy.ts';
import { hashPassword } from '../http/passwords.ts';
import { audit, type Actor } from './audit.ts';
import { endUserSessions } from './staff-sessions.ts';
import type { SessionEndReason } from '../db/schema/staff-accounts.ts';

/** A request about a staff account that cannot be done as asked; the message says what to do instead. */
export class StaffAccountError extends Error {
  override readonly name = 'StaffAccountError';
}

/** Stored instead of a hash for an invited user who has not chosen a password: it matches no password. */
export const NO_PASSWORD = '!invited';

const EMAIL = /^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$/;

export function normaliseEmail(email: string): string {
  const e = email.trim().toLowerCase();
  if (!EMAIL.test(e) || e.length > 254) throw new StaffAccountError(`"${email}" is not an e-mail address (name@example.com)`);
  return e;
}

export function checkRole(role: string): StaffRole {
  if (role === 'owner' || role === 'finance' || role === 'viewer') return role;
  throw new StaffAccountError(`the role is owner, finance or viewer (not "${role}")`);
}

export function assertPasswordAllowed(password: string, context: { email?: string; workspace?: string }): void {
  const problem = passwordProblem(password, context);
  if (problem) throw new StaffAccountError(problem);
}

export interface StaffUserRow {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly role: StaffRole;
  readonly created_at: Date;
  readonly mfa_enabled_at: Date | null;
  readonly invited_at: Date | null;
  readonly password_hash: string;
}

export async function listUsers(tx: Tx): Promise<(Omit<StaffUserRow, 'password_hash'> & { invitation_pending: boolean })[]> {
  const rows = await tx
    .selectFrom('users')
    .select(['id', 'email', 'name', 'role', 'created_at', 'mfa_enabled_at', 'invited_at', 'password_hash'])
    .orderBy('email')
    .execute();
  return rows.map(({ password_hash, ...r }) => ({ ...r, invitation_pending: password_hash === NO_PASSWORD }));
}

export async function userByEmail(tx: Tx, email: string): Promise<StaffUserRow | undefined> {
  return tx
    .selectFrom('users')
    .select(['id', 'email', 'name', 'role', 'created_at', 'mfa_enabled_at', 'invited_at', 'password_hash'])
    .where('email', '=', email.trim().toLowerCase())
    .executeTakeFirst();
}

/**
 * A new staff user. With a password (CLI) it is checked against the policy; without one (an invitation)
 * the user cannot sign in until they choose one through the invitation link.
 */
export async function addUser(
  tx: Tx,
  tenantId: string,
  input: { email: string; name?: string; role: string; password?: string; workspace?: string },
  actor: Actor,
): Promise<string> {
  const email = normaliseEmail(input.email);
  const role = checkRole(input.role);
  if (await userByEmail(tx, email)) throw new StaffAccountError(`${email} is already a user of this workspace`);
  if (input.password !== undefined) assertPasswordAllowed(input.password, { email, ...(input.workspace ? { workspace: input.workspace } : {}) });
  const name = (input.name ?? '').trim() || (email.split('@')[0] ?? email);
  const row = await tx
    .insertInto('users')
    .values({
      tenant_id: tenantId,
      email,
      name: name.slice(0, 200),
      role,
      password_hash: input.password !== undefined ? await hashPassword(input.password) : NO_PASSWORD,
      password_changed_at: input.password !== undefined ? new Date() : null,
      invited_at: input.password !== undefined ? null : new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await audit(tx, tenantId, actor, input.password !== undefined ? 'user.added' : 'user.invited', { type: 'user', id: row.id }, { email, role });
  return row.id;
}

/** Removes a user; their sessions and links go with the row (ON DELETE CASCADE), so their cookie is refused at once. */
export async function removeUser(tx: Tx, tenantId: string, email: string, actor: Actor): Promise<void> {
  const user = await userByEmail(tx, email);
  if (!user) throw new StaffAccountError(`${email.trim().toLowerCase()} is not a user of this workspace (settle user list shows who is)`);
  if (user.role === 'owner') {
    const owners = await tx
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('role', '=', 'owner')
      .executeTakeFirstOrThrow();
    if (Number(owners.n) <= 1) throw new StaffAccountError(`${user.email} is the workspace's only owner; make another user owner first`);
  }
  const sessions = await endUserSessions(tx, tenantId, user.id, 'user_removed', actor);
  await tx.deleteFrom('users').where('id', '=', user.id).execute();
  await audit(tx, tenantId, actor, 'user.removed', { type: 'user', id: user.id }, { email: user.email, role: user.role, sessionsEnded: sessions });
}

/**
 * Sets a new password (policy checked) and ends the user's other sessions: whoever knew the old password
 * is signed out everywhere except in `keepSession` (the session that made the change, if any).
 */
export async function setPassword(
  tx: Tx,
  tenantId: string,
  userId: string,
  password: string,
  actor: Actor,
  opts: { reason: Extract<SessionEndReason, 'password_changed' | 'password_reset'>; keepSession?: string | null; workspace?: string },
): Promise<void> {
  const user = await tx.selectFrom('users').select(['email']).where('id', '=', userId).executeTakeFirst();
  if (!user) throw new StaffAccountError('that user no longer exists');
  assertPasswordAllowed(password, { email: user.email, ...(opts.workspace ? { workspace: opts.workspace } : {}) });
  await tx
    .updateTable('users')
    .set({ password_hash: await hashPassword(password), password_changed_at: new Date(), invited_at: null })
    .where('id', '=', userId)
    .execute();
  // A reset or change also voids every other outstanding reset link of this user.
  await tx.updateTable('staff_links').set({ used_at: new Date() }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
  const ended = await endUserSessions(tx, tenantId, userId, opts.reason, actor, opts.keepSession ?? null);
  await audit(
    tx,
    tenantId,
    actor,
    opts.reason === 'password_reset' ? 'user.password_reset' : 'user.password_changed',
    { type: 'user', id: userId },
    {
      sessionsEnded: ended,
    },
  );
}
