// Xero's webhooks (specs/xero/xero-webhooks.yaml): the app registers one delivery URL and gets a webhook
// key; each delivery is a POST of {events[], firstEventSequence, lastEventSequence, entropy} with header
// x-xero-signature = base64(HMAC-SHA256(webhook key, raw body)). The receiver must answer 200 to a good
// signature and 401 to a bad one within 5 seconds, with no body — the "intent to receive" check Xero
// runs before it sends any event (docs: developer.xero.com/documentation/guides/webhooks/configuring-your-server):
// one delivery with a correct signature and one with a wrong one, both with no events.
// Events are sent for invoices and credit notes (and contacts), never for payments.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

export interface WebhookEvent {
  readonly resourceUrl: string;
  readonly resourceId: string;
  readonly eventDateUtc: string;
  readonly eventType: 'CREATE' | 'UPDATE';
  readonly eventCategory: 'INVOICE' | 'CONTACT' | 'CREDITNOTE';
  readonly tenantId: string;
  readonly tenantType: 'ORGANISATION';
}

export interface Delivery {
  readonly body: string;
  readonly validSignature: boolean;
  status: number | null;
  error?: string;
}

export function signature(key: string, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64');
}

export class XeroWebhooks {
  url: string | null = null;
  key: string = randomBytes(48).toString('base64');
  /** 'OK' once the intent-to-receive check passed; events are only sent then (as Xero). */
  status: 'NONE' | 'OK' | 'FAILED' = 'NONE';
  private sequence = 0;
  readonly deliveries: Delivery[] = [];

  configure(url: string, key?: string): void {
    this.url = url;
    if (key) this.key = key;
    this.status = 'NONE';
  }

  private async post(events: WebhookEvent[], validSignature: boolean): Promise<Delivery> {
    const first = events.length ? this.sequence + 1 : 0;
    this.sequence += events.length;
    const body = JSON.stringify({
      events,
      firstEventSequence: first,
      lastEventSequence: events.length ? this.sequence : 0,
      entropy: randomBytes(10).toString('hex').toUpperCase(),
    });
    const sig = validSignature ? signature(this.key, body) : signature(`${this.key}x`, body);
    const d: Delivery = { body, validSignature, status: null };
    this.deliveries.push(d);
    try {
      const res = await fetch(this.url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-xero-signature': sig },
        body,
        signal: AbortSignal.timeout(5000),
      });
      d.status = res.status;
      await res.arrayBuffer();
    } catch (e) {
      d.error = (e as Error).message;
    }
    return d;
  }

  /** Xero's intent-to-receive check: 200 for the good signature, 401 for the bad one. */
  async intentToReceive(): Promise<'OK' | 'FAILED'> {
    if (!this.url) throw new Error('no webhook URL configured');
    const good = await this.post([], true);
    const bad = await this.post([], false);
    this.status = good.status === 200 && bad.status === 401 ? 'OK' : 'FAILED';
    return this.status;
  }

  /** Send events now (only after the intent-to-receive check passed); `forgeSignature` for tests. */
  async send(events: WebhookEvent[], forgeSignature = false): Promise<Delivery | null> {
    if (!this.url || (this.status !== 'OK' && !forgeSignature)) return null;
    return this.post(events, !forgeSignature);
  }
}

export function invoiceEvent(baseUrl: string, tenantId: string, invoiceId: string, eventType: 'CREATE' | 'UPDATE', at: number): WebhookEvent {
  return {
    resourceUrl: `${baseUrl}/api.xro/2.0/Invoices/${invoiceId}`,
    resourceId: invoiceId,
    eventDateUtc: new Date(at).toISOString().replace('Z', ''),
    eventType,
    eventCategory: 'INVOICE',
    tenantId,
    tenantType: 'ORGANISATION',
  };
}

export const newId = randomUUID;

/** Xero's creditNotes event: a credit note created or changed (the PSA's export made one). */
export function creditNoteEvent(baseUrl: string, tenantId: string, creditNoteId: string, at: number): WebhookEvent {
  return {
    ...invoiceEvent(baseUrl, tenantId, creditNoteId, 'CREATE', at),
    resourceUrl: `${baseUrl}/api.xro/2.0/CreditNotes/${creditNoteId}`,
    eventCategory: 'CREDITNOTE',
  };
}
