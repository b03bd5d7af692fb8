// Every value Settle keeps sealed with the instance key (db/crypto.ts), and how to re-seal them all under
// another key in ONE transaction (`settle keys rotate`, cli/keys.ts): either every value moves to the new
// key or none does. The additional data each value is sealed with is repeated here from its owner; a new
// sealed column must be added to SEALED below (docs/security.md "What is sealed").
import { sql } from 'kysely';
import type { SecretBox } from './crypto.ts';
import type { Db } from './pool.ts';
import type { Tx } from './tenant.ts';
import { resealPortalSecrets } from './portal-secret.ts';

interface SealedColumn {
  readonly table: 'connections' | 'ach_bank_accounts' | 'ach_files' | 'ach_inbound_files' | 'users' | 'webhook_subscriptions';
  readonly column: 'secrets_ciphertext' | 'account_sealed' | 'content_sealed' | 'mfa_secret_sealed' | 'secrets_sealed';
  /** The owner's additional data for one row (engine/connections.ts, bank-ach/connector.ts, engine/staff-mfa.ts). */
  readonly context: (row: { tenant_id: string; id: string; role?: string }) => string;
}

/** Tenant tables with a sealed column (the portal secrets in `tenants` are handled by db/portal-secret.ts). */
export const SEALED: readonly SealedColumn[] = [
  { table: 'connections', column: 'secrets_ciphertext', context: (r) => `connection:${r.tenant_id}:${r.role}` },
  { table: 'ach_bank_accounts', column: 'account_sealed', context: (r) => `data:${r.tenant_id}:ach-account` },
  { table: 'ach_files', column: 'content_sealed', context: (r) => `data:${r.tenant_id}:ach-file` },
  { table: 'ach_inbound_files', column: 'content_sealed', context: (r) => `data:${r.tenant_id}:ach-file` },
  { table: 'users', column: 'mfa_secret_sealed', context: (r) => `staff-mfa:${r.tenant_id}:${r.id}` },
  { table: 'webhook_subscriptions', column: 'secrets_sealed', context: (r) => `data:${r.tenant_id}:webhook-secret` },
];

export interface ResealCount {
  readonly portalSecrets: number;
  readonly values: Record<string, number>;
}

/** Opens every sealed value with `from` (which may hold several keys) and seals it with `to`, in one transaction. */
export async function resealEverything(db: Db, from: SecretBox, to: SecretBox): Promise<ResealCount> {
  return db.transaction().execute(async (tx) => {
    const portalSecrets = await resealPortalSecrets(tx, from, to);
    const values: Record<string, number> = {};
    const tenants = await tx.selectFrom('tenants').select('id').orderBy('id').execute();
    for (const t of tenants) {
      // Row-level security: the tenant's rows are visible only with its id set (as withTenant does).
      await sql`SELECT set_config('settle.tenant_id', ${t.id}, true)`.execute(tx);
      for (const c of SEALED) values[`${c.table}.${c.column}`] = (values[`${c.table}.${c.column}`] ?? 0) + (await resealColumn(tx, c, from, to));
    }
    return { portalSecrets, values };
  });
}

async function resealColumn(tx: Tx, c: SealedColumn, from: SecretBox, to: SecretBox): Promise<number> {
  // A column added by a migration this database does not have yet is simply not there to re-seal.
  const exists =
    await sql`SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${c.table} AND column_name = ${c.column}`.execute(
      tx,
    );
  if (exists.rows.length === 0) return 0;
  const hasRole = c.table === 'connections';
  const rows = (
    await sql<{ id: string; tenant_id: string; role?: string; sealed: string }>`
      SELECT id, tenant_id, ${hasRole ? sql`role` : sql`NULL AS role`}, ${sql.ref(c.column)} AS sealed
      FROM ${sql.table(c.table)} WHERE ${sql.ref(c.column)} IS NOT NULL FOR UPDATE`.execute(tx)
  ).rows;
  for (const r of rows) {
    const context = c.context(r);
    const resealed = to.seal(from.open<unknown>(r.sealed, context), context);
    await sql`UPDATE ${sql.table(c.table)} SET ${sql.ref(c.column)} = ${resealed} WHERE id = ${r.id}`.execute(tx);
  }
  return rows.length;
}
