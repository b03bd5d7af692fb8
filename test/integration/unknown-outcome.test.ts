// Charging a saved card when the processor's answer is lost: the API says `unknown`, nothing is posted,
// and the janitor (resolveUnknownPayments) asks Stripe instead of charging again. One PaymentIntent, one
// charge, one write-back to ConnectWise and one Payment in QuickBooks. A declined saved card fails cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { resolveUnknownPayments } from '../../src/engine/resolve-unknown-payments.ts';
import { ensureProcessorCustomer } from '../../src/engine/start-portal-payment.ts';
import { syncSavedMethods } from '../../src/engine/sync-saved-methods.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let apiKey: string;
beforeAll(async () => {
  stack = await startStack();
  apiKey = await stack.apiKey();
});
afterAll(async () => stack?.close());

/** The client saves a card at the processor (as the hosted fields do), and Settle records it. */
async function savedCard(clientId: string, testToken: string): Promise<string> {
  const ctx = stack.settle!.ctx;
  const customer = await ensureProcessorCustomer(ctx, stack.tenantId, clientId);
  const s = stack.sims.stripe;
  const res = await fetch(`${s.baseUrl}/v1/payment_methods/${testToken}/attach`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ customer }).toString(),
  });
  const pm = (await res.json()) as { id: string };
  if (!res.ok) throw new Error(`attach failed: ${JSON.stringify(pm)}`);
  const methods = await syncSavedMethods(ctx, stack.tenantId, clientId, 'system:test');
  const mine = methods.find((m) => m.processorMethodId === pm.id);
  if (!mine) throw new Error(`saved method ${pm.id} was not recorded: ${JSON.stringify(methods)}`);
  return mine.id;
}

