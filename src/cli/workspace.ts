// Workspace administration from the command line: create a workspace with its first staff user, API keys,
// and connections to outside systems.
import crypto from 'node:crypto';
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import { hashApiKey, hashPassword } from '../http/passwords.ts';
import { audit, type Actor } from '../engine/audit.ts';

export async function createWorkspace(db: Db, input: { slug: string; name: string; adminEmail: string; adminPassword: string; actor: Actor }): Promise<string> {
  const tenant = await db.insertInto('tenants').values({ slug: input.slug, name: input.name }).returning('id').executeTakeFirstOrThrow();
  await withTenant(db, tenant.id, async (tx) => {
    const user = await tx
      .insertInto('users')
      .values({
        tenant_id: tenant.id,
        email: input.adminEmail.toLowerCase(),
        name: input.adminEmail.split('@')[0] ?? 'admin',
        role: 'owner',
        password_hash: hashPassword(input.adminPassword),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(tx, tenant.id, input.actor, 'workspace.created', { type: 'tenant', id: tenant.id }, { slug: input.slug, owner: user.id });
  });
  return tenant.id;
}

/** A new API key; the secret is returned once and only its hash is stored. */
export async function createApiKey(db: Db, tenantId: string, name: string, actor: Actor): Promise<string> {
  const secret = `stl_${crypto.randomBytes(24).toString('base64url')}`;
  await withTenant(db, tenantId, async (tx) => {
    const row = await tx
      .insertInto('api_keys')
      .values({ tenant_id: tenantId, name, key_hash: hashApiKey(secret), prefix: secret.slice(0, 8) })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(tx, tenantId, actor, 'api_key.created', { type: 'api_key', id: row.id }, { name, prefix: secret.slice(0, 8) });
  });
  return secret;
}

export async function tenantIdBySlug(db: Db, slug: string): Promise<string> {
  const t = await db.selectFrom('tenants').select('id').where('slug', '=', slug).executeTakeFirst();
  if (!t) throw new Error(`no workspace "${slug}"; create one with \`settle workspace create ${slug} --name … --admin-email … --admin-password …\``);
  return t.id;
}
