// Tenant scoping. Every query on tenant data runs inside withTenant, which sets `settle.tenant_id` for
// the transaction only (set_config(..., true)); row-level security does the rest. A connection returned
// to the pool carries no tenant, so a query outside withTenant sees no tenant rows at all.
import { sql, type Transaction } from 'kysely';
import type { Db } from './pool.ts';
import type { Database } from './schema.ts';

export type Tx = Transaction<Database>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function withTenant<T>(db: Db, tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (!UUID.test(tenantId)) throw new Error(`not a tenant id: ${tenantId}`);
  const hooks: AfterCommit[] = [];
  const result = await db.transaction().execute(async (tx) => {
    afterCommitHooks.set(tx, hooks);
    await sql`SELECT set_config('settle.tenant_id', ${tenantId}, true)`.execute(tx);
    return fn(tx);
  });
  for (const hook of hooks) await hook(db);
  return result;
}

/** Work to do once the transaction has committed; it must handle its own errors (the commit stands). */
export type AfterCommit = (db: Db) => Promise<void>;
const afterCommitHooks = new WeakMap<Tx, AfterCommit[]>();

/**
 * Runs `hook` after `tx` commits (not at all if it rolls back). Only transactions opened by withTenant carry
 * hooks: elsewhere this returns false and the caller does the work inside the transaction instead. Use it
 * only for what a crash between the commit and the hook may skip because something else repeats it (the
 * sweep re-queues what a lost wake-up left waiting).
 */
export function afterCommit(tx: Tx, hook: AfterCommit): boolean {
  const hooks = afterCommitHooks.get(tx);
  if (!hooks) return false;
  hooks.push(hook);
  return true;
}

export interface ApiKeyFound {
  readonly id: string;
  readonly tenant_id: string;
  readonly role: 'owner' | 'finance' | 'viewer';
  readonly expires_at: Date | null;
  readonly revoked_at: Date | null;
  readonly last_used_at: Date | null;
}

/**
 * Look up an API key by the hash of its secret (the only cross-tenant read the policies allow). Revoked and
 * expired keys are returned too, so the caller can be told which (http/api-key-auth.ts refuses them).
 */
export async function findApiKeyByHash(db: Db, keyHash: string): Promise<ApiKeyFound | null> {
  return db.transaction().execute(async (tx) => {
    await sql`SELECT set_config('settle.api_key_hash', ${keyHash}, true)`.execute(tx);
    const row = await tx
      .selectFrom('api_keys')
      .select(['id', 'tenant_id', 'role', 'expires_at', 'revoked_at', 'last_used_at'])
      .where('key_hash', '=', keyHash)
      .executeTakeFirst();
    return row ?? null;
  });
}
