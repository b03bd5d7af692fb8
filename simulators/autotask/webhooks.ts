// Company webhooks (`/V1.0/CompanyWebhooks`): on a company created or updated, each active webhook subscribed
// to that event gets a POST of the vendor's payload, signed in `X-Hook-Signature` as `sha1=` + base64 of the
// HMAC-SHA1 of the raw body keyed with the webhook's SecretKey (third-party description; README.md "verify").
// Deliveries are recorded so tests can replay, duplicate or drop them.
import crypto from 'node:crypto';
import { jsonName } from './fields.ts';
import type { AutotaskState, Row } from './store.ts';

export interface WebhookDelivery {
  readonly webhookId: number;
  readonly url: string;
  readonly body: string;
  readonly signature: string;
  status: number | null;
}

export function signPayload(secret: string, body: string): string {
  return `sha1=${crypto.createHmac('sha1', secret).update(body, 'utf8').digest('base64')}`;
}

export class WebhookDispatcher {
  readonly deliveries: WebhookDelivery[] = [];
  private sequence = 0;
  private pending: Promise<unknown>[] = [];
  /** Drop deliveries (Settle must catch up by polling). */
  drop = false;

  constructor(private readonly state: AutotaskState) {
    state.onCompanyChange = (action, row, changed) => this.companyChanged(action, row, changed);
  }

  private companyChanged(action: 'Create' | 'Update', row: Row, changed: readonly string[]): void {
    for (const hook of this.state.table('CompanyWebhooks').values()) {
      if (hook.IsActive !== true) continue;
      if (action === 'Create' ? hook.IsSubscribedToCreateEvents !== true : hook.IsSubscribedToUpdateEvents !== true) continue;
      this.sequence += 1;
      const fields: Record<string, unknown> = {};
      for (const k of changed) if (k !== 'Id') fields[jsonName(k)] = row[k] ?? null;
      const body = JSON.stringify({
        Action: action,
        Guid: hook.WebhookGUID,
        EntityType: 'Company',
        Id: row.Id,
        Fields: fields,
        EventTime: this.state.now(),
        SequenceNumber: this.sequence,
        PersonID: 29682885,
      });
      const delivery: WebhookDelivery = {
        webhookId: hook.Id,
        url: String(hook.WebhookUrl),
        body,
        signature: signPayload(String(hook.SecretKey), body),
        status: null,
      };
      this.deliveries.push(delivery);
      if (!this.drop) this.pending.push(this.send(delivery));
    }
  }

  async send(d: WebhookDelivery): Promise<void> {
    try {
      const res = await fetch(d.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hook-signature': d.signature }, body: d.body });
      d.status = res.status;
      await res.arrayBuffer();
    } catch {
      d.status = 0;
    }
  }

  async flush(): Promise<void> {
    const p = this.pending;
    this.pending = [];
    await Promise.all(p);
  }
}
