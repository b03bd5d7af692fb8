// The set-up wizard's books step offers Xero beside QuickBooks Online, in a real browser on the simulators: the
// owner presses "Connect to Xero" on /app/setup/books, meets Xero's consent page, chooses Cancel and lands on
// the problem page whose Back leads to the wizard; starts again, allows access and is back on the wizard's
// accounts step, which shows the accounts chosen from the Xero chart by Xero's names; Continue marks the step
// done and goes on to the pilot clients. Every page: axe clean, no sideways scroll at 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { checkPageAlsoAt360, signInStaff } from '../helpers/staff-pages.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { freePort } from '../helpers/ports.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { setupState } from '../../src/engine/first-run.ts';
import { startXeroSimulator, type RunningXeroSimulator } from '../../simulators/xero/index.ts';
import { xeroRedirectUri } from '../../src/engine/xero-connect.ts';

let stack: Stack;
let xero: RunningXeroSimulator;
let browser: Browser;
const LONG = 60_000;
const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };

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
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await xero?.close();
});

const books = async () =>
  withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('connections').select(['vendor', 'config']).where('role', '=', 'accounting').executeTakeFirst(),
  );

describe.runIf(haveBrowser)('the set-up wizard with Xero books', () => {
  it('offers Xero on the books step; Cancel comes back to the wizard; Allow access leads to the accounts step with Xero’s accounts', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await signInStaff(context, stack.settleUrl, OWNER, LONG);
    await page.goto(`${stack.settleUrl}/app/setup/books`);
    expect(await page.textContent('#xero-redirect-uri')).toBe(xeroRedirectUri(stack.settleUrl));
    await checkPageAlsoAt360(page, '/app/setup/books with Xero');

    await page.focus('#connect-xero');
    await Promise.all([page.waitForURL((u) => u.pathname === '/identity/connect/authorize', { timeout: LONG }), page.keyboard.press('Enter')]);
    await page.focus('#cancel');
    await Promise.all([page.waitForURL((u) => u.pathname === '/app/connections/xero/callback', { timeout: LONG }), page.keyboard.press('Enter')]);
    expect(await page.textContent('#oauth-problem')).toContain('You chose Cancel on the Xero page');
    expect(await page.getAttribute('a:has-text("Back")', 'href')).toBe('/app/setup/books');
    expect((await books())?.vendor).toBe('quickbooks-online');

    // Start again from the problem page: it still returns to the wizard.
    await page.focus('#connect-xero');
    await Promise.all([page.waitForURL((u) => u.pathname === '/identity/connect/authorize', { timeout: LONG }), page.keyboard.press('Enter')]);
    await page.focus('#allow');
    await Promise.all([page.waitForURL((u) => u.pathname === '/app/setup/accounts', { timeout: LONG }), page.keyboard.press('Enter')]);
    const conn = await books();
    expect(conn).toMatchObject({ vendor: 'xero', config: { bankAccountCode: '090', clearingAccountCode: '091', feeAccountCode: '404' } });
    const shown = (await page.textContent('#xero-accounts')) ?? '';
    expect(shown).toContain('090 Business Bank Account');
    expect(shown).toContain('091 Settle Clearing');
    expect(shown).toContain('404 Bank Fees');
    await checkPageAlsoAt360(page, '/app/setup/accounts (Xero)');
    expect((await setupState(stack.database.db, stack.tenantId)).marks.accounts).toBeFalsy();
    await Promise.all([page.waitForURL((u) => u.pathname === '/app/setup/pilot', { timeout: LONG }), page.click('#save-accounts')]);
    expect((await setupState(stack.database.db, stack.tenantId)).marks.accounts).toBeTruthy();
    expect((await books())?.config).toMatchObject({ bankAccountCode: '090', clearingAccountCode: '091' }); // confirming changed nothing
    await context.close();
  });
});
