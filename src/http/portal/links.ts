// Client portal links: signed with the tenant's own portal secret and expiring. The link names the tenant
// and the client; nothing else about the client is in it.
import type { Tx } from '../../db/tenant.ts';
import { signToken } from '../signed-token.ts';

export interface PortalClaims {
  readonly t: string; // tenant id
  readonly c: string; // client id
  readonly exp: number; // unix seconds
}

export async function portalLinkFor(
  tx: Tx,
  publicUrl: string,
  tenantId: string,
  clientId: string,
  ttlSec: number,
): Promise<{ url: string; expiresAt: string }> {
  const tenant = await tx.selectFrom('tenants').select('portal_secret').where('id', '=', tenantId).executeTakeFirstOrThrow();
  const exp = Math.floor(Date.now() / 1000) + ttlSec;
  const token = signToken({ t: tenantId, c: clientId, exp } satisfies PortalClaims, tenant.portal_secret);
  return { url: `${publicUrl}/portal/${token}`, expiresAt: new Date(exp * 1000).toISOString() };
}
