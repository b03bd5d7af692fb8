// Waking a subscription's delivery job: one job per subscription (its own queue, so one sender at a time),
// keyed, so that waking it again only moves the pending job's time. The 0047 trigger function does the same
// in SQL for new events; this is for the engine's own wake-ups (a later retry, a replay, re-enabling, the sweep).
import type { Db } from '../../db/pool.ts';
import type { Tx } from '../../db/tenant.ts';
import { enqueue } from '../enqueue.ts';

export async function wakeDeliveries(tx: Tx | Db, tenantId: string, subscriptionId: string, runAt?: Date): Promise<void> {
  await enqueue(
    tx,
    'deliver-webhooks',
    { tenantId, subscriptionId },
    { queueName: `webhooks:${subscriptionId}`, jobKey: `deliver-webhooks:${subscriptionId}`, maxAttempts: 25, ...(runAt ? { runAt } : {}) },
  );
}

/** The sweep's safety net: every subscription with a delivery due (a wake-up lost with a crashed job) is woken. */
export async function wakeDueWebhooks(tx: Tx, tenantId: string, olderThan: Date): Promise<number> {
  const due = await tx
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_subscriptions as s', 's.id', 'd.subscription_id')
    .select('d.subscription_id')
    .distinct()
    .where('d.status', '=', 'pending')
    .where('s.status', '=', 'active')
    .where('d.next_attempt_at', '<', olderThan)
    .execute();
  for (const d of due) await wakeDeliveries(tx, tenantId, d.subscription_id);
  return due.length;
}
