// Issue #9 "Invoices" and "Clients" in a real browser, on real PostgreSQL and the vendor simulators: finance
// finds an invoice by its number, opens it and reads its timeline across the PSA (the invoice received from
// ConnectWise), the processor (the charge at Stripe) and the books (the payment posted to QuickBooks), and
// exports the list as CSV. On the client's page finance makes a portal link to copy, e-mails one, and turns
// the pilot switches off, each audited. A viewer sees the same pages without those buttons, and a direct POST
// is answered 403 with nothing changed. Every page passes axe and fits 360 px.
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
const WORKSPACE = 'acme-it';
const FINANCE = { email: 'finance@acme.test', password: 'finance horse battery' };
const VIEWER = { email: 'viewer@acme.test', password: 'viewer horse battery' };

let stack: Stack;
let browser: Browser;
let invoice: { id: string; number: string; client_id: string; total_minor: bigint; remote: string };
let intentId = '';
let booksPaymentId = '';

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const audits = (action: string) => q((tx) => tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', action).execute());
const clientRow = () =>
  q((tx) =>
    tx.selectFrom('clients').select(['collection_enabled', 'autopay_enabled', 'billing_email']).where('id', '=', invoice.client_id).executeTakeFirstOrThrow(),
  );

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 2, invoices: 4 });
  browser = await launchBrowser();
  for (const u of [
    { ...FINANCE, role: 'finance' as const },
    { ...VIEWER, role: 'viewer' as const },
  ]) {
    const password_hash = await hashPassword(u.password);
    await q((tx) => tx.insertInto('users').values({ tenant_id: stack.tenantId, email: u.email, name: u.role, role: u.role, password_hash }).execute());
  }
  invoice = (await openInvoices(stack))[0]!;
  // The client pays with a saved Visa (as POST /api/v1/payments does), so the invoice has a processor charge
  // and, once posted, a ConnectWise payment and a QuickBooks payment.
  const api = apiFor(stack, await stack.apiKey());
  const methodId = await saveCard(stack, api, invoice.client_id);
  const charged = await api('POST', '/payments', { payment_method_id: methodId, invoices: [{ invoice_id: invoice.id }] });
  expect(charged.body).toMatchObject({ outcome: 'succeeded' });
  const paymentId = charged.body.payment_id as string;
  intentId = (await q((tx) => tx.selectFrom('payments').select('processor_payment_id').where('id', '=', paymentId).executeTakeFirstOrThrow()))
    .processor_payment_id!;
  const posted = await eventually(
    async () => {
      const rows = await q((tx) => tx.selectFrom('postings').select(['status', 'target', 'remote_id']).where('payment_id', '=', paymentId).execute());
      return rows.length === 2 && rows.every((r) => r.status === 'posted') ? rows : null;
    },
    LONG,
    'the payment posted to the PSA and the books',
  );
  booksPaymentId = posted.find((r) => r.target === 'accounting')!.remote_id!;
  await q((tx) => tx.updateTable('clients').set({ collection_enabled: true, autopay_enabled: true }).where('id', '=', invoice.client_id).execute());
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const signIn = (context: BrowserContext, who: { email: string; password: string }): Promise<Page> =>
  signInStaff(context, stack.settleUrl, { workspace: WORKSPACE, ...who }, LONG);

const checkPage = checkStaffPage;

