// One batch of a subscription's outbound webhooks: claim what is due, send it, record each answer. The
// delivery runner (runner.ts) calls this for every subscription with something due; deliverWebhooks below
// repeats it until nothing is due (tests and tools that deliver without the runner).
//
// Claiming leases the batch: its deliveries are locked with FOR UPDATE SKIP LOCKED (two runners never take
// the same one) and their next_attempt_at moved LEASE_MS ahead in the claim's short transaction, so no other
// runner takes them while they are sent, and no transaction stays open across the HTTP requests. A delivery
// is marked delivered only after a 2xx came back and was recorded; if Settle is killed in between, the lease
// runs out and the delivery is sent again (at least once: the receiver dedupes on the event id). Sends are not
// started once the lease is too short for their timeout: those are given back as due, unsent.
//
// Ordering: none guaranteed (up to SENDERS at once, a retried event arrives after later ones); every event
// carries `sequence` (docs/webhooks.md). Oldest due first within a subscription.
import { sql } from 'kysely';
import { withTenant } from '../../db/tenant.ts';
import type { EngineContext } from '../context.ts';
import { UseCaseError } from '../context.ts';
import { checkReceiverUrl, type CheckedUrl } from './address-guard.ts';
import { KeptAgents, postWebhook, SEND_TIMEOUT_MS, type SendResult } from './send.ts';
import { openSecrets, signingSecrets } from './subscriptions.ts';
import { SIGNATURE_HEADER, signatureHeader } from './signing.ts';
import { recordResults, type Claimed } from './record.ts';

export { retryDelayMs } from './record.ts';

/** Deliveries of one subscription in flight at once (docs/webhooks.md says 10). */
export const SENDERS = 10;
/** Deliveries claimed per batch: enough that a burst costs two short transactions per hundred deliveries. */
export const BATCH = 100;
/** How long a claimed batch is held: a batch stops starting sends SEND_TIMEOUT_MS + LEASE_MARGIN_MS before it ends. */
export const LEASE_MS = 60_000;
const LEASE_MARGIN_MS = 20_000;

export interface BatchResult {
  /** The subscription is disabled or gone: nothing to send until it is enabled again (which wakes it). */
  readonly gone: boolean;
  readonly sent: number;
  readonly delivered: number;
  /** The claim was full: more may be due now. */
  readonly full: boolean;
  /** When the subscription's next pending delivery is due (or its lease ends); null when none is pending. */
  readonly nextDue: Date | null;
}

/** Where a subscription's requests go: keep-alive connections to the address the guard checked (runner.ts keeps them per receiver). */
export type AgentsFor = (subscriptionId: string, target: CheckedUrl) => KeptAgents;

