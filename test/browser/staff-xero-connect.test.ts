// "Connect to Xero" in the browser, by keyboard: the owner presses it on the connections page, meets Xero's
// consent page (the simulator's), chooses Cancel and lands on Settle's problem page (axe clean, no sideways
// scroll at 360 px), starts again from there, allows access and is back on the connections page with Xero
// connected. A viewer sees no button and a direct POST gets 403 with nothing changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { checkPageAlsoAt360, signInStaff } from '../helpers/staff-pages.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { freePort } from '../helpers/ports.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { addUser } from '../../src/engine/staff-users.ts';
import { startXeroSimulator, type RunningXeroSimulator } from '../../simulators/xero/index.ts';
import { xeroRedirectUri } from '../../src/engine/xero-connect.ts';

let stack: Stack;
let xero: RunningXeroSimulator;
let browser: Browser;
const LONG = 60_000;
const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };
const VIEWER = { workspace: 'acme-it', email: 'viewer@acme.test', password: 'correct horse battery staple' };

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 2, invoices: 3, settlePort: await freePort() });
  xero = await startXeroSimulator();
  stack.settle!.oauthApps.xero = {
    clientId: xero.clientId,
    clientSecret: xero.clientSecret,
    authorizeUrl: xero.authorizeUrl,
    tokenUrl: xero.tokenUrl,
    identityApiUrl: xero.baseUrl,
    apiUrl: xero.apiUrl,
  };
  xero.sim.identity.redirectUris.add(xeroRedirectUri(stack.settleUrl));
  await withTenant(stack.database.db, stack.tenantId, (tx) =>
    addUser(tx, stack.tenantId, { email: VIEWER.email, role: 'viewer', password: VIEWER.password }, 'system:test'),
  );
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await xero?.close();
});

const booksVendor = async () =>
  (
    await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('connections').select('vendor').where('role', '=', 'accounting').executeTakeFirst(),
    )
  )?.vendor;

describe.runIf(haveBrowser)('Connect to Xero in the browser', () => {
  it('Cancel shows the problem page; Allow access connects Xero', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await signInStaff(context, stack.settleUrl, OWNER, LONG);
    await page.goto(`${stack.settleUrl}/app/connections`);
    await page.focus('#connect-xero');
    await Promise.all([page.waitForURL((u) => u.pathname === '/identity/connect/authorize', { timeout: LONG }), page.keyboard.press('Enter')]);
    await page.focus('#cancel');
    await Promise.all([page.waitForURL((u) => u.pathname === '/app/connections/xero/callback', { timeout: LONG }), page.keyboard.press('Enter')]);
    expect(await page.textContent('#oauth-problem')).toContain('You chose Cancel on the Xero page');
    await checkPageAlsoAt360(page, 'Xero not connected (problem page)');
    expect(await booksVendor()).toBe('quickbooks-online');

    await page.focus('#connect-xero');
    await Promise.all([page.waitForURL((u) => u.pathname === '/identity/connect/authorize', { timeout: LONG }), page.keyboard.press('Enter')]);
    await page.focus('#allow');
    await Promise.all([page.waitForURL((u) => u.pathname === '/app/connections', { timeout: LONG }), page.keyboard.press('Enter')]);
    expect(await booksVendor()).toBe('xero');
    const body = (await page.textContent('body')) ?? '';
    expect(body).toContain('Reconnect Xero');
    expect(body).toContain('5,000 a day per organisation');
    await checkPageAlsoAt360(page, '/app/connections with Xero');
    await context.close();
  });

  it('a viewer sees no Connect to Xero and a direct POST is refused', async () => {
    const context = await browser.newContext();
    const page = await signInStaff(context, stack.settleUrl, VIEWER, LONG);
    await page.goto(`${stack.settleUrl}/app/connections`);
    expect(await page.$('#connect-xero')).toBeNull();
    const csrf = await page.getAttribute('meta[name="csrf-token"]', 'content');
    const before = await booksVendor();
    const res = await page.request.post(`${stack.settleUrl}/app/connections/xero/connect`, {
      form: { _csrf: csrf ?? '' },
      headers: { origin: stack.settleUrl },
    });
    expect(res.status()).toBe(403);
    expect(await booksVendor()).toBe(before);
    await context.close();
  });
});
