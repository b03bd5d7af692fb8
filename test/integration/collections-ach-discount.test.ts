// The ACH discount (payments-rules.md §1.5; issue #3 "Surcharging": where surcharging is not allowed, show
// an ACH discount): a Connecticut client (card surcharges prohibited) of an MSP whose alternative is a 1 %
// ACH discount pays two invoices by bank in the portal. The client is shown and charged the discounted
// total; the invoices are paid IN FULL in Settle, ConnectWise and QuickBooks; the payout's deposit equals the
// payout; the ledger balances with the discount as an expense. A card payment is not discounted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { BOOKS_ACCOUNT_SETTINGS, saveBooksAccounts } from '../../src/engine/books-accounts.ts';
import { readConnection } from '../../src/engine/connections.ts';
import { addDays } from '../../src/domain/rules/calendar-date.ts';
import { eventually, openInvoices, startStack, type Stack, payByBankInPortal } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { invoiceRow, newInvoice, postingsPosted } from './collections-helpers.ts';

let stack: Stack;
let smtp: TestSmtp;
let api: string;
let clientId: string;
let token: string;

beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ companies: 1, invoices: 1, smtpUrl: smtp.url, achSettleDelayMs: null });
  api = await stack.apiKey();
  clientId = (await openInvoices(stack))[0]!.client_id;
  token = await stack.portalToken(clientId);
  await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.updateTable('clients').set({ billing_email: 'ap@client.test' }).where('id', '=', clientId).execute(),
  );
  const put = async (path: string, body: unknown) => {
    const res = await fetch(`${stack.settleUrl}/api/v1${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };
  // The MSP (Texas) surcharges cards where allowed, and offers 1 % off for paying by bank where not.
  await put('/settings/surcharge', {
    enabled: true,
    msp_country: 'US',
    msp_region: 'TX',
    cost_of_acceptance_bps: 350,
    notice_filed_on: addDays(new Date().toISOString().slice(0, 10), -40),
    alternative: 'ach_discount',
    ach_discount_bps: 100,
  });
  await put(`/clients/${clientId}/surcharge`, { country: 'US', region: 'CT' });
});
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

interface PayBody {
  payment_id: string;
  client_secret: string;
  amount: string;
  amount_minor: string;
  invoices_total: string;
  ach_discount: string | null;
  ach_discount_minor: string;
}

async function payByBank(invoiceIds: string[]): Promise<{ body: PayBody; intentId: string }> {
  const r = await payByBankInPortal(stack, token, invoiceIds);
  return { body: r.body as unknown as PayBody, intentId: r.intentId };
}

async function payment(id: string) {
  return withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
}

const cents = (amount: unknown): bigint => BigInt(Math.round(Number(amount) * 100));

describe('ACH discount where card surcharges are not allowed', () => {
  it('a Connecticut client paying two invoices by bank is charged the discounted total; the invoices are paid in full everywhere', async () => {
    // $123.45 → 1 % = 123.45¢ → 123¢; $200.99 → 200¢ (per invoice, floored: 323¢, not floor(1 % of $324.44) = 324¢).
    const a = await newInvoice(stack, clientId, '123.45');
    const b = await newInvoice(stack, clientId, '200.99');
    const qboPaymentsBefore = stack.sims.quickbooks.sim.payments().length;
    const { body, intentId } = await payByBank([a.id, b.id]);
    // Shown before confirming: the invoices, the discount line and the discounted total.
    expect(body).toMatchObject({ invoices_total: '$324.44', ach_discount: '$3.23', ach_discount_minor: '323', amount: '$321.21', amount_minor: '32121' });
    expect(stack.sims.stripe.sim.store.paymentIntents.get(intentId)!.amount).toBe(32_121);
    const p0 = await payment(body.payment_id);
    expect(p0).toMatchObject({ amount_minor: 32_121n, discount_minor: 323n });

    expect(stack.sims.stripe.sim.settleAch({ paymentIntent: intentId })).toEqual([intentId]);
    await eventually(async () => ((await payment(body.payment_id)).state === 'succeeded' ? true : null), 15_000, 'payment succeeded');

    // Settle: both invoices paid in full.
    expect(await invoiceRow(stack, a.id)).toMatchObject({ status: 'paid', paid_minor: 12_345n });
    expect(await invoiceRow(stack, b.id)).toMatchObject({ status: 'paid', paid_minor: 20_099n });
    const postings = await postingsPosted(stack, body.payment_id, 4);
    expect(postings.map((x) => x.amount_minor).sort()).toEqual([12_345n, 12_345n, 20_099n, 20_099n]);
    // ConnectWise and QuickBooks: payments for the full invoice amounts.
    for (const inv of [a, b]) {
      const cw = stack.sims.connectwise.sim.paymentsFor(Number(inv.remote));
      expect(cw.map((x) => cents(x.amount))).toEqual([inv.total]);
    }
    const qbo = stack.sims.quickbooks.sim.payments().slice(qboPaymentsBefore);
    expect(qbo.map((x) => cents(x['TotalAmt'])).sort()).toEqual([12_345n, 20_099n]);

    // The receipt lists the invoices, the discount and what was charged.
    const receipt = await eventually(async () => smtp.received.find((m) => m.subject.includes('$321.21')), 15_000, 'receipt email');
    const text = receipt.raw.replace(/=\r?\n/g, '');
    expect(text).toMatch(/Invoice \S+\s+\$123\.45/);
    expect(text).toMatch(/Discount for paying by bank \(ACH\)\s+-\$3\.23/);
    expect(text).toMatch(/Total charged\s+\$321\.21/);

    // The MSP maps an account for ACH discounts (the GL mapping's ach_discounts role, issue #11), through the
    // engine path Settings → Accounts uses.
    const discounts = stack.sims.quickbooks.sim.ensureAccount('ACH discounts given', 'Income', 'DiscountsRefundsGiven');
    const deps = { db: stack.database.db, box: SecretBox.fromHex(stack.secretKeyHex), connectors: stack.settle!.ctx.connectors };
    const config = (await readConnection(deps.db, deps.box, stack.tenantId, 'accounting'))!.config;
    const accounts = Object.fromEntries(BOOKS_ACCOUNT_SETTINGS.map((st) => [st.key, typeof config[st.key] === 'string' ? String(config[st.key]) : '']));
    await saveBooksAccounts(deps, stack.tenantId, { ...accounts, achDiscountAccountId: discounts.Id }, 'system:test');

    // The payout: the QuickBooks deposit equals it, the discount on a negative line of its own to that account.
    const payout = stack.sims.stripe.sim.runPayouts();
    expect(payout).not.toBeNull();
    const deposit = await eventually(async () => stack.sims.quickbooks.sim.deposits()[0], 15_000, 'QuickBooks deposit');
    expect(Math.round(Number(deposit['TotalAmt']) * 100)).toBe(payout!.amount);
    expect(String(deposit['PrivateNote'])).toContain('ACH discounts of 3.23');
    const lines = deposit['Line'] as Record<string, any>[];
    expect(lines.find((l) => String(l['Description']).startsWith('ACH discounts'))).toMatchObject({
      Amount: -3.23,
      DepositLineDetail: { AccountRef: { value: discounts.Id } },
    });
    expect(lines.some((l) => String(l['Description']).startsWith('Adjustments'))).toBe(false);

    // Ledger: every journal balances, the discount is an expense, A/R is credited in full, clearing nets to zero.
    const ledger = await withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('ledger_entries').selectAll().execute());
    const net = (account: string, rows = ledger): bigint =>
      rows.filter((e) => e.account === account).reduce((s, e) => s + (e.direction === 'debit' ? e.amount_minor : -e.amount_minor), 0n);
    const all = ledger.reduce((s, e) => s + (e.direction === 'debit' ? e.amount_minor : -e.amount_minor), 0n);
    expect(all).toBe(0n);
    const mine = ledger.filter((e) => e.payment_id === body.payment_id && e.journal_kind === 'payment_received');
    expect(net('ach_discounts', mine)).toBe(323n);
    expect(net('processor_clearing', mine)).toBe(32_121n);
    expect(net('accounts_receivable', mine)).toBe(-32_444n);
    expect(net('processor_clearing')).toBe(0n);
  });

  it('a card payment by the same client is not discounted (and not surcharged: Connecticut)', async () => {
    const inv = await newInvoice(stack, clientId, '100.00');
    const res = await fetch(`${stack.sims.stripe.baseUrl}/v1/payment_methods`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.sims.stripe.publishableKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        type: 'card',
        'card[number]': '4242424242424242',
        'card[exp_month]': '12',
        'card[exp_year]': '2040',
        'card[cvc]': '123',
      }).toString(),
    });
    const pm = ((await res.json()) as { id: string }).id;
    // Several invoices: the saving shown is the bank payment's, per invoice and floored ($1.23 + $2.00, not $3.24).
    const [c, d] = [await newInvoice(stack, clientId, '123.45'), await newInvoice(stack, clientId, '200.99')];
    const both = (await (
      await fetch(`${stack.settleUrl}/portal/${token}/quote`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ invoices: [{ invoice_id: c.id }, { invoice_id: d.id }], payment_method: pm }),
      })
    ).json()) as { total_minor: string; ach_discount: string | null };
    expect(both).toMatchObject({ total_minor: '32444', ach_discount: '$3.23' });
    const q = (await (
      await fetch(`${stack.settleUrl}/portal/${token}/quote`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ invoices: [{ invoice_id: inv.id }], payment_method: pm }),
      })
    ).json()) as { quote_id: string; total_minor: string; surcharge_applies: boolean; ach_discount: string | null };
    // The card review offers the discount for paying by bank instead, and charges the card in full.
    expect(q).toMatchObject({ total_minor: '10000', surcharge_applies: false, ach_discount: '$1.00' });
    const paid = (await (
      await fetch(`${stack.settleUrl}/portal/${token}/pay-card`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ quote_id: q.quote_id, accepted_total_minor: q.total_minor }),
      })
    ).json()) as { payment_id: string; status: string };
    expect(paid.status).toBe('succeeded');
    const p = await payment(paid.payment_id);
    expect(p).toMatchObject({ amount_minor: 10_000n, discount_minor: 0n });
    expect(stack.sims.stripe.sim.store.paymentIntents.get(p.processor_payment_id!)!.amount).toBe(10_000);
  });
});
