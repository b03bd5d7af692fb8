// Waking the delivery runner (runner.ts) for one subscription: a NOTIFY on its channel, sent when the caller's
// transaction commits (not at all if it rolls back). The 0054 trigger function does the same in SQL for new
// events; this is for the engine's own wake-ups (a replay, re-enabling, the sweep). A wake-up that no runner
// hears costs nothing: the runner looks for due deliveries when it starts and every minute.
import { sql } from 'kysely';
import type { Db } from '../../db/pool.ts';
import type { Tx } from '../../db/tenant.ts';

export const WAKE_CHANNEL = 'settle_webhooks';

export async function wakeDeliveries(tx: Tx | Db, tenantId: string, subscriptionId: string): Promise<void> {
  await sql`SELECT pg_notify(${WAKE_CHANNEL}, ${`${tenantId} ${subscriptionId}`})`.execute(tx);
}

/** The subscriptions of a workspace with a delivery due before `before`, and when the soonest is due. */
export async function dueSubscriptions(tx: Tx, before: Date): Promise<{ subscriptionId: string; at: Date }[]> {
  const due = await tx
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_subscriptions as s', 's.id', 'd.subscription_id')
    .select(['d.subscription_id', (eb) => eb.fn.min('d.next_attempt_at').as('at')])
    .where('d.status', '=', 'pending')
    .where('s.status', '=', 'active')
    .where('d.next_attempt_at', '<', before)
    .groupBy('d.subscription_id')
    .execute();
  return due.map((d) => ({ subscriptionId: d.subscription_id, at: new Date(d.at) }));
}

/** The sweep's safety net: every subscription with a delivery overdue (a wake-up no runner heard) is woken. */
export async function wakeDueWebhooks(tx: Tx, tenantId: string, olderThan: Date): Promise<number> {
  const due = await dueSubscriptions(tx, olderThan);
  for (const d of due) await wakeDeliveries(tx, tenantId, d.subscriptionId);
  return due.length;
}
