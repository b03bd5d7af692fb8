// Signatures on outbound webhooks (docs/webhooks.md). Stripe's scheme: the header
//   Settle-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">[,v1=<…>]
// with one v1 per secret that signs — two during a rotation's overlap, so a receiver that still has the
// old secret and one that has the new both verify. The secret string itself is the HMAC key.
import crypto from 'node:crypto';

export const SIGNATURE_HEADER = 'Settle-Signature';
/** A receiver should refuse a signature older than this (replay protection); the docs say so too. */
export const TOLERANCE_SECONDS = 300;

export function newSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64url')}`;
}

export function sign(secret: string, timestamp: number, rawBody: string): string {
  return crypto.createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
}

/** The header value for a body sent at `timestamp`, signed by every secret given (current first). */
export function signatureHeader(secrets: readonly string[], timestamp: number, rawBody: string): string {
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${sign(s, timestamp, rawBody)}`)].join(',');
}

/**
 * What a receiver does (the snippet in docs/webhooks.md is this function): true when one v1 signature
 * matches the secret and the timestamp is within the tolerance of `nowSeconds`.
 */
export function verifySignature(header: string, rawBody: string, secret: string, nowSeconds: number, toleranceSeconds = TOLERANCE_SECONDS): boolean {
  const parts = header.split(',').map((p) => p.split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(sign(secret, t, rawBody), 'hex');
  return parts
    .filter(([k]) => k === 'v1')
    .some(([, v]) => {
      const got = Buffer.from(v ?? '', 'hex');
      return got.length === expected.length && crypto.timingSafeEqual(got, expected);
    });
}
