// Issue #9 "e-mail templates with preview" in a real browser, on real PostgreSQL: finance opens Settings →
// E-mails to clients, edits the payment-failed e-mail, previews it (htmx swaps the preview in place; without
// JavaScript the same button renders the whole page), is told which variable is unknown and which ones are
// allowed, saves (customised, audited), and resets to the default. A viewer reads the wording but has no
// form, and a direct POST is refused with 403 with nothing changed. Every page passes axe and fits 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';

const LONG = 60_000;
const WORKSPACE = 'acme-it';
const FINANCE = { email: 'finance@acme.test', password: 'finance horse battery' };
const VIEWER = { email: 'viewer@acme.test', password: 'viewer horse battery' };
const EDITED = 'Hello {{client_name}},\n\nYour card did not work for {{invoices}}. Save another one here:\n{{update_link}}\n\n{{msp_name}}';

let stack: Stack;
let browser: Browser;

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const overrides = () => q((tx) => tx.selectFrom('email_templates').selectAll().execute());
const audits = () => q((tx) => tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', 'settings.email_template_changed').execute());

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 1, invoices: 1 });
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
  signInStaff(context, stack.settleUrl, { workspace: WORKSPACE, ...who }, LONG);

const row = (page: Page, title: string) => page.locator('tr', { has: page.getByRole('link', { name: title, exact: true }) });

