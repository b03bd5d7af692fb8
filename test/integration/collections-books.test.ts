// What the books get for collections: the payout's deposit books card surcharges as income and
// overpayments to the clients' credit clearing account, each on its own line (never inside fees), and a
// later application of that credit is a QuickBooks Payment against the invoice drawn from the same
// clearing account, so it nets to zero once the credit is used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { addDays } from '../../src/domain/rules/calendar-date.ts';
import { createAccount } from '../../simulators/quickbooks-online/names.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';
import { invoiceRow, newInvoice, paymentState, postingsPosted } from './collections-helpers.ts';

let stack: Stack;
let api: string;
let clientId: string;
let token: string;
let surchargeAccount: string;
let creditAccount: string;

beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 2 });
  api = await stack.apiKey();
  clientId = (await openInvoices(stack))[0]!.client_id;
  token = await stack.portalToken(clientId);
  // The MSP's chart of accounts gains an income account for surcharges and a clearing account for credit.
  const store = stack.sims.quickbooks.sim.store;
  surchargeAccount = createAccount(store, { Name: 'Card surcharges', AccountType: 'Income' }).Id;
  creditAccount = createAccount(store, { Name: 'Client credits (Settle)', AccountType: 'Other Current Asset' }).Id;
  await withTenant(stack.database.db, stack.tenantId, async (tx) => {
    const c = await tx.selectFrom('connections').select(['id', 'config']).where('role', '=', 'accounting').executeTakeFirstOrThrow();
    await tx
      .updateTable('connections')
      .set({ config: JSON.stringify({ ...c.config, surchargeIncomeAccountId: surchargeAccount, clientCreditAccountId: creditAccount }) as never })
      .where('id', '=', c.id)
      .execute();
  });
  stack.settle!.ctx.connectors.forget(stack.tenantId);
});
afterAll(async () => stack?.close());

const h = () => ({ authorization: `Bearer ${api}`, 'content-type': 'application/json' });
type Line = { Amount: number; Description?: string; LinkedTxn?: { TxnId: string }[]; DepositLineDetail?: { AccountRef: { value: string } } };

