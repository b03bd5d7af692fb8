// Webhook delivery as the simulator models Halo's: each active webhook subscribed to an invoice event gets
// a POST with the configured authentication — basic (`Authorization: Basic base64(basic_username:
// basic_password)`) or header (`authentication_header` is sent as the header line `Name: value`). The
// body is Halo's "standard" payload as modelled here (README: the exact body is not in the spec):
// `{ id, webhook_id, event, eventno, timestamp, object_id, invoice }`.
// Test levers (not vendor behaviour): duplicate, reverse bursts (out-of-order), drop, delay.
import { randomUUID } from 'node:crypto';
import { AUTH_TYPES, INVOICE_EVENTS } from './fields.ts';
import { haloDateTime, invoiceJson } from './model.ts';
import type { HaloState, InvoiceEvent, Webhook } from './store.ts';

export interface WebhookOptions {
  duplicate: boolean;
  reverseBursts: boolean;
  burstWindowMs: number;
  drop: boolean;
  delayMs: number;
}

export interface DeliveryRecord {
  readonly id: string;
  readonly webhookId: string;
  readonly url: string;
  readonly event: string;
  readonly objectId: number;
  readonly status: number | null;
  readonly error: string | null;
}

interface Pending {
  readonly id: string;
  readonly hook: Webhook;
  readonly body: string;
  readonly event: string;
  readonly objectId: number;
}

export function authHeaders(hook: Webhook): Record<string, string> {
  if (hook.authentication_type === AUTH_TYPES.basic) {
    return { authorization: `Basic ${Buffer.from(`${hook.basic_username}:${hook.basic_password}`, 'utf8').toString('base64')}` };
  }
  if (hook.authentication_type === AUTH_TYPES.header) {
    const colon = hook.authentication_header.indexOf(':');
    return { [hook.authentication_header.slice(0, colon).trim().toLowerCase()]: hook.authentication_header.slice(colon + 1).trim() };
  }
  return {};
}

export class WebhookDispatcher {
  readonly options: WebhookOptions = { duplicate: false, reverseBursts: false, burstWindowMs: 50, drop: false, delayMs: 0 };
  readonly deliveries: DeliveryRecord[] = [];
  private burst: Pending[] = [];
  private burstTimer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly state: HaloState) {
    state.onInvoiceChange((e) => this.announce(e));
  }

  announce(e: InvoiceEvent): void {
    const ev = INVOICE_EVENTS[e.action];
    for (const hook of this.state.webhooks.values()) {
      if (!hook.active || !hook.eventnos.includes(ev.eventno)) continue;
      const id = randomUUID();
      const body = JSON.stringify({
        id,
        webhook_id: hook.id,
        event: ev.name,
        eventno: ev.eventno,
        timestamp: haloDateTime(Date.now()),
        object_id: e.invoice.id,
        invoice: invoiceJson(this.state, e.invoice, { lines: false, payments: false }),
      });
      this.enqueue({ id, hook, body, event: ev.name, objectId: e.invoice.id });
    }
  }

  private enqueue(p: Pending): void {
    const o = this.options;
    if (o.drop) {
      this.deliveries.push({ id: p.id, webhookId: p.hook.id, url: p.hook.url, event: p.event, objectId: p.objectId, status: null, error: 'dropped' });
      return;
    }
    const copies = o.duplicate ? [p, p] : [p];
    if (o.reverseBursts) {
      this.burst.push(...copies);
      if (this.burstTimer) clearTimeout(this.burstTimer);
      this.burstTimer = setTimeout(() => this.releaseBurst(), o.burstWindowMs);
      return;
    }
    for (const c of copies) this.track(this.deliver(c));
  }

  private releaseBurst(): void {
    if (this.burstTimer) clearTimeout(this.burstTimer);
    this.burstTimer = null;
    const burst = this.burst.reverse();
    this.burst = [];
    this.track(
      (async () => {
        for (const p of burst) await this.deliver(p);
      })(),
    );
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async deliver(p: Pending): Promise<void> {
    if (this.options.delayMs > 0) await new Promise((r) => setTimeout(r, this.options.delayMs));
    const record = (status: number | null, error: string | null): void => {
      this.deliveries.push({ id: p.id, webhookId: p.hook.id, url: p.hook.url, event: p.event, objectId: p.objectId, status, error });
    };
    try {
      const res = await fetch(p.hook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeaders(p.hook) },
        body: p.body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      record(res.status, null);
    } catch (e) {
      record(null, (e as Error).message);
    }
  }

  async flush(): Promise<void> {
    if (this.burst.length > 0) this.releaseBurst();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  close(): void {
    if (this.burstTimer) clearTimeout(this.burstTimer);
    this.burstTimer = null;
    this.burst = [];
  }
}
