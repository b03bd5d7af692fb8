// Issue #9 must-show, in a real browser over real PostgreSQL and the simulators: fixing a failed books
// posting from the Needs-attention queue. QuickBooks refuses a payment (the customer was made inactive);
// the item names client, invoice, amount, where and why in plain words; the cause is cleared; the person
// presses Retry → exactly one QuickBooks Payment, the item is gone, the badge count is one lower. Also:
// the page lists what GET /api/v1/exceptions lists, bulk retry, resolve with a note (htmx, in place),
// dismiss with a reason without JavaScript (error summary first), and a viewer who sees no fix and whose
// direct POST is answered 403 with nothing changed. Every page axe-clean and without sideways scroll at 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { expectAccessible, expectNoHorizontalScroll } from '../helpers/axe.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { raiseException } from '../../src/engine/exceptions.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { format, money } from '../../src/domain/money.ts';
import { faultBody, faults } from '../../simulators/quickbooks-online/faults.ts';
import { signInStaff } from '../helpers/staff-pages.ts';

let stack: Stack;
let browser: Browser;
let apiKey = '';
const LONG = 90_000;
const OWNER = { email: 'owner@acme.test', password: 'correct horse battery' };
const VIEWER = { email: 'viewer@acme.test', password: 'viewer passphrase 9' };

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 3, invoices: 8 });
  apiKey = await stack.apiKey();
  const hash = await Promise.resolve(hashPassword(VIEWER.password));
  await q((tx) =>
    tx.insertInto('users').values({ tenant_id: stack.tenantId, email: VIEWER.email, name: 'Vic Viewer', role: 'viewer', password_hash: hash }).execute(),
  );
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

function q<T>(fn: Parameters<typeof withTenant<T>>[2]): Promise<T> {
  return withTenant(stack.database.db, stack.tenantId, fn);
}

const signIn = (context: BrowserContext, who: { email: string; password: string }): Promise<Page> =>
  signInStaff(context, stack.settleUrl, { workspace: stack.slug, ...who }, LONG);

async function badge(page: Page): Promise<number> {
  return Number(await page.locator('#attention-count').getAttribute('data-count'));
}

async function apiOpenIds(): Promise<string[]> {
  const res = await fetch(`${stack.settleUrl}/api/v1/exceptions?limit=500`, { headers: { authorization: `Bearer ${apiKey}` } });
  return ((await res.json()) as { data: { id: string }[] }).data.map((e) => e.id);
}

/** QuickBooks refuses the next `times` Payments: the customer was made inactive (Intuit's 610 ValidationFault). */
function refuseBooksPayments(times: number): void {
  const body = faultBody(faults.objectNotFound('Customer', '58'));
  stack.sims.quickbooks.sim.faults.add({ method: 'POST', pathPattern: '/payment$', fault: { kind: 'status', status: 400, body }, times });
}

function booksPaymentsFor(number: string): unknown[] {
  const qbo = stack.sims.quickbooks.sim;
  const inv = qbo.invoices().find((i) => i['DocNumber'] === number);
  if (!inv) return [];
  return qbo.payments().filter((p) => JSON.stringify(p['Line']).includes(`"TxnId":"${String(inv['Id'])}"`));
}

/** A client pays an invoice in the portal and QuickBooks refuses the payment: the refused-posting item's id. */
async function refusedBooksPayment(inv: { id: string; client_id: string }): Promise<string> {
  const { paymentId } = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
  const e = await eventually(
    () =>
      q((tx) =>
        tx
          .selectFrom('exceptions')
          .select('id')
          .where('payment_id', '=', paymentId)
          .where('kind', '=', 'posting_failed')
          .where('status', '=', 'open')
          .executeTakeFirst(),
      ),
    LONG,
    'the refused books posting in the queue',
  );
  return e.id;
}

async function reloadUntil(page: Page, url: string, check: () => Promise<boolean>, what: string): Promise<void> {
  await eventually(
    async () => {
      await page.goto(url);
      return check();
    },
    LONG,
    what,
  );
}