export async function deliverBatch(
  ctx: EngineContext,
  tenantId: string,
  subscriptionId: string,
  agentsFor: AgentsFor,
  opts: { limit?: number } = {},
): Promise<BatchResult> {
  const now = ctx.now();
  const limit = opts.limit ?? BATCH;
  const claim = await withTenant(ctx.db, tenantId, async (tx) => {
    const sub = await tx
      .selectFrom('webhook_subscriptions')
      .select(['url', 'status', 'secrets_sealed', 'previous_expires_at'])
      .where('id', '=', subscriptionId)
      .executeTakeFirst();
    if (!sub || sub.status !== 'active') return null;
    const leaseUntil = new Date(now.getTime() + LEASE_MS);
    const due = await sql<Claimed & { seq: bigint }>`
      UPDATE webhook_deliveries d SET next_attempt_at = ${leaseUntil}
        FROM webhook_events e
       WHERE e.id = d.event_id
         AND d.id IN (SELECT id FROM webhook_deliveries
                       WHERE subscription_id = ${subscriptionId} AND status = 'pending' AND next_attempt_at <= ${now}
                       ORDER BY next_attempt_at, seq LIMIT ${limit}
                         FOR UPDATE SKIP LOCKED)
      RETURNING d.id, d.attempts, d.give_up_at, d.event_id, d.seq, e.type, e.body`.execute(tx);
    return { sub, due: due.rows.sort((a, b) => (a.seq < b.seq ? -1 : 1)) };
  });
  if (!claim) return { gone: true, sent: 0, delivered: 0, full: false, nextDue: null };
  const { sub, due } = claim;
  if (due.length === 0) return { gone: false, sent: 0, delivered: 0, full: false, nextDue: await nextDueOf(ctx, tenantId, subscriptionId) };

  const secrets = signingSecrets(openSecrets(ctx, tenantId, sub.secrets_sealed), sub.previous_expires_at, now);
  // The guard again at delivery time: the name may resolve elsewhere now than when it was saved.
  let target: CheckedUrl | SendResult;
  try {
    target = await checkReceiverUrl(sub.url, { allowPrivate: ctx.webhooksAllowPrivate === true });
  } catch (e) {
    if (!(e instanceof UseCaseError)) throw e;
    target = { delivered: false, status: null, error: `refused before sending: ${e.message}`, body: null, ms: 0 };
  }
  const sendBy = now.getTime() + LEASE_MS - SEND_TIMEOUT_MS - LEASE_MARGIN_MS;
  const results = await sendAll(due, sendBy, ctx, (d) =>
    'url' in target ? send(target, d, secrets, now, agentsFor(subscriptionId, target)) : Promise.resolve(target),
  );
  const nextDue = await recordResults(ctx.db, tenantId, subscriptionId, due, results, now);
  const sent = results.filter((r) => r !== null);
  return { gone: false, sent: sent.length, delivered: sent.filter((r) => r.delivered).length, full: due.length === limit, nextDue };
}

async function nextDueOf(ctx: EngineContext, tenantId: string, subscriptionId: string): Promise<Date | null> {
  const next = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.min('next_attempt_at').as('at'))
      .where('subscription_id', '=', subscriptionId)
      .where('status', '=', 'pending')
      .executeTakeFirst(),
  );
  return next?.at ? new Date(next.at) : null;
}

export interface DeliveryRun {
  readonly sent: number;
  readonly delivered: number;
  /** When the next pending delivery is due; null when none is (or the subscription is disabled). */
  readonly nextWake: Date | null;
}

/** Every batch due now, one after another, on a keep-alive pool of its own (closed at the end). */
export async function deliverWebhooks(ctx: EngineContext, tenantId: string, subscriptionId: string): Promise<DeliveryRun> {
  const agents = new KeptAgents(SENDERS);
  let sent = 0;
  let delivered = 0;
  try {
    for (;;) {
      const r = await deliverBatch(ctx, tenantId, subscriptionId, () => agents);
      sent += r.sent;
      delivered += r.delivered;
      if (!r.full) return { sent, delivered, nextWake: r.nextDue };
    }
  } finally {
    agents.destroy();
  }
}

function send(target: CheckedUrl, d: Claimed, secrets: readonly string[], now: Date, agents: KeptAgents): Promise<SendResult> {
  const t = Math.floor(now.getTime() / 1000);
  return postWebhook(
    target,
    {
      [SIGNATURE_HEADER]: signatureHeader(secrets, t, d.body),
      'Settle-Event-Id': `evt_${d.event_id.replaceAll('-', '')}`,
      'Settle-Event-Type': d.type,
      'Settle-Delivery-Attempt': String(d.attempts + 1),
      'User-Agent': 'Settle-Webhooks/1',
    },
    d.body,
    agents,
  );
}

/** SENDERS at a time; none started after `sendBy` (the claim's clock), so every send ends within its lease. */
async function sendAll<T>(items: readonly T[], sendBy: number, ctx: EngineContext, fn: (t: T) => Promise<SendResult>): Promise<(SendResult | null)[]> {
  const out: (SendResult | null)[] = new Array<SendResult | null>(items.length).fill(null);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length && ctx.now().getTime() <= sendBy) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SENDERS, items.length) }, lane));
  return out;
}
