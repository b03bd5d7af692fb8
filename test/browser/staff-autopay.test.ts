// Issue #9 "Autopay" in a real browser, on real PostgreSQL and the simulators: two charges wait for approval
// (over a rule's cap). Finance reads the queue, opens one, reads what approving does, approves it — the engine
// sends the pre-debit notice and charges it once the notice period has passed — and rejects the other with a
// reason (without one, the form says what is missing and nothing changes). A viewer sees the decision page
// without its buttons and a direct POST is refused. Every page passes axe and fits 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { expectAccessible, expectNoHorizontalScroll } from '../helpers/axe.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import {
  addDays,
  apiFor,
  autopayJobsIdle,
  enableAutopay,
  intentsForInvoice,
  newCompany,
  newInvoice,
  product,
  q,
  runOn,
  saveCard,
  scheduleOf,
  todayUtc,
  type Api,
} from '../helpers/autopay.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';

const LONG = 60_000;
const WORKSPACE = 'acme-it';
const OWNER = { email: 'owner@acme.test', password: 'correct horse battery' };
const VIEWER = { email: 'viewer@acme.test', password: 'viewer horse battery' };
const today = todayUtc();

let stack: Stack;
let browser: Browser;
let api: Api;
const waiting: { invoiceId: string; number: string; approvalId: string }[] = [];

async function cappedClient(name: string, price: string): Promise<{ invoiceId: string; number: string }> {
  const company = newCompany(stack, name);
  const first = await newInvoice(stack, company, { date: addDays(today, -30), dueDate: addDays(today, -1), lines: [product('Managed Workstation', price)] });
  await saveCard(stack, api, first.clientId);
  const rule = await api('POST', '/autopay/rules', { name: `${name} rule`, client_id: first.clientId, approval_cap_minor: '76000' });
  expect(rule.status).toBe(201);
  await enableAutopay(api, first.clientId);
  const big = await newInvoice(stack, company, { date: today, dueDate: addDays(today, 1), lines: [product('Firewall Appliance', '800.00')] });
  return { invoiceId: big.id, number: big.number };
}

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 1, invoices: 1 });
  browser = await launchBrowser();
  api = apiFor(stack, await stack.apiKey());
  expect((await api('PUT', '/autopay/settings', { notice_days: 1, jump_percent: null })).status).toBe(200);
  const password_hash = await hashPassword(VIEWER.password);
  await q(stack, (tx) =>
    tx.insertInto('users').values({ tenant_id: stack.tenantId, email: VIEWER.email, name: 'viewer', role: 'viewer', password_hash }).execute(),
  );
  for (const [name, price] of [
    ['Summit Dental', '700.00'],
    ['Harbor Legal', '750.00'],
  ] as const) {
    const inv = await cappedClient(name, price);
    await runOn(stack, today);
    const ask = await q(stack, (tx) =>
      tx.selectFrom('autopay_approvals').select('id').where('invoice_id', '=', inv.invoiceId).where('status', '=', 'pending').executeTakeFirstOrThrow(),
    );
    waiting.push({ ...inv, approvalId: ask.id });
  }
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const signIn = (context: BrowserContext, who: { email: string; password: string }): Promise<Page> =>
  signInStaff(context, stack.settleUrl, { workspace: WORKSPACE, ...who }, LONG);

const checkPage = checkStaffPage;

const approval = (id: string) =>
  q(stack, (tx) => tx.selectFrom('autopay_approvals').select(['status', 'note', 'decided_by']).where('id', '=', id).executeTakeFirstOrThrow());

