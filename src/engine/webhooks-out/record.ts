// Writing down what a batch of deliveries got back (engine/webhooks-out/deliver.ts): one attempt row each in
// the delivery log, the delivered ones marked in one statement, the others given their next try (30 s after the
// first failure, doubling to at most 6 h, the last at the three-day mark) or failed after it, and the
// subscription's "failing" state raised or cleared (failing.ts). Deliveries the batch had no time to send are
// given back as due, with no attempt counted. Returns when the subscription's next delivery is due.
import type { Db } from '../../db/pool.ts';
import { withTenant } from '../../db/tenant.ts';
import { noteDelivered, noteGaveUp } from './failing.ts';
import { KEPT_BODY_BYTES, type SendResult } from './send.ts';

const FIRST_RETRY_MS = 30_000;
const LONGEST_WAIT_MS = 6 * 3600_000;

/** The wait before attempt `attempts + 1`, after `attempts` failures (1 → 30 s, 2 → 1 min, … at most 6 h). */
export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), LONGEST_WAIT_MS);
}

export interface Claimed {
  readonly id: string;
  readonly attempts: number;
  readonly give_up_at: Date;
  readonly event_id: string;
  readonly type: string;
  readonly body: string;
}

/** `results[i]` is what `due[i]` got back, or null when it was not sent. */
export async function recordResults(
  db: Db,
  tenantId: string,
  subscriptionId: string,
  due: readonly Claimed[],
  results: readonly (SendResult | null)[],
  now: Date,
): Promise<Date | null> {
  return withTenant(db, tenantId, async (tx) => {
    const sent = due.flatMap((d, i) => (results[i] ? [{ d, r: results[i] }] : []));
    if (sent.length)
      await tx
        .insertInto('webhook_attempts')
        .values(
          sent.map(({ d, r }) => ({
            tenant_id: tenantId,
            delivery_id: d.id,
            attempt_no: d.attempts + 1,
            started_at: now,
            duration_ms: r.ms,
            response_status: r.status,
            error: r.error?.slice(0, 500) ?? null,
            response_body: r.body?.slice(0, KEPT_BODY_BYTES) ?? null,
          })),
        )
        .execute();
    const unsent = due.filter((_, i) => !results[i]).map((d) => d.id);
    if (unsent.length) await tx.updateTable('webhook_deliveries').set({ next_attempt_at: now }).where('id', 'in', unsent).execute();
    // The delivered ones in one statement per answer status (the common case, and the fan-out's cost per delivery).
    const okByStatus = new Map<number | null, string[]>();
    for (const { d, r } of sent) if (r.delivered) okByStatus.set(r.status, [...(okByStatus.get(r.status) ?? []), d.id]);
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
    const gaveUp: { id: string; error: string }[] = [];
    for (const { d, r } of sent) {
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
    else if (okByStatus.size) await noteDelivered(tx, tenantId, subscriptionId, now);
    const next = await tx
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.min('next_attempt_at').as('at'))
      .where('subscription_id', '=', subscriptionId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return next?.at ? new Date(next.at) : null;
  });
}
