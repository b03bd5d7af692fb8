// Client portal links: signed with the tenant's own portal secret (kept sealed: db/portal-secret.ts) and
// expiring. The link names the tenant and the client; nothing else about the client is in it.
import type { SecretBox } from '../../db/crypto.ts';
import { portalSecretOf } from '../../db/portal-secret.ts';
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
  box: SecretBox,
): Promise<{ url: string; expiresAt: string }> {
  const secret = await portalSecretOf(tx, box, tenantId);
  if (!secret) throw new Error(`no workspace ${tenantId}`);
  const exp = Math.floor(Date.now() / 1000) + ttlSec;
  const token = signToken({ t: tenantId, c: clientId, exp } satisfies PortalClaims, secret);
  return { url: `${publicUrl}/portal/${token}`, expiresAt: new Date(exp * 1000).toISOString() };
}
