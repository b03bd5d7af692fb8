// An API key presented as "Authorization: Bearer stl_…": found by the SHA-256 of the secret, refused when
// revoked or expired (saying which, so the integration's owner knows to make a new one), and its
// last_used_at moved at most once a minute, so a busy integration costs no write per request.
import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import { findApiKeyByHash, withTenant } from '../db/tenant.ts';
import type { StaffRole } from '../domain/roles.ts';
import { hashApiKey } from './passwords.ts';

export const LAST_USED_RESOLUTION_MS = 60_000;

export type KeyCheck =
  { readonly ok: true; readonly keyId: string; readonly tenantId: string; readonly role: StaffRole } | { readonly ok: false; readonly message: string };

const UNKNOWN: KeyCheck = { ok: false, message: 'no such API key (an owner can make one with `settle api-key create`)' };

// When this process last wrote last_used_at per key: the in-memory half of the once-a-minute rule (the
// UPDATE's own condition is the other half, across processes).
const touched = new Map<string, number>();

export async function authenticateApiKey(db: Db, secret: string, log?: FastifyBaseLogger, now: Date = new Date()): Promise<KeyCheck> {
  if (!/^stl_[A-Za-z0-9_-]{20,}$/.test(secret)) return UNKNOWN;
  const key = await findApiKeyByHash(db, hashApiKey(secret));
  if (!key) return UNKNOWN;
  if (key.revoked_at) {
    log?.warn({ apiKey: key.id, tenant: key.tenant_id, revokedAt: key.revoked_at }, 'revoked API key refused');
    return { ok: false, message: `this API key was revoked at ${key.revoked_at.toISOString()}; an owner can make a new one with \`settle api-key create\`` };
  }
  if (key.expires_at && key.expires_at.getTime() <= now.getTime()) {
    log?.warn({ apiKey: key.id, tenant: key.tenant_id, expiredAt: key.expires_at }, 'expired API key refused');
    return { ok: false, message: `this API key expired at ${key.expires_at.toISOString()}; an owner can make a new one with \`settle api-key create\`` };
  }
  await touchLastUsed(db, key.id, key.tenant_id, key.last_used_at, now);
  return { ok: true, keyId: key.id, tenantId: key.tenant_id, role: key.role };
}

async function touchLastUsed(db: Db, keyId: string, tenantId: string, lastUsed: Date | null, now: Date): Promise<void> {
  const since = now.getTime() - LAST_USED_RESOLUTION_MS;
  if (lastUsed && lastUsed.getTime() > since) return;
  if ((touched.get(keyId) ?? 0) > since) return;
  touched.set(keyId, now.getTime());
  if (touched.size > 10_000) touched.clear(); // bounded; forgetting only costs one more conditional UPDATE
  await withTenant(db, tenantId, (tx) =>
    tx
      .updateTable('api_keys')
      .set({ last_used_at: now })
      .where('id', '=', keyId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`${now}::timestamptz - interval '1 minute'`)]))
      .execute(),
  );
}