async function charge(
  paymentMethodId: string,
  invoiceId: string,
): Promise<{ status: number; body: { payment_id?: string; outcome?: string; error?: unknown } }> {
  const res = await fetch(`${stack.settleUrl}/api/v1/payments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ payment_method_id: paymentMethodId, invoices: [{ invoice_id: invoiceId }] }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]): Promise<T> => withTenant(stack.database.db, stack.tenantId, fn);

function intentsFor(paymentId: string): { id: string; status: string; amount: number }[] {
  return [...stack.sims.stripe.sim.store.paymentIntents.values()].filter((pi) => pi.metadata['settle_payment'] === paymentId);
}

/** QuickBooks Payments applied to the books' invoice with this number. */
function booksPaymentsFor(invoiceNumber: string): unknown[] {
  const books = stack.sims.quickbooks.sim;
  const inv = books.invoices().find((i) => i['DocNumber'] === invoiceNumber);
  if (!inv) throw new Error(`invoice ${invoiceNumber} is not in the simulated books`);
  return books
    .payments()
    .filter((p) =>
      (p['Line'] as { LinkedTxn?: { TxnId: string; TxnType: string }[] }[]).some((l) =>
        l.LinkedTxn?.some((t) => t.TxnType === 'Invoice' && t.TxnId === inv['Id']),
      ),
    );
}

function chargesFor(intentId: string): unknown[] {
  return [...stack.sims.stripe.sim.store.charges.values()].filter((c) => (c as { payment_intent: unknown }).payment_intent === intentId);
}

describe('saved-card charge with an unknown outcome', () => {
  it('lost answer → outcome unknown, nothing posted; asking Stripe resolves it to succeeded with exactly one charge, posted once to ConnectWise and QuickBooks', async () => {
    const [invoice] = await openInvoices(stack);
    const methodId = await savedCard(invoice!.client_id, 'pm_card_visa');
    const listed = await fetch(`${stack.settleUrl}/api/v1/clients/${invoice!.client_id}/payment-methods`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(((await listed.json()) as { data: unknown[] }).data).toContainEqual(
      expect.objectContaining({ id: methodId, kind: 'card', brand: 'visa', last4: '4242' }),
    );
    // Stripe's webhooks for this charge get lost too, so only asking can tell Settle what happened.
    stack.sims.stripe.sim.setDelivery({ drop: 1000 });
    // Two: stripe-node resends once (same Idempotency-Key) when a kept-alive socket is reset, and Stripe
    // would replay the first answer; losing both leaves Settle without one.
    stack.sims.stripe.sim.loseResponses({ method: 'POST', pathPattern: '^/v1/payment_intents$', mode: 'drop', times: 2 });

    const r = await charge(methodId, invoice!.id);
    expect(r.status).toBe(201);
    expect(r.body.outcome).toBe('unknown');
    const paymentId = r.body.payment_id!;

    const payment = await q((tx) => tx.selectFrom('payments').select(['state', 'processor_payment_id']).where('id', '=', paymentId).executeTakeFirstOrThrow());
    expect(payment.state).toBe('unknown');
    const attempts = await q((tx) =>
      tx.selectFrom('payment_attempts').select(['id', 'outcome', 'processor_payment_id']).where('payment_id', '=', paymentId).execute(),
    );
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.outcome).toBe('unknown');
    expect(await q((tx) => tx.selectFrom('postings').select('id').where('payment_id', '=', paymentId).execute())).toHaveLength(0);
    expect(await q((tx) => tx.selectFrom('allocations').select('id').where('payment_id', '=', paymentId).execute())).toHaveLength(0);
    // Stripe did charge the card; only the answer was lost.
    const intents = intentsFor(paymentId);
    expect(intents).toHaveLength(1);
    expect(intents[0]!.status).toBe('succeeded');
    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice!.remote))).toHaveLength(0);
    expect(booksPaymentsFor(invoice!.number)).toHaveLength(0);

    const resolved = await resolveUnknownPayments(stack.settle!.ctx, stack.tenantId, { askAfterMs: 0 });
    expect(resolved).toBe(1);
    const after = await q((tx) => tx.selectFrom('payments').select(['state', 'processor_payment_id']).where('id', '=', paymentId).executeTakeFirstOrThrow());
    expect(after.state).toBe('succeeded');
    expect(after.processor_payment_id).toBe(intents[0]!.id);
    const attempt = await q((tx) =>
      tx.selectFrom('payment_attempts').select(['outcome', 'processor_payment_id']).where('id', '=', attempts[0]!.id).executeTakeFirstOrThrow(),
    );
    expect(attempt).toEqual({ outcome: 'succeeded', processor_payment_id: intents[0]!.id });

    // Asking again changes nothing and charges nothing.
    expect(await resolveUnknownPayments(stack.settle!.ctx, stack.tenantId, { askAfterMs: 0 })).toBe(0);
    expect(intentsFor(paymentId)).toHaveLength(1);
    expect(chargesFor(intents[0]!.id)).toHaveLength(1);

    const postings = await eventually(
      async () => {
        const rows = await q((tx) => tx.selectFrom('postings').select(['target', 'status']).where('payment_id', '=', paymentId).execute());
        return rows.length === 2 && rows.every((p) => p.status === 'posted') ? rows : null;
      },
      15_000,
      'both postings posted',
    );
    expect(postings.map((p) => p.target).sort()).toEqual(['accounting', 'psa']);
    const cw = stack.sims.connectwise.sim.paymentsFor(Number(invoice!.remote));
    expect(cw).toHaveLength(1);
    expect(Math.round(cw[0]!.amount * 100)).toBe(Number(invoice!.total_minor));
    expect(booksPaymentsFor(invoice!.number)).toHaveLength(1);
    const status = await q((tx) => tx.selectFrom('invoices').select('status').where('id', '=', invoice!.id).executeTakeFirstOrThrow());
    expect(status.status).toBe('paid');
    stack.sims.stripe.sim.setDelivery({ drop: 0 });
  });

  it('a declined saved card → outcome declined, payment failed, invoice still open, nothing posted', async () => {
    const [invoice] = await openInvoices(stack);
    const methodId = await savedCard(invoice!.client_id, 'pm_card_chargeDeclined');

    const r = await charge(methodId, invoice!.id);
    expect(r.status).toBe(201);
    expect(r.body.outcome).toBe('declined');
    const paymentId = r.body.payment_id!;
    const payment = await q((tx) => tx.selectFrom('payments').select(['state', 'failure_code']).where('id', '=', paymentId).executeTakeFirstOrThrow());
    expect(payment.state).toBe('failed');
    expect(payment.failure_code).toBe('generic_decline');
    const inv = await q((tx) => tx.selectFrom('invoices').select(['status', 'paid_minor']).where('id', '=', invoice!.id).executeTakeFirstOrThrow());
    expect(inv).toEqual({ status: 'open', paid_minor: 0n });
    expect(await q((tx) => tx.selectFrom('postings').select('id').where('payment_id', '=', paymentId).execute())).toHaveLength(0);
    // A decline is an answer, not an unknown: the janitor has nothing to ask about.
    expect(await resolveUnknownPayments(stack.settle!.ctx, stack.tenantId, { askAfterMs: 0 })).toBe(0);
    await new Promise((r) => setTimeout(r, 500)); // let any (wrongly) queued posting job run
    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice!.remote))).toHaveLength(0);
    expect(booksPaymentsFor(invoice!.number)).toHaveLength(0);
  });
});
