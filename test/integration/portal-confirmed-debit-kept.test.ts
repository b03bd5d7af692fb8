// A bank debit the client confirmed is money on its way, even while Settle has not heard of it yet: a second
// tab's checkout for the same invoices must not cancel it. Stripe cancels a `processing` intent "in rare
// cases" (its API reference), and the soak found exactly that: a confirmed ACH debit canceled by a second
// checkout, its payment left `processing` for ever. Here the debit's webhooks are lost, so Settle learns of
// the confirmation only when it goes to close the checkout — and must record it, not cancel it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bankForToken, TEST_ROUTING_NUMBER } from '../../simulators/stripe/test-methods.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payByBankInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 1, invoices: 4 });
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

  it('a failed debit the client confirms again is in flight: the next checkout does not take its money again', async () => {
    const c = (await openInvoices(stack)).at(-1); // one the first test did not touch
    const token = await stack.portalToken(c!.client_id);
    // Settle's cancel of the failed intent does not get through (the processor answers 500 for a while),
    // so the intent stays confirmable — as in the soak, where the client re-confirmed within a second.
    stack.sims.stripe.sim.faults.add({
      method: 'POST',
      pathPattern: '^/v1/payment_intents/[^/]+/cancel$',
      fault: { kind: 'status', status: 500, body: { error: { type: 'api_error', message: 'injected' } } },
      times: 1000,
    });
    const first = await payByBankInPortal(stack, token, [c!.id]);
    await sim('/_sim/ach/settle', { payment_intent: first.intentId, outcome: 'failed' });
    await eventually(async () => (await paymentState(first.paymentId)).state === 'failed', 60_000, 'the debit recorded as failed');
    expect(stack.sims.stripe.sim.store.paymentIntents.get(first.intentId)?.status).toBe('requires_payment_method');

    // The client confirms the same intent again; Settle does not hear of it (webhooks lost).
    await sim('/_sim/webhooks/options', { drop: 1000 });
    const s = stack.sims.stripe;
    const again = await fetch(`${s.baseUrl}/_sim/elements/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_secret: first.body['client_secret'],
        pk: s.publishableKey,
        method: 'us_bank_account',
        bank: { holder: 'Pat Client', routing: TEST_ROUTING_NUMBER, account: bankForToken('pm_usBankAccount')!.accountNumber, account_type: 'checking' },
        mandate_accepted: true,
        user_agent: 'settle-integration-test',
      }),
    });
    expect(again.ok, await again.clone().text()).toBe(true);
    expect(s.sim.store.paymentIntents.get(first.intentId)?.status).toBe('processing');

    // A second checkout for the same invoice finds the old intent processing: the payment is in flight again,
    // and the invoice's money is not offered a second time. The cancel stays refused until /pay has answered:
    // /pay reads the intent before any cancel, so it never needs one; lifting the fault earlier let a background
    // cancel whose read predates the re-confirmation land on the processing debit (CI at load ~7: /pay 200, the
    // payment still failed). That read-then-cancel window is Stripe's (no conditional cancel) — see the note on
    // StripeConnector.cancelPortalPayment — and is one round trip wide outside a test that lifts the fault inside it.
    const res = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoice_ids: [c!.id], method: 'us_bank_account' }), // the same selection: not handed the old intent back
    });
    const answer = await res.text();
    s.sim.faults.clear();
    expect((await paymentState(first.paymentId)).state, `after /pay answered ${res.status} ${answer}`).toBe('processing');
    expect(res.ok, 'no checkout for money already in flight').toBe(false);
    const audited = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('audit_log').select('action').where('subject_id', '=', first.paymentId).execute(),
    );
    expect(audited.map((a) => a.action)).toContain('payment.resubmitted_after_failure');

    // The bank settles it this time: paid once.
    await sim('/_sim/webhooks/options', { drop: 0 });
    await sim('/_sim/ach/settle', { payment_intent: first.intentId, outcome: 'succeeded' });
    await eventually(async () => (await paymentState(first.paymentId)).state === 'succeeded', 60_000, 'the re-confirmed debit recorded as succeeded');
    const paid = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx
        .selectFrom('allocations')
        .select((eb) => eb.fn.sum<string>('amount_minor').as('total'))
        .where('invoice_id', '=', c!.id)
        .executeTakeFirstOrThrow(),
    );
    expect(BigInt(paid.total)).toBe(BigInt(c!.total_minor));
  }, 120_000);
});
