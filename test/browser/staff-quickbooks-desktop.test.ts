// QuickBooks Desktop through Settle's own doors, in a real browser: the owner connects it from Connections →
// Books with the keys form (accounts by name, the Web Connector password — a short one refused and never shown
// back), the Books card then offers the .qwc file, which downloads with the workspace's Web Connector user and
// Settle's /webhooks/qbwc address; a viewer sees no download link and a direct request gets 403; the Web
// Connector's run brings the chart and the classes, which Settings → Accounts and Class and location by contract
// offer. The pages pass axe and fit 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { checkPageAlsoAt360, signInStaff } from '../helpers/staff-pages.ts';
import { QBWC_PATH, webConnectorUserName } from '../../src/connectors/accounting/quickbooks-desktop/web-connector.ts';
import { startQbdSimulator } from '../../simulators/quickbooks-desktop/index.ts';

const LONG = 60_000;
const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };
const VIEWER = { workspace: 'acme-it', email: 'viewer@acme.test', password: 'viewer horse battery' };
const PASSWORD = 'a-long-web-connector-password';

let stack: Stack;
let browser: Browser;
const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 2, invoices: 2 });
  browser = await launchBrowser();
  const password_hash = await hashPassword(VIEWER.password);
  await q((tx) => tx.insertInto('users').values({ tenant_id: stack.tenantId, email: VIEWER.email, name: 'viewer', role: 'viewer', password_hash }).execute());
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const signIn = (context: BrowserContext, who: typeof OWNER): Promise<Page> => signInStaff(context, stack.settleUrl, who, LONG);

describe.runIf(haveBrowser)('QuickBooks Desktop in the staff app', () => {
  it('the owner connects it with the form and downloads the .qwc file from the Books card', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await signIn(context, OWNER);
    const base = stack.settleUrl;
    await page.goto(`${base}/app/connections/accounting/quickbooks-desktop`);
    await checkPageAlsoAt360(page, 'QuickBooks Desktop keys form');
    await page.fill('#f-config-bankAccount', 'Checking');
    await page.fill('#f-config-feeAccount', 'Merchant Fees');
    await page.fill('#f-secrets-webConnectorPassword', 'short');
    await page.click('#connect-submit');
    await page.waitForSelector('.error-summary');
    expect(await page.locator('.error-summary').textContent()).toContain('16 characters');
    expect(await page.content()).not.toContain('value="short"');
    await page.fill('#f-secrets-webConnectorPassword', PASSWORD);
    await Promise.all([page.waitForURL((u) => !u.pathname.endsWith('/quickbooks-desktop'), { timeout: LONG }), page.click('#connect-submit')]);
    const books = await q((tx) => tx.selectFrom('connections').select(['vendor', 'config']).where('role', '=', 'accounting').executeTakeFirstOrThrow());
    expect(books.vendor).toBe('quickbooks-desktop');
    expect(JSON.stringify(books)).not.toContain(PASSWORD);

    await page.goto(`${base}/app/connections`);
    await checkPageAlsoAt360(page, '/app/connections (QuickBooks Desktop)');
    expect(await page.locator('#qbwc-title').count()).toBe(1);
    await page.focus('#download-qwc');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: LONG }), page.keyboard.press('Enter')]);
    expect(download.suggestedFilename()).toBe('settle-acme-it.qwc');
    const res = await page.request.get(`${base}/app/connections/accounting/quickbooks-desktop/qwc`);
    const qwc = await res.text();
    expect(qwc).toContain(`<UserName>${webConnectorUserName(stack.tenantId)}</UserName>`);
    expect(qwc).toContain('/webhooks/qbwc</AppURL>');
    expect(qwc).not.toContain(PASSWORD);
    await context.close();
  }, 180_000);

  it("Settings → Accounts: waits for the Web Connector's next poll, then offers the company file's chart, and the choice is saved", async () => {
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    const base = stack.settleUrl;
    await page.goto(`${base}/app/settings/accounts`);
    expect(await page.locator('.notice--error').textContent()).toMatch(/waiting for the Web Connector's next poll/);
    const qbd = await startQbdSimulator();
    for (const name of ['Managed Services', 'Projects']) qbd.company.addClass(name);
    try {
      qbd.webConnector.configure({ appUrl: `${base}${QBWC_PATH}`, userName: webConnectorUserName(stack.tenantId), password: PASSWORD, runEveryMs: 3_600_000 });
      expect((await qbd.webConnector.runNow()).outcome).toBe('done'); // carries the AccountQuery queued by the page
      await page.goto(`${base}/app/settings/accounts`);
      await checkPageAlsoAt360(page, '/app/settings/accounts (QuickBooks Desktop)');
      const checking = qbd.company.accounts.find((a) => a.fullName === 'Checking')!;
      const options = await page.locator('#account-bankAccountId option').allTextContents();
      expect(options.join('|')).toContain('Checking');
      expect(options.join('|')).not.toContain('Merchant Fees'); // an expense account cannot take the bank role
      await page.selectOption('#account-bankAccountId', checking.listId);
      await Promise.all([page.waitForLoadState('load'), page.click('#save-accounts')]);
      const config = (await q((tx) => tx.selectFrom('connections').select('config').where('role', '=', 'accounting').executeTakeFirstOrThrow())).config;
      expect(config['bankAccountId']).toBe(checking.listId);

      // The same run brought the company file's classes: Settings → Class and location by contract offers them.
      await page.goto(`${base}/app/settings/gl-rules`);
      await checkPageAlsoAt360(page, '/app/settings/gl-rules (QuickBooks Desktop)');
      expect(await page.locator('#rule-managed_services-class option').allTextContents()).toEqual(['Workspace default', 'Managed Services', 'Projects']);
      const managed = qbd.company.classOf({ fullName: 'Managed Services' })!;
      await page.selectOption('#rule-managed_services-class', managed.listId);
      await Promise.all([page.waitForURL(`${base}/app/settings/gl-rules?saved=1`, { timeout: LONG }), page.click('#save-gl-rules')]);
      const rules = await q((tx) => tx.selectFrom('gl_tracking_rules').select(['psa_value', 'dimension', 'option_id', 'option_name']).execute());
      expect(rules).toEqual([{ psa_value: 'managed_services', dimension: 'class', option_id: managed.listId, option_name: 'Managed Services' }]);
    } finally {
      await qbd.close();
      await context.close();
    }
  }, 180_000);

  it('a viewer sees no download link, and a direct request is refused with 403', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/connections`);
    expect(await page.locator('#download-qwc').count()).toBe(0);
    const res = await page.request.get(`${stack.settleUrl}/app/connections/accounting/quickbooks-desktop/qwc`, { maxRedirects: 0 });
    expect(res.status()).toBe(403);
    await context.close();
  }, 120_000);
});
