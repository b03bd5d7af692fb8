// The janitor for charge attempts whose outcome we do not know: the call timed out, or the process died
// between committing the attempt and storing the answer. We ask the processor, by the processor's id when
// we have it and otherwise by our own attempt id in the payment's metadata, and record what it says.
// Nothing is retried here: an unknown is resolved, never re-charged (ARCHITECTURE.md, killbill's janitor).
import { withTenant } from '../db/tenant.ts';
import type { EngineContext } from './context.ts';
import { applyChargeOutcome } from './apply-charge-outcome.ts';

/** How long an attempt may stay 'sending' before we consider it lost in flight and ask. */
const ASK_AFTER_MS = 20_000;
/** An attempt the processor has never heard of after this long was never sent. */
const NEVER_SENT_AFTER_MS = 15 * 60_000;

export async function resolveUnknownPayments(ctx: EngineContext, tenantId: string, opts: { askAfterMs?: number } = {}): Promise<number> {
  const processor = await ctx.connectors.payments(tenantId);
  if (!processor) return 0;
  const cutoff = new Date(ctx.now().getTime() - (opts.askAfterMs ?? ASK_AFTER_MS));
  const attempts = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('payment_attempts as a')
      .innerJoin('payments as p', 'p.id', 'a.payment_id')
      .select(['a.id', 'a.payment_id', 'a.processor_payment_id', 'a.outcome', 'a.created_at', 'p.source'])
      .where((eb) => eb.or([eb('a.outcome', '=', 'unknown'), eb.and([eb('a.outcome', '=', 'sending'), eb('p.source', '!=', 'portal')])]))
      .where('a.created_at', '<', cutoff)
      .limit(200)
      .execute(),
  );
  let resolved = 0;
  for (const a of attempts) {
    const found = a.processor_payment_id
      ? [await processor.getPayment(a.processor_payment_id)]
      : await processor.findPaymentsByMetadata('settle_attempt', a.id);
    const status = found[0];
    if (!status) {
      if (ctx.now().getTime() - new Date(a.created_at).getTime() > NEVER_SENT_AFTER_MS) {
        await applyChargeOutcome(ctx, tenantId, a.payment_id, a.id, { kind: 'not_sent', reason: 'the processor has no record of this attempt' });
        resolved++;
      }
      continue;
    }
    if (status.outcome.kind === 'unknown') continue;
    await applyChargeOutcome(ctx, tenantId, a.payment_id, a.id, status.outcome);
    resolved++;
  }
  return resolved;
}
