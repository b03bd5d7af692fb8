// Issue #9 "Payments" in a real browser, on real PostgreSQL and the vendor simulators: finance finds a card
// payment, asks for a partial refund, reads the effect (Stripe, ConnectWise, QuickBooks) on the confirmation
// page and confirms — twice, as a double click does — and Stripe holds exactly one refund of that amount,
// which the payment page then shows. A viewer sees the same pages without the refund or receipt buttons,
// and a direct POST of a refund answers 403 with nothing changed. Every page passes axe and fits 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { expectAccessible, expectNoHorizontalScroll } from '../helpers/axe.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';
import { apiFor, saveCard } from '../helpers/autopay.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';

const LONG = 60_000;
const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };
const FINANCE = { email: 'finance@acme.test', password: 'finance horse battery' };
const VIEWER = { email: 'viewer@acme.test', password: 'viewer horse battery' };

let stack: Stack;
let browser: Browser;
let paymentId = '';
let intentId = '';
let total = 0n;
let cwInvoiceId = 0;

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const stripeRefunds = () => [...stack.sims.stripe.sim.store.refunds.values()].filter((r) => r.payment_intent === intentId);
const refundRows = () => q((tx) => tx.selectFrom('refunds').selectAll().where('payment_id', '=', paymentId).execute());
const dollars = (minor: bigint): string => `$${(minor / 100n).toLocaleString('en-US')}.${(minor % 100n).toString().padStart(2, '0')}`;

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 2, invoices: 3 });
  browser = await launchBrowser();
  for (const u of [
    { ...FINANCE, role: 'finance' as const },
    { ...VIEWER, role: 'viewer' as const },
  ]) {
    const password_hash = await hashPassword(u.password);
    await q((tx) => tx.insertInto('users').values({ tenant_id: stack.tenantId, email: u.email, name: u.role, role: u.role, password_hash }).execute());
  }
  const invoice = (await openInvoices(stack))[0]!;
  total = invoice.total_minor;
  cwInvoiceId = Number(invoice.remote);
  // Finance charges the client's saved Visa (as POST /api/v1/payments does): the payment knows its card.
  const api = apiFor(stack, await stack.apiKey());
  const methodId = await saveCard(stack, api, invoice.client_id);
  const charged = await api('POST', '/payments', { payment_method_id: methodId, invoices: [{ invoice_id: invoice.id }] });
  expect(charged.body).toMatchObject({ outcome: 'succeeded' });
  paymentId = charged.body.payment_id;
  intentId = (await q((tx) => tx.selectFrom('payments').select('processor_payment_id').where('id', '=', paymentId).executeTakeFirstOrThrow()))
    .processor_payment_id!;
  // Posted to ConnectWise and QuickBooks, so the refund's effect on both can be stated.
  await eventually(
    async () => {
      const rows = await q((tx) => tx.selectFrom('postings').select('status').where('payment_id', '=', paymentId).where('kind', '=', 'payment').execute());
      return rows.length === 2 && rows.every((r) => r.status === 'posted');
    },
    LONG,
    'the payment posted to the PSA and the books',
  );
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const signIn = (context: BrowserContext, who: { email: string; password: string }): Promise<Page> =>
  signInStaff(context, stack.settleUrl, { workspace: OWNER.workspace, ...who }, LONG);

const checkPage = checkStaffPage;

