// A client pays by bank account (ACH Direct Debit) in the portal. The debit is `processing` for days
// (payments-rules.md §2.8): Settle records the payment as processing and posts nothing until the processor
// says the money settled; a failed debit posts nothing at all. The simulator settles only when told.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack, payByBankInPortal } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 6, achSettleDelayMs: null });
});
afterAll(async () => stack?.close());
afterEach(() => {
  stack.sims.connectwise.sim.callbackOptions.drop = false;
});

const payByBank = (token: string, invoiceIds: string[], bankToken: string) => payByBankInPortal(stack, token, invoiceIds, bankToken);

async function payment(id: string) {
  return withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
}

async function rowsFor(paymentId: string) {
  return withTenant(stack.database.db, stack.tenantId, async (tx) => ({
    postings: await tx.selectFrom('postings').select(['target', 'status', 'remote_id']).where('payment_id', '=', paymentId).execute(),
    allocations: await tx.selectFrom('allocations').select(['invoice_id', 'amount_minor']).where('payment_id', '=', paymentId).execute(),
    ledger: await tx.selectFrom('ledger_entries').select('id').where('payment_id', '=', paymentId).execute(),
  }));
}

async function invoiceStatus(id: string): Promise<string> {
  return (
    await withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('invoices').select('status').where('id', '=', id).executeTakeFirstOrThrow())
  ).status;
}

async function waitForState(paymentId: string, state: string) {
  return eventually(
    async () => {
      const p = await payment(paymentId);
      return p.state === state ? p : null;
    },
    15_000,
    `payment ${state}`,
  );
}

