// Webhook delivery as Stripe does it (docs.stripe.com/webhooks): each Event goes to every enabled
// endpoint subscribed to its type, as a JSON POST signed with the endpoint's secret in
// `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`; a non-2xx answer is retried
// later (Stripe retries for up to three days; the simulator compresses the schedule). Fault options
// reproduce what consumers must survive: duplicate deliveries, out-of-order arrival, lost deliveries.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { StripeEvent, WebhookEndpoint } from './objects.ts';
import type { StripeStore } from './store.ts';

export function stripeSignatureHeader(secret: string, payload: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

// Deliveries go out on kept-alive connections through node:http rather than fetch: at a hundred charges a
// second fetch's request and stream machinery was a fifth of the simulator's CPU, on the cores it shares
// with the Settle being measured (bench autopay-run).
const agents = { 'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }), 'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }) };

/** POST one delivery; resolves with the status once the answer has been read, rejects on no answer. */
function post(url: string, payload: string, signature: string, signal: AbortSignal): Promise<number> {
  const u = new URL(url);
  const transport = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      u,
      {
        method: 'POST',
        agent: agents[u.protocol === 'https:' ? 'https:' : 'http:'],
        signal,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(payload),
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export interface DeliveryOptions {
  /** The next N deliveries are sent twice. */
  duplicate: number;
  /** The next N deliveries are lost (never sent, never retried): consumers must backfill from /v1/events. */
  drop: number;
  /** Hold deliveries for a short window and send each batch newest first. */
  outOfOrder: boolean;
  outOfOrderWindowMs: number;
  /** Delay before each retry of a failed delivery; its length is the number of retries. */
  retryDelaysMs: number[];
  timeoutMs: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  duplicate: 0,
  drop: 0,
  outOfOrder: false,
  outOfOrderWindowMs: 50,
  retryDelaysMs: [250, 1000, 3000],
  timeoutMs: 10_000,
};

export interface DeliveryRecord {
  readonly eventId: string;
  readonly type: string;
  readonly endpointId: string;
  readonly attempt: number;
  readonly status: number | null;
  readonly outcome: 'delivered' | 'failed' | 'dropped';
  readonly at: number;
}

interface Job {
  readonly event: StripeEvent;
  readonly endpoint: WebhookEndpoint;
  readonly secret: string;
  attempt: number;
}

export class WebhookDispatcher {
  options: DeliveryOptions = { ...DEFAULT_DELIVERY, retryDelaysMs: [...DEFAULT_DELIVERY.retryDelaysMs] };
  readonly deliveries: DeliveryRecord[] = [];
  /** Endpoint id → signing secret (Stripe only shows it in the create response). */
  readonly secrets = new Map<string, string>();
  private pending = 0;
  private waiters: Array<() => void> = [];
  private held: Job[] = [];
  private holdTimer: NodeJS.Timeout | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly store: StripeStore) {
    store.onEvent((e) => this.dispatch(e));
  }

  setOptions(partial: Partial<DeliveryOptions>): void {
    this.options = { ...this.options, ...partial };
  }

  /** Resolves once every delivery (including scheduled retries) has finished. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.timers.clear();
    this.held = [];
    this.pending = 0;
    this.release();
  }

  private dispatch(event: StripeEvent): void {
    for (const endpoint of this.store.webhookEndpoints.values()) {
      if (endpoint.status !== 'enabled') continue;
      if (!endpoint.enabled_events.includes('*') && !endpoint.enabled_events.includes(event.type)) continue;
      const secret = this.secrets.get(endpoint.id);
      if (!secret) continue;
      event.pending_webhooks += 1;
      const job: Job = { event, endpoint, secret, attempt: 0 };
      if (this.options.drop > 0) {
        this.options.drop -= 1;
        this.record(job, null, 'dropped');
        continue;
      }
      const copies = this.options.duplicate > 0 ? 2 : 1;
      if (copies === 2) this.options.duplicate -= 1;
      for (let i = 0; i < copies; i++) this.enqueue({ ...job });
    }
  }

  private enqueue(job: Job): void {
    this.pending += 1;
    if (!this.options.outOfOrder) {
      setImmediate(() => void this.attempt(job));
      return;
    }
    this.held.push(job);
    if (!this.holdTimer) {
      this.holdTimer = setTimeout(() => {
        this.holdTimer = null;
        const batch = this.held.reverse();
        this.held = [];
        for (const j of batch) void this.attempt(j);
      }, this.options.outOfOrderWindowMs);
    }
  }

  private async attempt(job: Job): Promise<void> {
    if (this.closed) return;
    job.attempt += 1;
    // A live-mode account's events (and the objects in them) say livemode: true, like its API answers.
    const payload = JSON.stringify(job.event, (k, v: unknown) => (k === 'livemode' && v === false && this.store.livemode ? true : v), 2);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    let status: number | null = null;
    try {
      status = await post(job.endpoint.url, payload, stripeSignatureHeader(job.secret, payload), controller.signal);
    } catch {
      status = null;
    } finally {
      clearTimeout(timer);
    }
    if (this.closed) return;
    if (status !== null && status >= 200 && status < 300) {
      job.event.pending_webhooks = Math.max(0, job.event.pending_webhooks - 1);
      this.record(job, status, 'delivered');
      this.done();
      return;
    }
    this.record(job, status, 'failed');
    const delay = this.options.retryDelaysMs[job.attempt - 1];
    if (delay === undefined) {
      this.done();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.attempt(job);
    }, delay);
    this.timers.add(t);
  }

  private record(job: Job, status: number | null, outcome: DeliveryRecord['outcome']): void {
    this.deliveries.push({ eventId: job.event.id, type: job.event.type, endpointId: job.endpoint.id, attempt: job.attempt, status, outcome, at: Date.now() });
  }

  private done(): void {
    this.pending = Math.max(0, this.pending - 1);
    if (this.pending === 0) this.release();
  }

  private release(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
