// Verifying HaloPSA webhooks. Halo signs nothing; its outgoing webhooks authenticate with what the
// webhook was registered with — basic (`Authorization: Basic …`) or a header (`Name: value`) — so a delivery
// is genuine when it carries exactly the credentials Settle registered. Compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookRejected } from '../../webhook-rejected.ts';
import type { PsaChangeNotice } from '../types.ts';
import { haloCatalogue } from './catalogue.ts';
import { haloWebhookPayload } from './schema.ts';

export type Headers = Record<string, string | string[] | undefined>;
export type WebhookAuth = 'basic' | 'header';

/** The secret Halo sends back: the configured one, else derived from the client secret (nothing more to enter). */
export function webhookSecretFor(clientSecret: string, configured?: string): string {
  return configured || createHmac('sha256', clientSecret).update('settle:halopsa:webhook').digest('base64url');
}

function header(headers: Headers, name: string): string | undefined {
  const lower = name.toLowerCase();
  const v = headers[lower] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === lower)?.[1];
  return Array.isArray(v) ? v[0] : v;
}

function same(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // timingSafeEqual needs equal lengths; compare against itself to spend the same time, then refuse.
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

export function expectedCredential(auth: WebhookAuth, secret: string): { header: string; value: string } {
  return auth === 'basic'
    ? { header: 'authorization', value: `Basic ${Buffer.from(`${haloCatalogue.webhooks.basicUsername}:${secret}`, 'utf8').toString('base64')}` }
    : { header: haloCatalogue.webhooks.headerName, value: secret };
}

export function verifyWebhook(headers: Headers, rawBody: Buffer, auth: WebhookAuth, secret: string): PsaChangeNotice {
  const want = expectedCredential(auth, secret);
  const given = header(headers, want.header);
  if (!given) throw new WebhookRejected('bad_signature', `missing ${want.header} header`);
  if (!same(given.trim(), want.value)) throw new WebhookRejected('bad_signature', `${want.header} does not match the credentials registered with HaloPSA`);
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookRejected('malformed', 'HaloPSA webhook body is not JSON');
  }
  const parsed = haloWebhookPayload.safeParse(json);
  if (!parsed.success) throw new WebhookRejected('malformed', `HaloPSA webhook body is not an invoice event: ${parsed.error.issues[0]?.message ?? ''}`);
  const p = parsed.data;
  const { created, updated } = haloCatalogue.webhooks.events;
  const isInvoice = p.eventno === created || p.eventno === updated || /invoice/i.test(p.event ?? '');
  return {
    eventId: p.id,
    entity: isInvoice ? 'invoice' : 'other',
    externalId: String(p.object_id),
    action: p.eventno === created || /creat|new/i.test(p.event ?? '') ? 'added' : 'updated',
  };
}
