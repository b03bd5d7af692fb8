// Reconciling a payout reads it from the processor; a processor that is failing (5xx, 429, timeouts) must not
// push the next try hours away. Thrown, the error would get graphile-worker's exponential backoff
// (exp(attempts) seconds: 18 minutes after the 7th failure, 6 hours after the 10th) — the soak saw a payout
// still unreconciled after a 15-minute drain that way. Here a transient failure re-queues the same job
// under its key on a capped schedule (15 s, 30 s, … at most every 5 minutes, never giving up), and after
// about ten minutes a person is told in an exception that says what failed and that Settle keeps trying; it
// clears itself when the payout is reconciled. Other failures are thrown as before (retries, then job_failed).
import { sql } from 'kysely';
import { retryDecision } from '../connectors/http.ts';
import { withTenant } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { audit } from './audit.ts';
import { enqueue } from './enqueue.ts';
import { raiseException } from './exceptions.ts';
import { reconcilePayout } from './reconcile-payout.ts';

const MAX_DELAY_MS = 5 * 60_000;
/** Tries after which a person is told (15 s + 30 s + 1 min + 2 min + 4 min + 5 min ≈ 13 minutes). */
const TELL_AFTER = 6;

export function payoutRetryDelayMs(retry: number, retryAfterMs = 0): number {
  return Math.max(retryAfterMs, Math.min(MAX_DELAY_MS, 15_000 * 2 ** Math.max(0, retry)));
}

const waitingKey = (processorPayoutId: string): string => `payout-waiting:${processorPayoutId}`;

export async function reconcilePayoutWithRetry(ctx: EngineContext, tenantId: string, processorPayoutId: string, retry = 0): Promise<string> {
  let result: string;
  try {
    result = await reconcilePayout(ctx, tenantId, processorPayoutId);
  } catch (e) {
    const decision = retryDecision(e, 1);
    if (!decision.retry) throw e;
    const next = retry + 1;
    const delayMs = payoutRetryDelayMs(retry, decision.delayMs);
    const message = (e as Error).message;
    await withTenant(ctx.db, tenantId, async (tx) => {
      // The same key as the running job: graphile-worker keeps this run's work and adds the next try.
      await enqueue(
        tx,
        'reconcile-payout',
        { tenantId, processorPayoutId, retry: next },
        { jobKey: `reconcile-payout:${processorPayoutId}`, queueName: `payouts:${tenantId}`, runAt: new Date(Date.now() + delayMs) },
      );
      if (next >= TELL_AFTER)
        await raiseException(tx, tenantId, 'system:payouts', {
          kind: 'payout_waiting',
          dedupeKey: waitingKey(processorPayoutId),
          clientId: null,
          invoiceIds: [],
          paymentId: null,
          title: `Payout ${processorPayoutId} is not reconciled yet: the processor does not answer`,
          detail:
            `Reading the payout from the processor failed ${next} times (last: ${message.slice(0, 300)}). Settle tries again every ` +
            `${Math.round(MAX_DELAY_MS / 60_000)} minutes and books its deposit as soon as it can; this clears itself then. ` +
            `If it lasts, check the processor's status page and the connection (Connections → Test connection).`,
          data: { processor_payout_id: processorPayoutId, tries: next },
        });
    });
    ctx.log.warn({ tenantId, payout: processorPayoutId, retry: next, delayMs, err: message }, 'payout not reconciled yet; trying again');
    return `processor failed (${decision.reason}); try ${next + 1} in ${Math.round(delayMs / 1000)} s`;
  }
  if (retry > 0) await clearWaiting(ctx, tenantId, processorPayoutId);
  return result;
}

async function clearWaiting(ctx: EngineContext, tenantId: string, processorPayoutId: string): Promise<void> {
  await withTenant(ctx.db, tenantId, async (tx) => {
    const open = await tx
      .updateTable('exceptions')
      .set({ status: 'resolved', resolved_at: new Date(), resolved_by: 'system:payouts', resolution: 'payout_reconciled', updated_at: sql`now()` })
      .where('dedupe_key', '=', waitingKey(processorPayoutId))
      .where('status', '=', 'open')
      .returning('id')
      .executeTakeFirst();
    if (open) await audit(tx, tenantId, 'system:payouts', 'exception.resolved', { type: 'exception', id: open.id }, { resolution: 'payout_reconciled' });
  });
}
