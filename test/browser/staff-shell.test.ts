// The staff app's shell in a real browser: sign in as the owner, and every page moved onto the shell
// renders in the layout (workspace name, navigation, Needs-attention badge = open exceptions, sign-out),
// passes axe-core with no critical or serious violation, does not scroll sideways at 360 px, and starts
// with the skip link; the signed-out pages (sign-in, forgotten password, a reset link) likewise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generate } from 'otplib';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { expectAccessible, expectNoHorizontalScroll } from '../helpers/axe.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { raiseException } from '../../src/engine/exceptions.ts';
import { recordFailedSignIn } from '../../src/engine/sign-in-lockout.ts';
import { OWNER, startLeanSettle, type LeanSettle } from '../security/lean-settle.ts';

let s: LeanSettle;
let browser: Browser;
const LONG = 60_000;

/** Signed-in pages moved onto the shell, and the nav entry each belongs to (none: not in the nav). */
const SIGNED_IN: readonly { path: string; title: string; current: string | null }[] = [
  { path: '/app/overview', title: 'Overview', current: 'Dashboard' },
  { path: '/app/settings', title: 'Settings', current: 'Settings' },
  { path: '/account', title: 'Your account', current: 'Settings' },
  { path: '/users', title: 'Users', current: 'Settings' },
  { path: '/api-keys', title: 'API keys', current: 'Settings' },
  { path: '/staff/lockouts', title: 'Sign-in lockouts', current: 'Settings' },
];
const SIGNED_OUT = ['/login', '/login/forgot', '/account/reset/not-a-real-link'];

async function openExceptions(): Promise<number> {
  const r = await withTenant(s.database.db, s.tenantId, (tx) =>
    tx
      .selectFrom('exceptions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '=', 'open')
      .executeTakeFirstOrThrow(),
  );
  return Number(r.n);
}

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
  // A locked sign-in, so the lockouts page shows its table.
  await recordFailedSignIn(
    s.database.db,
    { tenantId: s.tenantId, email: 'typo@acme.test', address: '198.51.100.7', userId: null, reason: 'unknown_email' },
    { after: 1, firstMinutes: 15, maxMinutes: 60 },
  );
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
  await Promise.all([page.waitForURL(/\/app$/, { timeout: LONG }), page.click('button[type=submit]')]);
  return page;
}

/** The first Tab stop from the top of a freshly loaded page is the skip link, and it leads to <main>. */
async function expectSkipLinkFirst(page: Page, label: string): Promise<void> {
  await page.keyboard.press('Tab');
  const first = (await page.evaluate("document.activeElement && document.activeElement.className + '|' + document.activeElement.textContent")) as string;
  expect(first, label).toBe('skip-link|Skip to main content');
  await page.keyboard.press('Enter');
  expect(await page.evaluate('document.activeElement && document.activeElement.id'), label).toBe('main');
}

