// Each workspace's portal secret: the HMAC key of its client portal links and update-method links
// (http/portal/links.ts, notify/update-method-link.ts). It lives in the tenants directory, which is read
// without a tenant context (a link names its workspace), so it is kept sealed with the instance key, bound
// to the tenant id (migration 0023). Rows from before 0023 hold it in clear: reading one seals it first,
// and `settle start` seals them all. Sealing never changes the secret itself, so links already sent keep
// working, and a master-key rotation (cli/keys.ts) re-seals it without changing any link.
import crypto from 'node:crypto';
import type { SecretBox } from './crypto.ts';
import type { Db } from './pool.ts';
import type { Tx } from './tenant.ts';

/** The additional data the secret is sealed with: a sealed value copied to another workspace does not open. */
export const portalSecretContext = (tenantId: string): string => `portal-secret:${tenantId}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The workspace's portal secret, or null when there is no such workspace. A row still in clear is sealed
 * (and its clear column emptied) before the secret is used; a workspace without one gets a new one, sealed.
 */
export async function portalSecretOf(db: Db | Tx, box: SecretBox, tenantId: string): Promise<string | null> {
  if (!UUID.test(tenantId)) return null;
  const row = await db.selectFrom('tenants').select(['portal_secret', 'portal_secret_sealed']).where('id', '=', tenantId).executeTakeFirst();
  if (!row) return null;
  if (row.portal_secret_sealed) return box.open<string>(row.portal_secret_sealed, portalSecretContext(tenantId));
  const secret = row.portal_secret ?? crypto.randomBytes(32).toString('hex');
  // Only if no one sealed it meanwhile; whoever did first wins, and everyone reads the winner's value.
  const sealed = await db
    .updateTable('tenants')
    .set({ portal_secret_sealed: box.seal(secret, portalSecretContext(tenantId)), portal_secret: null })
    .where('id', '=', tenantId)
    .where('portal_secret_sealed', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (sealed) return secret;
  return portalSecretOf(db, box, tenantId);
}

/** Seal every portal secret still in clear (at `settle start`); returns how many were sealed. */
export async function sealClearPortalSecrets(db: Db, box: SecretBox): Promise<number> {
  const rows = await db.selectFrom('tenants').select('id').where('portal_secret_sealed', 'is', null).execute();
  for (const r of rows) await portalSecretOf(db, box, r.id);
  return rows.length;
}

/** Within a rotation's transaction: every workspace's portal secret opened with `from`, sealed with `to`. */
export async function resealPortalSecrets(tx: Tx, from: SecretBox, to: SecretBox): Promise<number> {
  const rows = await tx.selectFrom('tenants').select(['id', 'portal_secret', 'portal_secret_sealed']).forUpdate().execute();
  for (const r of rows) {
    const secret = r.portal_secret_sealed ? from.open<string>(r.portal_secret_sealed, portalSecretContext(r.id)) : r.portal_secret;
    if (secret === null) continue; // never used yet: gets a new one, sealed, on first use
    await tx
      .updateTable('tenants')
      .set({ portal_secret_sealed: to.seal(secret, portalSecretContext(r.id)), portal_secret: null })
      .where('id', '=', r.id)
      .execute();
  }
  return rows.length;
}
