// A portal checkout the client opened and never confirmed stays confirmable at the processor for as long as
// nobody cancels its intent (a Stripe PaymentIntent does not expire by itself), and while it is open it holds
// its invoices: the money is "in flight", autopay and staff charges close it first, and the payment sits
// `pending` for ever. Like a Stripe Checkout Session (24 hours by default), a checkout expires: after
// SETTLE_CHECKOUT_EXPIRY_HOURS its intent is canceled at the processor and the payment ends failed with
// `checkout_canceled` — no money moved, so no retry, e-mail or exception (close-portal-checkouts.ts). An
// intent the client confirmed meanwhile cannot be canceled; its outcome is recorded instead. The client who
// comes back later starts a new checkout from the same link.
import type { EngineContext } from './context.ts';
import { UseCaseError } from './context.ts';
import { withTenant } from '../db/tenant.ts';
import { closePortalCheckouts } from './close-portal-checkouts.ts';

export const DEFAULT_CHECKOUT_EXPIRY_MS = 24 * 3600_000;

/** Close the workspace's checkouts opened longer ago than the expiry; returns how many were closed. */
export async function expirePortalCheckouts(ctx: EngineContext, tenantId: string): Promise<number> {
  const expiryMs = ctx.checkoutExpiryMs ?? DEFAULT_CHECKOUT_EXPIRY_MS;
  const cutoff = new Date(ctx.now().getTime() - expiryMs);
  const rows = await withTenant(ctx.db, tenantId, (tx) =>
    tx.selectFrom('portal_checkouts').select('payment_id').distinct().where('status', '=', 'open').where('opened_at', '<', cutoff).limit(200).execute(),
  );
  if (rows.length === 0) return 0;
  if (!(await ctx.connectors.payments(tenantId))) return 0; // nothing to cancel with: the checkout cannot be confirmed either
  const reason = `not paid within ${describeHours(expiryMs)} of being opened: the checkout expired`;
  let closed = 0;
  for (const { payment_id } of rows) {
    try {
      await closePortalCheckouts(ctx, tenantId, [payment_id], reason);
      closed++;
    } catch (e) {
      // The processor could not be reached: the checkout stays open and the next sweep (a minute) tries again.
      if (!(e instanceof UseCaseError)) throw e;
      ctx.log.warn({ tenantId, paymentId: payment_id, err: e.message }, 'could not expire an abandoned portal checkout; will try again');
    }
  }
  return closed;
}

function describeHours(ms: number): string {
  const h = ms / 3600_000;
  if (h >= 1 && Number.isInteger(h)) return `${h} hour${h === 1 ? '' : 's'}`;
  return `${Math.round(ms / 60_000)} minutes`;
}
