// The link in a failed-payment email that lets the client save a new payment method (re-enrollment).
// Signed and expiring like portal links, but with a key derived from the tenant's portal secret for this
// one purpose, so a portal link cannot open this page and this link cannot open the portal.
import crypto from 'node:crypto';
import type { Tx } from '../db/tenant.ts';
import type { SecretBox } from '../db/crypto.ts';
import { portalSecretOf } from '../db/portal-secret.ts';
import { peekToken, signToken, verifyToken, type TokenCheck } from '../http/signed-token.ts';

export interface UpdateMethodClaims {
  readonly t: string; // tenant id
  readonly c: string; // client id
  readonly f: string; // the payment failure the email was about
  readonly exp: number; // unix seconds
}

const PURPOSE = 'settle:update-payment-method:v1';
// A whole UUID, not 36 of its characters in any order (36 dashes reached the database: issue #8 item 8).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function purposeKey(portalSecret: string): string {
  return crypto.createHmac('sha256', portalSecret).update(PURPOSE).digest('hex');
}

export async function updateMethodLinkFor(
  tx: Tx,
  publicUrl: string,
  claims: { tenantId: string; clientId: string; failureId: string },
  ttlSec: number,
  box: SecretBox,
  nowMs = Date.now(),
): Promise<{ url: string; token: string; expiresAt: Date }> {
  const secret = await portalSecretOf(tx, box, claims.tenantId);
  if (!secret) throw new Error(`no workspace ${claims.tenantId}`);
  const exp = Math.floor(nowMs / 1000) + ttlSec;
  const token = signToken({ t: claims.tenantId, c: claims.clientId, f: claims.failureId, exp } satisfies UpdateMethodClaims, purposeKey(secret));
  return { url: `${publicUrl}/portal/update-method/${token}`, token, expiresAt: new Date(exp * 1000) };
}

/** The tenant named in an unverified token (to find whose secret verifies it), or null when malformed. */
export function tenantOfUpdateToken(token: string): string | null {
  const peek = peekToken<Partial<UpdateMethodClaims>>(token);
  return peek && typeof peek.t === 'string' && UUID.test(peek.t) ? peek.t : null;
}

export function verifyUpdateToken(token: string, portalSecret: string, nowMs = Date.now()): TokenCheck<UpdateMethodClaims> {
  const check = verifyToken<UpdateMethodClaims>(token, purposeKey(portalSecret), nowMs);
  if (!check.ok) return check;
  const c = check.claims;
  if (typeof c.c !== 'string' || typeof c.f !== 'string' || !UUID.test(c.c) || !UUID.test(c.f)) return { ok: false, reason: 'malformed' };
  return check;
}
