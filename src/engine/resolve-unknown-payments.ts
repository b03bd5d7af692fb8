// The janitor for charge attempts whose outcome we do not know: the call timed out or its answer was lost,
// or the process died between committing the attempt and storing the answer (`sending`). We ask the
// processor — by the processor's id when we have it, otherwise by our own attempt id in the payment's
// metadata — and record what it says. Nothing is re-sent here: an unknown is resolved, never re-charged
// (ARCHITECTURE.md, killbill's janitor). Portal payments whose intent was never created (or whose creation
// answer was lost) are resolved the same way, so none is left pending without an intent.
//
// "Not found" is only an answer once the processor's search can give it. Stripe's search is eventually
// consistent (docs.stripe.com/search: new objects are searchable within about a minute, later during an
// outage), so an attempt missing from search is closed as never sent only when search already finds a
// payment of ours made well after it (the index has caught up past anything the attempt could have made) —
// or, when we made none since, once the documented indexing delay has passed. Until then it is asked again
// on the next sweep (every minute). No fixed "give up after 15 minutes".
import { withTenant, type Tx } from '../db/tenant.ts';
import type { PaymentsConnector } from '../connectors/payments/types.ts';
import type { EngineContext } from './context.ts';
import { applyChargeOutcome } from './apply-charge-outcome.ts';

/** How long an attempt may stay `sending` before we consider its answer lost and ask (asking is harmless). */
const ASK_AFTER_MS = 20_000;
/**
 * Longer than any request of ours can still be running at the processor (30 s timeout, 429s retried): a
 * payment made this long after an attempt was made after anything that attempt's request could create.
 */
const SETTLED_AFTER_MS = 60_000;
/** Stripe: searchable "in under a minute" normally. Used only when no later payment can prove it. */
const SEARCH_INDEXED_AFTER_MS = SETTLED_AFTER_MS + 120_000;

export interface ResolveOptions {
  readonly askAfterMs?: number;
  /** Tests: how long after an attempt a later payment proves the search index covers it. */
  readonly settledAfterMs?: number;
  /** Tests: how long after an attempt, with no later payment, "not found" is believed. */
  readonly searchIndexedAfterMs?: number;
}

export async function resolveUnknownPayments(ctx: EngineContext, tenantId: string, opts: ResolveOptions = {}): Promise<number> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) return 0;
  const now = ctx.now().getTime();
  const cutoff = new Date(now - (opts.askAfterMs ?? ASK_AFTER_MS));
  const attempts = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('payment_attempts as a')
      .innerJoin('payments as p', 'p.id', 'a.payment_id')
      .select(['a.id', 'a.payment_id', 'a.processor_payment_id', 'a.created_at'])
      .where('a.outcome', 'in', ['unknown', 'sending'])
      .where('p.processor', '=', processor.vendor)
      .where('a.created_at', '<', cutoff)
      .orderBy('a.created_at')
      .limit(200)
      .execute(),
  );
  const covers = searchCoverage(ctx, tenantId, processor, now, {
    settledAfterMs: opts.settledAfterMs ?? SETTLED_AFTER_MS,
    indexedAfterMs: opts.searchIndexedAfterMs ?? SEARCH_INDEXED_AFTER_MS,
  });
  let resolved = 0;
  for (const a of attempts) {
    const found = a.processor_payment_id
      ? [await processor.getPayment(a.processor_payment_id)]
      : await processor.findPaymentsByMetadata('settle_attempt', a.id);
    const status = found[0];
    if (!status) {
      if (!(await covers(new Date(a.created_at)))) continue; // search cannot answer yet: ask again next sweep
      await applyChargeOutcome(
        ctx,
        tenantId,
        a.payment_id,
        a.id,
        { kind: 'not_sent', reason: "the processor has no payment for this attempt (its search already covers the attempt's time)" },
        (tx) => closeNeverSentCheckout(tx, a.payment_id),
      );
      resolved++;
      continue;
    }
    if (status.outcome.kind === 'unknown') continue;
    await applyChargeOutcome(ctx, tenantId, a.payment_id, a.id, status.outcome);
    resolved++;
  }
  return resolved;
}

/**
 * Whether "not found" is an answer for an attempt made at a given time: nothing its request could create is
 * still on its way, and the processor's search indexes it. Proof: a payment of ours made after that (the
 * first such, which has had the longest to be indexed) is found by search. With none made since, the
 * documented delay has to do. Answers are cached for the janitor's run.
 */
function searchCoverage(
  ctx: EngineContext,
  tenantId: string,
  processor: PaymentsConnector,
  now: number,
  t: { settledAfterMs: number; indexedAfterMs: number },
): (madeAt: Date) => Promise<boolean> {
  const seen = new Map<string, boolean>();
  return async (madeAt) => {
    const later = await withTenant(ctx.db, tenantId, (tx) =>
      tx
        .selectFrom('payment_attempts as a')
        .innerJoin('payments as p', 'p.id', 'a.payment_id')
        .select(['a.id', 'a.processor_payment_id'])
        .where('p.processor', '=', processor.vendor)
        .where('a.processor_payment_id', 'is not', null)
        .where('a.created_at', '>', new Date(madeAt.getTime() + t.settledAfterMs))
        .orderBy('a.created_at')
        .limit(1)
        .executeTakeFirst(),
    );
    if (!later) return now - madeAt.getTime() > t.indexedAfterMs;
    if (!seen.has(later.id)) {
      const hits = await processor.findPaymentsByMetadata('settle_attempt', later.id);
      seen.set(
        later.id,
        hits.some((h) => h.processorPaymentId === later.processor_payment_id),
      );
    }
    return seen.get(later.id)!;
  };
}

/** A portal checkout whose intent was never created cannot be confirmed: it no longer holds its invoices. */
export async function closeNeverSentCheckout(tx: Tx, paymentId: string): Promise<void> {
  await tx
    .updateTable('portal_checkouts')
    .set({ status: 'closed', closed_at: new Date(), close_reason: 'its payment never reached the processor' })
    .where('payment_id', '=', paymentId)
    .where('status', '=', 'open')
    .execute();
}
