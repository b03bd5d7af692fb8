// Issue #9 "the rules for the plans clients may choose themselves", in a real browser on real PostgreSQL and
// the simulators: the owner adds an installment offer in Settings (a form with a mistake first: named in the
// error summary, nothing saved); the client opens the portal, follows "Pay in parts" on a qualifying invoice,
// reads every part's date and amount, the plan fee (charged with part 1) and the total, agrees and confirms —
// part 1 is charged at once, with the fee —
// and the plan shows on the client's staff page as chosen by the client. The owner maps the plan fee's income
// account in GL mapping (the deposit line itself: test/integration/installment-plan-fee.test.ts). A viewer sees the offers without
// buttons and a direct POST is refused with nothing changed. Every page passes axe and fits 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';
import { apiFor, q, saveCard } from '../helpers/autopay.ts';
import { newInvoice } from '../integration/collections-helpers.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';

const LONG = 60_000;
const WORKSPACE = 'acme-it';
const OWNER = { email: 'owner@acme.test', password: 'correct horse battery' };
const VIEWER = { email: 'viewer@acme.test', password: 'viewer horse battery' };

let stack: Stack;
let browser: Browser;
let clientId: string;
let invoice: { id: string; number: string };
let small: { id: string; number: string };

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 1, invoices: 1 });
  browser = await launchBrowser();
  clientId = (await openInvoices(stack))[0]!.client_id;
  await saveCard(stack, apiFor(stack, await stack.apiKey()), clientId);
  invoice = await newInvoice(stack, clientId, '1200.00');
  small = await newInvoice(stack, clientId, '150.00');
  const password_hash = await hashPassword(VIEWER.password);
  await q(stack, (tx) =>
    tx.insertInto('users').values({ tenant_id: stack.tenantId, email: VIEWER.email, name: 'viewer', role: 'viewer', password_hash }).execute(),
  );
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const signIn = (context: BrowserContext, who: { email: string; password: string }): Promise<Page> =>
  signInStaff(context, stack.settleUrl, { workspace: WORKSPACE, ...who }, LONG);
const offers = () => q(stack, (tx) => tx.selectFrom('installment_offers').selectAll().execute());

