// Partial payments, several invoices in one payment, and an overpayment that becomes the client's credit
// and is applied to the next invoice — through the portal over HTTP, with ConnectWise and QuickBooks
// receiving each allocation as a payment against its invoice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { format, money } from '../../src/domain/money.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';
import { cwPaymentsCents, invoiceRow, newInvoice, paymentState, portalPay, postingsPosted, qboPaymentsCents } from './collections-helpers.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 9 });
});
afterAll(async () => stack?.close());

/** Open invoices grouped by client, the client with the most first. */
async function clientsWithInvoices(): Promise<Awaited<ReturnType<typeof openInvoices>>[]> {
  const all = await openInvoices(stack);
  const by = new Map<string, typeof all>();
  for (const i of all) by.set(i.client_id, [...(by.get(i.client_id) ?? []), i]);
  return [...by.values()].sort((a, b) => b.length - a.length);
}

const ledgerNet = async (account: string): Promise<bigint> => {
  const rows = await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('ledger_entries').select(['direction', 'amount_minor']).where('account', '=', account).execute(),
  );
  return rows.reduce((s, e) => s + (e.direction === 'debit' ? e.amount_minor : -e.amount_minor), 0n);
};

describe('partial payments and several invoices', () => {
  it('pays half of an invoice, then the other half the same day: two payments in ConnectWise and QuickBooks, invoice paid', async () => {
    const [mine] = await clientsWithInvoices();
    // An even total, so both halves are the same amount on the same day.
    const fresh = await newInvoice(stack, mine![0]!.client_id, '200.00', 2);
    const inv = { id: fresh.id, remote: fresh.remote, number: fresh.number, total_minor: fresh.total, client_id: mine![0]!.client_id };
    const token = await stack.portalToken(inv.client_id);
    const half = inv.total_minor / 2n;
    const rest = inv.total_minor - half;
    const dec = (n: bigint) => `${n / 100n}.${String(n % 100n).padStart(2, '0')}`;

    const first = await portalPay(stack, token, [{ invoice_id: inv.id, amount: dec(half) }]);
    await postingsPosted(stack, first.paymentId!);
    expect(await invoiceRow(stack, inv.id)).toMatchObject({ status: 'partially_paid', paid_minor: half });

    // Asking for more than is still open is refused with the amount that is open, and nothing is created.
    const before = await withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('payments').select('id').execute());
    const tooMuch = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoices: [{ invoice_id: inv.id, amount: dec(rest + 1n) }], method: 'card' }),
    });
    expect(tooMuch.status).toBe(422);
    // In the client's words: dollars, not minor units ("invoice N has $200.00 left to pay; … enter at most $200.00").
    expect(((await tooMuch.json()) as { error: { message: string } }).error.message).toContain(`at most ${format(money(rest, 'USD'))}`);
    const garbage = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoices: [{ invoice_id: inv.id, amount: '12.3.4' }], method: 'card' }),
    });
    expect(garbage.status).toBe(422);
    expect(((await garbage.json()) as { error: { message: string } }).error.message).toMatch(/not an amount/);
    expect(await withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('payments').select('id').execute())).toHaveLength(before.length);

    const second = await portalPay(stack, token, [{ invoice_id: inv.id, amount: dec(rest) }]);
    await postingsPosted(stack, second.paymentId!);
    expect(await invoiceRow(stack, inv.id)).toMatchObject({ status: 'paid', paid_minor: inv.total_minor });
    // Same day, and (for an even total) the same amount: still two payments in the PSA, never one taken for the other.
    expect(cwPaymentsCents(stack, inv.remote).sort()).toEqual([Number(half), Number(rest)].sort());
    expect(qboPaymentsCents(stack, inv.number).sort()).toEqual([Number(half), Number(rest)].sort());
  });

  it('pays two invoices in one payment with an amount for each; allocations are recorded per invoice', async () => {
    const groups = await clientsWithInvoices();
    const mine = groups.find((g) => g.length >= 2)!;
    const [a, b] = [mine[0]!, mine[1]!];
    const token = await stack.portalToken(a.client_id);
    const partOfB = b.total_minor - 1000n;
    const r = await portalPay(stack, token, [
      { invoice_id: a.id },
      { invoice_id: b.id, amount: `${partOfB / 100n}.${String(partOfB % 100n).padStart(2, '0')}` },
    ]);
    await postingsPosted(stack, r.paymentId!, 4);
    const allocations = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('allocations').select(['invoice_id', 'amount_minor']).where('payment_id', '=', r.paymentId!).execute(),
    );
    expect(new Map(allocations.map((x) => [x.invoice_id, x.amount_minor]))).toEqual(
      new Map([
        [a.id, a.total_minor],
        [b.id, partOfB],
      ]),
    );
    const payment = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('payments').select(['amount_minor']).where('id', '=', r.paymentId!).executeTakeFirstOrThrow(),
    );
    expect(payment.amount_minor).toBe(a.total_minor + partOfB);
    expect(await invoiceRow(stack, a.id)).toMatchObject({ status: 'paid' });
    expect(await invoiceRow(stack, b.id)).toMatchObject({ status: 'partially_paid', paid_minor: partOfB });
    expect(cwPaymentsCents(stack, a.remote)).toEqual([Number(a.total_minor)]);
    expect(cwPaymentsCents(stack, b.remote)).toEqual([Number(partOfB)]);
    expect(qboPaymentsCents(stack, b.number)).toEqual([Number(partOfB)]);
  });
});

