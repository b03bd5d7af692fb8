// TOTP second factor for staff (issue #8 item 6; RFC 6238 through otplib, 30-second steps, 6 digits, one
// step of clock drift either way). The secret is sealed with the instance key (db/crypto.ts), bound to the
// tenant and user, so a database copy alone does not yield it. A code is accepted once: the step it was for
// is remembered and that step or an earlier one is refused. Ten single-use recovery codes are made when the
// factor is turned on (shown once, kept as SHA-256 hashes) for a lost phone.
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { generateSecret, generateURI, verify } from 'otplib';
import type { SecretBox } from '../db/crypto.ts';
import type { Tx } from '../db/tenant.ts';
import { hashToken } from '../http/passwords.ts';
import { audit, type Actor } from './audit.ts';
import { endUserSessions } from './staff-sessions.ts';
import { StaffAccountError } from './staff-users.ts';

const RECOVERY_CODES = 10;
const STEP_SEC = 30;

const sealContext = (tenantId: string, userId: string): string => `staff-mfa:${tenantId}:${userId}`;

/** The workspace setting "owners must use a second factor". */
export async function ownersMustUseMfa(tx: Tx, tenantId: string): Promise<boolean> {
  const t = await tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirst();
  return (t?.settings as { staffMfaRequiredForOwners?: unknown } | undefined)?.staffMfaRequiredForOwners === true;
}

export async function setOwnersMustUseMfa(tx: Tx, tenantId: string, required: boolean, actor: Actor): Promise<void> {
  await tx
    .updateTable('tenants')
    .set({ settings: sql`settings || jsonb_build_object('staffMfaRequiredForOwners', ${required}::boolean)` })
    .where('id', '=', tenantId)
    .execute();
  await audit(tx, tenantId, actor, 'settings.staff_mfa_required', { type: 'tenant', id: tenantId }, { ownersMustUseMfa: required });
}

/**
 * Starts (or restarts) enrolment: a new secret is sealed on the user but not yet in force. Returns what the
 * authenticator app needs (the otpauth:// URI and the secret to type by hand).
 */
export async function beginMfaEnrolment(
  tx: Tx,
  box: SecretBox,
  tenantId: string,
  userId: string,
  label: { workspace: string; email: string },
): Promise<{ secret: string; uri: string }> {
  const user = await tx.selectFrom('users').select('mfa_enabled_at').where('id', '=', userId).executeTakeFirstOrThrow();
  if (user.mfa_enabled_at) throw new StaffAccountError('the second factor is already on; turn it off first to move it to another phone');
  const secret = generateSecret();
  await tx
    .updateTable('users')
    .set({ mfa_secret_sealed: box.seal(secret, sealContext(tenantId, userId)), mfa_last_step: null })
    .where('id', '=', userId)
    .execute();
  return { secret, uri: enrolmentUri(label.workspace, label.email, secret) };
}

/** The otpauth:// link an authenticator app reads (issuer names the workspace, label the e-mail). */
export function enrolmentUri(workspace: string, email: string, secret: string): string {
  return generateURI({ issuer: `Settle (${workspace})`, label: email, secret });
}

/** The pending secret again (the enrolment page re-rendered after a wrong code), or null. */
export async function pendingMfaSecret(tx: Tx, box: SecretBox, tenantId: string, userId: string): Promise<string | null> {
  const u = await tx.selectFrom('users').select(['mfa_secret_sealed', 'mfa_enabled_at']).where('id', '=', userId).executeTakeFirstOrThrow();
  return u.mfa_secret_sealed && !u.mfa_enabled_at ? box.open<string>(u.mfa_secret_sealed, sealContext(tenantId, userId)) : null;
}

async function checkTotp(tx: Tx, box: SecretBox, tenantId: string, userId: string, code: string): Promise<boolean> {
  const u = await tx.selectFrom('users').select(['mfa_secret_sealed', 'mfa_last_step']).where('id', '=', userId).forUpdate().executeTakeFirstOrThrow();
  if (!u.mfa_secret_sealed || !/^\d{6}$/.test(code)) return false;
  const secret = box.open<string>(u.mfa_secret_sealed, sealContext(tenantId, userId));
  const result = await verify({
    secret,
    token: code,
    period: STEP_SEC,
    epochTolerance: STEP_SEC,
    // a code for the step already used (or an earlier one) is refused: replay
    ...(u.mfa_last_step !== null ? { afterTimeStep: Number(u.mfa_last_step) } : {}),
  });
  if (!result.valid) return false;
  const step = (result as { timeStep?: number }).timeStep ?? Math.floor(Date.now() / 1000 / STEP_SEC) + result.delta;
  await tx
    .updateTable('users')
    .set({ mfa_last_step: BigInt(step) })
    .where('id', '=', userId)
    .execute();
  return true;
}

