// Xero's webhook deliveries (specs/xero/xero-webhooks.yaml): x-xero-signature is base64(HMAC-SHA256(webhook
// key, raw body)). A good signature gets 200, a bad one 401, with no body — that is also the whole of Xero's
// "intent to receive" check, which must pass before Xero sends any event. Events name invoices (and credit
// notes, contacts) by id; payments and bank records have none and are polled with If-Modified-Since.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface XeroWebhookEvent {
  readonly resourceId: string;
  readonly eventCategory: string;
  readonly eventType: string;
  readonly tenantId: string;
}

export function verifyXeroSignature(rawBody: string | Buffer, signature: string | undefined, webhookKey: string): boolean {
  if (!signature) return false;
  const want = createHmac('sha256', webhookKey).update(rawBody).digest();
  let got: Buffer;
  try {
    got = Buffer.from(signature, 'base64');
  } catch {
    return false;
  }
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The events of a verified delivery (an intent-to-receive delivery has none). */
export function xeroEvents(rawBody: string | Buffer): XeroWebhookEvent[] {
  const body = JSON.parse(rawBody.toString()) as { events?: XeroWebhookEvent[] };
  return Array.isArray(body.events) ? body.events : [];
}
