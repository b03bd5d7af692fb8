// The staff app's shell in a real browser: sign in as the owner, and every page moved onto the shell
// renders in the layout (navigation, Needs-attention badge = open exceptions, sign-out), passes axe-core
// with no critical or serious violation, does not scroll sideways at 360 px, and starts with the skip link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { expectAccessible, expectNoHorizontalScroll } from '../helpers/axe.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { raiseException } from '../../src/engine/exceptions.ts';
import { OWNER, startLeanSettle, type LeanSettle } from '../security/lean-settle.ts';

let s: LeanSettle;
let browser: Browser;
const LONG = 60_000;

beforeAll(async () => {
  if (!haveBrowser) return;
  s = await startLeanSettle({});
  browser = await launchBrowser();
  // Two open exceptions and one resolved: the badge counts the open ones.
  await withTenant(s.database.db, s.tenantId, async (tx) => {
    for (const n of [1, 2, 3]) {
      await raiseException(tx, s.tenantId, 'system:test', {
        kind: 'test',
        dedupeKey: `shell-test:${n}`,
        clientId: s.clientIds[0]!,
        invoiceIds: [],
        paymentId: null,
        title: `Shell test ${n}`,
        detail: `<b>not bold</b> ${n}`,
      });
    }
    await tx.updateTable('exceptions').set({ status: 'resolved', resolved_at: new Date() }).where('dedupe_key', '=', 'shell-test:3').execute();
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await s?.close();
});

async function signIn(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${s.base}/login`);
  await page.fill('input[name=workspace]', OWNER.workspace);
  await page.fill('input[name=email]', OWNER.email);
  await page.fill('input[name=password]', OWNER.password);
  await Promise.all([page.waitForURL(/\/(app|dashboard)$/, { timeout: LONG }), page.click('button[type=submit]')]);
  return page;
}

describe.runIf(haveBrowser)('staff app shell', () => {
  it('the overview renders in the layout with the badge, passes axe, fits 360 px; sign-out ends the session', async () => {
    const context = await browser.newContext();
    const page = await signIn(context);
    await page.goto(`${s.base}/app/overview`);
    expect(await page.locator('header .site-header__name').textContent()).toBe('Acme IT');
    expect(await page.locator('#attention-count').getAttribute('data-count')).toBe('2');
    // The overview belongs to the Dashboard area.
    expect(await page.locator('nav[aria-label=Main] a[aria-current=page]').textContent()).toBe('Dashboard');
    // Escaped, not markup.
    expect(await page.locator('main b').count()).toBe(0);
    expect(await page.locator('main').textContent()).toContain('<b>not bold</b> 1');
    await expectAccessible(page, '/app/overview');
    await expectNoHorizontalScroll(page, '/app/overview');
    await Promise.all([page.waitForURL(/\/login$/, { timeout: LONG }), page.click('#sign-out')]);
    await page.goto(`${s.base}/app/overview`);
    expect(page.url()).toMatch(/\/login$/);
    await context.close();
  }, 180_000);
});
