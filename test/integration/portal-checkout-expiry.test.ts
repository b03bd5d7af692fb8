// A portal checkout the client opened and never paid must not hold its invoices for ever: after
// SETTLE_CHECKOUT_EXPIRY_HOURS its intent is canceled at the processor, the payment ends failed with
// `checkout_canceled` (no money moved: no exception, no e-mail), and the client can start again from the link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { expirePortalCheckouts } from '../../src/engine/expire-portal-checkouts.ts';
import { CHECKOUT_CANCELED } from '../../src/engine/close-portal-checkouts.ts';
import { openInvoices, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 4 });
});
afterAll(async () => stack?.close());

async function pay(token: string, invoiceIds: string[]): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ invoice_ids: invoiceIds, method: 'card' }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const intent = (clientSecret: unknown) => stack.sims.stripe.sim.store.paymentIntents.get(String(clientSecret).split('_secret_')[0]!);

describe('abandoned portal checkouts expire', () => {
  it('an unpaid checkout is left alone before its expiry and canceled after it; the client can pay afresh', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const token = await stack.portalToken(invoice.client_id);
    const first = await pay(token, [invoice.id]);
    expect(first.status).toBe(200);
    const paymentId = String(first.body['payment_id']);
    const ctx = stack.settle!.ctx;

    // Opened a moment ago: the default 24 hours have not passed.
    expect(await expirePortalCheckouts(ctx, stack.tenantId)).toBe(0);
    expect(intent(first.body['client_secret'])?.status).toBe('requires_payment_method');

    // A day and an hour later, as the minute sweep's job would run it.
    const later = { ...ctx, now: () => new Date(Date.now() + 25 * 3600_000) };
    expect(await expirePortalCheckouts(later, stack.tenantId)).toBe(1);
    expect(intent(first.body['client_secret'])?.status).toBe('canceled');
    const after = await withTenant(stack.database.db, stack.tenantId, async (tx) => ({
      payment: await tx.selectFrom('payments').select(['state', 'failure_code', 'failure_message']).where('id', '=', paymentId).executeTakeFirstOrThrow(),
      checkouts: await tx.selectFrom('portal_checkouts').select(['status', 'close_reason']).where('payment_id', '=', paymentId).execute(),
      audit: await tx.selectFrom('audit_log').select('action').where('subject_id', '=', paymentId).where('action', '=', 'payment.checkout_canceled').execute(),
      exceptions: await tx.selectFrom('exceptions').select('kind').where('payment_id', '=', paymentId).execute(),
    }));
    expect(after.payment.state).toBe('failed');
    expect(after.payment.failure_code).toBe(CHECKOUT_CANCELED);
    expect(after.payment.failure_message).toMatch(/not paid within 24 hours/);
    expect(after.checkouts.map((c) => c.status)).toEqual(['closed']);
    expect(after.audit).toHaveLength(1);
    expect(after.exceptions).toEqual([]); // no money moved: nobody has anything to do

    // Expiring again changes nothing; the client's next visit opens a new checkout for the same invoice.
    expect(await expirePortalCheckouts(later, stack.tenantId)).toBe(0);
    const second = await pay(token, [invoice.id]);
    expect(second.status).toBe(200);
    expect(second.body['payment_id']).not.toBe(paymentId);
    expect(intent(second.body['client_secret'])?.status).toBe('requires_payment_method');
  }, 60_000);
});
