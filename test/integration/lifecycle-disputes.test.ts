// Card disputes from Stripe: opened (payment disputed, funds to disputed_funds, exception for staff, the
// invoice stays paid), then won (funds back, payment succeeded, exception resolved) or lost (charged
// back: the invoice is open again in Settle, ConnectWise and QuickBooks).
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
const exceptions = (paymentId: string) =>
  q((tx) => tx.selectFrom('exceptions').select(['kind', 'status', 'resolution']).where('payment_id', '=', paymentId).orderBy('opened_at').execute());
async function ledger(paymentId: string) {
  const rows = await q((tx) => tx.selectFrom('ledger_entries').selectAll().where('payment_id', '=', paymentId).execute());
  return {
    kinds: [...new Set(rows.map((r) => r.journal_kind))].sort(),
    net: (account: string) => rows.filter((e) => e.account === account).reduce((s, e) => s + (e.direction === 'debit' ? e.amount_minor : -e.amount_minor), 0n),
  };
}
async function apiInvoice(id: string) {
  return (await (await fetch(`${stack.settleUrl}/api/v1/invoices/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as Record<string, any>;
}

async function paidInvoice() {
  const invoice = (await openInvoices(stack))[0]!;
  const { paymentId, intentId } = await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
  await posted(paymentId, 'payment', 2);
  return { invoice, paymentId, intentId };
}

describe('card disputes', () => {
  it('opened, then won: the funds come back, the payment is succeeded again and nothing is reversed', async () => {
    const { invoice, paymentId, intentId } = await paidInvoice();
    const dispute = stack.sims.stripe.sim.createDispute({ paymentIntent: intentId, reason: 'product_not_received' });
    await waitState(paymentId, 'disputed');
    stack.sims.stripe.sim.resolveDispute({ dispute: dispute.id, outcome: 'won' });
    await waitState(paymentId, 'succeeded');
    const won = await ledger(paymentId);
    expect(won.kinds).toEqual(['dispute_opened', 'dispute_won', 'payment_received']);
    expect(won.net('disputed_funds')).toBe(0n);
    expect(won.net('processor_clearing')).toBe(invoice.total_minor);
    expect(await apiInvoice(invoice.id)).toMatchObject({ status: 'paid', final: true });
    expect((await postings(paymentId)).filter((p) => p.kind !== 'payment')).toEqual([]);
    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote))).toHaveLength(1);
    expect(await exceptions(paymentId)).toEqual([{ kind: 'dispute', status: 'resolved', resolution: 'dispute_won' }]);
    // The charge, the withdrawal (with its fee) and the reinstatement are all in the payout; the deposit equals it.
    const payout = stack.sims.stripe.sim.runPayouts()!;
    const deposit = await eventually(
      async () => stack.sims.quickbooks.sim.deposits().find((d) => String(d['PrivateNote']).includes(payout.id)),
      15_000,
      'deposit',
    );
    expect(cents(deposit['TotalAmt'])).toBe(BigInt(payout.amount));
  });

  it('opened, then lost: disputed (invoice stays paid, staff told), then charged back and the invoice is open again everywhere', async () => {
    const { invoice, paymentId, intentId } = await paidInvoice();
    const dispute = stack.sims.stripe.sim.createDispute({ paymentIntent: intentId, reason: 'fraudulent' });
    await waitState(paymentId, 'disputed');
    expect(await apiInvoice(invoice.id)).toMatchObject({ status: 'paid' });
    expect(await exceptions(paymentId)).toEqual([{ kind: 'dispute', status: 'open', resolution: null }]);
    const opened = await ledger(paymentId);
    expect(opened.net('disputed_funds')).toBe(invoice.total_minor);
    // A disputed payment cannot be refunded: the dispute decides.
    const res = await fetch(`${stack.settleUrl}/api/v1/payments/${paymentId}/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'settle it' }),
    });
    expect(res.status).toBe(409);

    stack.sims.stripe.sim.resolveDispute({ dispute: dispute.id, outcome: 'lost' });
    await waitState(paymentId, 'charged_back');
    await posted(paymentId, 'payment_reversal', 2);
    expect(await apiInvoice(invoice.id)).toMatchObject({ status: 'open', open_minor: invoice.total_minor.toString() });
    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote))).toHaveLength(0);
    expect(cents(stack.sims.quickbooks.sim.invoices().find((i) => i['DocNumber'] === invoice.number)!['Balance'])).toBe(invoice.total_minor);
    const lost = await ledger(paymentId);
    expect(lost.kinds).toEqual(['dispute_lost', 'dispute_opened', 'payment_received']);
    expect(lost.net('disputed_funds')).toBe(0n);
    expect(lost.net('accounts_receivable')).toBe(0n);
    expect(await exceptions(paymentId)).toEqual([
      { kind: 'dispute', status: 'resolved', resolution: 'dispute_lost' },
      { kind: 'payment_charged_back', status: 'open', resolution: null },
    ]);
    const row = await q((tx) => tx.selectFrom('disputes').selectAll().where('payment_id', '=', paymentId).executeTakeFirstOrThrow());
    expect(row).toMatchObject({ kind: 'card', status: 'lost', reason: 'fraudulent', amount_minor: invoice.total_minor, fee_minor: 1500n });
    const audits = await q((tx) => tx.selectFrom('audit_log').select('action').where('subject_id', '=', paymentId).execute());
    expect(audits.map((a) => a.action)).toEqual(expect.arrayContaining(['dispute.opened', 'dispute.lost']));
  });
});
