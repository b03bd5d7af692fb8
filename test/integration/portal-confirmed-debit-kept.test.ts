// A bank debit the client confirmed is money on its way, even while Settle has not heard of it yet: a second
// tab's checkout for the same invoices must not cancel it. Stripe cancels a `processing` intent "in rare
// cases" (its API reference), and the soak found exactly that: a confirmed ACH debit canceled by a second
// checkout, its payment left `processing` for ever. Here the debit's webhooks are lost, so Settle learns of
// the confirmation only when it goes to close the checkout — and must record it, not cancel it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payByBankInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 1, invoices: 3 });
});
afterAll(async () => stack?.close());

async function sim(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${stack.sims.stripe.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.sims.stripe.secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

const paymentState = (id: string) =>
  withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('payments').select(['state', 'failure_code']).where('id', '=', id).executeTakeFirstOrThrow(),
  );

describe('a confirmed bank debit is never canceled by another checkout', () => {
  it('a second checkout for the same invoice records the debit as in flight and leaves it to settle', async () => {
    const [a, b] = await openInvoices(stack);
    expect(b?.client_id).toBe(a!.client_id);
    const token = await stack.portalToken(a!.client_id);

    // The client confirms a bank debit for A; every webhook about it is lost.
    await sim('/_sim/webhooks/options', { drop: 1000 });
    const first = await payByBankInPortal(stack, token, [a!.id]);
    expect(stack.sims.stripe.sim.store.paymentIntents.get(first.intentId)?.status).toBe('processing');
    await sim('/_sim/webhooks/options', { drop: 0 });
    expect((await paymentState(first.paymentId)).state).toBe('pending'); // Settle has not heard

    // Another tab: pay A and B by card. The open checkout on A is closed — without canceling the debit.
    const res = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoice_ids: [a!.id, b!.id], method: 'card' }),
    });
    expect(res.status).toBeLessThan(500);
    expect(stack.sims.stripe.sim.store.paymentIntents.get(first.intentId)?.status).toBe('processing');
    expect((await paymentState(first.paymentId)).state).toBe('processing');
    if (res.ok) {
      // If a checkout was opened, it is not for A's money again: A is in flight.
      const body = (await res.json()) as { amount_minor?: number; client_secret: string };
      const pi = stack.sims.stripe.sim.store.paymentIntents.get(body.client_secret.split('_secret_')[0]!)!;
      expect(pi.amount).toBeLessThan(Number(a!.total_minor) + Number(b!.total_minor));
    }

    // The bank settles the debit: the payment succeeds and A is paid, once.
    await sim('/_sim/ach/settle', { payment_intent: first.intentId, outcome: 'succeeded' });
    await eventually(async () => (await paymentState(first.paymentId)).state === 'succeeded', 60_000, 'the debit recorded as succeeded');
    const invoice = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('invoices').select(['status', 'paid_minor']).where('id', '=', a!.id).executeTakeFirstOrThrow(),
    );
    expect(invoice.status).toBe('paid');
  }, 120_000);
});