describe.runIf(haveBrowser)('staff invoices and clients', () => {
  it('finance finds an invoice by number, opens it and reads its timeline across PSA, processor and books; exports CSV', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, FINANCE);
    await page.goto(`${stack.settleUrl}/app/invoices`);
    expect(await page.locator('#invoices tbody tr').count()).toBe(4);
    await checkPage(page, '/app/invoices');

    // Find it by number, typed in lower case.
    await page.fill('#q', invoice.number.toLowerCase());
    await Promise.all([page.waitForURL(/\/app\/invoices\?q=/, { timeout: LONG }), page.click('#find-invoices')]);
    const rows = page.locator('#invoices tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-invoice')).toBe(invoice.number);
    expect(await page.locator('.chip').first().textContent()).toContain(`Search: ${invoice.number.toLowerCase()}`);
    await checkPage(page, '/app/invoices?q=');

    // The CSV of the same set.
    const csv = await page.request.get(`${stack.settleUrl}${(await page.locator('#export-csv').getAttribute('href'))!}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`${invoice.number},`);
    expect(lines[1]).toContain(`,USD,${(invoice.total_minor / 100n).toString()}.${String(invoice.total_minor % 100n).padStart(2, '0')},0.00,`);

    // A bad filter says what is wrong and shows nothing.
    await page.goto(`${stack.settleUrl}/app/invoices?from=2026-02-31`);
    expect(await page.locator('.error-summary').textContent()).toContain('Enter the first issue date as a date');
    await checkPage(page, '/app/invoices with an error');

    await page.goto(`${stack.settleUrl}/app/invoices?q=${encodeURIComponent(invoice.number)}`);
    await Promise.all([page.waitForURL(/\/app\/invoices\/[0-9a-f-]{36}$/, { timeout: LONG }), page.locator('#invoices tbody a').first().click()]);
    expect(await page.locator('h1').textContent()).toBe(`Invoice ${invoice.number}`);
    expect(await page.locator('#invoice-open').textContent()).toBe('$0.00');
    const systems = (await page.locator('#invoice-systems').textContent()) ?? '';
    expect(systems).toContain('succeeded');
    expect(systems).toContain('posted');

    const timeline = page.locator('#timeline');
    const psa = timeline.locator('li[data-system=psa]', { hasText: `Invoice ${invoice.number} received` });
    expect(await psa.count()).toBe(1);
    expect(await psa.textContent()).toContain(invoice.remote); // ConnectWise's own id for it
    const charge = timeline.locator('li[data-system=processor]', { hasText: 'Charge sent (attempt 1)' });
    expect(await charge.textContent()).toContain('succeeded');
    expect(await charge.textContent()).toContain(intentId);
    const books = timeline.locator('li[data-system=books]', { hasText: 'Payment posted to the books' });
    expect(await books.textContent()).toContain('posted');
    expect(await books.textContent()).toContain(booksPaymentId); // QuickBooks' Payment id
    expect(await timeline.locator('li[data-system=psa]', { hasText: 'Payment posted to the PSA' }).count()).toBe(1);
    // In time order: received from the PSA before the charge, the charge before the books posting.
    const order = await timeline.locator('li').evaluateAll((lis) => lis.map((li) => (li as unknown as { dataset: { system: string } }).dataset.system));
    expect(order.indexOf('psa')).toBeLessThan(order.indexOf('processor'));
    expect(order.indexOf('processor')).toBeLessThan(order.indexOf('books'));
    expect(await page.locator('#lines tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#versions tbody tr').count()).toBe(1);
    expect(await page.locator('#invoice-payments').textContent()).toContain('·4242');
    await checkPage(page, 'invoice page');
    await context.close();
  }, 240_000);

  it('finance on the client page: copies a portal link, e-mails one, switches the pilot off — each audited', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, FINANCE);
    await page.goto(`${stack.settleUrl}/app/clients`);
    expect(await page.locator('#clients tbody tr').count()).toBe(2);
    await checkPage(page, '/app/clients');
    const name = (await q((tx) => tx.selectFrom('clients').select('name').where('id', '=', invoice.client_id).executeTakeFirstOrThrow())).name;
    await page.fill('#q', name.slice(1, 6).toLowerCase());
    await Promise.all([page.waitForURL(/\/app\/clients\?q=/, { timeout: LONG }), page.click('#find-clients')]);
    await Promise.all([
      page.waitForURL(new RegExp(`/app/clients/${invoice.client_id}$`), { timeout: LONG }),
      page.locator('#clients tbody a', { hasText: name }).click(),
    ]);
    expect(await page.locator('h1').textContent()).toBe(name);
    expect(await page.locator('#methods').textContent()).toMatch(/Visa ·4242/);
    expect(await page.locator('#pilot-state').textContent()).toContain('Autopay: on');
    await checkPage(page, 'client page');

    // "Copy portal link": the link is shown with its copy button.
    await Promise.all([page.waitForSelector('#portal-link', { timeout: LONG }), page.click('#make-portal-link')]);
    const link = (await page.locator('#portal-link').inputValue()) ?? '';
    const path = new URL(link).pathname;
    expect(path).toMatch(/^\/portal\/[^/]+$/);
    expect(await page.locator('#copy-portal-link').isVisible()).toBe(true);
    expect((await page.request.get(`${stack.settleUrl}${path}`)).status()).toBe(200); // the link opens the client's portal
    expect(await audits('portal_link.created')).toHaveLength(1);
    await checkPage(page, 'client page with a portal link');

    // "E-mail portal link": one e-mail in the outbox, audited, even when the form is sent twice.
    await page.goto(`${stack.settleUrl}/app/clients/${invoice.client_id}`);
    const form: Record<string, string> = {};
    for (const n of ['_csrf', 'key']) form[n] = (await page.locator(`form[action$="/portal-link/email"] input[name=${n}]`).getAttribute('value'))!;
    await Promise.all([page.waitForURL(/emailed=1/, { timeout: LONG }), page.click('#email-portal-link')]);
    expect(await page.locator('.notice--ok').textContent()).toContain('Portal link e-mailed to');
    const again = await page.request.post(`${stack.settleUrl}/app/clients/${invoice.client_id}/portal-link/email`, { form, maxRedirects: 0 });
    expect(again.status()).toBe(303);
    const emails = await q((tx) => tx.selectFrom('notifications').select(['to_email', 'body_text']).where('kind', '=', 'portal_link').execute());
    expect(emails).toHaveLength(1);
    expect(emails[0]!.to_email).toBe((await clientRow()).billing_email);
    expect(emails[0]!.body_text).toContain('/portal/');
    expect(await audits('portal_link.emailed')).toHaveLength(1);
    await page.reload();
    expect(await page.locator('#client-emails').textContent()).toContain('Your invoices from');

    // The pilot switches, through the engine's saveClientAutopay.
    await page.uncheck('#collection_enabled');
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/pilot') && r.request().method() === 'POST'), page.click('#save-pilot')]);
    expect(await page.locator('.error-summary').textContent()).toContain('Autopay needs collection');
    expect(await clientRow()).toMatchObject({ collection_enabled: true, autopay_enabled: true });
    await checkPage(page, 'client page with an error');
    await page.uncheck('#collection_enabled');
    await page.uncheck('#autopay_enabled');
    await Promise.all([page.waitForURL(/saved=pilot/, { timeout: LONG }), page.click('#save-pilot')]);
    expect(await page.locator('#pilot-state').textContent()).toContain('Collection through Settle: off');
    expect(await clientRow()).toMatchObject({ collection_enabled: false, autopay_enabled: false });
    const changed = await audits('autopay.client_settings_changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]!.actor).toMatch(/^user:/);
    await context.close();
  }, 240_000);

  it('a viewer reads invoices and clients but has no buttons, and a direct POST is refused with 403, nothing changed', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/invoices/${invoice.id}`);
    expect(await page.locator('#timeline li').count()).toBeGreaterThan(3);
    await checkPage(page, 'invoice page as viewer');
    await page.goto(`${stack.settleUrl}/app/clients/${invoice.client_id}`);
    expect(await page.locator('#pilot-form').count()).toBe(0);
    expect(await page.locator('#make-portal-link').count()).toBe(0);
    expect(await page.locator('#email-portal-link').count()).toBe(0);
    await checkPage(page, 'client page as viewer');

    const before = { client: await clientRow(), links: (await audits('portal_link.created')).length };
    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    for (const [path, form] of [
      ['pilot', { _csrf: csrf, collection_enabled: 'on', autopay_enabled: 'on' }],
      ['portal-link', { _csrf: csrf }],
      ['portal-link/email', { _csrf: csrf, key: 'viewer-key-0123456789abcdef' }],
    ] as const) {
      const res = await page.request.post(`${stack.settleUrl}/app/clients/${invoice.client_id}/${path}`, { form, maxRedirects: 0 });
      expect(res.status(), path).toBe(403);
    }
    expect(await clientRow()).toEqual(before.client);
    expect((await audits('portal_link.created')).length).toBe(before.links);
    expect(await q((tx) => tx.selectFrom('notifications').select('id').where('kind', '=', 'portal_link').execute())).toHaveLength(1);
    await context.close();
  }, 180_000);
});
