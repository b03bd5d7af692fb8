// Callback delivery as ConnectWise does it. The POSTed body carries MessageId, FromUrl, CompanyId,
// MemberId, Action, Type, ID, Entity (the record as a JSON *string*) and Metadata.key_url; the header
// `x-content-signature` is base64(HMAC-SHA256(key = SHA-256(signing_key), raw body)), where
// signing_key is what a GET on Metadata.key_url returns as `{ "signing_key": "…" }`.
// Source: no vendor text is shipped (specs/README.md §1); this follows the public, tested
// implementation in NangoHQ/nango packages/server/lib/webhook/connectwise-psa-webhook-routing.ts,
// which cites developer.connectwise.com/Products/Manage/Developer_Guide#Webhooks, and its test's key
// URL shape `{site}/v4_6_release/system/callbackkey/index.rails?id=…`. Verify against the vendor.
// Test levers (not vendor behaviour): duplicate, reverse bursts (out-of-order), drop, delay.
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { withoutNulls, type CwCallbackEntry } from './model.ts';
import type { ConnectWiseState, InvoiceEvent } from './store.ts';

export const KEY_PATH = '/v4_6_release/system/callbackkey/index.rails';

export interface CallbackOptions {
  /** Deliver every message twice (same MessageId and body). */
  duplicate: boolean;
  /** Hold messages for `burstWindowMs`, then deliver the burst newest first. */
  reverseBursts: boolean;
  burstWindowMs: number;
  /** Deliver nothing; the receiver has to notice through polling. */
  drop: boolean;
  /** Wait this long before each delivery. */
  delayMs: number;
}

export interface DeliveryRecord {
  readonly messageId: string;
  readonly url: string;
  readonly action: string;
  readonly entityId: number;
  readonly status: number | null; // null: dropped, or the request failed
  readonly error: string | null;
}

interface Pending {
  readonly url: string;
  readonly body: string;
  readonly signature: string;
  readonly messageId: string;
  readonly action: string;
  readonly entityId: number;
}

export function signCallback(body: string, signingKey: string): string {
  const key = createHash('sha256').update(signingKey, 'utf8').digest();
  return createHmac('sha256', key).update(body, 'utf8').digest('base64');
}

export class CallbackDispatcher {
  readonly options: CallbackOptions = { duplicate: false, reverseBursts: false, burstWindowMs: 50, drop: false, delayMs: 0 };
  readonly deliveries: DeliveryRecord[] = [];
  private readonly keys = new Map<string, string>();
  private currentKeyId = '';
  private burst: Pending[] = [];
  private burstTimer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly productInstanceId = randomUUID();

  constructor(
    private readonly state: ConnectWiseState,
    private readonly site: { origin(): string; companyId: string },
  ) {
    this.rotateKey();
    state.onInvoiceChange((e) => this.announce(e));
  }

  /** A new signing key (old key URLs keep answering, as messages in flight still name them). */
  rotateKey(): string {
    this.currentKeyId = randomUUID();
    this.keys.set(this.currentKeyId, randomBytes(24).toString('base64url'));
    return this.currentKeyId;
  }

  get signingKey(): string {
    return this.keys.get(this.currentKeyId)!;
  }

  keyFor(id: string): string | undefined {
    return this.keys.get(id);
  }

  keyUrl(): string {
    return `${this.site.origin()}${KEY_PATH}?id=${this.currentKeyId}`;
  }

  private subscribersFor(e: InvoiceEvent): CwCallbackEntry[] {
    return this.state.callbacks.all().filter((cb) => {
      if (cb.inactiveFlag || cb.type.toLowerCase() !== 'invoice') return false;
      const level = cb.level.toLowerCase();
      if (level === 'owner') return true;
      if (level === 'invoice') return cb.objectId === e.invoice.id;
      if (level === 'company') return cb.objectId === e.invoice.company.id;
      return false;
    });
  }

  announce(e: InvoiceEvent): void {
    for (const cb of this.subscribersFor(e)) {
      const messageId = randomUUID();
      const payload = {
        MessageId: messageId,
        FromUrl: new URL(this.site.origin()).host,
        CompanyId: this.site.companyId,
        MemberId: e.invoice._info.updatedBy,
        Action: e.action,
        Type: 'invoice',
        ID: e.invoice.id,
        ProductInstanceId: this.productInstanceId,
        PartnerId: '',
        Entity: JSON.stringify(withoutNulls(e.invoice)),
        Metadata: { key_url: this.keyUrl() },
        CallbackObjectRecId: cb.id,
      };
      const body = JSON.stringify(payload);
      const pending: Pending = { url: cb.url, body, signature: signCallback(body, this.signingKey), messageId, action: e.action, entityId: e.invoice.id };
      this.enqueue(pending);
    }
  }

  private enqueue(p: Pending): void {
    const o = this.options;
    if (o.drop) {
      this.deliveries.push({ messageId: p.messageId, url: p.url, action: p.action, entityId: p.entityId, status: null, error: 'dropped' });
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
    // One after the other, so the receiver really sees them newest first.
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
    try {
      const res = await fetch(p.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-content-signature': p.signature },
        body: p.body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      this.deliveries.push({ messageId: p.messageId, url: p.url, action: p.action, entityId: p.entityId, status: res.status, error: null });
    } catch (e) {
      this.deliveries.push({ messageId: p.messageId, url: p.url, action: p.action, entityId: p.entityId, status: null, error: (e as Error).message });
    }
  }

  /** Release any held burst and wait until every delivery has been attempted. */
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
