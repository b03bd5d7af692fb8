// The delivery job of one subscription (task deliver-webhooks, queue webhooks:<subscription>): send what is
// due, oldest event first, record each answer, schedule the retries. At least once: a delivery is marked
// delivered only after a 2xx came back, so one in flight when Settle is killed is sent again after the
// restart (the receiver dedupes on the event id). Ordering: none guaranteed across events (up to SENDERS at
// once, and a retried event arrives after later ones); every event carries `sequence` (docs/webhooks.md).
//
// Retries: 30 s after the first failure, doubling to at most 6 h, for three days from the event (or the
// replay); the last attempt is made at the three-day mark, then the delivery is failed and the subscription
// raises an exception under Needs attention, which the next delivery that succeeds clears.
import { withTenant } from '../../db/tenant.ts';
import type { EngineContext } from '../context.ts';
import { checkReceiverUrl, type CheckedUrl } from './address-guard.ts';
import { KeptAgents, postWebhook, KEPT_BODY_BYTES, type SendResult } from './send.ts';
import { openSecrets, signingSecrets } from './subscriptions.ts';
import { SIGNATURE_HEADER, signatureHeader } from './signing.ts';
import { noteDelivered, noteGaveUp } from './failing.ts';
import { wakeDeliveries } from './wake.ts';
import { UseCaseError } from '../context.ts';

const FIRST_RETRY_MS = 30_000;
const LONGEST_WAIT_MS = 6 * 3600_000;
/** Deliveries of one subscription sent at once, and taken per round. */
const SENDERS = 10;
const BATCH = 50;
/** A run hands over to a fresh job after this long, so one busy subscription does not hold a worker for ever. */
const RUN_BUDGET_MS = 20_000;

/** The wait before attempt `attempts + 1`, after `attempts` failures (1 → 30 s, 2 → 1 min, … at most 6 h). */
export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), LONGEST_WAIT_MS);
}

interface Due {
  readonly id: string;
  readonly attempts: number;
  readonly give_up_at: Date;
  readonly event_id: string;
  readonly type: string;
  readonly body: string;
}

export interface DeliveryRun {
  readonly sent: number;
  readonly delivered: number;
  readonly nextWake: Date | null;
}

export async function deliverWebhooks(ctx: EngineContext, tenantId: string, subscriptionId: string, opts: { budgetMs?: number } = {}): Promise<DeliveryRun> {
  const started = Date.now();
  // One keep-alive pool for the run: the batch's requests share a few connections instead of one each.
  const agent = new KeptAgents(SENDERS);
  try {
    return await deliverRounds(ctx, tenantId, subscriptionId, opts, started, agent);
  } finally {
    agent.destroy();
  }
}

async function deliverRounds(
  ctx: EngineContext,
  tenantId: string,
  subscriptionId: string,
  opts: { budgetMs?: number },
  started: number,
  agent: KeptAgents,
): Promise<DeliveryRun> {
  let sent = 0;
  let delivered = 0;
  for (;;) {
    const now = ctx.now();
    const round = await withTenant(ctx.db, tenantId, async (tx) => {
      const sub = await tx
        .selectFrom('webhook_subscriptions')
        .select(['url', 'status', 'secrets_sealed', 'previous_expires_at'])
        .where('id', '=', subscriptionId)
        .executeTakeFirst();
      if (!sub || sub.status !== 'active') return null;
      const due = await tx
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
        .select(['d.id', 'd.attempts', 'd.give_up_at', 'd.event_id', 'e.type', 'e.body'])
        .where('d.subscription_id', '=', subscriptionId)
        .where('d.status', '=', 'pending')
        .where('d.next_attempt_at', '<=', now)
        .orderBy('d.seq')
        .limit(BATCH)
        .execute();
      return { sub, due: due as Due[] };
    });
    if (!round) return { sent, delivered, nextWake: null };
    if (round.due.length === 0) break;
    const secrets = signingSecrets(openSecrets(ctx, tenantId, round.sub.secrets_sealed), round.sub.previous_expires_at, now);
    // The guard again at delivery time: the name may resolve elsewhere now than when it was saved.
    let target: CheckedUrl | SendResult;
    try {
      target = await checkReceiverUrl(round.sub.url, { allowPrivate: ctx.webhooksAllowPrivate === true });
    } catch (e) {
      if (!(e instanceof UseCaseError)) throw e;
      target = { delivered: false, status: null, error: `refused before sending: ${e.message}`, body: null, ms: 0 };
    }
    const results = await sendAll(round.due, (d) => ('url' in target ? send(target, d, secrets, now, agent) : Promise.resolve(target)));
    await record(ctx, tenantId, subscriptionId, round.due, results, now);
    sent += results.length;
    delivered += results.filter((r) => r.delivered).length;
    if (Date.now() - started > (opts.budgetMs ?? RUN_BUDGET_MS)) {
      await wakeDeliveries(ctx.db, tenantId, subscriptionId);
      return { sent, delivered, nextWake: ctx.now() };
    }
  }
  // Nothing due now: wake again when the next retry is (in real time: the job queue's clock).
  const next = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.min('next_attempt_at').as('at'))
      .where('subscription_id', '=', subscriptionId)
      .where('status', '=', 'pending')
      .executeTakeFirst(),
  );
  const at = next?.at ? new Date(next.at) : null;
  if (at) await wakeDeliveries(ctx.db, tenantId, subscriptionId, new Date(Date.now() + Math.max(0, at.getTime() - ctx.now().getTime())));
  return { sent, delivered, nextWake: at };
}

