// POST /api/v1/payments is safe to retry (issue #6 item 12): an Idempotency-Key replays the first answer and
// never charges twice, a reused key with another body is refused, money already in flight on an invoice is
// not charged again (409 naming the payment), a lost answer is resolved by asking Stripe — after its search
// can answer — never by re-sending, and an attempt that provably never left Settle is closed at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { planPayment } from '../../src/engine/plan-payment.ts';
import { startPortalPayment } from '../../src/engine/start-portal-payment.ts';
import { resolveUnknownPayments } from '../../src/engine/resolve-unknown-payments.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { apiFor, newCompany, newInvoice, product, q, saveCard, todayUtc, type Api } from '../helpers/autopay.ts';

let stack: Stack;
let api: Api;
let apiKey: string;
beforeAll(async () => {
  stack = await startStack();
  apiKey = await stack.apiKey();
  api = apiFor(stack, apiKey);
});
afterAll(async () => stack?.close());

interface Answer {
  status: number;
  replayed: boolean;
  body: { payment_id?: string; outcome?: string; error?: { code: string; message: string; reason?: string; payment?: { id: string; state: string } } };
}

async function charge(body: unknown, key?: string): Promise<Answer> {
  const res = await fetch(`${stack.settleUrl}/api/v1/payments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true', body: (await res.json()) as Answer['body'] };
}

let n = 0;
/** A new client with one open invoice in the PSA and a saved Visa card. */
async function clientWithInvoice(): Promise<{ invoiceId: string; clientId: string; methodId: string; totalMinor: bigint }> {
  const company = newCompany(stack, `Idem Client ${++n}`);
  const inv = await newInvoice(stack, company, { date: todayUtc(), dueDate: todayUtc(), lines: [product('Managed services', `${200 + n}.00`)] });
  const methodId = await saveCard(stack, api, inv.clientId);
  return { invoiceId: inv.id, clientId: inv.clientId, methodId, totalMinor: inv.totalMinor };
}

const paymentsOn = (invoiceId: string) =>
  q(stack, async (tx) =>
    (await tx.selectFrom('payments').select(['id', 'state', 'planned_allocations', 'failure_code']).execute()).filter((p) =>
      p.planned_allocations.some((a) => a.invoiceId === invoiceId),
    ),
  );
const intentsOf = (paymentId: string) => [...stack.sims.stripe.sim.store.paymentIntents.values()].filter((pi) => pi.metadata['settle_payment'] === paymentId);

describe('POST /api/v1/payments with Idempotency-Key', () => {
  it('the same key and body, sent five times at once and again later: one payment, one charge, the same answer', { timeout: 120_000 }, async () => {
    const c = await clientWithInvoice();
    const body = { payment_method_id: c.methodId, invoices: [{ invoice_id: c.invoiceId }] };
    const answers = await Promise.all(Array.from({ length: 5 }, () => charge(body, 'retry-after-lost-answer-1')));
    const ok = answers.filter((a) => a.status === 201);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    // The others either got the first answer replayed or were told the first is still in progress.
    for (const a of answers.filter((x) => x.status !== 201)) {
      expect(a.status).toBe(409);
      expect(a.body.error?.reason).toBe('idempotency_key_in_use');
    }
    expect(new Set(ok.map((a) => a.body.payment_id)).size).toBe(1);
    const paymentId = ok[0]!.body.payment_id!;
    expect(ok[0]!.body.outcome).toBe('succeeded');

    const again = await charge(body, 'retry-after-lost-answer-1');
    expect(again).toMatchObject({ status: 201, replayed: true, body: { payment_id: paymentId, outcome: 'succeeded' } });
    expect(await paymentsOn(c.invoiceId)).toEqual([expect.objectContaining({ id: paymentId, state: 'succeeded' })]);
    expect(intentsOf(paymentId)).toHaveLength(1);

    // Keys are the caller's: another API key may use the same key for its own request.
    const otherKey = await stack.apiKey();
    const c2 = await clientWithInvoice();
    const res = await fetch(`${stack.settleUrl}/api/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${otherKey}`, 'content-type': 'application/json', 'idempotency-key': 'retry-after-lost-answer-1' },
      body: JSON.stringify({ payment_method_id: c2.methodId, invoices: [{ invoice_id: c2.invoiceId }] }),
    });
    expect(res.status).toBe(201);
  });

  it('the same key with a different body is refused, Stripe-like, and charges nothing', async () => {
    const c = await clientWithInvoice();
    const first = await charge({ payment_method_id: c.methodId, invoices: [{ invoice_id: c.invoiceId, amount_minor: '1000' }] }, 'key-reused-1');
    expect(first.status).toBe(201);
    const reused = await charge({ payment_method_id: c.methodId, invoices: [{ invoice_id: c.invoiceId, amount_minor: '2000' }] }, 'key-reused-1');
    expect(reused.status).toBe(409);
    expect(reused.body.error).toMatchObject({ code: 'conflict', type: 'idempotency_error', reason: 'idempotency_key_reused' });
    expect(reused.body.error!.message).toContain('can only be used with the same parameters they were first used with');
    expect(reused.body.error!.message).toContain("'key-reused-1'");
    expect(await paymentsOn(c.invoiceId)).toHaveLength(1);

    const badKey = await charge({ payment_method_id: c.methodId, invoices: [{ invoice_id: c.invoiceId }] }, 'has space');
    expect(badKey.status).toBe(422);
    expect(badKey.body.error!.message).toMatch(/Idempotency-Key/);
  });

  it(
    'a lost answer: a second charge for the invoice is refused naming the payment in flight; asking Stripe (once its search can answer) resolves it to one charge',
    { timeout: 120_000 },
    async () => {
      const c = await clientWithInvoice();
      const sim = stack.sims.stripe.sim;
      sim.setDelivery({ drop: 1000 }); // no webhook either: only asking can tell
      sim.setSearchLag(3_000); // Stripe search is eventually consistent
      // Both answers lost: stripe-node resends once (same key) on a reset socket.
      sim.loseResponses({ method: 'POST', pathPattern: '^/v1/payment_intents$', mode: 'drop', times: 2 });
      try {
        const body = { payment_method_id: c.methodId, invoices: [{ invoice_id: c.invoiceId }] };
        const first = await charge(body, 'lost-answer-1');
        expect(first.status).toBe(201);
        expect(first.body.outcome).toBe('unknown');
        const paymentId = first.body.payment_id!;
        expect(intentsOf(paymentId)).toEqual([expect.objectContaining({ status: 'succeeded' })]); // Stripe did charge

        // A retry without the key (or with another) is a new request: refused, naming the payment in flight.
        for (const key of [undefined, 'a-different-key']) {
          const second = await charge(body, key);
          expect(second.status).toBe(409);
          expect(second.body.error!.payment).toMatchObject({ id: paymentId, state: 'unknown' });
          expect(second.body.error!.message).toContain(paymentId);
        }
        // The same key: the first answer again.
        expect(await charge(body, 'lost-answer-1')).toMatchObject({ status: 201, replayed: true, body: { payment_id: paymentId, outcome: 'unknown' } });

        // The janitor asks by our attempt id; until Stripe's search has indexed the intent it cannot tell, so it waits
        // (it never concludes "not sent" from an index that is behind) and asks again.
        const early = await resolveUnknownPayments(stack.settle!.ctx, stack.tenantId, { askAfterMs: 0 });
        const state = (await paymentsOn(c.invoiceId))[0]!.state;
        if (early === 0) expect(state).toBe('unknown');
        await eventually(
          async () =>
            (await resolveUnknownPayments(stack.settle!.ctx, stack.tenantId, { askAfterMs: 0 })) > 0 ||
            (await paymentsOn(c.invoiceId))[0]!.state === 'succeeded',
          60_000,
          'resolved by asking Stripe',
        );
        expect(await paymentsOn(c.invoiceId)).toEqual([expect.objectContaining({ id: paymentId, state: 'succeeded' })]);
        expect(intentsOf(paymentId)).toHaveLength(1);
        const charges = [...sim.store.charges.values()].filter((ch) => (ch as { payment_intent: unknown }).payment_intent === intentsOf(paymentId)[0]!.id);
        expect(charges).toHaveLength(1);
        // Nothing in flight any more: the invoice is paid, so a new charge is refused as paid, not as in flight.
        const after = await charge(body);
        expect(after.status).toBe(409);
        expect(after.body.error!.payment).toBeUndefined();
      } finally {
        sim.setSearchLag(0);
        sim.setDelivery({ drop: 0 });
      }
    },
  );

  it(
    'an attempt that failed before the processor was called is closed at once as never sent, and the invoice can be charged again',
    { timeout: 120_000 },
    async () => {
      const c = await clientWithInvoice();
      // The processor customer must be looked up again, and Stripe cannot be reached for it.
      await q(stack, (tx) => tx.updateTable('clients').set({ processor_customer_id: null }).where('id', '=', c.clientId).execute());
      stack.sims.stripe.sim.faults.add({ method: 'GET', pathPattern: '^/v1/customers/search', fault: { kind: 'status', status: 500 }, times: 20 });
      const body = { payment_method_id: c.methodId, invoices: [{ invoice_id: c.invoiceId }] };
      const first = await charge(body, 'never-sent-1');
      stack.sims.stripe.sim.faults.clear();
      expect(first).toMatchObject({ status: 201, body: { outcome: 'not_sent' } });
      const paymentId = first.body.payment_id!;
      // Closed now, not after a timer: the payment failed as not sent, the attempt is not left `sending`.
      expect(await paymentsOn(c.invoiceId)).toEqual([expect.objectContaining({ id: paymentId, state: 'failed', failure_code: 'not_sent' })]);
      const attempts = await q(stack, (tx) => tx.selectFrom('payment_attempts').select('outcome').where('payment_id', '=', paymentId).execute());
      expect(attempts.map((a) => a.outcome)).toEqual(['not_sent']);
      expect(intentsOf(paymentId)).toHaveLength(0);

      const again = await charge(body, 'never-sent-2');
      expect(again).toMatchObject({ status: 201, body: { outcome: 'succeeded' } });
      expect(intentsOf(again.body.payment_id!)).toHaveLength(1);
    },
  );

  it(
    'a portal checkout that fails before its intent is created is closed at once: payment not sent, checkout closed, the invoice free',
    { timeout: 120_000 },
    async () => {
      const c = await clientWithInvoice();
      await q(stack, (tx) => tx.updateTable('clients').set({ processor_customer_id: null }).where('id', '=', c.clientId).execute());
      stack.sims.stripe.sim.faults.add({ method: 'GET', pathPattern: '^/v1/customers/search', fault: { kind: 'status', status: 500 }, times: 20 });
      const ctx = stack.settle!.ctx;
      await expect(
        startPortalPayment(ctx, stack.tenantId, { clientId: c.clientId, choices: [{ invoiceId: c.invoiceId }], methodKinds: ['card'] }),
      ).rejects.toThrow();
      stack.sims.stripe.sim.faults.clear();
      const [p] = await paymentsOn(c.invoiceId);
      expect(p).toMatchObject({ state: 'failed', failure_code: 'not_sent' });
      const checkout = await q(stack, (tx) => tx.selectFrom('portal_checkouts').select('status').where('payment_id', '=', p!.id).executeTakeFirstOrThrow());
      expect(checkout.status).toBe('closed');
      // The client tries again at once: a new checkout, nothing in the way.
      const again = await startPortalPayment(ctx, stack.tenantId, { clientId: c.clientId, choices: [{ invoiceId: c.invoiceId }], methodKinds: ['card'] });
      expect(again.paymentId).not.toBe(p!.id);
      expect(intentsOf(again.paymentId)).toHaveLength(1);
    },
  );

  it(
    'an attempt a crash left `sending` (staff charge, portal checkout) is closed by asking: Stripe has nothing, and its search already shows a later payment',
    { timeout: 120_000 },
    async () => {
      const staff = await clientWithInvoice();
      const portal = await clientWithInvoice();
      // As if the process died right after planning: payment and attempt committed, the processor never called.
      const planned = await withTenant(stack.database.db, stack.tenantId, async (tx) => {
        const staffPlan = await planPayment(tx, stack.tenantId, {
          choices: [{ invoiceId: staff.invoiceId }],
          source: 'manual',
          processor: 'stripe',
          keyPrefix: 'manual',
        });
        const portalPlan = await planPayment(tx, stack.tenantId, {
          clientId: portal.clientId,
          choices: [{ invoiceId: portal.invoiceId }],
          source: 'portal',
          processor: 'stripe',
          keyPrefix: 'portal',
        });
        // The portal plans its checkout in the same transaction (start-portal-payment.ts).
        await tx
          .insertInto('portal_checkouts')
          .values({
            tenant_id: stack.tenantId,
            client_id: portal.clientId,
            payment_id: portalPlan.paymentId,
            invoice_id: portal.invoiceId,
            amount_minor: portalPlan.amountMinor,
            method_kinds: ['card'],
          })
          .execute();
        return { staff: staffPlan, portal: portalPlan };
      });
      // Money in flight as far as anyone can tell: a charge for the staff invoice is refused, naming it.
      const refused = await charge({ payment_method_id: staff.methodId, invoices: [{ invoice_id: staff.invoiceId }] });
      expect(refused.status).toBe(409);
      expect(refused.body.error!.payment).toMatchObject({ id: planned.staff.paymentId, state: 'pending' });

      // Search has no answer yet for attempts this young, and no later payment proves the index caught up: wait.
      const ctx = stack.settle!.ctx;
      expect(await resolveUnknownPayments(ctx, stack.tenantId, { askAfterMs: 0 })).toBe(0);
      expect((await paymentsOn(staff.invoiceId))[0]!.state).toBe('pending');

      // A later payment exists, but Stripe's search has not indexed it yet: the index is behind, so "not found"
      // proves nothing — however old the attempts (no fixed give-up time), they are not closed.
      stack.sims.stripe.sim.setSearchLag(600_000);
      const later = await clientWithInvoice();
      try {
        expect((await charge({ payment_method_id: later.methodId, invoices: [{ invoice_id: later.invoiceId }] })).status).toBe(201);
        expect(await resolveUnknownPayments(ctx, stack.tenantId, { askAfterMs: 0, settledAfterMs: 0, searchIndexedAfterMs: 0 })).toBe(0);
        expect((await paymentsOn(staff.invoiceId))[0]!.state).toBe('pending');
      } finally {
        stack.sims.stripe.sim.setSearchLag(0);
      }
      // Once search finds that later payment, the index covers the two attempts: Stripe has nothing for them.
      expect(await resolveUnknownPayments(ctx, stack.tenantId, { askAfterMs: 0, settledAfterMs: 0 })).toBe(2);
      for (const p of [planned.staff, planned.portal]) {
        const row = await q(stack, (tx) => tx.selectFrom('payments').select(['state', 'failure_code']).where('id', '=', p.paymentId).executeTakeFirstOrThrow());
        expect(row).toEqual({ state: 'failed', failure_code: 'not_sent' });
        expect(intentsOf(p.paymentId)).toHaveLength(0);
      }
      const checkout = await q(stack, (tx) =>
        tx.selectFrom('portal_checkouts').select('status').where('payment_id', '=', planned.portal.paymentId).executeTakeFirstOrThrow(),
      );
      expect(checkout.status).toBe('closed');
      // Nothing in flight any more: the staff invoice can be charged.
      const now = await charge({ payment_method_id: staff.methodId, invoices: [{ invoice_id: staff.invoiceId }] });
      expect(now).toMatchObject({ status: 201, body: { outcome: 'succeeded' } });
    },
  );
});