describe.runIf(haveBrowser)('installment offers', () => {
  it('the owner adds an offer in Settings (a mistake named first, nothing saved)', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await page.goto(`${stack.settleUrl}/app/settings`);
    await Promise.all([page.waitForURL(/\/app\/settings\/installments$/, { timeout: LONG }), page.click('a[href="/app/settings/installments"]')]);
    expect(await page.locator('#no-offers').textContent()).toContain('No offer yet');
    await checkStaffPage(page, 'installment offers (empty)');
    await Promise.all([page.waitForURL(/\/installments\/new$/, { timeout: LONG }), page.click('#new-offer')]);
    await checkStaffPage(page, 'add an offer');
    await page.fill('#label', '3 monthly payments');
    await page.fill('#min_owed', 'a thousand');
    await page.fill('#fee_percent', '11');
    await page.click('#save-offer');
    await page.waitForSelector('.error-summary', { timeout: LONG });
    expect(await page.locator('.error-summary').textContent()).toContain('Enter the least amount owed as an amount');
    expect(await page.locator('.error-summary').textContent()).toContain('Enter the fee as a percentage from 0 to 10');
    await checkStaffPage(page, 'add an offer (error)');
    expect(await offers()).toEqual([]);
    await page.fill('#min_owed', '1,000.00');
    // A plan fee: $5.00 plus 2.5 % of the amount split, charged with part 1.
    await page.fill('#fee_flat', '5.00');
    await page.fill('#fee_percent', '2.5');
    // The parts are paid by card only.
    await page.uncheck('input[name=methods][value=us_bank_account]');
    await Promise.all([page.waitForURL(/\/app\/settings\/installments\?done=added$/, { timeout: LONG }), page.click('#save-offer')]);
    expect(await page.locator('#offers').textContent()).toContain('3 parts, 30 days apart');
    expect(await page.locator('#offers').textContent()).toContain('$1,000.00 or more');
    expect(await page.locator('#offers').textContent()).toContain('$5.00 + 2.5 % of the amount split, with part 1');
    await checkStaffPage(page, 'installment offers');
    const [offer] = await offers();
    expect(offer).toMatchObject({
      label: '3 monthly payments',
      parts: 3,
      every_days: 30,
      min_owed_minor: 100000n,
      fee_flat_minor: 500n,
      fee_bps: 250,
      methods: ['card'],
      enabled: true,
    });
    const audit = await q(stack, (tx) => tx.selectFrom('audit_log').select('actor').where('action', '=', 'settings.installment_offer_changed').execute());
    expect(audit).toEqual([{ actor: expect.stringMatching(/^user:/) }]);
    await context.close();
  }, 180_000);

  it('the owner maps the plan fee income account in Settings → GL mapping', async () => {
    const income = stack.sims.quickbooks.sim.ensureAccount('Installment plan fees', 'Income', 'ServiceFeeIncome').Id;
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await page.goto(`${stack.settleUrl}/app/settings/accounts`);
    // Only income accounts are offered for it, like the surcharge income account.
    expect(await page.locator('#account-planFeeIncomeAccountId option', { hasText: '(Bank)' }).count()).toBe(0);
    await page.selectOption('#account-planFeeIncomeAccountId', income);
    await Promise.all([page.waitForURL(/\/app\/settings\/accounts\?saved=1$/, { timeout: LONG }), page.click('#save-accounts')]);
    expect(await page.inputValue('#account-planFeeIncomeAccountId')).toBe(income);
    await checkStaffPage(page, 'GL mapping with the plan fee account');
    const config = await q(stack, (tx) => tx.selectFrom('connections').select('config').where('role', '=', 'accounting').executeTakeFirstOrThrow());
    expect((config.config as Record<string, unknown>)['planFeeIncomeAccountId']).toBe(income);
    const audit = await q(stack, (tx) => tx.selectFrom('audit_log').select('detail').where('action', '=', 'connection.accounts_changed').execute());
    expect(audit.map((a) => a.detail)).toEqual([{ planFeeIncomeAccountId: expect.objectContaining({ to: income, to_name: 'Installment plan fees' }) }]);
    await context.close();
  }, 120_000);

  it('a viewer sees the offers without buttons; a direct POST is refused and changes nothing', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/settings/installments`);
    expect(await page.locator('#offers tbody tr').count()).toBe(1);
    expect(await page.locator('#new-offer').count()).toBe(0);
    expect(await page.locator('#offers button').count()).toBe(0);
    const [offer] = await offers();
    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const res = await page.request.post(`${stack.settleUrl}/app/settings/installments/${offer!.id}/enabled`, {
      form: { _csrf: csrf, enabled: 'false' },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
    expect((await offers())[0]!.enabled).toBe(true);
    await context.close();
  }, 120_000);

  it('the client chooses the plan in the portal; it shows on the client’s staff page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const portal = `${stack.settleUrl}/portal/${await stack.portalToken(clientId)}`;
    await page.goto(portal);
    // Offered on the $1,200.00 invoice, not on the $150.00 one.
    const row = page.locator('tr', { hasText: invoice.number });
    expect(await row.locator('a.plan-link').count()).toBe(1);
    expect(await page.locator('tr', { hasText: small.number }).locator('a.plan-link').count()).toBe(0);
    await Promise.all([page.waitForURL(new RegExp(`/plan/${invoice.id}$`), { timeout: LONG }), row.locator('a.plan-link').click()]);
    const offer = page.locator('section.offer');
    expect(await offer.locator('tbody tr').count()).toBe(3);
    // $5.00 + 2.5 % of $1,200.00 = $35.00, charged with part 1: $435.00, then $400.00 twice.
    expect(await offer.locator('tbody').textContent()).toContain('$435.00');
    expect(await offer.locator('tbody').textContent()).toContain('$400.00');
    expect(await offer.locator('.offer-fee').textContent()).toContain('Installment plan fee: $35.00, charged once with part 1');
    expect(await offer.locator('.offer-total').textContent()).toBe('$1,235.00');
    expect(await offer.locator('button.choose-offer').textContent()).toContain('$435.00');
    await checkStaffPage(page, 'portal: pay in parts');
    // Not agreed yet: the summary says so; nothing is made.
    await offer.locator('button.choose-offer').click();
    await page.waitForSelector('#error-summary:not([hidden])', { timeout: LONG });
    expect(await page.locator('#error-summary').textContent()).toContain('Tick the box');
    expect(await q(stack, (tx) => tx.selectFrom('installment_plans').select('id').where('invoice_id', '=', invoice.id).execute())).toEqual([]);
    await offer.locator('input[name=agree]').check();
    await Promise.all([page.waitForURL(/\?made=1$/, { timeout: LONG }), offer.locator('button.choose-offer').dblclick()]);
    expect(await page.locator('#plan-made').textContent()).toContain('Your plan is set up');
    expect(await page.locator('#plan-total').textContent()).toBe('$1,235.00');
    expect(await page.locator('#plan-fee').textContent()).toContain('installment plan fee $35.00');
    await checkStaffPage(page, 'portal: your plan');
    const plans = await q(stack, (tx) => tx.selectFrom('installment_plans').select(['id', 'created_by']).where('invoice_id', '=', invoice.id).execute());
    expect(plans).toEqual([{ id: expect.any(String), created_by: `client:${clientId}` }]);
    // Part 1 is charged at once (the collector the plan queued).
    await eventually(
      () =>
        q(stack, (tx) =>
          tx
            .selectFrom('installment_parts')
            .select('id')
            .where('plan_id', '=', plans[0]!.id)
            .where('part_no', '=', 1)
            .where('status', '=', 'paid')
            .executeTakeFirst(),
        ),
      LONG,
      'part 1 paid',
    );
    const charged = await q(stack, (tx) =>
      tx
        .selectFrom('installment_parts as x')
        .innerJoin('payments as p', 'p.id', 'x.payment_id')
        .select(['p.amount_minor', 'p.plan_fee_minor'])
        .where('x.plan_id', '=', plans[0]!.id)
        .where('x.part_no', '=', 1)
        .executeTakeFirstOrThrow(),
    );
    expect(charged).toEqual({ amount_minor: 43_500n, plan_fee_minor: 3_500n });

    const staff = await signIn(await browser.newContext(), OWNER);
    await staff.goto(`${stack.settleUrl}/app/clients/${clientId}`);
    const listed = staff.locator('#client-plans tr', { hasText: invoice.number });
    expect(await listed.textContent()).toContain('the client, in the portal');
    expect(await listed.textContent()).toContain('1 of 3');
    expect(await listed.textContent()).toContain('+ $35.00 plan fee with part 1');
    await checkStaffPage(staff, 'client page with plan');
    await context.close();
  }, 240_000);
  it('the owner changes the offer and stops offering it; each change audited', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    const [offer] = await offers();
    await page.goto(`${stack.settleUrl}/app/settings/installments`);
    await Promise.all([
      page.waitForURL(new RegExp(`/app/settings/installments/${offer!.id}$`), { timeout: LONG }),
      page.click(`tr[data-offer="${offer!.id}"] a`),
    ]);
    expect(await page.inputValue('#min_owed')).toBe('1000.00');
    expect([await page.inputValue('#fee_flat'), await page.inputValue('#fee_percent')]).toEqual(['5.00', '2.5']);
    await checkStaffPage(page, 'change an offer');
    await page.fill('#parts', '13');
    await page.click('#save-offer');
    await page.waitForSelector('.error-summary', { timeout: LONG });
    expect(await page.locator('.error-summary').textContent()).toContain('from 2 to 12');
    expect((await offers())[0]!.parts).toBe(3);
    await page.fill('#parts', '4');
    await page.fill('#label', '4 monthly payments');
    await Promise.all([page.waitForURL(/done=saved$/, { timeout: LONG }), page.click('#save-offer')]);
    expect(await page.locator('#offers').textContent()).toContain('4 monthly payments');
    await Promise.all([page.waitForURL(/done=disabled$/, { timeout: LONG }), page.click(`tr[data-offer="${offer!.id}"] button`)]);
    expect(await page.locator(`tr[data-offer="${offer!.id}"]`).textContent()).toContain('not offered');
    expect((await offers())[0]).toMatchObject({ parts: 4, label: '4 monthly payments', enabled: false });
    const changes = await q(stack, (tx) =>
      tx.selectFrom('audit_log').select('detail').where('action', '=', 'settings.installment_offer_changed').orderBy('id').execute(),
    );
    expect(changes.map((c) => (c.detail as { change: string }).change)).toEqual(['added', 'edited', 'disabled']);
    await context.close();
  }, 180_000);
});
