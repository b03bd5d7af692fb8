// A subscription whose delivery used up its three days is "failing": marked on the subscription (the staff
// page shows it) and raised as an exception under Needs attention, with what to do. The next delivery to it
// that succeeds clears both — the receiver is back — and audits that it did.
import type { Tx } from '../../db/tenant.ts';
import { audit } from '../audit.ts';
import { raiseException } from '../exceptions.ts';

const ACTOR = 'system:webhooks' as const;
const dedupeKey = (subscriptionId: string): string => `webhook-failing:${subscriptionId}`;

export async function noteGaveUp(tx: Tx, tenantId: string, subscriptionId: string, failed: readonly { id: string; error: string }[], now: Date): Promise<void> {
  const sub = await tx.selectFrom('webhook_subscriptions').select(['url', 'failing_since']).where('id', '=', subscriptionId).executeTakeFirstOrThrow();
  if (!sub.failing_since) await tx.updateTable('webhook_subscriptions').set({ failing_since: now }).where('id', '=', subscriptionId).execute();
  const { n } = await tx
    .selectFrom('webhook_deliveries')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('subscription_id', '=', subscriptionId)
    .where('status', '=', 'failed')
    .executeTakeFirstOrThrow();
  const host = new URL(sub.url).host;
  await raiseException(tx, tenantId, ACTOR, {
    kind: 'webhook_failing',
    dedupeKey: dedupeKey(subscriptionId),
    clientId: null,
    invoiceIds: [],
    paymentId: null,
    title: `Webhooks to ${host} are not getting through`,
    detail:
      `${n} delivery(ies) to ${sub.url} failed after three days of retries (last answer: ${failed[failed.length - 1]!.error}). ` +
      'Fix the receiver, then replay the failed deliveries from Settings → Webhooks; this clears itself when a delivery succeeds.',
    data: { subscription_id: subscriptionId, failed_deliveries: Number(n) },
  });
}

export async function noteDelivered(tx: Tx, tenantId: string, subscriptionId: string, now: Date): Promise<void> {
  const cleared = await tx
    .updateTable('webhook_subscriptions')
    .set({ failing_since: null })
    .where('id', '=', subscriptionId)
    .where('failing_since', 'is not', null)
    .returning('id')
    .executeTakeFirst();
  if (!cleared) return;
  const closed = await tx
    .updateTable('exceptions')
    .set({ status: 'resolved', resolved_at: now, resolved_by: ACTOR, resolution: 'webhook_delivered', updated_at: now })
    .where('dedupe_key', '=', dedupeKey(subscriptionId))
    .where('status', '=', 'open')
    .returning(['id', 'kind'])
    .executeTakeFirst();
  if (closed)
    await audit(tx, tenantId, ACTOR, 'exception.resolved', { type: 'exception', id: closed.id }, { kind: closed.kind, resolution: 'webhook_delivered' });
}
