// Collections Assist in a real browser, on real PostgreSQL. Staff (finance): Collections → turn reminders on
// (the default sequence appears), open it, edit a step (a refused step shows the error summary and stores
// nothing; the preview shows the wording with sample values; saved and audited), record a pause on Promises,
// disputes and pauses and release it; the Results page. A viewer sees no forms and a direct POST is 403.
// The client, in the portal: from the invoice list to "Tell us", a promise refused for a past date, then
// accepted; a dispute; both stored as holds. Every page passes axe and fits 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';
import { expectAccessible, expectNoHorizontalScroll } from '../helpers/axe.ts';
import { addDays } from '../../src/domain/rules/calendar-date.ts';

const LONG = 60_000;
const FINANCE = { email: 'finance@acme.test', password: 'finance horse battery' };
const VIEWER = { email: 'viewer@acme.test', password: 'viewer horse battery' };

let stack: Stack;
let browser: Browser;
const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);

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
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const signIn = (context: BrowserContext, who: { email: string; password: string }): Promise<Page> =>
  signInStaff(context, stack.settleUrl, { workspace: 'acme-it', ...who }, LONG);

describe.runIf(haveBrowser)('Collections Assist pages', () => {
  it('finance turns reminders on, edits a step with a preview, pauses a client and reads the results', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, FINANCE);
    await page.goto(`${stack.settleUrl}/app`);
    await page.getByRole('link', { name: 'Collections', exact: true }).click();
    await page.waitForURL(/\/app\/collections$/);
    await expect(page.locator('#no-sequences').isVisible()).resolves.toBe(true);
    await page.locator('#enabled').check();
    await page.locator('#save-collections-settings').click();
    await page.waitForURL(/saved=settings/);
    await checkStaffPage(page, 'collections');
    await page.getByRole('link', { name: 'Standard reminders' }).click();
    await page.waitForURL(/\/app\/collections\/sequences\/[0-9a-f-]+/);
    expect(await page.locator('#steps tbody tr').count()).toBe(8);
    await checkStaffPage(page, 'sequence');

    await page.getByRole('link', { name: 'overdue_7', exact: true }).click();
    await page.waitForURL(/\/steps\/[0-9a-f-]+$/);
    // A body without the invoices is refused: error summary, nothing stored.
    await page.locator('#step-body').fill('Hello {{client_name}}, please pay: {{portal_link}} {{nonsense}}');
    await page.locator('#save-step').click();
    await expect(page.locator('.error-summary').textContent()).resolves.toContain('Unknown variable {{nonsense}}');
    await checkStaffPage(page, 'step refused');
    const stored = await q((tx) => tx.selectFrom('collection_steps').select('body').where('key', '=', 'overdue_7').executeTakeFirstOrThrow());
    expect(stored.body).not.toContain('nonsense');
    // Preview with sample values, then save.
    await page.locator('#step-subject').fill('Second notice: {{invoice_numbers}} from {{msp_name}}');
    await page.locator('#step-body').fill('Hello {{client_name}},\n\n{{invoices}}\n\nPay here: {{portal_link}}\n\n{{msp_name}}');
    await page.locator('#preview-step').click();
    await expect(page.locator('#preview-subject').textContent()).resolves.toBe('Second notice: invoice 1042 from Acme IT');
    await expect(page.locator('#preview-text').textContent()).resolves.toContain('Hello Oakridge Dental <Billing>,');
    await checkStaffPage(page, 'step preview');
    await page.locator('#save-step').click();
    await page.waitForURL(/saved=step/);
    await expect(page.locator('tr[data-step="overdue_7"]').textContent()).resolves.toContain('Second notice');
    const audit = await q((tx) => tx.selectFrom('audit_log').select('action').where('action', 'like', 'collections.%').execute());
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['collections.settings_changed', 'collections.step_changed']));

    // A pause for a whole client, then resumed.
    await page.goto(`${stack.settleUrl}/app/collections/holds`);
    await checkStaffPage(page, 'holds');
    await page.locator('#hold-kind').selectOption('pause');
    const clientOption = await page.locator('#hold-target option[value^="client:"]').first().getAttribute('value');
    await page.locator('#hold-target').selectOption(clientOption!);
    await page.locator('#hold-note').fill('On the phone: paying next week');
    await page.locator('#record-hold').click();
    await page.waitForURL(/saved=recorded/);
    expect(await page.locator('#holds tbody tr').count()).toBe(1);
    await page.getByRole('button', { name: /Resume reminders/ }).click();
    await page.waitForURL(/saved=released/);
    await expect(page.locator('#no-holds').isVisible()).resolves.toBe(true);
    // A promise without a date is refused with the field named.
    await page.locator('#hold-kind').selectOption('promise');
    const invoiceOption = await page.locator('#hold-target option[value^="invoice:"]').first().getAttribute('value');
    await page.locator('#hold-target').selectOption(invoiceOption!);
    await page.locator('#record-hold').click();
    await expect(page.locator('.error-summary').textContent()).resolves.toMatch(/date/);

    await page.goto(`${stack.settleUrl}/app/collections/results`);
    await expect(page.locator('#no-results').isVisible()).resolves.toBe(true);
    await checkStaffPage(page, 'results');
    await context.close();
  }, 180_000);

  it('a viewer reads the pages without forms, and a direct POST is refused', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/collections`);
    await expect(page.locator('#collections-state').textContent()).resolves.toContain('Owners and finance staff');
    expect(await page.locator('form#collections-settings').count()).toBe(0);
    const status = await page.evaluate(
      async (url) => (await fetch(url, { method: 'POST', body: new URLSearchParams({ enabled: '' }) })).status,
      `${stack.settleUrl}/app/collections/settings`,
    );
    expect(status).toBe(403);
    await context.close();
  }, 120_000);

  it('the client promises a date and disputes an invoice from the portal', async () => {
    const token = await stack.portalToken();
    const context = await browser.newContext({ viewport: { width: 360, height: 780 } });
    const page = await context.newPage();
    await page.goto(`${stack.settleUrl}/portal/${token}`);
    await page.locator('#promise-link a').first().click();
    await page.waitForURL(/\/promise$/);
    await expectAccessible(page, 'portal promise page');
    await expectNoHorizontalScroll(page, 'portal promise page');
    // A past date is refused, shown in the error summary.
    await page.locator('#promise-until').fill('2020-01-01');
    await page.locator('#promise-submit').click();
    // Waits for the words: the summary is shown (and its list emptied) before the answer's errors are written in.
    await page.locator('#error-summary', { hasText: 'today or a later date' }).waitFor();
    const inTen = addDays(new Date().toISOString().slice(0, 10), 10);
    await page.locator('#promise-until').fill(inTen);
    await page.locator('#promise-note').fill('Cheque run');
    await page.locator('#promise-submit').click();
    await page.waitForURL(/done=promise/);
    await expect(page.locator('#promise-recorded').isVisible()).resolves.toBe(true);
    await expect(page.locator('#holds').textContent()).resolves.toContain(`by ${inTen}`);
    // A dispute needs a note; then it is recorded.
    await page.locator('#dispute-submit').click();
    await page.locator('#error-summary', { hasText: 'what is wrong' }).waitFor();
    await page.locator('#dispute-note').fill('Billed for 10 seats, we have 8');
    await page.locator('#dispute-submit').click();
    await page.waitForURL(/done=dispute/);
    await expectAccessible(page, 'portal promise page after a dispute');
    const holds = await q((tx) =>
      tx.selectFrom('collection_holds').select(['kind', 'until_on', 'source', 'created_by']).where('released_at', 'is', null).execute(),
    );
    expect(holds.map((h) => [h.kind, h.until_on, h.source]).sort()).toEqual([
      ['dispute', null, 'portal'],
      ['promise', inTen, 'portal'],
    ]);
    // The statement of account opens as a PDF from the page.
    const href = await page.locator('#statement-link').getAttribute('href');
    const pdf = await page.request.get(`${stack.settleUrl}${href}`);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    await context.close();
  }, 180_000);
});
