// Card surcharging through HTTP: the MSP's program and the client's location set by API, the card typed
// into the hosted fields (a PaymentMethod made with the publishable key, as Stripe.js does), the quote and
// disclosure shown before the client confirms, then the charge of exactly the total shown. Cases from
// issue #3: Connecticut (prohibited), Colorado (2 % cap), New York (total price shown), a debit card (no
// surcharge), a Canadian client (2.4 %); the receipt shows the surcharge line and the ledger books it as
// surcharge income.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { addDays } from '../../src/domain/rules/calendar-date.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { newInvoice, postingsPosted } from './collections-helpers.ts';

let stack: Stack;
let smtp: TestSmtp;
let api: string;
let clientId: string;
let token: string;

beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ companies: 2, invoices: 2, smtpUrl: smtp.url });
  api = await stack.apiKey();
  clientId = (await openInvoices(stack))[0]!.client_id;
  token = await stack.portalToken(clientId);
  await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.updateTable('clients').set({ billing_email: 'ap@client.test' }).where('id', '=', clientId).execute(),
  );
});
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

const h = () => ({ authorization: `Bearer ${api}`, 'content-type': 'application/json' });
const today = () => new Date().toISOString().slice(0, 10);

async function apiPut(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${stack.settleUrl}/api/v1${path}`, { method: 'PUT', headers: h(), body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** What Stripe.js does in the hosted fields: create the PaymentMethod with the publishable key. */
async function cardMethod(number: string): Promise<string> {
  const res = await fetch(`${stack.sims.stripe.baseUrl}/v1/payment_methods`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.sims.stripe.publishableKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ type: 'card', 'card[number]': number, 'card[exp_month]': '12', 'card[exp_year]': '2040', 'card[cvc]': '123' }).toString(),
  });
  const body = (await res.json()) as { id: string };
  if (!res.ok) throw new Error(JSON.stringify(body));
  return body.id;
}

interface Quote {
  quote_id: string;
  amount_minor: string;
  surcharge_minor: string;
  total_minor: string;
  surcharge_applies: boolean;
  surcharge_rate: string | null;
  disclosure: string | null;
  display_total: string | null;
  no_surcharge_reason: string | null;
  total: string;
}

async function quote(invoiceId: string, pm: string): Promise<Quote> {
  const res = await fetch(`${stack.settleUrl}/portal/${token}/quote`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ invoices: [{ invoice_id: invoiceId }], payment_method: pm }),
  });
  const body = (await res.json()) as Quote;
  if (!res.ok) throw new Error(`quote failed: ${JSON.stringify(body)}`);
  return body;
}

async function payCard(
  q: Quote,
  accepted = q.total_minor,
): Promise<{ status: number; body: { payment_id: string; status: string; error?: { message: string } } }> {
  const res = await fetch(`${stack.settleUrl}/portal/${token}/pay-card`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ quote_id: q.quote_id, accepted_total_minor: accepted }),
  });
  return { status: res.status, body: (await res.json()) as { payment_id: string; status: string; error?: { message: string } } };
}

async function setClient(country: string, region: string | null): Promise<void> {
  const r = await apiPut(`/clients/${clientId}/surcharge`, { country, region });
  expect(r.status).toBe(200);
}

/** The PaymentIntent the processor charged for a payment. */
async function charged(paymentId: string): Promise<number> {
  const p = await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('payments').select('processor_payment_id').where('id', '=', paymentId).executeTakeFirstOrThrow(),
  );
  return stack.sims.stripe.sim.store.paymentIntents.get(p.processor_payment_id!)!.amount;
}

describe('surcharge program settings', () => {
  it('refuses to enable surcharging without a cost of acceptance, and a bad notice date', async () => {
    const noCost = await apiPut('/settings/surcharge', { enabled: true });
    expect(noCost.status).toBe(422);
    expect(JSON.stringify(noCost.json)).toMatch(/cost_of_acceptance_bps/);
    const badDate = await apiPut('/settings/surcharge', { notice_filed_on: '2024-02-30' });
    expect(badDate.status).toBe(422);
    // The MSP is in Texas (no state rule), pays 3.5 % to accept cards, filed its notice 40 days ago.
    const ok = await apiPut('/settings/surcharge', {
      enabled: true,
      msp_country: 'us',
      msp_region: 'tx',
      cost_of_acceptance_bps: 350,
      notice_filed_on: addDays(today(), -40),
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ enabled: true, msp_country: 'US', msp_region: 'TX', cost_of_acceptance_bps: 350 });
    const audit = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('audit_log').select('action').where('action', '=', 'settings.surcharge_updated').execute(),
    );
    expect(audit).toHaveLength(1);
  });
});

describe('surcharge cases through the portal', () => {
  it('Connecticut client: prohibited, no surcharge is quoted or charged', async () => {
    await setClient('US', 'CT');
    const inv = await newInvoice(stack, clientId, '100.00');
    const q = await quote(inv.id, await cardMethod('4242424242424242'));
    expect(q).toMatchObject({
      surcharge_applies: false,
      surcharge_minor: '0',
      no_surcharge_reason: 'prohibited_jurisdiction',
      total_minor: '10000',
      disclosure: null,
    });
    const paid = await payCard(q);
    expect(paid.body.status).toBe('succeeded');
    expect(await charged(paid.body.payment_id)).toBe(10_000);
  });

  it('Colorado client: capped at 2 %, shown before paying, charged as shown, on the receipt and in surcharge income', async () => {
    await setClient('US', 'CO');
    const inv = await newInvoice(stack, clientId, '123.45');
    const q = await quote(inv.id, await cardMethod('4242424242424242'));
    // 2 % of $123.45 = $2.469 → floored to $2.46.
    expect(q).toMatchObject({ surcharge_applies: true, surcharge_rate: '2.00%', amount_minor: '12345', surcharge_minor: '246', total_minor: '12591' });
    expect(q.disclosure).toContain('$2.46');
    // Confirming any total other than the one shown is refused, and nothing is charged.
    const stale = await payCard(q, '12345');
    expect(stale.status).toBe(409);
    const paid = await payCard(q);
    expect(paid.body.status).toBe('succeeded');
    expect(await charged(paid.body.payment_id)).toBe(12_591);
    const again = await payCard(q); // a double click on "Pay" starts nothing new
    expect(again.body.payment_id).toBe(paid.body.payment_id);
    const p = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('payments').select(['amount_minor', 'surcharge_minor', 'state']).where('id', '=', paid.body.payment_id).executeTakeFirstOrThrow(),
    );
    expect(p).toEqual({ amount_minor: 12_591n, surcharge_minor: 246n, state: 'succeeded' });

    // The invoice gets the invoice amount (never the surcharge) in ConnectWise.
    const postings = await postingsPosted(stack, paid.body.payment_id);
    expect(postings.map((x) => x.amount_minor)).toEqual([12_345n, 12_345n]);
    // Ledger: surcharge income of its own, apart from the invoice (accounts receivable) and from fees.
    const ledger = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx
        .selectFrom('ledger_entries')
        .select(['account', 'direction', 'amount_minor'])
        .where('payment_id', '=', paid.body.payment_id)
        .where('journal_kind', '=', 'payment_received')
        .execute(),
    );
    expect(ledger).toEqual(
      expect.arrayContaining([
        { account: 'processor_clearing', direction: 'debit', amount_minor: 12_591n },
        { account: 'accounts_receivable', direction: 'credit', amount_minor: 12_345n },
        { account: 'surcharge_income', direction: 'credit', amount_minor: 246n },
      ]),
    );
    // The receipt lists the surcharge as its own line with its amount.
    const receipt = await eventually(async () => smtp.received.find((m) => m.subject.includes('$125.91')), 15_000, 'receipt email');
    expect(receipt.to).toEqual(['ap@client.test']);
    const text = receipt.raw.replace(/=\r?\n/g, '');
    expect(text).toMatch(/Invoice \S+\s+\$123\.45/);
    expect(text).toMatch(/Credit card surcharge \(2\.00%\)\s+\$2\.46/);
    expect(text).toMatch(/Total charged\s+\$125\.91/);
  });

  it('New York client: the disclosure shows the total credit-card price in dollars', async () => {
    await setClient('US', 'NY');
    const inv = await newInvoice(stack, clientId, '200.00');
    const q = await quote(inv.id, await cardMethod('5555555555554444'));
    // Mastercard, MSP cost 3.5 %, NY caps at cost: 3.50 %.
    expect(q).toMatchObject({ surcharge_applies: true, surcharge_rate: '3.50%', surcharge_minor: '700', total_minor: '20700', display_total: '$207.00' });
    expect(q.disclosure).toContain('Credit card price: $207.00');
    expect(q.disclosure).not.toMatch(/\+\s*\d/);
    const page = await (await fetch(`${stack.settleUrl}/portal/${token}`)).text();
    expect(page).toContain('surcharge'); // the page says a surcharge may apply, before any card is entered
  });

  it('a debit card is never surcharged', async () => {
    await setClient('US', 'CO');
    const inv = await newInvoice(stack, clientId, '80.00');
    const q = await quote(inv.id, await cardMethod('4000056655665556'));
    expect(q).toMatchObject({ surcharge_applies: false, no_surcharge_reason: 'debit_or_prepaid', total_minor: '8000' });
    const paid = await payCard(q);
    expect(await charged(paid.body.payment_id)).toBe(8_000);
  });

  it('Canadian client: capped at 2.4 %', async () => {
    await setClient('CA', 'ON');
    const inv = await newInvoice(stack, clientId, '1000.00');
    const q = await quote(inv.id, await cardMethod('4242424242424242'));
    expect(q).toMatchObject({ surcharge_applies: true, surcharge_rate: '2.40%', surcharge_minor: '2400', total_minor: '102400' });
    const paid = await payCard(q);
    expect(await charged(paid.body.payment_id)).toBe(102_400);
  });

  it('an exempt client and a client without a recorded country are not surcharged', async () => {
    const bad = await apiPut(`/clients/${clientId}/surcharge`, { exempt: true });
    expect(bad.status).toBe(422);
    const r = await apiPut(`/clients/${clientId}/surcharge`, { country: 'US', region: 'CO', exempt: true, exempt_reason: 'contract term: no card fees' });
    expect(r.json).toMatchObject({ exempt: true });
    const inv = await newInvoice(stack, clientId, '50.00');
    expect(await quote(inv.id, await cardMethod('4242424242424242'))).toMatchObject({ surcharge_applies: false, no_surcharge_reason: 'exempt' });
    await apiPut(`/clients/${clientId}/surcharge`, { exempt: false, country: null, region: null });
    expect(await quote(inv.id, await cardMethod('4242424242424242'))).toMatchObject({ surcharge_applies: false, no_surcharge_reason: 'unknown_jurisdiction' });
  });
});