describe.runIf(haveBrowser)('staff autopay', () => {
  it('a viewer sees the queue and the decision without buttons; a direct POST is refused and changes nothing', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/autopay/approvals/${waiting[0]!.approvalId}`);
    expect(await page.locator('#approval-amount').textContent()).toBe('$800.00');
    expect(await page.locator('#approve').count()).toBe(0);
    expect(await page.locator('#reject').count()).toBe(0);
    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const res = await page.request.post(`${stack.settleUrl}/app/autopay/approvals/${waiting[0]!.approvalId}/approve`, {
      form: { _csrf: csrf },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
    expect((await approval(waiting[0]!.approvalId)).status).toBe('pending');
    await context.close();
  }, 120_000);

  it('finance approves one charge (noticed, then charged) and rejects the other with a reason', async () => {
    const [yes, no] = waiting as [(typeof waiting)[0], (typeof waiting)[0]];
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await page.goto(`${stack.settleUrl}/app/autopay`);
    expect(await page.locator('#approvals tbody tr').count()).toBe(2);
    expect(await page.locator('#approvals').textContent()).toContain("over the rule's approval cap of $760.00");
    expect(await page.locator('#calendar').textContent()).toContain(`#${yes.number}`);
    await checkPage(page, '/app/autopay');

    await Promise.all([
      page.waitForURL(new RegExp(`/app/autopay/approvals/${yes.approvalId}$`), { timeout: LONG }),
      page
        .locator('#approvals tr', { hasText: `#${yes.number}` })
        .locator('a.review')
        .click(),
    ]);
    expect(await page.locator('#approve-effect').textContent()).toContain(`charges $800.00 to Visa ·4242 for invoice #${yes.number}`);
    await checkPage(page, 'approval page');
    await page.fill('#note', 'appliance agreed on the phone');
    await Promise.all([page.waitForURL(/\/app\/autopay\?decided=/, { timeout: LONG }), page.click('#approve')]);
    expect(await page.locator('.notice--ok').textContent()).toContain(`Approved: $800.00 for invoice #${yes.number}`);
    expect(await approval(yes.approvalId)).toMatchObject({
      status: 'approved',
      note: 'appliance agreed on the phone',
      decided_by: expect.stringMatching(/^user:/),
    });
    // The engine takes it from here: notice now, charge once the day's notice has passed.
    await autopayJobsIdle(stack);
    await eventually(async () => (await scheduleOf(stack, yes.invoiceId))?.state === 'noticed', LONG, 'notice sent after approval');
    expect(await intentsForInvoice(stack, yes.invoiceId)).toEqual([]);
    await runOn(stack, addDays(today, 1));
    expect(await intentsForInvoice(stack, yes.invoiceId)).toEqual([expect.objectContaining({ amount: 80000, status: 'succeeded' })]);
    await page.goto(`${stack.settleUrl}/app/autopay`);
    expect(await page.locator('#decisions').textContent()).toContain(`#${yes.number}`);

    // Reject: the reason is required; without it nothing changes.
    await page.goto(`${stack.settleUrl}/app/autopay/approvals/${no.approvalId}`);
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/reject')), page.click('#reject')]);
    expect(await page.locator('.error-summary').textContent()).toContain('Enter why you are rejecting this charge');
    expect((await approval(no.approvalId)).status).toBe('pending');
    await checkPage(page, 'approval page with an error');
    await page.fill('#reason', 'project work, invoice by hand');
    await Promise.all([page.waitForURL(/\/app\/autopay\?decided=/, { timeout: LONG }), page.click('#reject')]);
    expect(await page.locator('.notice--ok').textContent()).toContain(`Rejected: $800.00 for invoice #${no.number}`);
    expect(await approval(no.approvalId)).toMatchObject({ status: 'rejected', note: 'project work, invoice by hand' });
    expect(await scheduleOf(stack, no.invoiceId)).toMatchObject({ state: 'cancelled', reason: 'rejected_by_staff' });
    await runOn(stack, addDays(today, 2));
    expect(await intentsForInvoice(stack, no.invoiceId)).toEqual([]);
    const audits = await q(stack, (tx) =>
      tx.selectFrom('audit_log').select('action').where('action', 'in', ['autopay.approval_approved', 'autopay.approval_rejected']).execute(),
    );
    expect(audits.map((a) => a.action).sort()).toEqual(['autopay.approval_approved', 'autopay.approval_rejected']);
    await checkPage(page, '/app/autopay after decisions');
    await context.close();
  }, 300_000);

  it('finance adds a rule through the form (a missing answer is named first), moves it; a viewer cannot edit', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await page.goto(`${stack.settleUrl}/app/autopay`);
    await Promise.all([page.waitForURL(/\/app\/autopay\/rules$/, { timeout: LONG }), page.click('#rules-link')]);
    await checkPage(page, '/app/autopay/rules');
    await Promise.all([page.waitForURL(/\/rules\/new$/, { timeout: LONG }), page.click('#new-rule')]);
    await checkPage(page, 'new rule form');
    await page.fill('#name', 'Agreements by card');
    await page.fill('#client', 'Summit Dental');
    await page.check('input[name=invoice_types][value=agreement]');
    await page.uncheck('input[name=method_kinds][value=card]');
    await page.uncheck('input[name=method_kinds][value=us_bank_account]');
    await page.fill('#cap', '2,500.00');
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/app/autopay/rules') && r.request().method() === 'POST'), page.click('#save-rule')]);
    expect(await page.locator('.error-summary').textContent()).toContain('Choose at least one way to charge');
    await checkPage(page, 'rule form with an error');
    const count = () => q(stack, (tx) => tx.selectFrom('autopay_rules').select('id').where('deleted_at', 'is', null).execute());
    const before = (await count()).length;
    await page.check('input[name=method_kinds][value=card]');
    await Promise.all([page.waitForURL(/\/app\/autopay\/rules\?saved=1$/, { timeout: LONG }), page.click('#save-rule')]);
    expect((await count()).length).toBe(before + 1);
    const row = page.locator('#rules tbody tr', { hasText: 'Agreements by card' });
    expect(await row.textContent()).toContain('agreement invoices');
    expect(await row.textContent()).toContain('approval above $2,500.00');
    // Summit Dental's two rules: moving the new one swaps their order.
    const summit = async () =>
      (await page.locator('#rules tbody tr', { hasText: 'Summit Dental' }).allTextContents()).map((t) => t.includes('Agreements by card'));
    const at = (await summit()).indexOf(true);
    expect((await summit()).length).toBe(2);
    await Promise.all([page.waitForURL(/saved=1$/, { timeout: LONG }), row.getByRole('button', { name: at === 0 ? /^Down/ : /^Up/ }).click()]);
    expect((await summit()).indexOf(true)).toBe(1 - at);
    const positions = await q(stack, (tx) =>
      tx
        .selectFrom('autopay_rules as r')
        .innerJoin('clients as c', 'c.id', 'r.client_id')
        .select(['r.name', 'r.position'])
        .where('c.name', '=', 'Summit Dental')
        .orderBy('r.position')
        .execute(),
    );
    expect(positions.map((r) => r.name)[1 - at]).toBe('Agreements by card');
    const created = await q(stack, (tx) =>
      tx.selectFrom('audit_log').select('actor').where('action', '=', 'autopay.rule_created').orderBy('id', 'desc').executeTakeFirstOrThrow(),
    );
    expect(created.actor).toMatch(/^user:/);
    await context.close();

    const viewerContext = await browser.newContext();
    const viewer = await signIn(viewerContext, VIEWER);
    await viewer.goto(`${stack.settleUrl}/app/autopay/rules`);
    expect(await viewer.locator('#new-rule').count()).toBe(0);
    expect(await viewer.getByRole('button', { name: /^Up/ }).count()).toBe(0);
    await viewer.locator('#rules a', { hasText: 'Agreements by card' }).click();
    await viewer.waitForSelector('#name');
    expect(await viewer.locator('#save-rule').count()).toBe(0);
    await checkPage(viewer, 'rule page as viewer');
    await viewerContext.close();
  }, 240_000);

  it('finance splits an invoice into an installment plan through the confirmation, then cancels it with a reason', async () => {
    const company = newCompany(stack, 'Cedar Clinic');
    const inv = await newInvoice(stack, company, { date: today, dueDate: addDays(today, 30), lines: [product('Server Migration', '1000.00')] });
    await saveCard(stack, api, inv.clientId);
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await page.goto(`${stack.settleUrl}/app/autopay`);
    await Promise.all([page.waitForURL(/\/installments$/, { timeout: LONG }), page.click('#installments-link')]);
    await checkPage(page, '/app/autopay/installments');
    await Promise.all([page.waitForURL(/\/installments\/new$/, { timeout: LONG }), page.click('#new-plan')]);
    await page.fill('#invoice', 'NO-SUCH-1');
    await Promise.all([page.waitForURL(/invoice=NO-SUCH-1/, { timeout: LONG }), page.click('#find-invoice')]);
    expect(await page.locator('.error-summary').textContent()).toContain('No invoice #NO-SUCH-1');
    await checkPage(page, 'installment invoice question with an error');
    await page.fill('#invoice', inv.number);
    await Promise.all([page.waitForSelector('#preview-plan', { timeout: LONG }), page.click('#find-invoice')]);
    expect(await page.locator('main').textContent()).toContain('still owes $1,000.00');
    await checkPage(page, 'installment plan form');
    await page.fill('#parts', '3');
    await page.fill('#first_due_on', addDays(today, 7));
    await page.fill('#every_days', '30');
    await Promise.all([page.waitForSelector('#plan-parts', { timeout: LONG }), page.click('#preview-plan')]);
    const parts = await page.locator('#plan-parts tbody tr').allTextContents();
    expect(parts).toHaveLength(3);
    expect(parts[0]).toContain('$333.33');
    expect(parts[2]).toContain('$333.34');
    expect(await page.locator('#plan-effect').textContent()).toContain('charged to Visa ·4242');
    const plans = () => q(stack, (tx) => tx.selectFrom('installment_plans').selectAll().where('invoice_id', '=', inv.id).execute());
    expect(await plans()).toHaveLength(0);
    await checkPage(page, 'installment confirmation');
    await Promise.all([page.waitForURL(/done=created$/, { timeout: LONG }), page.click('#create-plan')]);
    const [plan] = await plans();
    expect(plan).toMatchObject({ status: 'active', total_minor: 100000n });
    expect(
      await q(stack, (tx) => tx.selectFrom('installment_parts').select('amount_minor').where('plan_id', '=', plan!.id).orderBy('part_no').execute()),
    ).toEqual([{ amount_minor: 33333n }, { amount_minor: 33333n }, { amount_minor: 33334n }]);
    const section = page.locator('section.plan', { hasText: `Invoice #${inv.number}` });
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/cancel')), section.getByRole('button', { name: /Cancel the plan/ }).click()]);
    expect(await page.locator('.error-summary').textContent()).toContain('Enter why you are cancelling the plan');
    expect((await plans())[0]!.status).toBe('active');
    await page
      .locator('section.plan', { hasText: `Invoice #${inv.number}` })
      .getByLabel(/Reason for cancelling/)
      .fill('client paid by cheque');
    await Promise.all([
      page.waitForURL(/done=cancelled$/, { timeout: LONG }),
      page
        .locator('section.plan', { hasText: `Invoice #${inv.number}` })
        .getByRole('button', { name: /Cancel the plan/ })
        .click(),
    ]);
    expect((await plans())[0]).toMatchObject({ status: 'cancelled', cancel_reason: 'client paid by cheque' });
    await checkPage(page, 'installments after cancelling');
    await context.close();
  }, 240_000);
});
