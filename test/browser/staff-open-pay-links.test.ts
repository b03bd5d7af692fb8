// "Write pay links for all open invoices" in a real browser, on real PostgreSQL and the ConnectWise simulator:
// an MSP that has just connected (the first import made no links) — finance presses the button on the
// connections page's PSA card with the keyboard, reads how many were queued, and every open invoice's link
// reaches ConnectWise once; pressing it again queues none and says so. A viewer sees no button and a direct
// POST is refused with 403, nothing changed. The page passes axe and fits 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';
import { psaPayLinkWrites } from '../integration/pay-links-helpers.ts';

const LONG = 60_000;
const FINANCE = { workspace: 'acme-it', email: 'finance@acme.test', password: 'finance horse battery' };
const VIEWER = { workspace: 'acme-it', email: 'viewer@acme.test', password: 'viewer horse battery' };

let stack: Stack;
let browser: Browser;
let open: { id: string; remote_id: string }[];

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const liveLinks = () => q((tx) => tx.selectFrom('invoice_pay_links').select(['id', 'invoice_id', 'psa_state']).where('revoked_at', 'is', null).execute());

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 2, invoices: 2 });
  browser = await launchBrowser();
  for (const [who, role] of [
    [FINANCE, 'finance'],
    [VIEWER, 'viewer'],
  ] as const) {
    const password_hash = await hashPassword(who.password);
    await q((tx) => tx.insertInto('users').values({ tenant_id: stack.tenantId, email: who.email, name: role, role, password_hash }).execute());
  }
  open = await q((tx) =>
    tx
      .selectFrom('invoices as i')
      .innerJoin('external_refs as r', (j) => j.onRef('r.entity_id', '=', 'i.id').on('r.entity', '=', 'invoice').on('r.system', '=', 'connectwise'))
      .select(['i.id', 'r.remote_id'])
      .where('i.status', 'in', ['open', 'partially_paid'])
      .execute(),
  );
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const signIn = (context: BrowserContext, who: typeof FINANCE): Promise<Page> => signInStaff(context, stack.settleUrl, who, LONG);

describe.runIf(haveBrowser)('write pay links for all open invoices', () => {
  it('a viewer sees no button, and a direct POST is refused with 403, nothing queued', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/connections`);
    expect(await page.locator('#write-open-pay-links').count()).toBe(0);
    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const res = await page.request.post(`${stack.settleUrl}/app/connections/psa/pay-links`, { form: { _csrf: csrf }, maxRedirects: 0 });
    expect(res.status()).toBe(403);
    expect(await liveLinks()).toEqual([]);
    await context.close();
  }, 120_000);

  it('finance presses it with the keyboard: each open invoice gets its link in ConnectWise once; again, none', async () => {
    expect(open.length).toBeGreaterThanOrEqual(2);
    expect(await liveLinks()).toEqual([]); // the first import made none
    const context = await browser.newContext();
    const page = await signIn(context, FINANCE);
    await page.goto(`${stack.settleUrl}/app/connections`);
    await checkStaffPage(page, 'connections page with the pay-links button');
    await page.focus('#write-open-pay-links');
    await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
    await expect
      .poll(() => page.locator('.notice').textContent(), { timeout: LONG })
      .toBe(`${open.length} pay links queued for writing into ConnectWise, one invoice at a time.`);
    await eventually(
      async () => {
        const l = await liveLinks();
        return l.length === open.length && l.every((x) => x.psa_state === 'written');
      },
      LONG,
      'every link written into ConnectWise',
    );
    for (const inv of open) expect(await psaPayLinkWrites(stack, inv.remote_id)).toBe(1);
    await checkStaffPage(page, 'connections page after queuing pay links');

    await page.click('#write-open-pay-links');
    await expect.poll(() => page.locator('.notice').textContent(), { timeout: LONG }).toContain('Every open invoice already has a pay link');
    expect(await liveLinks()).toHaveLength(open.length);
    for (const inv of open) expect(await psaPayLinkWrites(stack, inv.remote_id)).toBe(1);
    const audited = await q((tx) => tx.selectFrom('audit_log').select('actor').where('action', '=', 'pay_link.open_invoices_queued').execute());
    expect(audited).toEqual([{ actor: expect.stringMatching(/^user:/) }, { actor: expect.stringMatching(/^user:/) }]);
    await context.close();
  }, 240_000);
});
