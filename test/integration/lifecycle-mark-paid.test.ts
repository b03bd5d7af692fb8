// The workspace setting "mark invoice paid on": submit (a bank debit counts as paid when submitted, and is
// taken back everywhere if it then fails), settlement (default; lifecycle-ach.test.ts) and payout (the
// PSA and the books hear of a payment only when the payout containing it is reconciled).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack, payByBankInPortal } from '../helpers/stack.ts';

let stack: Stack;
let key: string;
beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 6, achSettleDelayMs: null });
  key = await stack.apiKey();
});
afterAll(async () => stack?.close());

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const payment = (id: string) => q((tx) => tx.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
const waitState = (id: string, state: string) => eventually(async () => ((await payment(id)).state === state ? payment(id) : null), 15_000, `payment ${state}`);
const postings = (id: string) => q((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', id).execute());
const posted = (id: string, kind: string, n: number) =>
  eventually(
    async () => {
      const rows = (await postings(id)).filter((r) => r.kind === kind);
      return rows.length === n && rows.every((r) => r.status === 'posted') ? rows : null;
    },
    15_000,
    `${n} ${kind} postings posted`,
  );
const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${stack.settleUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

const payByBank = (token: string, invoiceIds: string[], bankToken: string) => payByBankInPortal(stack, token, invoiceIds, bankToken);

describe('mark invoice paid on', () => {
  it('is a validated, audited setting (default: settlement)', async () => {
    expect(await api('GET', '/settings/lifecycle')).toEqual({ status: 200, body: { mark_paid_on: 'settlement' } });
    const bad = await api('PUT', '/settings/lifecycle', { mark_paid_on: 'whenever' });
    expect(bad.status).toBe(400);
    expect(bad.body['error']['message']).toMatch(/submit|settlement|payout/);
    expect(await api('PUT', '/settings/lifecycle', { mark_paid_on: 'submit' })).toEqual({ status: 200, body: { mark_paid_on: 'submit' } });
    const audit = await q((tx) => tx.selectFrom('audit_log').select('detail').where('action', '=', 'settings.lifecycle_changed').execute());
    expect(audit.map((a) => a.detail)).toEqual([{ mark_paid_on: { from: 'settlement', to: 'submit' } }]);
  });

  it('submit: a bank debit is paid (and in ConnectWise) while it is processing; when it fails, all of it is taken back', async () => {
    await api('PUT', '/settings/lifecycle', { mark_paid_on: 'submit' });
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId, intentId } = await payByBank(await stack.portalToken(invoice.client_id), [invoice.id], 'pm_usBankAccount_insufficientFunds');
    await waitState(paymentId, 'processing');
    await posted(paymentId, 'payment', 2);
    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote))).toHaveLength(1);
    expect((await api('GET', `/invoices/${invoice.id}`)).body).toMatchObject({ status: 'paid', final: false });

    stack.sims.stripe.sim.settleAch({ paymentIntent: intentId });
    await waitState(paymentId, 'failed');
    await posted(paymentId, 'payment_reversal', 2);
    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote))).toHaveLength(0);
    expect((await api('GET', `/invoices/${invoice.id}`)).body).toMatchObject({ status: 'open', open_minor: invoice.total_minor.toString() });
    const ledger = await q((tx) => tx.selectFrom('ledger_entries').selectAll().where('payment_id', '=', paymentId).execute());
    const ar = ledger.filter((e) => e.account === 'accounts_receivable').reduce((s, e) => s + (e.direction === 'debit' ? e.amount_minor : -e.amount_minor), 0n);
    expect(ar).toBe(0n);
  });

  it('payout: a card payment marks the invoice paid in Settle at once, but the PSA and the books hear of it with the payout', async () => {
    await api('PUT', '/settings/lifecycle', { mark_paid_on: 'payout' });
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId } = await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
    await waitState(paymentId, 'succeeded');
    await new Promise((r) => setTimeout(r, 500));
    expect(await postings(paymentId)).toEqual([]);
    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote))).toHaveLength(0);
    expect((await api('GET', `/invoices/${invoice.id}`)).body).toMatchObject({ status: 'paid', open_minor: '0' });

    const payout = stack.sims.stripe.sim.runPayouts()!;
    await posted(paymentId, 'payment', 2);
    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote))).toHaveLength(1);
    const deposit = await eventually(
      async () => stack.sims.quickbooks.sim.deposits().find((d) => String(d['PrivateNote']).includes(payout.id)),
      15_000,
      'deposit',
    );
    expect(Math.round(Number(deposit['TotalAmt']) * 100)).toBe(payout.amount);
    await api('PUT', '/settings/lifecycle', { mark_paid_on: 'settlement' });
  });
});