describe('overpayment becomes credit, applied to the next invoice', () => {
  it('an invoice lowered in the PSA while the client pays leaves credit; the next payment spends it first', async () => {
    const groups = await clientsWithInvoices();
    const clientId = groups[groups.length - 1]![0]!.client_id;
    // An invoice with two lines; the client starts paying it in full.
    const inv = await newInvoice(stack, clientId, '200.00', 2); // $400.00
    const token = await stack.portalToken(clientId);
    const res = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoices: [{ invoice_id: inv.id }], method: 'card' }),
    });
    const started = (await res.json()) as { payment_id: string; client_secret: string };
    expect(res.status).toBe(200);
    // Meanwhile the MSP issues a $150 credit on the invoice in ConnectWise.
    stack.sims.connectwise.sim.updateInvoice(Number(inv.remote), { addLines: [{ kind: 'expense', notes: 'Goodwill credit', amount: '-150.00' }] });
    await stack.sims.connectwise.sim.flushCallbacks();
    await eventually(async () => (await invoiceRow(stack, inv.id)).total_minor === 25_000n, 15_000, 'lowered invoice in Settle');
    // The client confirms the $400 it was shown.
    const intentId = started.client_secret.split('_secret_')[0]!;
    const confirm = await fetch(`${stack.sims.stripe.baseUrl}/v1/payment_intents/${intentId}/confirm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.sims.stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payment_method=pm_card_visa',
    });
    expect(confirm.ok).toBe(true);
    await eventually(async () => (await paymentState(stack, started.payment_id)) === 'succeeded', 15_000, 'payment succeeded');
    await postingsPosted(stack, started.payment_id);
    expect(cwPaymentsCents(stack, inv.remote)).toEqual([25_000]);

    const api = await stack.apiKey();
    const credit = (await (await fetch(`${stack.settleUrl}/api/v1/clients/${clientId}/credit`, { headers: { authorization: `Bearer ${api}` } })).json()) as {
      available: { currency: string; amount_minor: string }[];
      entries: { kind: string; amount_minor: string; source_payment_id: string }[];
    };
    expect(credit.available).toEqual([{ currency: 'USD', amount_minor: '15000' }]);
    expect(credit.entries).toEqual([expect.objectContaining({ kind: 'overpayment', amount_minor: '15000', source_payment_id: started.payment_id })]);
    expect(await ledgerNet('client_credit')).toBe(-15_000n);
    const page = await (await fetch(`${stack.settleUrl}/portal/${token}`)).text();
    expect(page).toContain('Credit on your account: $150.00');

    // The next invoice: the client pays it in full; $150 comes from credit, only the rest is charged.
    const next = await newInvoice(stack, clientId, '90.00', 3); // $270.00
    const paid = await portalPay(stack, token, [{ invoice_id: next.id }]);
    const charged = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('payments').select(['amount_minor', 'processor']).where('id', '=', paid.paymentId!).executeTakeFirstOrThrow(),
    );
    expect(charged).toEqual({ amount_minor: 12_000n, processor: 'stripe' });
    await postingsPosted(stack, paid.paymentId!);
    const creditPayment = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx
        .selectFrom('payments')
        .select(['id', 'amount_minor', 'state', 'source'])
        .where('processor', '=', 'client_credit')
        .where('client_id', '=', clientId)
        .executeTakeFirstOrThrow(),
    );
    expect(creditPayment).toMatchObject({ amount_minor: 15_000n, state: 'succeeded', source: 'portal' });
    await postingsPosted(stack, creditPayment.id);
    expect(await invoiceRow(stack, next.id)).toMatchObject({ status: 'paid' });
    expect(cwPaymentsCents(stack, next.remote).sort()).toEqual([12_000, 15_000]);
    expect(qboPaymentsCents(stack, next.number).sort()).toEqual([12_000, 15_000]);
    expect(await ledgerNet('client_credit')).toBe(0n);
    const after = (await (await fetch(`${stack.settleUrl}/api/v1/clients/${clientId}/credit`, { headers: { authorization: `Bearer ${api}` } })).json()) as {
      available: unknown[];
      entries: { kind: string }[];
    };
    expect(after.available).toEqual([]);
    expect(after.entries.map((e) => e.kind)).toEqual(['overpayment', 'applied']);
    const audit = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('audit_log').select('action').where('action', 'in', ['credit.created', 'credit.applied']).execute(),
    );
    expect(audit.map((a) => a.action).sort()).toEqual(['credit.applied', 'credit.created']);
  });

  it('staff apply credit by API, or decide to refund it; a refund larger than the credit is refused', async () => {
    const groups = await clientsWithInvoices();
    const clientId = groups[0]![0]!.client_id;
    const api = await stack.apiKey();
    const h = { authorization: `Bearer ${api}`, 'content-type': 'application/json' };
    const none = await fetch(`${stack.settleUrl}/api/v1/clients/${clientId}/credit/applications`, { method: 'POST', headers: h, body: '{}' });
    expect(none.status).toBe(422);
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/no credit/);
    const tooMuch = await fetch(`${stack.settleUrl}/api/v1/clients/${clientId}/credit/refunds`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ amount_minor: '100', reason: 'client asked' }),
    });
    expect(tooMuch.status).toBe(422);
    expect(((await tooMuch.json()) as { error: { message: string } }).error.message).toMatch(/has 0 USD minor units of credit/);
  });

  it('staff decide to refund part of a credit: refunded to the card that paid it, once per Idempotency-Key', async () => {
    const groups = await clientsWithInvoices();
    const clientId = groups[groups.length - 1]![0]!.client_id;
    const inv = await newInvoice(stack, clientId, '100.00');
    const token = await stack.portalToken(clientId);
    const res = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoices: [{ invoice_id: inv.id }], method: 'card' }),
    });
    const started = (await res.json()) as { payment_id: string; client_secret: string };
    stack.sims.connectwise.sim.updateInvoice(Number(inv.remote), { addLines: [{ kind: 'expense', notes: 'Credit', amount: '-40.00' }] });
    await stack.sims.connectwise.sim.flushCallbacks();
    await eventually(async () => (await invoiceRow(stack, inv.id)).total_minor === 6_000n, 15_000, 'lowered invoice');
    const intentId = started.client_secret.split('_secret_')[0]!;
    await fetch(`${stack.sims.stripe.baseUrl}/v1/payment_intents/${intentId}/confirm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.sims.stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payment_method=pm_card_visa',
    });
    await eventually(async () => (await paymentState(stack, started.payment_id)) === 'succeeded', 15_000, 'payment succeeded');

    const api = await stack.apiKey();
    const h = { authorization: `Bearer ${api}`, 'content-type': 'application/json', 'idempotency-key': `credit-refund-test-${started.payment_id}` };
    const send = () =>
      fetch(`${stack.settleUrl}/api/v1/clients/${clientId}/credit/refunds`, {
        method: 'POST',
        headers: h,
        body: JSON.stringify({ amount_minor: '2500', reason: 'client asked for the money back' }),
      });
    const first = await send();
    expect(first.status).toBe(201);
    const body = (await first.json()) as { refunds: { source_payment_id: string; amount_minor: string; status: string }[] };
    expect(body.refunds).toEqual([expect.objectContaining({ source_payment_id: started.payment_id, amount_minor: '2500', status: 'refunded' })]);
    const again = (await (await send()).json()) as typeof body;
    expect(again.refunds.map((r) => r.status)).toEqual(['refunded']);
    const refunds = [...stack.sims.stripe.sim.store.refunds.values()].filter((r) => r.payment_intent === intentId);
    expect(refunds.map((r) => r.amount)).toEqual([2_500]);
    const credit = (await (await fetch(`${stack.settleUrl}/api/v1/clients/${clientId}/credit`, { headers: h })).json()) as {
      available: { amount_minor: string }[];
    };
    expect(credit.available.map((a) => a.amount_minor)).toEqual(['1500']);
    // The invoice the payment paid stays paid: the refund came out of the credit, not the invoice.
    expect(await invoiceRow(stack, inv.id)).toMatchObject({ status: 'paid' });
  });
});
