import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.close());

describe('one invoice through ConnectWise → Stripe → QuickBooks Online', () => {
  it('a portal card payment is written back to ConnectWise and posted to QuickBooks, and the payout becomes one deposit', async () => {
    const [invoice] = await openInvoices(stack);
    expect(invoice).toBeDefined();
    const token = await stack.portalToken(invoice!.client_id);
    const { paymentId } = await payInPortal(stack, token, [invoice!.id]);

    const postings = await eventually(
      async () => {
        const rows = await withTenant(stack.database.db, stack.tenantId, (tx) =>
          tx.selectFrom('postings').selectAll().where('payment_id', '=', paymentId).execute(),
        );
        return rows.length === 2 && rows.every((r) => r.status === 'posted') ? rows : null;
      },
      15_000,
      'both postings posted',
    );
    expect(postings.map((p) => p.target).sort()).toEqual(['accounting', 'psa']);

    const cwPayments = stack.sims.connectwise.sim.paymentsFor(Number(invoice!.remote));
    expect(cwPayments).toHaveLength(1);
    expect(Math.round(cwPayments[0]!.amount * 100)).toBe(Number(invoice!.total_minor));

    const qboPayments = stack.sims.quickbooks.sim.payments();
    expect(qboPayments).toHaveLength(1);
    const qboInvoice = stack.sims.quickbooks.sim.invoices().find((i) => i['DocNumber'] === invoice!.number)!;
    expect((qboPayments[0]!['Line'] as { LinkedTxn: { TxnId: string }[] }[])[0]!.LinkedTxn[0]!.TxnId).toBe(qboInvoice['Id']);

    const status = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('invoices').select('status').where('id', '=', invoice!.id).executeTakeFirstOrThrow(),
    );
    expect(status.status).toBe('paid');

    // The processor pays out; the books get one deposit equal to the payout, with the fee as its own line.
    const payout = stack.sims.stripe.sim.runPayouts();
    expect(payout).not.toBeNull();
    const deposit = await eventually(async () => stack.sims.quickbooks.sim.deposits()[0], 15_000, 'QuickBooks deposit');
    expect(Math.round(Number(deposit['TotalAmt']) * 100)).toBe(payout!.amount);
    const lines = deposit['Line'] as { Amount: number; LinkedTxn?: unknown[] }[];
    expect(lines.filter((l) => l.LinkedTxn?.length)).toHaveLength(1);
    expect(lines.some((l) => l.Amount < 0)).toBe(true);

    // Every journal balances and the processor clearing account nets to zero after the payout.
    const ledger = await withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('ledger_entries').selectAll().execute());
    const net = (account: string): bigint =>
      ledger.filter((e) => e.account === account).reduce((s, e) => s + (e.direction === 'debit' ? e.amount_minor : -e.amount_minor), 0n);
    expect(net('processor_clearing')).toBe(0n);
    expect(net('bank')).toBe(BigInt(payout!.amount));
    expect(net('accounts_receivable')).toBe(-invoice!.total_minor);
  });

  it('a declined card leaves the invoice open and posts nothing; the checkout stays open for another card', async () => {
    const invoices = await openInvoices(stack);
    const invoice = invoices[0]!;
    const token = await stack.portalToken(invoice.client_id);
    const before = stack.sims.quickbooks.sim.payments().length;
    await expect(payInPortal(stack, token, [invoice.id], 'pm_card_chargeDeclined')).rejects.toThrow(/confirm failed/);
    const payment = await eventually(
      () =>
        withTenant(stack.database.db, stack.tenantId, (tx) =>
          tx.selectFrom('payments').select(['state', 'failure_code']).where('failure_code', '=', 'generic_decline').executeTakeFirst(),
        ),
      30_000,
      'declined payment',
    );
    // Stripe returns the intent to requires_payment_method: the client can confirm it again in the same form.
    expect(payment.state).toBe('pending');
    expect(stack.sims.quickbooks.sim.payments().length).toBe(before);
  });
});