describe.runIf(haveBrowser)('Needs attention in the browser', () => {
  it('a refused books posting: explained, cause cleared, Retry → exactly one QuickBooks Payment, item gone, badge one lower', async () => {
    const inv = (await openInvoices(stack))[0]!;
    const client = await q((tx) => tx.selectFrom('clients').select('name').where('id', '=', inv.client_id).executeTakeFirstOrThrow());
    refuseBooksPayments(1);
    const id = await refusedBooksPayment(inv);

    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await page.goto(`${stack.settleUrl}/app/attention`);
    const item = page.locator(`#item-${id}`);
    await item.waitFor({ timeout: LONG });
    expect(await item.locator('[data-field=client]').textContent()).toBe(client.name);
    expect(await item.locator('[data-field=invoice]').textContent()).toBe(`#${inv.number}`);
    expect(await item.locator('[data-field=amount]').textContent()).toBe(format(money(inv.total_minor, 'USD')));
    expect(await item.locator('[data-field=where]').textContent()).toBe('Books (QuickBooks)');
    const why = (await item.locator('[data-field=why]').textContent()) ?? '';
    expect(why).toContain('QuickBooks refused it');
    expect(why).toContain('has been made inactive');
    expect(await item.locator('[data-field=next]').textContent()).toContain('Nothing until someone acts');

    // The page lists exactly what the API lists, and the badge counts it.
    const before = await badge(page);
    const onPage = await page.locator('article.attention-item').evaluateAll((els) => els.map((e) => e.id.replace(/^item-/, '')));
    expect(onPage.sort()).toEqual((await apiOpenIds()).sort());
    expect(before).toBe(onPage.length);
    await expectAccessible(page, '/app/attention');

    // The cause is cleared (the customer is active again: QuickBooks has no refusal left to give).
    expect(booksPaymentsFor(inv.number)).toHaveLength(0);
    await item.locator(`#retry-${id}`).click();
    // htmx swaps the item in place with what happened.
    await eventually(async () => ((await page.locator(`#item-${id}`).textContent()) ?? '').includes('Retry queued'), LONG, 'the retry notice');

    await reloadUntil(page, `${stack.settleUrl}/app/attention`, async () => (await page.locator(`#item-${id}`).count()) === 0, 'the item gone');
    expect(booksPaymentsFor(inv.number)).toHaveLength(1);
    expect(await badge(page)).toBe(before - 1);
    await expectNoHorizontalScroll(page, '/app/attention');
    await context.close();
  }, 300_000);

  it('bulk retry of ticked items posts each once', async () => {
    const [a, b] = (await openInvoices(stack)).slice(0, 2);
    refuseBooksPayments(1);
    const first = await refusedBooksPayment(a!);
    refuseBooksPayments(1);
    const second = await refusedBooksPayment(b!);

    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await page.goto(`${stack.settleUrl}/app/attention`);
    // Nothing ticked: the error summary says what to do.
    await Promise.all([page.waitForLoadState('load'), page.click('#bulk-retry button[type=submit]')]);
    expect(await page.locator('.error-summary').textContent()).toContain('Tick at least one item to retry.');
    await page.check(`#pick-${first}`);
    await page.check(`#pick-${second}`);
    await Promise.all([page.waitForURL(/done=bulk/, { timeout: LONG }), page.click('#bulk-retry button[type=submit]')]);
    expect(await page.locator('.notice').first().textContent()).toContain('Retry queued for 2 items');
    await reloadUntil(
      page,
      `${stack.settleUrl}/app/attention`,
      async () => (await page.locator(`#item-${first}, #item-${second}`).count()) === 0,
      'both items gone',
    );
    expect(booksPaymentsFor(a!.number)).toHaveLength(1);
    expect(booksPaymentsFor(b!.number)).toHaveLength(1);
    await context.close();
  }, 300_000);

  it('change the books invoice: the invoice is in QuickBooks under another number; named on the item, the payment posts there', async () => {
    const company = stack.sims.connectwise.state.companies.all()[1]!;
    const cw = stack.sims.connectwise.sim.createInvoice({
      companyId: company.id,
      lines: [{ kind: 'product', description: 'Backup', quantity: '1', price: '75.00' }],
    });
    const inv = await eventually(
      () => q((tx) => tx.selectFrom('invoices').select(['id', 'client_id', 'number']).where('number', '=', cw.invoiceNumber).executeTakeFirst()),
      LONG,
      'the new invoice in Settle',
    );
    const booksNumber = `INV-${inv.number}`;
    stack.sims.quickbooks.sim.seedInvoice({ docNumber: booksNumber, customerName: company.name, amount: '75.00' });
    const { paymentId } = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    const { id } = await eventually(
      () =>
        q((tx) =>
          tx
            .selectFrom('exceptions')
            .select('id')
            .where('payment_id', '=', paymentId)
            .where('kind', '=', 'posting_waiting_for_invoice')
            .where('status', '=', 'open')
            .executeTakeFirst(),
        ),
      LONG,
      'the waiting item',
    );
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await page.goto(`${stack.settleUrl}/app/attention`);
    const item = page.locator(`#item-${id}`);
    expect(await item.locator('[data-field=why]').textContent()).toContain(`Invoice #${inv.number} is not in QuickBooks yet`);
    await item.locator('summary', { hasText: 'Change the books invoice' }).click();
    await item.locator(`#books-number-${id}`).fill(booksNumber);
    await item.locator('button', { hasText: 'Post to this invoice' }).click();
    await eventually(async () => ((await page.locator(`#item-${id}`).textContent()) ?? '').includes('Mapping changed'), LONG, 'the mapping notice');
    await reloadUntil(page, `${stack.settleUrl}/app/attention`, async () => (await page.locator(`#item-${id}`).count()) === 0, 'the item gone');
    expect(booksPaymentsFor(booksNumber)).toHaveLength(1);
    await context.close();
  }, 300_000);

  it('resolve with a note in place (htmx); dismiss with a reason without JavaScript, the error summary first', async () => {
    const raise = (n: number) =>
      q((tx) =>
        raiseException(tx, stack.tenantId, 'system:test', {
          kind: 'psa_record_rejected',
          dedupeKey: `attention-browser:${n}`,
          clientId: null,
          invoiceIds: [],
          paymentId: null,
          title: `ConnectWise sent invoice 90${n} without a company`,
          detail: `Invoice 90${n} names no company, so Settle cannot say who owes it. Fix the invoice in ConnectWise.`,
        }),
      );
    const resolveId = await raise(1);
    const dismissId = await raise(2);

    // With JavaScript: the item is replaced in place, and the badge follows.
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await page.goto(`${stack.settleUrl}/app/attention`);
    const before = await badge(page);
    const item = page.locator(`#item-${resolveId}`);
    await item.locator('summary', { hasText: 'Mark resolved' }).click();
    await item.locator(`#note-${resolveId}`).fill('Added the company to the invoice in ConnectWise');
    await item.locator('button', { hasText: 'Mark resolved' }).click();
    await eventually(async () => (await page.locator(`#item-${resolveId}`).getAttribute('data-status')) === 'resolved', LONG, 'resolved in place');
    expect(await page.locator(`#item-${resolveId} [data-field=closed]`).textContent()).toContain('Added the company to the invoice in ConnectWise');
    expect(await badge(page)).toBe(before - 1);
    await context.close();

    // Without JavaScript: plain forms.
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const plain = await signIn(noJs, OWNER);
    await plain.goto(`${stack.settleUrl}/app/attention`);
    const target = plain.locator(`#item-${dismissId}`);
    await target.locator('summary', { hasText: 'Dismiss' }).click();
    await Promise.all([plain.waitForLoadState('load'), target.locator('button', { hasText: 'Dismiss' }).click()]);
    const summary = plain.locator('.error-summary');
    expect(await summary.textContent()).toContain('The reason for dismissing it is missing');
    expect(await summary.locator('a').getAttribute('href')).toBe(`#reason-${dismissId}`);
    expect(await q((tx) => tx.selectFrom('exceptions').select('status').where('id', '=', dismissId).executeTakeFirstOrThrow())).toEqual({ status: 'open' });
    await plain.locator(`#reason-${dismissId}`).fill('A test invoice; deleted in ConnectWise');
    await Promise.all([plain.waitForURL(/done=dismissed/, { timeout: LONG }), plain.locator(`#item-${dismissId} button`, { hasText: 'Dismiss' }).click()]);
    expect(await plain.locator(`#item-${dismissId}`).count()).toBe(0);

    // The closed list keeps who, when and why.
    await plain.goto(`${stack.settleUrl}/app/attention?show=resolved`);
    const closed = (await plain.locator(`#item-${dismissId} [data-field=closed]`).textContent()) ?? '';
    expect(closed).toContain('Dismissed');
    expect(closed).toContain('A test invoice; deleted in ConnectWise');
    expect(closed).toContain(OWNER.email);
    await noJs.close();

    // axe runs in the page, so these two pages are checked with JavaScript on: the closed list, and the list
    // with the error summary (the form submitted natively, past htmx, as without JavaScript).
    const checks = await browser.newContext();
    const page2 = await signIn(checks, OWNER);
    await page2.goto(`${stack.settleUrl}/app/attention?show=resolved`);
    await expectAccessible(page2, '/app/attention?show=resolved');
    await expectNoHorizontalScroll(page2, '/app/attention?show=resolved');
    const third = await raise(3);
    await page2.goto(`${stack.settleUrl}/app/attention`);
    await Promise.all([
      page2.waitForURL(/\/dismiss$/, { timeout: LONG }),
      page2.evaluate(`document.querySelector('#item-${third} form[action$="/dismiss"]').submit()`),
    ]);
    expect(await page2.locator('.error-summary').textContent()).toContain('The reason for dismissing it is missing');
    await expectAccessible(page2, '/app/attention with an error');
    await expectNoHorizontalScroll(page2, '/app/attention with an error');
    await checks.close();
  }, 300_000);

  it('a viewer reads the queue without fixes; a direct POST is answered 403 and changes nothing', async () => {
    const id = await q((tx) =>
      raiseException(tx, stack.tenantId, 'system:test', {
        kind: 'psa_record_rejected',
        dedupeKey: 'attention-browser:viewer',
        clientId: null,
        invoiceIds: [],
        paymentId: null,
        title: 'ConnectWise sent a record Settle cannot take',
        detail: 'Fix it in ConnectWise.',
      }),
    );
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/attention`);
    await page.locator(`#item-${id}`).waitFor({ timeout: LONG });
    expect(await page.locator('main form').count()).toBe(0);
    expect(await page.locator('main button').count()).toBe(0);
    await expectAccessible(page, '/app/attention as a viewer');
    await expectNoHorizontalScroll(page, '/app/attention as a viewer');

    const token = await page.locator('meta[name=csrf-token]').getAttribute('content');
    for (const [path, form] of [
      [`/app/attention/${id}/dismiss`, { reason: 'viewer says so' }],
      [`/app/attention/${id}/resolve`, { note: 'viewer says so' }],
      [`/app/attention/${id}/retry`, {}],
      ['/app/attention/retry', { ids: id }],
    ] as const) {
      const res = await page.request.post(`${stack.settleUrl}${path}`, { form: { _csrf: token!, ...form }, headers: { origin: stack.settleUrl } });
      expect(res.status(), path).toBe(403);
      expect(await res.text(), path).toContain('needs the finance role');
    }
    const row = await q((tx) => tx.selectFrom('exceptions').select(['status', 'resolution_note']).where('id', '=', id).executeTakeFirstOrThrow());
    expect(row).toEqual({ status: 'open', resolution_note: null });
    await context.close();
  }, 180_000);
});