function send(target: CheckedUrl, d: Due, secrets: readonly string[], now: Date, agent: KeptAgents): Promise<SendResult> {
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
    agent,
  );
}

async function sendAll<T>(items: readonly T[], fn: (t: T) => Promise<SendResult>): Promise<SendResult[]> {
  const out: SendResult[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SENDERS, items.length) }, lane));
  return out;
}

async function record(
  ctx: EngineContext,
  tenantId: string,
  subscriptionId: string,
  due: readonly Due[],
  results: readonly SendResult[],
  now: Date,
): Promise<void> {
  await withTenant(ctx.db, tenantId, async (tx) => {
    await tx
      .insertInto('webhook_attempts')
      .values(
        due.map((d, i) => ({
          tenant_id: tenantId,
          delivery_id: d.id,
          attempt_no: d.attempts + 1,
          started_at: now,
          duration_ms: results[i]!.ms,
          response_status: results[i]!.status,
          error: results[i]!.error?.slice(0, 500) ?? null,
          response_body: results[i]!.body?.slice(0, KEPT_BODY_BYTES) ?? null,
        })),
      )
      .execute();
    const gaveUp: { id: string; error: string }[] = [];
    // The delivered ones in one statement (the common case, and the fan-out bench's cost per delivery).
    const okByStatus = new Map<number | null, string[]>();
    for (const [i, d] of due.entries()) if (results[i]!.delivered) okByStatus.set(results[i]!.status, [...(okByStatus.get(results[i]!.status) ?? []), d.id]);
    for (const [status, ids] of okByStatus)
      await tx
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          status: 'delivered',
          delivered_at: now,
          last_attempt_at: now,
          last_status: status,
          last_error: null,
        }))
        .where('id', 'in', ids)
        .execute();
    for (const [i, d] of due.entries()) {
      const r = results[i]!;
      if (r.delivered) continue;
      const attempts = d.attempts + 1;
      const common = { attempts, last_attempt_at: now, last_status: r.status, last_error: r.error?.slice(0, 500) ?? null };
      const giveUp = new Date(d.give_up_at);
      if (now >= giveUp) {
        await tx
          .updateTable('webhook_deliveries')
          .set({ ...common, status: 'failed' })
          .where('id', '=', d.id)
          .execute();
        gaveUp.push({ id: d.id, error: r.error ?? 'not delivered' });
        continue;
      }
      const next = new Date(Math.min(now.getTime() + retryDelayMs(attempts), giveUp.getTime()));
      await tx
        .updateTable('webhook_deliveries')
        .set({ ...common, next_attempt_at: next })
        .where('id', '=', d.id)
        .execute();
    }
    if (gaveUp.length) await noteGaveUp(tx, tenantId, subscriptionId, gaveUp, now);
    else if (results.some((r) => r.delivered)) await noteDelivered(tx, tenantId, subscriptionId, now);
  });
}
