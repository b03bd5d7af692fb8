// Issue #10 "Pay from inside the PSA" in a real browser, on real PostgreSQL and the simulators (ConnectWise,
// with the MSP's "Pay Link" invoice custom field): finance opens a new invoice, sees its pay link and that
// ConnectWise has it, revokes it with the keyboard — the old link now asks the client for a new one, the new
// one is written into ConnectWise and opens the client's portal; finance makes a link for an older invoice
// from before pay links started. A client opens a paid invoice's link and reads that it is paid. A viewer sees
// no buttons and a direct POST is refused with 403, nothing changed. Every page passes axe and fits 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { expectAccessible, expectNoHorizontalScroll } from '../helpers/axe.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';
import { definePayLinkField, newPsaInvoice, psaPayLinkText } from '../integration/pay-links-helpers.ts';

const LONG = 60_000;
const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };
const VIEWER = { workspace: 'acme-it', email: 'viewer@acme.test', password: 'viewer horse battery' };

let stack: Stack;
let browser: Browser;
let fresh: { id: string; number: string; client_id: string; remote: string };
let older: { id: string; number: string };

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const liveLinks = () => q((tx) => tx.selectFrom('invoice_pay_links').select(['id', 'invoice_id', 'psa_state']).where('revoked_at', 'is', null).execute());
const local = (url: string): string => `${stack.settleUrl}${new URL(url).pathname}`;

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 1, invoices: 3 });
  browser = await launchBrowser();
  const password_hash = await hashPassword(VIEWER.password);
  await q((tx) => tx.insertInto('users').values({ tenant_id: stack.tenantId, email: VIEWER.email, name: 'viewer', role: 'viewer', password_hash }).execute());
  const before = await openInvoices(stack);
  older = before[0]!;
  await definePayLinkField(stack);
  const remote = newPsaInvoice(stack);
  await syncPsa(stack.settle!.ctx, stack.tenantId);
  fresh = (await openInvoices(stack)).find((i) => i.remote === remote)!;
  await eventually(async () => (await liveLinks()).find((l) => l.invoice_id === fresh.id && l.psa_state === 'written'), LONG, 'the link in ConnectWise');
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const signIn = (context: BrowserContext, who: typeof OWNER): Promise<Page> => signInStaff(context, stack.settleUrl, who, LONG);

describe.runIf(haveBrowser)('pay links on the invoice page', () => {
  it('finance revokes the link with the keyboard and opens the new one; makes one for an older invoice', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await page.goto(`${stack.settleUrl}/app/invoices/${fresh.id}`);
    const oldUrl = await page.locator('#pay-link-url').inputValue();
    expect(psaPayLinkText(stack, fresh.remote)).toBe(oldUrl);
    await expect.poll(() => page.locator('#pay-link-psa').textContent()).toContain('In ConnectWise');
    await checkStaffPage(page, 'invoice page with its pay link');

    await page.focus('#revoke-pay-link');
    await Promise.all([page.waitForURL(/pay_link=revoked/), page.keyboard.press('Enter')]);
    await expect.poll(() => page.locator('.notice').textContent()).toContain('no longer works');
    const newUrl = await page.locator('#pay-link-url').inputValue();
    expect(newUrl).not.toBe(oldUrl);
    await eventually(async () => psaPayLinkText(stack, fresh.remote) === newUrl, LONG, 'the new link in ConnectWise');
    const revoked = await q((tx) => tx.selectFrom('audit_log').select('actor').where('action', '=', 'pay_link.revoked').execute());
    expect(revoked.map((a) => a.actor)).toEqual([expect.stringMatching(/^user:/)]);

    const client = await context.newPage();
    await client.goto(local(oldUrl));
    await expect.poll(() => client.locator('#refused').textContent()).toContain('Please ask Acme IT for a new one');
    await client.goto(local(newUrl));
    await client.waitForURL(/\/portal\//);
    await expect.poll(() => client.locator('body').textContent()).toContain(fresh.number);

    await page.goto(`${stack.settleUrl}/app/invoices/${older.id}`);
    await expect.poll(() => page.locator('#pay-link-none').textContent()).toContain('no pay link yet');
    await Promise.all([page.waitForURL(/pay_link=created/), page.click('#create-pay-link')]);
    expect(await page.locator('#pay-link-url').inputValue()).toMatch(/\/pay\//);
    await checkStaffPage(page, 'invoice page after making a pay link');
    await context.close();
  }, 240_000);

  it("a client opens a paid invoice's link and reads that it is paid", async () => {
    const link = (await liveLinks()).find((l) => l.invoice_id === fresh.id)!;
    const { payLinkUrl } = await import('../../src/engine/pay-links.ts');
    const { boxOf } = await import('../../src/engine/context.ts');
    const ctx = stack.settle!.ctx;
    const url = await payLinkUrl(stack.database.db, boxOf(ctx), ctx.publicUrl, stack.tenantId, link.id);
    await payInPortal(stack, await stack.portalToken(fresh.client_id), [fresh.id]);
    await eventually(
      () => q((tx) => tx.selectFrom('invoices').select('id').where('id', '=', fresh.id).where('status', '=', 'paid').executeTakeFirst()),
      LONG,
      'paid',
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(local(url));
    await expect.poll(() => page.locator('#pay-link-state').textContent()).toContain(`Invoice ${fresh.number} is paid`);
    expect(await page.locator('button, form').count()).toBe(0);
    await expectAccessible(page, 'paid pay link');
    await expectNoHorizontalScroll(page, 'paid pay link');
    await context.close();
  }, 240_000);

  it('a viewer sees no pay-link buttons, and a direct POST is refused with 403, nothing changed', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/invoices/${older.id}`);
    expect(await page.locator('#pay-link-url').count()).toBe(1);
    expect(await page.locator('#revoke-pay-link, #create-pay-link').count()).toBe(0);
    await checkStaffPage(page, 'invoice page as viewer');
    const before = await liveLinks();
    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    for (const path of ['pay-link', 'pay-link/revoke']) {
      const res = await page.request.post(`${stack.settleUrl}/app/invoices/${older.id}/${path}`, { form: { _csrf: csrf }, maxRedirects: 0 });
      expect(res.status(), path).toBe(403);
    }
    expect(await liveLinks()).toEqual(before);
    await context.close();
  }, 120_000);
});
