// The safety net for payouts whose `payout.paid` webhook never reached Settle (an endpoint disabled at the
// processor, a delivery given up after its retries, an event lost anywhere on the way): every few minutes
// the processor's paid payouts of the last week are listed, and each one Settle does not know is queued for
// reconciliation exactly as its webhook would have queued it (same job key, so a webhook arriving meanwhile
// does not make it twice; reconcile-payout.ts inserts each payout once). The soak found two paid payouts
// Settle never knew of; without this they would stay out of the books until someone noticed the bank line.
import type { EngineContext } from './context.ts';
import { withTenant } from '../db/tenant.ts';
import { enqueue } from './enqueue.ts';

/** How far back paid payouts are looked for: longer than any webhook outage a person would not notice. */
const LOOK_BACK_MS = 7 * 86_400_000;
/** How often (the minute sweep keeps one job scheduled this far ahead). */
export const PAYOUT_POLL_EVERY_MS = 5 * 60_000;

/** Queue reconciliation for every paid payout Settle does not know; returns how many were queued. */
export async function pollPayouts(ctx: EngineContext, tenantId: string): Promise<number> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) return 0;
  let queued = 0;
  for await (const ids of processor.listPaidPayouts(new Date(ctx.now().getTime() - LOOK_BACK_MS))) {
    queued += await withTenant(ctx.db, tenantId, async (tx) => {
      const known = await tx.selectFrom('payouts').select('processor_payout_id').where('processor_payout_id', 'in', ids).execute();
      const have = new Set(known.map((k) => k.processor_payout_id));
      let n = 0;
      for (const id of ids) {
        if (have.has(id)) continue;
        // preserve_run_at: a payout already waiting on its capped retry (reconcile-payout-retry.ts) keeps its schedule.
        await enqueue(
          tx,
          'reconcile-payout',
          { tenantId, processorPayoutId: id },
          { jobKey: `reconcile-payout:${id}`, queueName: `payouts:${tenantId}`, jobKeyMode: 'preserve_run_at' },
        );
        n++;
      }
      return n;
    });
  }
  if (queued > 0) ctx.log.warn({ tenantId, queued }, 'paid payouts Settle had not heard of (their webhooks were lost): queued for reconciliation');
  return queued;
}
