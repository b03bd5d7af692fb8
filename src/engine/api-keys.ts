// API keys of a workspace: made, listed and revoked by an owner (`settle api-key …`, /api/v1/api-keys).
// A key acts with a staff role like a user (http/permissions.ts), may expire, and records when it was last
// used. Only the SHA-256 of the secret is stored; the secret is shown once, when the key is made.
import crypto from 'node:crypto';
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import { hashApiKey } from '../http/passwords.ts';
import { isStaffRole, STAFF_ROLES, type StaffRole } from '../domain/roles.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError } from './context.ts';

export interface NewApiKey {
  readonly name: string;
  readonly role: StaffRole;
  /** null: the key does not expire. */
  readonly expiresAt?: Date | null;
}

export interface ApiKeyListed {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly role: StaffRole;
  readonly created_at: Date;
  readonly expires_at: Date | null;
  readonly last_used_at: Date | null;
  readonly revoked_at: Date | null;
  readonly revoked_by: string | null;
}

/** Bad input to a key command: a 4xx from the API, a usage error from the CLI. */
export class ApiKeyInputError extends UseCaseError {
  constructor(message: string, code: 'invalid' | 'not_found' = 'invalid') {
    super(code, message);
  }
}

export function parseRole(text: string | undefined): StaffRole {
  const role = (text ?? '').trim().toLowerCase();
  if (isStaffRole(role)) return role;
  throw new ApiKeyInputError(
    `the role is one of ${STAFF_ROLES.join(', ')} (viewer reads; finance also moves money; owner also changes settings, users and keys) — got "${text ?? ''}"`,
  );
}

/** "90d", "12h", "2027-01-31" or an ISO time; the result must be in the future. */
export function parseExpiry(text: string, now: Date = new Date()): Date {
  const rel = /^(\d{1,5})([dh])$/.exec(text.trim());
  const at = rel ? new Date(now.getTime() + Number(rel[1]) * (rel[2] === 'd' ? 86_400_000 : 3_600_000)) : new Date(text.trim());
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim()) && !rel) throw new ApiKeyInputError(`--expires takes 90d, 12h or a date like 2027-01-31 — got "${text}"`);
  if (Number.isNaN(at.getTime())) throw new ApiKeyInputError(`--expires: "${text}" is not a date; use 90d, 12h or a date like 2027-01-31`);
  if (at.getTime() <= now.getTime()) throw new ApiKeyInputError(`--expires: ${at.toISOString()} is not in the future`);
  return at;
}

/** A new API key; the secret is returned once and only its hash is stored. */
export async function createApiKey(db: Db, tenantId: string, key: NewApiKey, actor: Actor): Promise<{ id: string; secret: string }> {
  const name = key.name.trim();
  if (!name || name.length > 100 || /[\u0000-\u001f]/.test(name)) throw new ApiKeyInputError('a key name is 1–100 printable characters');
  const role = parseRole(key.role);
  const secret = `stl_${crypto.randomBytes(24).toString('base64url')}`;
  const id = await withTenant(db, tenantId, async (tx) => {
    const row = await tx
      .insertInto('api_keys')
      .values({ tenant_id: tenantId, name, key_hash: hashApiKey(secret), prefix: secret.slice(0, 8), role, expires_at: key.expiresAt ?? null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(
      tx,
      tenantId,
      actor,
      'api_key.created',
      { type: 'api_key', id: row.id },
      { name, prefix: secret.slice(0, 8), role, expires_at: key.expiresAt?.toISOString() ?? null },
    );
    return row.id;
  });
  return { id, secret };
}

export async function listApiKeys(db: Db, tenantId: string): Promise<ApiKeyListed[]> {
  return withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('api_keys')
      .select(['id', 'name', 'prefix', 'role', 'created_at', 'expires_at', 'last_used_at', 'revoked_at', 'revoked_by'])
      .orderBy('created_at')
      .orderBy('id')
      .execute(),
  );
}

/**
 * Revoke a key, named by its id or by the prefix `list` shows (stl_xxxx). Refused at once on its next
 * request. Revoking a revoked key changes nothing and says so.
 */
export async function revokeApiKey(db: Db, tenantId: string, idOrPrefix: string, actor: Actor): Promise<{ id: string; name: string; alreadyRevoked: boolean }> {
  const ref = idOrPrefix.trim();
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref);
  if (!isId && !/^stl_[A-Za-z0-9_-]{4}$/.test(ref))
    throw new ApiKeyInputError(`name the key by its id or its prefix (stl_xxxx) as \`settle api-key list\` shows it — got "${ref}"`);
  return withTenant(db, tenantId, async (tx) => {
    const found = await tx
      .selectFrom('api_keys')
      .select(['id', 'name', 'prefix', 'role', 'revoked_at'])
      .where(isId ? 'id' : 'prefix', '=', ref)
      .forUpdate()
      .execute();
    if (found.length === 0) throw new ApiKeyInputError(`no API key "${ref}" in this workspace; \`settle api-key list\` shows them`, 'not_found');
    if (found.length > 1) throw new ApiKeyInputError(`${found.length} keys start with ${ref}; name the one to revoke by its id`);
    const key = found[0]!;
    if (key.revoked_at) return { id: key.id, name: key.name, alreadyRevoked: true };
    await tx.updateTable('api_keys').set({ revoked_at: new Date(), revoked_by: actor }).where('id', '=', key.id).execute();
    await audit(tx, tenantId, actor, 'api_key.revoked', { type: 'api_key', id: key.id }, { name: key.name, prefix: key.prefix, role: key.role });
    return { id: key.id, name: key.name, alreadyRevoked: false };
  });
}