describe('collections in the books', () => {
  it('a payout with a surcharged card payment and an overpayment: surcharge income and client credit get their own deposit lines', async () => {
    const put = (path: string, body: unknown) => fetch(`${stack.settleUrl}/api/v1${path}`, { method: 'PUT', headers: h(), body: JSON.stringify(body) });
    expect(
      (
        await put('/settings/surcharge', {
          enabled: true,
          msp_country: 'US',
          msp_region: 'TX',
          cost_of_acceptance_bps: 300,
          notice_filed_on: addDays(new Date().toISOString().slice(0, 10), -31),
        })
      ).status,
    ).toBe(200);
    expect((await put(`/clients/${clientId}/surcharge`, { country: 'US', region: 'CO' })).status).toBe(200);

    // 1. A $500.00 invoice paid by credit card with the 2 % Colorado surcharge ($10.00).
    const a = await newInvoice(stack, clientId, '500.00');
    const pm = (await (
      await fetch(`${stack.sims.stripe.baseUrl}/v1/payment_methods`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.sims.stripe.publishableKey}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2040&card[cvc]=123',
      })
    ).json()) as { id: string };
    const quote = (await (
      await fetch(`${stack.settleUrl}/portal/${token}/quote`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ invoices: [{ invoice_id: a.id }], payment_method: pm.id }),
      })
    ).json()) as { quote_id: string; total_minor: string; surcharge_minor: string };
    expect(quote.surcharge_minor).toBe('1000');
    const paid = (await (
      await fetch(`${stack.settleUrl}/portal/${token}/pay-card`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ quote_id: quote.quote_id, accepted_total_minor: quote.total_minor }),
      })
    ).json()) as { payment_id: string; status: string };
    expect(paid.status).toBe('succeeded');
    await postingsPosted(stack, paid.payment_id);

    // 2. A $300.00 invoice lowered to $200.00 while the client pays it (card, surcharging now off): $100 credit.
    await put('/settings/surcharge', { enabled: false });
    const b = await newInvoice(stack, clientId, '150.00', 2);
    const started = (await (
      await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ invoices: [{ invoice_id: b.id }], method: 'card' }),
      })
    ).json()) as { payment_id: string; client_secret: string };
    stack.sims.connectwise.sim.updateInvoice(Number(b.remote), { addLines: [{ kind: 'expense', notes: 'Credit', amount: '-100.00' }] });
    await stack.sims.connectwise.sim.flushCallbacks();
    await eventually(async () => (await invoiceRow(stack, b.id)).total_minor === 20_000n, 15_000, 'lowered invoice');
    await fetch(`${stack.sims.stripe.baseUrl}/v1/payment_intents/${started.client_secret.split('_secret_')[0]}/confirm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.sims.stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payment_method=pm_card_visa',
    });
    await eventually(async () => (await paymentState(stack, started.payment_id)) === 'succeeded', 15_000, 'overpayment succeeded');
    await postingsPosted(stack, started.payment_id);

    // 3. The processor pays out: one deposit equal to the bank line.
    const payout = stack.sims.stripe.sim.runPayouts()!;
    const deposit = await eventually(async () => stack.sims.quickbooks.sim.deposits()[0], 15_000, 'deposit');
    expect(Math.round(Number(deposit['TotalAmt']) * 100)).toBe(payout.amount);
    const lines = deposit['Line'] as Line[];
    const on = (account: string) => lines.filter((l) => l.DepositLineDetail?.AccountRef.value === account).map((l) => Math.round(l.Amount * 100));
    expect(on(surchargeAccount)).toEqual([1_000]);
    expect(on(creditAccount)).toEqual([10_000]);
    expect(
      lines
        .filter((l) => l.LinkedTxn?.length)
        .map((l) => Math.round(l.Amount * 100))
        .sort(),
    ).toEqual([20_000, 50_000]);
    // Fees are only the processor's fees: no surcharge or credit is netted into them.
    const fees = lines.filter((l) => l.Description?.startsWith('Processing fees')).map((l) => Math.round(-l.Amount * 100));
    const payoutFees = await withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('payouts').select('fees_minor').executeTakeFirstOrThrow());
    expect(fees).toEqual([Number(payoutFees.fees_minor)]);
    expect(lines.some((l) => l.Description?.startsWith('Adjustments'))).toBe(false);

    // 4. Staff apply the $100 credit to the next invoice: a Payment against it, drawn from the credit clearing account.
    const c = await newInvoice(stack, clientId, '250.00');
    const applied = await fetch(`${stack.settleUrl}/api/v1/clients/${clientId}/credit/applications`, {
      method: 'POST',
      headers: h(),
      body: JSON.stringify({ invoice_ids: [c.id] }),
    });
    expect(applied.status).toBe(201);
    const app = (await applied.json()) as { applied: { amount_minor: string; payment_id: string }[] };
    expect(app.applied.map((x) => x.amount_minor)).toEqual(['10000']);
    await postingsPosted(stack, app.applied[0]!.payment_id);
    const qboInvoice = stack.sims.quickbooks.sim.invoices().find((i) => i['DocNumber'] === c.number)!;
    const creditPayment = stack.sims.quickbooks.sim
      .payments()
      .find((p) => (p['Line'] as Line[]).some((l) => l.LinkedTxn?.some((t) => t.TxnId === qboInvoice['Id'])))!;
    expect(creditPayment['DepositToAccountRef']).toMatchObject({ value: creditAccount });
    expect(Math.round(Number(creditPayment['TotalAmt']) * 100)).toBe(10_000);
    expect(await invoiceRow(stack, c.id)).toMatchObject({ status: 'partially_paid', paid_minor: 10_000n });
  });
});