describe.runIf(haveBrowser)('staff e-mail templates', () => {
  it('finance edits, previews, is told about an unknown variable, saves and resets the payment-failed e-mail', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, FINANCE);
    await page.goto(`${stack.settleUrl}/app/settings`);
    await page.getByRole('link', { name: 'E-mails to clients' }).click();
    await page.waitForURL(/\/app\/settings\/emails$/);
    for (const title of [
      'Payment receipt',
      'Payment failed',
      'Portal link',
      'Autopay pre-debit notice',
      'Autopay cancelled',
      'Payment returned',
      'Bank debit returned',
    ])
      expect(await row(page, title).textContent()).toContain('default');
    await checkStaffPage(page, 'e-mail templates list');

    await page.getByRole('link', { name: 'Payment failed', exact: true }).click();
    await page.waitForURL(/\/app\/settings\/emails\/payment_failed$/);
    expect(await page.inputValue('#template-subject')).toBe('Payment of {{amount}} for {{invoices}} did not go through');
    expect(await page.locator('#preview-subject').textContent()).toBe('Payment of $480.00 for invoice 1042 did not go through');
    expect(await page.locator('#variables-title + p + dl').textContent()).toContain('{{update_link}} (required)');
    await checkStaffPage(page, 'e-mail template page');

    // Preview: htmx replaces the preview only (the page is not reloaded: the typed text stays as it is).
    await page.fill('#template-body', EDITED);
    await page.click('#preview-template');
    await expect.poll(() => page.locator('#preview-text').textContent(), { timeout: LONG }).toContain('Your card did not work for invoice 1042');
    expect(page.url()).toMatch(/\/app\/settings\/emails\/payment_failed$/);
    // The sample client's name "Oakridge Dental <Billing>" is text in the HTML part, never markup.
    expect(await page.locator('#preview-html').textContent()).toContain('Hello Oakridge Dental <Billing>,');
    expect(await page.locator('#preview-html').innerHTML()).toContain('Oakridge Dental &lt;Billing&gt;');
    expect(await page.locator('#preview-html a').getAttribute('href')).toContain('/portal/update-method/');

    // An unknown variable: the save is refused with the name and the allowed list; nothing stored.
    await page.fill('#template-body', EDITED.replace('{{client_name}}', '{{customer}}'));
    await page.click('#save-template');
    const summary = page.locator('.error-summary');
    await summary.waitFor({ timeout: LONG });
    expect(await summary.textContent()).toContain('Unknown variable {{customer}} in the body');
    expect(await summary.textContent()).toContain('{{client_name}}, {{amount}}, {{invoices}}');
    expect(await page.inputValue('#template-body')).toContain('{{customer}}'); // the person's text is kept
    expect(await overrides()).toEqual([]);
    await checkStaffPage(page, 'e-mail template with an error');

    // Removing the required link is refused too.
    await page.fill('#template-body', 'Hello {{client_name}}, please call us.');
    await page.click('#save-template');
    await expect.poll(() => page.locator('.error-summary').textContent(), { timeout: LONG }).toContain('The e-mail needs {{update_link}}');
    expect(await overrides()).toEqual([]);

    await page.fill('#template-body', EDITED);
    await page.fill('#template-subject', '{{msp_name}}: payment for {{invoices}} failed');
    await Promise.all([page.waitForURL(/done=saved/, { timeout: LONG }), page.click('#save-template')]);
    expect(await page.locator('.notice--ok').textContent()).toContain('Saved');
    expect(await page.locator('#preview-subject').textContent()).toBe('Acme IT: payment for invoice 1042 failed');
    expect(await overrides()).toEqual([
      expect.objectContaining({ kind: 'payment_failed', subject: '{{msp_name}}: payment for {{invoices}} failed', body: EDITED }),
    ]);
    const saved = await audits();
    expect(saved).toHaveLength(1);
    expect(saved[0]!.actor).toMatch(/^user:/);
    expect(saved[0]!.detail).toMatchObject({ kind: 'payment_failed', before: { default: true }, after: { body: EDITED } });
    await page.goto(`${stack.settleUrl}/app/settings/emails`);
    expect(await row(page, 'Payment failed').textContent()).toContain('customised');

    await page.goto(`${stack.settleUrl}/app/settings/emails/payment_failed`);
    await Promise.all([page.waitForURL(/done=reset/, { timeout: LONG }), page.click('#reset-template')]);
    expect(await page.inputValue('#template-subject')).toBe('Payment of {{amount}} for {{invoices}} did not go through');
    expect(await overrides()).toEqual([]);
    expect(await audits()).toHaveLength(2);
    await context.close();
  }, 240_000);

  it('without JavaScript, Preview renders the whole page with the draft', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await signIn(context, FINANCE);
    await page.goto(`${stack.settleUrl}/app/settings/emails/portal_link`);
    await page.fill('#template-body', 'Hi {{client_name}}, your link: {{portal_link}}');
    await Promise.all([page.waitForURL(/\/portal_link\/preview$/, { timeout: LONG }), page.click('#preview-template')]);
    expect(await page.locator('#preview-text').textContent()).toBe('Hi Oakridge Dental <Billing>, your link: https://pay.example.com/portal/sample');
    expect(await page.inputValue('#template-body')).toBe('Hi {{client_name}}, your link: {{portal_link}}');
    expect(await overrides()).toEqual([]);
    await context.close();
  }, 120_000);

  it('a viewer reads the wording without a form, and a direct POST is refused with 403 and changes nothing', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/settings/emails/payment_receipt`);
    expect(await page.locator('#template-form').count()).toBe(0);
    expect(await page.getByRole('button', { name: /save|preview|reset/i }).count()).toBe(0);
    expect(await page.locator('pre').first().textContent()).toContain('Thank you for your payment to {{msp_name}}.');
    expect(await page.locator('#preview-subject').textContent()).toBe('Receipt: $1,280.00 paid to Acme IT');
    await checkStaffPage(page, 'e-mail template page as viewer');

    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const form = { _csrf: csrf, subject: 'Hacked {{total}}', body: '{{receipt_lines}}' };
    for (const path of ['', '/reset', '/preview']) {
      const res = await page.request.post(`${stack.settleUrl}/app/settings/emails/payment_receipt${path}`, { form, maxRedirects: 0 });
      expect(res.status(), path).toBe(403);
    }
    expect(await overrides()).toEqual([]);
    expect(await audits()).toHaveLength(2);
    await context.close();
  }, 120_000);
});