function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: RECOVERY_CODES }, () => {
    const s = crypto.randomBytes(8).toString('hex'); // 64 bits each
    return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}-${s.slice(12)}`;
  });
  return { codes, hashes: codes.map((c) => hashToken(c)) };
}

/**
 * Confirms enrolment with a first code from the app. Turns the factor on, makes the recovery codes (returned
 * once) and ends the user's other sessions.
 */
export async function confirmMfaEnrolment(
  tx: Tx,
  box: SecretBox,
  tenantId: string,
  userId: string,
  code: string,
  keepSession: string | null,
): Promise<string[]> {
  if (!(await checkTotp(tx, box, tenantId, userId, code.replace(/\s/g, ''))))
    throw new StaffAccountError('that code does not match; check the phone’s clock and type the code the app shows now');
  const { codes, hashes } = newRecoveryCodes();
  await tx.updateTable('users').set({ mfa_enabled_at: new Date(), mfa_recovery_hashes: hashes }).where('id', '=', userId).execute();
  await endUserSessions(tx, tenantId, userId, 'second_factor_changed', `user:${userId}`, keepSession);
  await audit(tx, tenantId, `user:${userId}`, 'user.mfa_enabled', { type: 'user', id: userId }, { recoveryCodes: codes.length });
  return codes;
}

/** New recovery codes (the old ones stop working). */
export async function regenerateRecoveryCodes(tx: Tx, tenantId: string, userId: string): Promise<string[]> {
  const { codes, hashes } = newRecoveryCodes();
  const updated = await tx
    .updateTable('users')
    .set({ mfa_recovery_hashes: hashes })
    .where('id', '=', userId)
    .where('mfa_enabled_at', 'is not', null)
    .returning('id')
    .executeTakeFirst();
  if (!updated) throw new StaffAccountError('turn the second factor on first');
  await audit(tx, tenantId, `user:${userId}`, 'user.mfa_recovery_codes_replaced', { type: 'user', id: userId });
  return codes;
}

/**
 * The second step of a sign-in: a code from the app, or a recovery code (used up). Audits a recovery code's
 * use; returns how it was satisfied, or null when the code is wrong.
 */
export async function verifySecondFactor(tx: Tx, box: SecretBox, tenantId: string, userId: string, input: string): Promise<'totp' | 'recovery_code' | null> {
  const code = input.trim().toLowerCase().replace(/\s/g, '');
  if (/^\d{6}$/.test(code)) return (await checkTotp(tx, box, tenantId, userId, code)) ? 'totp' : null;
  if (!/^[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}$/.test(code)) return null;
  const canonical = code.replace(/-/g, '').replace(/(.{4})(?!$)/g, '$1-');
  const hash = hashToken(canonical);
  const used = await tx
    .updateTable('users')
    .set({ mfa_recovery_hashes: sql<string[]>`array_remove(mfa_recovery_hashes, ${hash})` })
    .where('id', '=', userId)
    .where(sql<boolean>`${hash} = ANY(mfa_recovery_hashes)`)
    .returning(sql<number>`cardinality(mfa_recovery_hashes)`.as('left'))
    .executeTakeFirst();
  if (!used) return null;
  await audit(tx, tenantId, `user:${userId}`, 'user.mfa_recovery_code_used', { type: 'user', id: userId }, { codesLeft: used.left });
  return 'recovery_code';
}

/** Turns the factor off (the user, an owner for a colleague who lost their phone, or `settle user reset-password --clear-second-factor`). */
export async function disableMfa(tx: Tx, tenantId: string, userId: string, actor: Actor, keepSession: string | null = null): Promise<void> {
  await tx
    .updateTable('users')
    .set({ mfa_secret_sealed: null, mfa_enabled_at: null, mfa_last_step: null, mfa_recovery_hashes: [] })
    .where('id', '=', userId)
    .execute();
  await endUserSessions(tx, tenantId, userId, 'second_factor_changed', actor, keepSession);
  await audit(tx, tenantId, actor, 'user.mfa_disabled', { type: 'user', id: userId });
}