describe.runIf(haveBrowser)('staff payments', () => {
  it('finance refunds part of a payment through the confirmation; a double submit refunds once; the page shows it', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, FINANCE);

    await page.goto(`${stack.settleUrl}/app/payments?method=card`);
    expect(await page.locator('#payments tbody tr').count()).toBe(1);
    expect(await page.locator('.chip').first().textContent()).toContain('Method: Card');
    await checkPage(page, '/app/payments');
    await page.goto(`${stack.settleUrl}/app/payments?from=not-a-date`);
    expect(await page.locator('.error-summary').textContent()).toContain('Enter the first day as a date');
    await checkPage(page, '/app/payments with an error');

    await page.goto(`${stack.settleUrl}/app/payments`);
    await Promise.all([page.waitForURL(/\/app\/payments\/[0-9a-f-]{36}$/, { timeout: LONG }), page.locator('#payments tbody a').first().click()]);
    expect(await page.locator('#payment-amount').textContent()).toBe(dollars(total));
    expect(await page.locator('#timeline').textContent()).toMatch(/Payment of .* posted/);
    await checkPage(page, 'payment page');

    // Step 1: too much is refused with the reason, nothing sent.
    await Promise.all([page.waitForURL(/\/refund$/, { timeout: LONG }), page.click('#refund')]);
    await checkPage(page, 'refund form');
    await page.fill('#amount', (Number(total) / 100 + 1).toFixed(2));
    await page.fill('#reason', 'two seats were cancelled');
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/refund') && r.request().method() === 'POST'), page.click('#review-refund')]);
    expect(await page.locator('.error-summary').textContent()).toContain(`Enter at most ${dollars(total)}`);
    await checkPage(page, 'refund form with an error');

    // Step 2: the effect, stated before anything happens.
    const part = 1234n;
    await page.fill('#amount', '12.34');
    await Promise.all([page.waitForSelector('#refund-effect', { timeout: LONG }), page.click('#review-refund')]);
    const effect = (await page.locator('#refund-effect').textContent()) ?? '';
    expect(effect).toContain('Refund $12.34 to Visa ·4242 through Stripe.');
    expect(effect).toContain(`in ConnectWise becomes ${dollars(total - part)}`);
    expect(effect).toContain('QuickBooks gets a reversing journal entry of $12.34');
    expect(stripeRefunds()).toHaveLength(0);
    expect(await refundRows()).toHaveLength(0);
    await checkPage(page, 'refund confirmation');

    // Step 3: a double click on Refund — two posts of the same form — is one refund.
    const form: Record<string, string> = {};
    for (const name of ['_csrf', 'amount_minor', 'reason', 'key'])
      form[name] = (await page.locator(`#refund-effect input[name=${name}]`).getAttribute('value'))!;
    await page.locator('#confirm-refund').dblclick();
    await page.waitForURL(/\/app\/payments\/[0-9a-f-]{36}\?refund=/, { timeout: LONG });
    const replay = await page.request.post(`${stack.settleUrl}/app/payments/${paymentId}/refund/confirm`, { form, maxRedirects: 0 });
    expect(replay.status()).toBe(303);
    await eventually(async () => (await refundRows()).every((r) => r.status === 'succeeded') && (await refundRows()).length > 0, LONG, 'refund booked');
    expect(stripeRefunds()).toHaveLength(1);
    expect(stripeRefunds()[0]!.amount).toBe(1234);
    expect(await refundRows()).toHaveLength(1);
    expect(replay.headers()['location']).toBe(`/app/payments/${paymentId}?refund=${(await refundRows())[0]!.id}`);

    await page.reload();
    expect(await page.locator('.notice--ok').textContent()).toContain('Refunded $12.34 to Visa ·4242');
    expect(await page.locator('#payment-refunded').textContent()).toBe('$12.34');
    expect(await page.locator('#timeline').textContent()).toContain('Refund of $12.34 succeeded');
    // ConnectWise's payment reduced, as the confirmation said.
    await eventually(
      async () => {
        const paid = stack.sims.connectwise.sim.paymentsFor(cwInvoiceId).map((p) => Math.round(Number(p.amount) * 100));
        return paid.length === 1 && BigInt(paid[0]!) === total - part;
      },
      LONG,
      'ConnectWise payment reduced',
    );
    const audits = await q((tx) => tx.selectFrom('audit_log').select(['action', 'actor']).where('subject_id', '=', paymentId).execute());
    expect(audits.filter((a) => a.action === 'refund.requested')).toHaveLength(1);
    expect(audits.find((a) => a.action === 'refund.requested')!.actor).toMatch(/^user:/);

    // Resend the receipt: through the outbox, audited.
    await Promise.all([page.waitForURL(/receipt=sent/, { timeout: LONG }), page.click('#resend-receipt')]);
    expect(await page.locator('.notice--ok').textContent()).toContain('Receipt queued to');
    const resent = await q((tx) => tx.selectFrom('notifications').select('id').where('idempotency_key', 'like', `receipt:resend:${paymentId}:%`).execute());
    expect(resent).toHaveLength(1);
    expect((await q((tx) => tx.selectFrom('audit_log').select('action').where('action', '=', 'receipt.resent').execute())).length).toBe(1);
    await checkPage(page, 'payment page after refund');
    await context.close();
  }, 300_000);

  it('the payout with that payment and refund: its composition, the deposit in QuickBooks, equal to the bank line', async () => {
    const payout = stack.sims.stripe.sim.runPayouts()!;
    await eventually(
      () =>
        q((tx) =>
          tx
            .selectFrom('postings as d')
            .innerJoin('payouts as p', 'p.id', 'd.payout_id')
            .select('d.id')
            .where('p.processor_payout_id', '=', payout.id)
            .where('d.kind', '=', 'deposit')
            .where('d.status', '=', 'posted')
            .executeTakeFirst(),
        ),
      LONG,
      'deposit posted',
    );
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/payouts`);
    const row = page.locator('#payouts tbody tr', { hasText: payout.id });
    expect(await row.textContent()).toContain('in QuickBooks');
    await checkPage(page, '/app/payouts');
    await Promise.all([page.waitForURL(/\/app\/payouts\/[0-9a-f-]{36}$/, { timeout: LONG }), row.locator('a').click()]);
    expect(await page.locator('#group-payments').textContent()).toMatch(/Payments \(1\)/);
    expect(await page.locator('#group-refunds').textContent()).toContain('Refunds (1): -$12.34');
    expect(await page.locator('#deposit').textContent()).toContain(`Deposit of ${dollars(BigInt(payout.amount))}`);
    expect(await page.locator('#deposit-match').textContent()).toContain('It equals the bank line');
    await checkPage(page, 'payout page');
    await context.close();
  }, 180_000);

  it('a viewer sees no refund or receipt button, and a direct refund POST is refused with 403 and changes nothing', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/payments/${paymentId}`);
    expect(await page.locator('#payment-amount').textContent()).toBe(dollars(total));
    expect(await page.locator('#refund').count()).toBe(0);
    expect(await page.locator('#resend-receipt').count()).toBe(0);
    expect(await page.getByRole('button', { name: /refund/i }).count()).toBe(0);
    await checkPage(page, 'payment page as viewer');

    const before = { stripe: stripeRefunds().length, rows: (await refundRows()).length, state: await paymentState() };
    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const forged = { _csrf: csrf, amount_minor: '100', reason: 'viewer tries', key: 'viewer-key-0123456789abcdef' };
    const res = await page.request.post(`${stack.settleUrl}/app/payments/${paymentId}/refund/confirm`, { form: forged, maxRedirects: 0 });
    expect(res.status()).toBe(403);
    expect(await res.text()).toContain('needs the finance role');
    const form = await page.request.get(`${stack.settleUrl}/app/payments/${paymentId}/refund`, { maxRedirects: 0 });
    expect(form.status()).toBe(403);
    const receipt = await page.request.post(`${stack.settleUrl}/app/payments/${paymentId}/receipt`, {
      form: { _csrf: csrf, key: 'viewer-key-0123456789' },
      maxRedirects: 0,
    });
    expect(receipt.status()).toBe(403);
    expect(stripeRefunds().length).toBe(before.stripe);
    expect((await refundRows()).length).toBe(before.rows);
    expect(await paymentState()).toBe(before.state);
    await context.close();
  }, 180_000);
});

async function paymentState(): Promise<string> {
  return (await q((tx) => tx.selectFrom('payments').select('state').where('id', '=', paymentId).executeTakeFirstOrThrow())).state;
}
