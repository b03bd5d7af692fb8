// Workspace administration from the command line: create a workspace with its first staff user, API keys,
// and connections to outside systems.
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import { hashPassword } from '../http/passwords.ts';
import { createApiKey as createKey } from '../engine/api-keys.ts';
import type { StaffRole } from '../domain/roles.ts';
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
        password_hash: await hashPassword(input.adminPassword),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(tx, tenant.id, input.actor, 'workspace.created', { type: 'tenant', id: tenant.id }, { slug: input.slug, owner: user.id });
  });
  return tenant.id;
}

/**
 * A new API key acting with `role` (the CLI makes the caller choose; test and soak helpers pass owner);
 * the secret is returned once and only its hash is stored (engine/api-keys.ts).
 */
export async function createApiKey(
  db: Db,
  tenantId: string,
  name: string,
  actor: Actor,
  opts: { role: StaffRole; expiresAt?: Date | null } = { role: 'owner' },
): Promise<string> {
  return (await createKey(db, tenantId, { name, role: opts.role, expiresAt: opts.expiresAt ?? null }, actor)).secret;
}

export async function tenantIdBySlug(db: Db, slug: string): Promise<string> {
  const t = await db.selectFrom('tenants').select('id').where('slug', '=', slug).executeTakeFirst();
  if (!t) throw new Error(`no workspace "${slug}"; create one with \`settle workspace create ${slug} --name … --admin-email … --admin-password …\``);
  return t.id;
}