describe('ACH Direct Debit through the portal', () => {
  it('a bank payment is processing (nothing posted, invoice still owed) until it settles, then reaches ConnectWise and QuickBooks', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const token = await stack.portalToken(invoice.client_id);
    const qboBefore = stack.sims.quickbooks.sim.payments().length;
    const { paymentId, intentId } = await payByBank(token, [invoice.id], 'pm_usBankAccount');

    expect(stack.sims.stripe.sim.store.paymentIntents.get(intentId)?.status).toBe('processing');
    const processing = await waitForState(paymentId, 'processing');
    expect(processing.processor_payment_id).toBe(intentId);
    expect(processing.amount_minor).toBe(invoice.total_minor);

    // While the debit is in flight: nothing allocated, booked or posted; the API shows it as processing.
    await new Promise((r) => setTimeout(r, 700));
    const during = await rowsFor(paymentId);
    expect(during).toEqual({ postings: [], allocations: [], ledger: [] });
    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote))).toHaveLength(0);
    expect(stack.sims.quickbooks.sim.payments().length).toBe(qboBefore);
    expect(await invoiceStatus(invoice.id)).toBe('open');
    const key = await stack.apiKey();
    const api = (await (await fetch(`${stack.settleUrl}/api/v1/payments/${paymentId}`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
      state: string;
      postings: unknown[];
    };
    expect(api.state).toBe('processing');
    expect(api.postings).toEqual([]);

    // The same invoice cannot be collected a second time while the first debit may still settle.
    await expect(payInPortal(stack, token, [invoice.id], 'pm_card_visa')).rejects.toThrow(/in progress/);
    expect(stack.sims.stripe.sim.store.paymentIntents.size).toBe(1);

    // The bank debit settles. ConnectWise's change notice for our payment is lost this time: Settle must
    // not depend on it to know the invoice is paid once it has written the payment there.
    stack.sims.connectwise.sim.callbackOptions.drop = true;
    expect(stack.sims.stripe.sim.settleAch({ paymentIntent: intentId })).toEqual([intentId]);
    await waitForState(paymentId, 'succeeded');
    const postings = await eventually(
      async () => {
        const r = await rowsFor(paymentId);
        return r.postings.length === 2 && r.postings.every((p) => p.status === 'posted') ? r.postings : null;
      },
      15_000,
      'both postings posted',
    );
    expect(postings.map((p) => p.target).sort()).toEqual(['accounting', 'psa']);

    const cw = stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote));
    expect(cw).toHaveLength(1);
    expect(BigInt(Math.round(cw[0]!.amount * 100))).toBe(invoice.total_minor);
    const qbo = stack.sims.quickbooks.sim.payments();
    expect(qbo.length).toBe(qboBefore + 1);
    const qboInvoice = stack.sims.quickbooks.sim.invoices().find((i) => i['DocNumber'] === invoice.number)!;
    const newest = qbo.at(-1)!;
    expect(BigInt(Math.round(Number(newest['TotalAmt']) * 100))).toBe(invoice.total_minor);
    expect((newest['Line'] as { LinkedTxn: { TxnId: string }[] }[])[0]!.LinkedTxn[0]!.TxnId).toBe(qboInvoice['Id']);
    expect(await invoiceStatus(invoice.id)).toBe('paid');
    const shown = (await (await fetch(`${stack.settleUrl}/api/v1/invoices/${invoice.id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
      open_minor: string;
      status: string;
    };
    expect(shown).toMatchObject({ status: 'paid', open_minor: '0' });
    await expect(payInPortal(stack, token, [invoice.id], 'pm_card_visa')).rejects.toThrow(/already paid/);
    stack.sims.connectwise.sim.callbackOptions.drop = false;
    const after = await rowsFor(paymentId);
    expect(after.allocations).toEqual([{ invoice_id: invoice.id, amount_minor: invoice.total_minor }]);
    expect(after.ledger.length).toBeGreaterThan(0);
  });

  it('a bank debit that fails (insufficient funds) leaves the payment failed, the invoice open and nothing posted', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const token = await stack.portalToken(invoice.client_id);
    const qboBefore = stack.sims.quickbooks.sim.payments().length;
    const { paymentId, intentId } = await payByBank(token, [invoice.id], 'pm_usBankAccount_insufficientFunds');
    await waitForState(paymentId, 'processing');

    stack.sims.stripe.sim.settleAch({ paymentIntent: intentId });
    expect(stack.sims.stripe.sim.store.paymentIntents.get(intentId)?.status).toBe('requires_payment_method');
    const failed = await waitForState(paymentId, 'failed');
    expect(failed.failure_code).toBe('insufficient_funds');
    expect(failed.failure_message).toMatch(/insufficient funds/i);
    // Final: its intent is canceled at Stripe so nobody can confirm it again (the soak saw a client re-confirm
    // a failed debit's intent after paying the invoice another way — charged twice).
    await eventually(
      async () => stack.sims.stripe.sim.store.paymentIntents.get(intentId)?.status === 'canceled',
      30_000,
      "the failed debit's intent canceled at Stripe",
    );

    await new Promise((r) => setTimeout(r, 500));
    expect(await rowsFor(paymentId)).toEqual({ postings: [], allocations: [], ledger: [] });
    expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote))).toHaveLength(0);
    expect(stack.sims.quickbooks.sim.payments().length).toBe(qboBefore);
    expect(await invoiceStatus(invoice.id)).toBe('open');

    // Once the debit has failed, the client can pay the invoice another way.
    const retry = await payInPortal(stack, token, [invoice.id], 'pm_card_visa');
    await waitForState(retry.paymentId, 'succeeded');
  });

  it('a closed bank account fails the debit the same way', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId, intentId } = await payByBank(await stack.portalToken(invoice.client_id), [invoice.id], 'pm_usBankAccount_accountClosed');
    await waitForState(paymentId, 'processing');
    stack.sims.stripe.sim.settleAch({ paymentIntent: intentId });
    const failed = await waitForState(paymentId, 'failed');
    expect(failed.failure_code).toBe('account_closed');
    expect((await rowsFor(paymentId)).postings).toEqual([]);
    expect(await invoiceStatus(invoice.id)).toBe('open');
  });
});
