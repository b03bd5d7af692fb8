// Settings → Branding in a real browser (issue #9), on real PostgreSQL with Settle running: the owner finds
// the page under Settings, is refused a colour white text cannot be read on (the error names a darker shade)
// and an SVG named logo.png, sees the preview follow the colour as they type, saves a PNG logo, a colour, a
// sender name and a reply-to — and the client's portal page then shows the logo and buttons in that colour
// (axe's own contrast check passes on it). A viewer reads the page without the form, and a direct POST of the
// form is refused with 403, nothing changed. Every staff page: axe clean, no sideways scroll at 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { expectAccessible, expectNoHorizontalScroll } from '../helpers/axe.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { hashPassword } from '../../src/http/passwords.ts';

const LONG = 60_000;
const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };
const VIEWER = { workspace: 'acme-it', email: 'viewer@acme.test', password: 'viewer horse battery' };
const PNG_1PX = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>');

let stack: Stack;
let browser: Browser;
const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const brandingRow = () =>
  q((tx) => tx.selectFrom('workspace_branding').select(['primary_color', 'sender_name', 'reply_to', 'logo_type', 'logo_sha256']).executeTakeFirst());

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 1, invoices: 2 });
  browser = await launchBrowser();
  const password_hash = await hashPassword(VIEWER.password);
  await q((tx) => tx.insertInto('users').values({ tenant_id: stack.tenantId, email: VIEWER.email, name: 'viewer', role: 'viewer', password_hash }).execute());
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe.runIf(haveBrowser)('branding in the browser', () => {
  it('refuses a low-contrast colour and an SVG, saves logo, colour, sender and reply-to, and the portal shows them', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await signInStaff(context, stack.settleUrl, OWNER, LONG);
    const base = stack.settleUrl;

    await page.goto(`${base}/app/settings`);
    await Promise.all([page.waitForURL(`${base}/app/settings/branding`), page.click('a[href="/app/settings/branding"]')]);
    await checkStaffPage(page, '/app/settings/branding');

    // The preview follows the colour as it is typed (staff.js), saying when it is too light.
    await page.fill('#primary_color', '#7fb3ff');
    await eventually(async () => /too light/.test((await page.locator('#preview-contrast').textContent()) ?? ''), LONG, 'preview says too light');
    await page.fill('#primary_color', '#1d4ed8');
    await eventually(async () => /readable/.test((await page.locator('#preview-contrast').textContent()) ?? ''), LONG, 'preview says readable');
    expect(await page.evaluate<string>("getComputedStyle(document.getElementById('preview-button')).backgroundColor")).toBe('rgb(29, 78, 216)');

    // Too light: refused, with the colour to pick instead; nothing saved.
    await page.fill('#primary_color', '#7fb3ff');
    await Promise.all([page.waitForSelector('.error-summary', { timeout: LONG }), page.click('#save-branding')]);
    const summary = (await page.locator('.error-summary').textContent()) ?? '';
    expect(summary).toMatch(/#7fb3ff is too light for buttons with white text: its contrast is 2\.\d:1/);
    const suggested = /such as (#[0-9a-f]{6})/.exec(summary)![1]!;
    expect(await page.locator('.error-summary a[href="#primary_color"]').count()).toBe(1);
    expect(await page.inputValue('#primary_color')).toBe('#7fb3ff');
    await expectAccessible(page, '/app/settings/branding with an error');
    expect(await brandingRow()).toBeUndefined();

    // An SVG named logo.png, sent as image/png: judged by its bytes and refused.
    await page.fill('#primary_color', suggested);
    await page.setInputFiles('#logo', { name: 'logo.png', mimeType: 'image/png', buffer: SVG });
    await Promise.all([page.waitForSelector('.error-summary', { timeout: LONG }), page.click('#save-branding')]);
    expect(await page.locator('.error-summary').textContent()).toMatch(/SVG image \(SVG can carry script\)/);
    expect(await brandingRow()).toBeUndefined();

    // Too big, through the form's own multipart door: 600 KB is read and refused; 5 MB is cut off unread.
    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    for (const [bytes, said] of [
      [600 * 1024, /The logo is 600 KB; it can be at most 512 KB/],
      [5 * 1024 * 1024, /The logo is more than \d+ KB; it can be at most 512 KB/],
    ] as const) {
      const big = Buffer.concat([PNG_1PX, Buffer.alloc(bytes - PNG_1PX.length)]);
      const res = await page.request.post(`${base}/app/settings/branding`, {
        multipart: { _csrf: csrf, primary_color: '#1d4ed8', sender_name: '', reply_to: '', logo: { name: 'big.png', mimeType: 'image/png', buffer: big } },
        maxRedirects: 0,
      });
      expect(res.status()).toBe(422);
      expect(await res.text()).toMatch(said);
    }
    expect(await brandingRow()).toBeUndefined();

    // The good one.
    await page.fill('#primary_color', '#1d4ed8');
    await page.setInputFiles('#logo', { name: 'acme.png', mimeType: 'image/png', buffer: PNG_1PX });
    await page.fill('#sender_name', 'Acme IT Billing');
    await page.fill('#reply_to', 'billing@acme.test');
    await Promise.all([page.waitForURL(`${base}/app/settings/branding?saved=1`, { timeout: LONG }), page.click('#save-branding')]);
    expect(await page.locator('.notice--ok').textContent()).toContain('Saved');
    expect(await page.locator('#preview-from').textContent()).toContain('Acme IT Billing');
    expect(await page.locator('#preview-reply-to').textContent()).toContain('billing@acme.test');
    // Emptying a field previews Settle's default (the workspace's name), not the value saved before.
    await page.fill('#sender_name', '');
    await eventually(async () => (await page.locator('[data-preview-sender]').textContent()) === 'Acme IT', LONG, 'preview falls back to the workspace name');
    await page.fill('#sender_name', 'Acme IT Billing');
    await eventually(async () => (await page.evaluate<number>("document.getElementById('preview-logo').naturalWidth")) === 1, LONG, 'preview logo loaded');
    expect(await brandingRow()).toMatchObject({
      primary_color: '#1d4ed8',
      sender_name: 'Acme IT Billing',
      reply_to: 'billing@acme.test',
      logo_type: 'image/png',
    });
    await checkStaffPage(page, '/app/settings/branding saved');

    // The client's portal page: the logo in the header, the buttons in the MSP's colour.
    const portal = await context.newPage();
    await portal.goto(`${base}/portal/${await stack.portalToken()}`);
    await eventually(async () => (await portal.evaluate<number>("document.getElementById('brand-logo').naturalWidth")) === 1, LONG, 'portal logo loaded');
    expect(await portal.evaluate<string>("getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()")).toBe('#1d4ed8');
    expect(await portal.evaluate<string>("getComputedStyle(document.querySelector('main button')).backgroundColor")).toBe('rgb(29, 78, 216)');
    await expectAccessible(portal, 'portal page with branding');
    await expectNoHorizontalScroll(portal, 'portal page with branding');
    await context.close();
  }, 300_000);

  it('a viewer reads the branding without the form, and a direct POST is refused with 403 and changes nothing', async () => {
    const context = await browser.newContext();
    const page = await signInStaff(context, stack.settleUrl, VIEWER, LONG);
    await page.goto(`${stack.settleUrl}/app/settings/branding`);
    expect(await page.locator('#branding-form').count()).toBe(0);
    expect(await page.locator('#branding-readonly').textContent()).toContain('Only a workspace owner');
    expect(await page.locator('#preview-from').textContent()).toContain('Acme IT Billing');
    await checkStaffPage(page, '/app/settings/branding as viewer');

    const before = await brandingRow();
    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const res = await page.request.post(`${stack.settleUrl}/app/settings/branding`, {
      multipart: {
        _csrf: csrf,
        primary_color: '#000000',
        sender_name: 'Viewer was here',
        reply_to: '',
        logo: { name: 'x.png', mimeType: 'image/png', buffer: PNG_1PX },
      },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
    expect(await res.text()).toContain('needs the owner role');
    expect(await brandingRow()).toEqual(before);
    await context.close();
  }, 180_000);
});
