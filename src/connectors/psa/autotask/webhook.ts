// Company webhooks: Autotask POSTs a company's create/update with `X-Hook-Signature: sha1=<base64>` — the
// HMAC-SHA1 of the raw body keyed with the SecretKey Settle gave the webhook (write-only: it is never read
// back, so Settle keeps it with the connection's secrets). Invoices have no webhooks: they are polled.
import crypto from 'node:crypto';
import { WebhookRejected } from '../../webhook-rejected.ts';
import type { PsaChangeNotice } from '../types.ts';

export type Headers = Record<string, string | string[] | undefined>;

export function hookSignature(secret: string, body: Buffer | string): string {
  return `sha1=${crypto.createHmac('sha1', secret).update(body).digest('base64')}`;
}

export function verifyHook(headers: Headers, rawBody: Buffer, secret: string | null): PsaChangeNotice {
  if (!secret) throw new WebhookRejected('bad_signature', 'no webhook secret is configured for this Autotask connection');
  const got = headers['x-hook-signature'];
  const sig = Array.isArray(got) ? got[0] : got;
  if (!sig) throw new WebhookRejected('bad_signature', 'missing X-Hook-Signature');
  const want = Buffer.from(hookSignature(secret, rawBody));
  const have = Buffer.from(sig);
  if (want.length !== have.length || !crypto.timingSafeEqual(want, have)) throw new WebhookRejected('bad_signature', 'X-Hook-Signature does not match');
  let body: { Action?: unknown; Guid?: unknown; EntityType?: unknown; Id?: unknown; SequenceNumber?: unknown };
  try {
    body = JSON.parse(rawBody.toString('utf8')) as typeof body;
  } catch {
    throw new WebhookRejected('malformed', 'the webhook body is not JSON');
  }
  if (typeof body.Id !== 'number' || typeof body.Guid !== 'string' || typeof body.SequenceNumber !== 'number')
    throw new WebhookRejected('malformed', 'the webhook body lacks Id, Guid or SequenceNumber');
  const action = String(body.Action).toLowerCase();
  return {
    eventId: `${body.Guid}:${body.SequenceNumber}`,
    entity: String(body.EntityType).toLowerCase() === 'company' ? 'company' : 'other',
    externalId: String(body.Id),
    action: action === 'create' ? 'added' : action === 'delete' ? 'deleted' : 'updated',
  };
}
