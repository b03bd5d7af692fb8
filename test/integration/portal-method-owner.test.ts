// Issue #6 item 3: the portal's card review (/quote, then /pay-card) takes a processor payment-method id
// from the browser. Only this client's card may be reviewed and charged: a method attached to another
// client's processor customer, or a fresh one another client's review has already named, is refused with
// a clear 4xx — nothing charged at the processor, nothing stored in Settle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { ensureProcessorCustomer } from '../../src/engine/start-portal-payment.ts';
import { openInvoices, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let mine: { clientId: string; invoiceId: string; token: string };
let theirs: { clientId: string; invoiceId: string; token: string };

beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 6 });
  const invoices = await openInvoices(stack);
  const a = invoices[0]!;
  const b = invoices.find((i) => i.client_id !== a.client_id)!;
  mine = { clientId: a.client_id, invoiceId: a.id, token: await stack.portalToken(a.client_id) };
  theirs = { clientId: b.client_id, invoiceId: b.id, token: await stack.portalToken(b.client_id) };
});
afterAll(async () => stack?.close());

async function stripe(path: string, params: Record<string, string>, key = stack.sims.stripe.secretKey): Promise<{ status: number; json: { id: string } }> {
  const res = await fetch(`${stack.sims.stripe.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, json: (await res.json()) as { id: string } };
}

/** What Stripe.js does in the hosted fields: create the PaymentMethod with the publishable key. */
async function freshCard(): Promise<string> {
  const r = await stripe(
    '/v1/payment_methods',
    { type: 'card', 'card[number]': '4242424242424242', 'card[exp_month]': '12', 'card[exp_year]': '2040', 'card[cvc]': '123' },
    stack.sims.stripe.publishableKey,
  );
  expect(r.status).toBe(200);
  return r.json.id;
}

async function quote(who: { token: string; invoiceId: string }, pm: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.settleUrl}/portal/${who.token}/quote`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ invoices: [{ invoice_id: who.invoiceId }], payment_method: pm }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** What Settle and the processor hold: reviews, payments, PaymentIntents. */
async function snapshot(): Promise<{ quotes: number; payments: number; intents: number }> {
  const [quotes, payments] = await withTenant(stack.database.db, stack.tenantId, async (tx) => [
    (await tx.selectFrom('surcharge_quotes').select('id').execute()).length,
    (await tx.selectFrom('payments').select('id').execute()).length,
  ]);
  return { quotes: quotes!, payments: payments!, intents: stack.sims.stripe.sim.store.paymentIntents.size };
}

describe('portal card review: only this client’s payment method', () => {
  it('refuses a card saved for another client: 404, nothing charged, nothing stored', async () => {
    const theirCustomer = await ensureProcessorCustomer(stack.settle!.ctx, stack.tenantId, theirs.clientId);
    const saved = await stripe('/v1/payment_methods/pm_card_visa/attach', { customer: theirCustomer });
    expect(saved.status).toBe(200);
    const before = await snapshot();
    const r = await quote(mine, saved.json.id);
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: { code: 'not_found' } });
    expect(String((r.body.error as { message: string }).message)).toMatch(/enter your card/);
    // The card's brand and last digits are not revealed either.
    expect(JSON.stringify(r.body)).not.toContain('4242');
    expect(await snapshot()).toEqual(before);
    // The owner may use it.
    expect((await quote(theirs, saved.json.id)).status).toBe(200);
  });

  it('refuses a fresh card another client’s review already named, and the pay step cannot borrow that review', async () => {
    const pm = await freshCard();
    const theirQuote = await quote(theirs, pm);
    expect(theirQuote.status).toBe(200);
    const before = await snapshot();
    const r = await quote(mine, pm);
    expect(r.status).toBe(404);
    expect(await snapshot()).toEqual(before);
    // Confirming the other client's review from this client's link is refused as well; nothing is charged.
    const pay = await fetch(`${stack.settleUrl}/portal/${mine.token}/pay-card`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ quote_id: theirQuote.body.quote_id, accepted_total_minor: theirQuote.body.total_minor }),
    });
    expect(pay.status).toBe(404);
    await pay.arrayBuffer();
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a card entry older than one portal visit: 410, nothing stored', async () => {
    const sim = stack.sims.stripe.sim;
    sim.advanceClock(-2 * 3600);
    let old: string;
    try {
      old = await freshCard();
    } finally {
      sim.advanceClock(2 * 3600);
    }
    const before = await snapshot();
    const r = await quote(mine, old);
    expect(r.status).toBe(410);
    expect(await snapshot()).toEqual(before);
  });

  it('accepts this client’s own fresh card and charges it once', async () => {
    const pm = await freshCard();
    const q = await quote(mine, pm);
    expect(q.status).toBe(200);
    const pay = await fetch(`${stack.settleUrl}/portal/${mine.token}/pay-card`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ quote_id: q.body.quote_id, accepted_total_minor: q.body.total_minor }),
    });
    const body = (await pay.json()) as { status: string };
    expect(pay.status).toBe(200);
    expect(body.status).toBe('succeeded');
    const charged = [...stack.sims.stripe.sim.store.charges.values()].filter((c) => c.payment_method === pm && c.status === 'succeeded');
    expect(charged).toHaveLength(1);
  });
});
