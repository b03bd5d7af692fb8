// Card refunds through the API, full and partial: idempotent by Idempotency-Key, sent to Stripe once,
// booked once (ledger journal.refund, payment state), and written back: ConnectWise's payment reduced or
// removed, QuickBooks' payment re-applied to a reversing journal entry; a refund inside a payout is an
// adjustment line of the deposit. A refund made at Stripe directly is booked from its webhook.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let key: string;
beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 6 });
  key = await stack.apiKey();
});
afterAll(async () => stack?.close());

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const cents = (n: unknown): bigint => BigInt(Math.round(Number(n) * 100));
const payment = (id: string) => q((tx) => tx.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
const postings = (id: string) => q((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', id).orderBy('created_at').execute());
const posted = (id: string, kind: string, n: number) =>
  eventually(
    async () => {
      const rows = (await postings(id)).filter((r) => r.kind === kind);
      return rows.length === n && rows.every((r) => r.status === 'posted') ? rows : null;
    },
    15_000,
    `${n} ${kind} postings posted`,
  );

async function refund(paymentId: string, body: Record<string, unknown>, idempotencyKey?: string) {
  const res = await fetch(`${stack.settleUrl}/api/v1/payments/${paymentId}/refunds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
async function apiInvoice(id: string) {
  return (await (await fetch(`${stack.settleUrl}/api/v1/invoices/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as Record<string, any>;
}
async function ledgerOf(paymentId: string) {
  const rows = await q((tx) => tx.selectFrom('ledger_entries').selectAll().where('payment_id', '=', paymentId).execute());
  const net = (account: string) =>
    rows.filter((e) => e.account === account).reduce((s, e) => s + (e.direction === 'debit' ? e.amount_minor : -e.amount_minor), 0n);
  return { rows, net };
}

describe('card refunds', () => {
  it('a partial refund, then the rest: Stripe once per request, state, ledger, ConnectWise reduced then removed, QuickBooks re-applied, deposit adjustment', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId, intentId } = await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
    await posted(paymentId, 'payment', 2);
    const total = invoice.total_minor;
    const part = total / 4n;
    const cwId = Number(invoice.remote);

    const first = await refund(paymentId, { amount_minor: part.toString(), reason: 'two seats were cancelled' }, 'refund-A');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'succeeded', amount_minor: part.toString(), surcharge_minor: '0', source: 'settle' });
    // The same request again is the same refund; the same key for another request is refused.
    const again = await refund(paymentId, { amount_minor: part.toString(), reason: 'two seats were cancelled' }, 'refund-A');
    expect(again.status).toBe(200);
    expect(again.body['id']).toBe(first.body['id']);
    const reused = await refund(paymentId, { amount_minor: '1', reason: 'other' }, 'refund-A');
    expect(reused.status).toBe(409);
    expect(reused.body['error']['message']).toMatch(/already used/);
    expect([...stack.sims.stripe.sim.store.refunds.values()].filter((r) => r.payment_intent === intentId)).toHaveLength(1);

    expect(await payment(paymentId)).toMatchObject({ state: 'partially_refunded', refunded_minor: part });
    await posted(paymentId, 'refund', 2);
    expect(stack.sims.connectwise.sim.paymentsFor(cwId).map((p) => cents(p.amount))).toEqual([total - part]);
    expect(cents(stack.sims.connectwise.state.invoices.get(cwId)!.balance)).toBe(part);
    const qboInvoice = () => stack.sims.quickbooks.sim.invoices().find((i) => i['DocNumber'] === invoice.number)!;
    expect(cents(qboInvoice()['Balance'])).toBe(part);
    expect(await apiInvoice(invoice.id)).toMatchObject({ status: 'partially_paid', open_minor: part.toString() });
    const l1 = await ledgerOf(paymentId);
    expect(l1.net('accounts_receivable')).toBe(-(total - part));
    expect(l1.net('processor_clearing')).toBe(total - part);

    // The payout: the charge is linked, the fee and the refund are lines of their own; deposit = bank line.
    const payout = stack.sims.stripe.sim.runPayouts()!;
    const deposit = await eventually(
      async () => stack.sims.quickbooks.sim.deposits().find((d) => String(d['PrivateNote']).includes(payout.id)),
      15_000,
      'deposit',
    );
    expect(cents(deposit['TotalAmt'])).toBe(BigInt(payout.amount));
    const lines = deposit['Line'] as { Amount: number; LinkedTxn?: unknown[]; Description?: string }[];
    expect(lines.filter((l) => l.LinkedTxn?.length)).toHaveLength(1);
    expect(lines.some((l) => /Adjustments/.test(l.Description ?? '') && cents(l.Amount) === -part)).toBe(true);

    // Refund the rest (no amount: everything still refundable), after the payment was deposited.
    const rest = await refund(paymentId, { reason: 'contract ended' }, 'refund-B');
    expect(rest.body).toMatchObject({ status: 'succeeded', amount_minor: (total - part).toString() });
    expect((await payment(paymentId)).state).toBe('refunded');
    await posted(paymentId, 'refund', 4);
    expect(stack.sims.connectwise.sim.paymentsFor(cwId)).toHaveLength(0);
    expect(cents(stack.sims.connectwise.state.invoices.get(cwId)!.balance)).toBe(total);
    expect(cents(qboInvoice()['Balance'])).toBe(total);
    expect(stack.sims.quickbooks.sim.journalEntries().filter((j) => String(j['PrivateNote']).includes(paymentId))).toHaveLength(2);
    expect(await apiInvoice(invoice.id)).toMatchObject({ status: 'open', open_minor: total.toString() });
    const l2 = await ledgerOf(paymentId);
    expect(l2.net('accounts_receivable')).toBe(0n);
    expect(l2.rows.filter((e) => e.journal_kind === 'refund')).toHaveLength(4);

    // Nothing left to refund.
    const none = await refund(paymentId, { reason: 'again' }, 'refund-C');
    expect(none.status).toBe(409);
    const audits = await q((tx) => tx.selectFrom('audit_log').select('action').where('subject_id', '=', paymentId).execute());
    expect(audits.filter((a) => a.action === 'refund.succeeded')).toHaveLength(2);
  });

  it('refuses bad requests with a clear reason and changes nothing', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId } = await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
    await posted(paymentId, 'payment', 2);
    const over = await refund(paymentId, { amount_minor: (invoice.total_minor + 1n).toString(), reason: 'too much' });
    expect(over.status).toBe(422);
    expect(over.body['error']['message']).toMatch(/more than the .* still refundable/);
    expect((await refund(paymentId, { amount_minor: '0', reason: 'zero' })).status).toBe(422);
    expect((await refund(paymentId, { amount_minor: '5' })).status).toBe(400);
    expect((await refund('00000000-0000-4000-8000-000000000000', { reason: 'x' })).status).toBe(404);
    expect((await refund(paymentId, { reason: 'x' }, 'has spaces in it')).status).toBe(422);
    expect((await payment(paymentId)).state).toBe('succeeded');
    expect(await q((tx) => tx.selectFrom('refunds').select('id').where('payment_id', '=', paymentId).execute())).toEqual([]);
  });

  it('a refund made at Stripe directly is booked from its webhook', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId, intentId } = await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
    await posted(paymentId, 'payment', 2);
    const res = await fetch(`${stack.sims.stripe.baseUrl}/v1/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.sims.stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payment_intent: intentId, amount: '500' }).toString(),
    });
    expect(res.ok).toBe(true);
    const booked = await eventually(
      () => q((tx) => tx.selectFrom('refunds').selectAll().where('payment_id', '=', paymentId).where('status', '=', 'succeeded').executeTakeFirst()),
      15_000,
      'processor refund booked',
    );
    expect(booked).toMatchObject({ source: 'processor', amount_minor: 500n });
    expect(await payment(paymentId)).toMatchObject({ state: 'partially_refunded', refunded_minor: 500n });
    await posted(paymentId, 'refund', 2);
    const list = (await (await fetch(`${stack.settleUrl}/api/v1/payments/${paymentId}/refunds`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
      data: unknown[];
    };
    expect(list.data).toHaveLength(1);
  });
});