describe.runIf(haveBrowser)('staff app shell', () => {
  it('every signed-in page: layout, nav, badge = open exceptions, axe clean, 360 px, skip link first; sign-out ends the session', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(context);
    const open = await openExceptions();
    expect(open).toBe(2);
    for (const p of SIGNED_IN) {
      await page.goto(`${s.base}${p.path}`);
      expect(page.url(), p.path).toBe(`${s.base}${p.path}`);
      expect(await page.locator('h1').textContent(), p.path).toBe(p.title);
      expect(await page.title(), p.path).toContain(p.title);
      expect(await page.locator('header .site-header__name').textContent(), p.path).toBe('Acme IT');
      expect(await page.locator('header').textContent(), p.path).toContain(`${OWNER.email} (owner)`);
      const nav = page.locator('nav[aria-label=Main] a');
      const labels = (await nav.allTextContents()).map((t) => t.replace(/\s+\d+\s+open$/, '').trim());
      for (const l of ['Dashboard', 'Invoices', 'Clients', 'Payments', 'Payouts', 'Autopay', 'Needs attention', 'Connections', 'Settings'])
        expect(labels, p.path).toContain(l);
      expect(await page.locator('#attention-count').getAttribute('data-count'), p.path).toBe(String(open));
      const current = page.locator('nav[aria-label=Main] a[aria-current=page]');
      if (p.current) expect((await current.textContent())?.trim(), p.path).toBe(p.current);
      else expect(await current.count(), p.path).toBe(0);
      expect(await page.locator('#sign-out').count(), p.path).toBe(1);
      await expectSkipLinkFirst(page, p.path);
      await expectAccessible(page, p.path);
    }
    // Values are escaped, never markup.
    await page.goto(`${s.base}/app/overview`);
    expect(await page.locator('main b').count()).toBe(0);
    expect(await page.locator('main').textContent()).toContain('<b>not bold</b> 1');
    expect(await page.locator('#lockouts').count()).toBe(0);
    await page.goto(`${s.base}/staff/lockouts`);
    expect(await page.locator('#lockouts').textContent()).toContain('typo@acme.test');

    // The badge follows the exceptions: one more open, one more on the badge.
    await withTenant(s.database.db, s.tenantId, (tx) =>
      raiseException(tx, s.tenantId, 'system:test', {
        kind: 'test',
        dedupeKey: 'shell-test:4',
        clientId: null,
        invoiceIds: [],
        paymentId: null,
        title: 'Shell test 4',
        detail: 'four',
      }),
    );
    await page.reload();
    expect(await page.locator('#attention-count').getAttribute('data-count')).toBe('3');

    // At 360 px: no page scrolls sideways, the navigation folds behind Menu and opens with it.
    await page.setViewportSize({ width: 360, height: 740 });
    for (const p of SIGNED_IN) {
      await page.goto(`${s.base}${p.path}`);
      await expectNoHorizontalScroll(page, p.path);
    }
    await page.goto(`${s.base}/app/overview`);
    expect(await page.locator('#staff-nav').isVisible()).toBe(false);
    await page.click('.nav-toggle');
    expect(await page.locator('#staff-nav').isVisible()).toBe(true);
    expect(await page.locator('.nav-toggle').getAttribute('aria-expanded')).toBe('true');
    await expectAccessible(page, '/app/overview at 360 px with the menu open');

    // Sign out: back to sign-in, and the staff pages ask for it again.
    await Promise.all([page.waitForURL(/\/login$/, { timeout: LONG }), page.click('#sign-out')]);
    await page.goto(`${s.base}/app/overview`);
    expect(page.url()).toMatch(/\/login$/);
    await page.goto(`${s.base}/dashboard`);
    expect(page.url()).toMatch(/\/login$/);
    await context.close();
  }, 240_000);

  it('the signed-out pages: no navigation, axe clean, 360 px, skip link first; errors in a summary', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    for (const path of SIGNED_OUT) {
      await page.goto(`${s.base}${path}`);
      expect(await page.locator('nav[aria-label=Main]').count(), path).toBe(0);
      expect(await page.locator('#sign-out').count(), path).toBe(0);
      await expectSkipLinkFirst(page, path);
      await expectAccessible(page, path);
    }
    // A wrong password: the error summary, focused, the form still there.
    await page.goto(`${s.base}/login`);
    await page.fill('#workspace', OWNER.workspace);
    await page.fill('#email', OWNER.email);
    await page.fill('#password', 'not the password at all');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    await page.waitForSelector('[data-error-summary]', { timeout: LONG });
    expect(await page.locator('[data-error-summary]').textContent()).toContain('do not match');
    expect(await page.evaluate("document.activeElement && document.activeElement.hasAttribute('data-error-summary')")).toBe(true);
    await expectAccessible(page, '/login with an error');
    await page.setViewportSize({ width: 360, height: 740 });
    for (const path of SIGNED_OUT) {
      await page.goto(`${s.base}${path}`);
      await expectNoHorizontalScroll(page, path);
    }
    await context.close();
  }, 180_000);

  it('the forms in their other states: an invitation, choosing a password, enrolling a second factor, signing in with it', async () => {
    const KIM = { workspace: OWNER.workspace, email: 'kim@acme.test', password: 'kim chooses a long passphrase' };
    // The owner invites Kim on the Users page; with no SMTP relay here the page hands over the link.
    const owner = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(owner);
    await page.goto(`${s.base}/users`);
    await page.fill('#invite-email', KIM.email);
    await page.fill('#invite-name', 'Kim');
    await page.selectOption('#invite-role', 'finance');
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/users/invite"] button[type=submit]')]);
    await page.waitForSelector('#invitation-link, [role=status]', { timeout: LONG });
    await expectAccessible(page, '/users after an invitation');
    const link = (await page.locator('#invitation-link').count()) ? await page.locator('#invitation-link').textContent() : null;
    expect(link, 'the invitation link is shown when it cannot be e-mailed').toMatch(/\/account\/invitation\//);
    await owner.close();

    // Kim opens it: choose a password (a mismatch first: the error summary, linked to the field).
    const kim = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const k = await kim.newPage();
    await k.goto(link!.trim());
    expect(await k.locator('h1').textContent()).toBe('Choose a password');
    await expectSkipLinkFirst(k, 'choose a password');
    await expectAccessible(k, 'choose a password');
    await k.fill('#password', KIM.password);
    await k.fill('#confirm', 'something else entirely');
    await Promise.all([k.waitForLoadState('load'), k.click('form button[type=submit]')]);
    await k.waitForSelector('[data-error-summary]', { timeout: LONG });
    expect(await k.locator('[data-error-summary] a[href="#confirm"]').textContent()).toContain('differ');
    await expectAccessible(k, 'choose a password with an error');
    await k.fill('#password', KIM.password);
    await k.fill('#confirm', KIM.password);
    await Promise.all([k.waitForLoadState('load'), k.click('form button[type=submit]')]);
    await k.waitForSelector('text=Your password is saved', { timeout: LONG });
    await expectAccessible(k, 'password saved');

    // Kim signs in and sets up an authenticator app on "Your account".
    await k.goto(`${s.base}/login`);
    await k.fill('#workspace', KIM.workspace);
    await k.fill('#email', KIM.email);
    await k.fill('#password', KIM.password);
    await Promise.all([k.waitForURL(/\/app$/, { timeout: LONG }), k.click('button[type=submit]')]);
    await k.goto(`${s.base}/account`);
    await Promise.all([k.waitForLoadState('load'), k.click('form[action="/account/second-factor/start"] button')]);
    const secret = (await k.locator('#totp-secret').textContent())!.trim();
    await expectAccessible(k, '/account while enrolling');
    await expectNoHorizontalScroll(k, '/account while enrolling');
    await k.setViewportSize({ width: 1280, height: 900 });
    await k.fill('#code', await generate({ secret, epoch: Math.floor(Date.now() / 1000) }));
    await Promise.all([k.waitForLoadState('load'), k.click('form[action="/account/second-factor/confirm"] button')]);
    await k.waitForSelector('#recovery-codes', { timeout: LONG });
    await expectAccessible(k, '/account with recovery codes');
    await Promise.all([k.waitForURL(/\/login$/, { timeout: LONG }), k.click('#sign-out')]);

    // Signing in again asks for the code: the second-factor page, then the staff app.
    await k.fill('#workspace', KIM.workspace);
    await k.fill('#email', KIM.email);
    await k.fill('#password', KIM.password);
    await Promise.all([k.waitForURL(/\/login\/second-factor$/, { timeout: LONG }), k.click('button[type=submit]')]);
    await expectSkipLinkFirst(k, 'second factor');
    await expectAccessible(k, 'second factor');
    await k.fill('#code', await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
    await Promise.all([k.waitForURL(/\/app$/, { timeout: LONG }), k.click('button[type=submit]')]);
    expect(await k.locator('header').textContent()).toContain(`${KIM.email} (finance)`);
    // Finance sees no owner-only settings.
    await k.goto(`${s.base}/app/settings`);
    expect(await k.locator('main a[href="/users"]').count()).toBe(0);
    expect(await k.locator('main a[href="/account"]').count()).toBe(1);
    await kim.close();
  }, 240_000);
});
