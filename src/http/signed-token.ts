// Signed, expiring tokens for portal links and staff sessions: base64url(JSON) "." base64url(HMAC-SHA256).
// Verification is constant-time, and an expired or altered token is refused with a reason the page can show.
import crypto from 'node:crypto';

export type TokenCheck<T> = { ok: true; claims: T } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

export function signToken(claims: Record<string, unknown> & { exp: number }, secret: string): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const mac = crypto.createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${mac}`;
}

/** Reads the claims without checking them (to find which tenant's secret to check with). */
export function peekToken<T>(token: string): T | null {
  const [body] = token.split('.');
  if (!body) return null;
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
  } catch {
    return null;
  }
}

export function verifyToken<T extends { exp: number }>(token: string, secret: string, nowMs = Date.now()): TokenCheck<T> {
  const parts = token.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return { ok: false, reason: 'malformed' };
  const expected = crypto.createHmac('sha256', secret).update(parts[0]).digest();
  const given = Buffer.from(parts[1], 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  const claims = peekToken<T>(token);
  if (!claims || typeof claims.exp !== 'number') return { ok: false, reason: 'malformed' };
  if (claims.exp * 1000 < nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
