// The first-run wizard in a real browser, on the simulators: a new workspace with nothing connected connects
// ConnectWise and Stripe with their keys (forms generated from the connector registry; a wrong key is an error
// on the form and is never shown back), QuickBooks by OAuth (Intuit's consent page, "Connect", back to
// Settle), picks the accounts from the live chart of accounts, chooses pilot clients and imports with the
// counts moving in a fragment htmx refreshes (the page itself is never reloaded). Then the owner changes the
// fee account on Settings → Accounts (audited), and tests a connection. Every page: axe clean, no sideways
// scroll at 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { expectAccessible } from '../helpers/axe.ts';
import { checkPageAlsoAt360 } from '../helpers/staff-pages.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { freePort } from '../helpers/ports.ts';
import { createWorkspace } from '../../src/cli/workspace.ts';
import { withTenant } from '../../src/db/tenant.ts';

let stack: Stack;
let browser: Browser;
let tenantId: string;
let feesId: string;
const LONG = 60_000;
const FRESH = { workspace: 'fresh-msp', email: 'owner@fresh.test', password: 'correct horse battery' };

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 4, invoices: 60, settlePort: await freePort() });
  const q = stack.sims.quickbooks;
  // The install's Intuit app, with Settle's redirect URI registered on its Keys tab.
  stack.settle!.oauthApps.quickbooks = {
    clientId: q.clientId,
    clientSecret: q.clientSecret,
    authorizeUrl: q.authorizeUrl,
    tokenUrl: q.oauthTokenUrl,
    apiBaseUrl: q.baseUrl,
  };
  q.sim.registerRedirectUri(`${stack.settleUrl}/app/connections/quickbooks/callback`);
  feesId = q.sim.ensureAccount('Stripe processing fees', 'Expense', 'OtherMiscellaneousServiceCost').Id;
  tenantId = await createWorkspace(stack.database.db, {
    slug: FRESH.workspace,
    name: 'Fresh MSP',
    adminEmail: FRESH.email,
    adminPassword: FRESH.password,
    actor: 'system:test',
  });
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const checkPage = checkPageAlsoAt360;

const connections = () => withTenant(stack.database.db, tenantId, (tx) => tx.selectFrom('connections').selectAll().execute());

describe.runIf(haveBrowser)('first-run set-up in the browser', () => {
  it('connects ConnectWise and Stripe by key and QuickBooks by OAuth, picks accounts and pilot, imports with progress; the fee account changes', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const base = stack.settleUrl;
    await page.goto(`${base}/login`);
    await page.fill('input[name=workspace]', FRESH.workspace);
    await page.fill('input[name=email]', FRESH.email);
    await page.fill('input[name=password]', FRESH.password);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: LONG }), page.click('button[type=submit]')]);

    // Nothing connected: the connections page says what to do.
    await page.goto(`${base}/app/connections`);
    expect(await page.locator('main').textContent()).toContain('Nothing is connected yet');
    await checkPage(page, '/app/connections (empty)');

    await page.goto(`${base}/app/setup`);
    await checkPage(page, '/app/setup');
    await Promise.all([page.waitForURL(`${base}/app/setup/psa`), page.click('#setup-continue')]);

    // ---- PSA: an empty form names each missing field; a wrong key is refused by ConnectWise and not shown back.
    await checkPage(page, '/app/setup/psa');
    await page.click('#connect-submit');
    await page.waitForSelector('.error-summary');
    expect(await page.locator('.error-summary a[href="#f-config-baseUrl"]').count()).toBe(1);
    expect(await page.locator('.error-summary a[href="#f-secrets-privateKey"]').count()).toBe(1);
    await checkPage(page, '/app/setup/psa with errors');
    const cw = stack.sims.connectwise;
    await page.fill('#f-config-baseUrl', cw.baseUrl);
    await page.fill('#f-config-companyId', cw.credentials.companyId);
    await page.fill('#f-config-clientId', cw.credentials.clientId);
    await page.fill('#f-secrets-publicKey', cw.credentials.publicKey);
    await page.fill('#f-secrets-privateKey', 'WrongPrivateKey123');
    await page.click('#connect-submit');
    await page.waitForSelector('.error-summary');
    expect(await page.locator('.error-summary').textContent()).toContain('refused these keys');
    expect(await page.content()).not.toContain('WrongPrivateKey123');
    expect(await page.inputValue('#f-config-companyId')).toBe(cw.credentials.companyId);
    expect((await connections()).length).toBe(0);
    await page.fill('#f-secrets-publicKey', cw.credentials.publicKey);
    await page.fill('#f-secrets-privateKey', cw.credentials.privateKey);
    await Promise.all([page.waitForURL(`${base}/app/setup/payments`, { timeout: LONG }), page.click('#connect-submit')]);

    // ---- Processor: Stripe's keys; Settle registers its own webhook.
    await checkPage(page, '/app/setup/payments');
    const st = stack.sims.stripe;
    // Live validation while typing (htmx posts the form on change; the server answers the schema's errors).
    await page.fill('#f-secrets-secretKey', 'sk_wrong');
    await page.dispatchEvent('#f-secrets-secretKey', 'change');
    await page.waitForSelector('#live-errors a[href="#f-secrets-secretKey"]', { timeout: LONG });
    expect(await page.locator('#live-errors').textContent()).toContain('sk_test_');
    await expectAccessible(page, '/app/setup/payments with live errors');
    await page.fill('#f-secrets-secretKey', st.secretKey);
    await page.dispatchEvent('#f-secrets-secretKey', 'change');
    await eventually(async () => (await page.locator('#live-errors .error-summary').count()) === 0, LONG, 'live errors cleared');
    await page.fill('#f-config-publishableKey', st.publishableKey);
    await page.click('details summary');
    await page.fill('#f-config-baseUrl', st.baseUrl);
    await page.fill('#f-config-jsUrl', `${st.baseUrl}/_sim/js/v3`);
    await Promise.all([page.waitForURL(`${base}/app/setup/books`, { timeout: LONG }), page.click('#connect-submit')]);
    const stripe = (await connections()).find((c) => c.role === 'payments')!;
    expect(stripe.config['webhookEndpointId']).toMatch(/^we_/);

    // ---- Books: QuickBooks by OAuth through Intuit's consent page.
    expect(await page.locator('#qbo-redirect-uri').textContent()).toBe(`${base}/app/connections/quickbooks/callback`);
    await checkPage(page, '/app/setup/books');
    await Promise.all([page.waitForURL((u) => u.pathname === '/connect/oauth2', { timeout: LONG }), page.click('#connect-quickbooks')]);
    expect(await page.locator('#company').count()).toBe(1);
    await Promise.all([page.waitForURL(`${base}/app/setup/accounts`, { timeout: LONG }), page.click('#connect')]);
    const qbo = (await connections()).find((c) => c.role === 'accounting')!;
    expect(qbo.config['realmId']).toBe(stack.sims.quickbooks.realmId);

    // ---- Accounts from the live chart: pre-selected, the bank account being the company's Checking.
    await checkPage(page, '/app/setup/accounts');
    expect(await page.inputValue('#account-bankAccountId')).toBe(stack.sims.quickbooks.sim.accounts.checking);
    expect(await page.locator('#account-feeExpenseAccountId option', { hasText: 'Stripe processing fees' }).count()).toBe(1);
    // A bank account is not offered as the fee account.
    expect(await page.locator('#account-feeExpenseAccountId option', { hasText: '(Bank)' }).count()).toBe(0);
    await Promise.all([page.waitForURL(`${base}/app/setup/pilot`, { timeout: LONG }), page.click('#save-accounts')]);

    // ---- Pilot clients, read from ConnectWise just now.
    await checkPage(page, '/app/setup/pilot');
    const boxes = page.locator('#pilot-form input[type=checkbox]');
    expect(await boxes.count()).toBe(4);
    await boxes.nth(0).check();
    await boxes.nth(2).check();
    await Promise.all([page.waitForURL(`${base}/app/setup/import`, { timeout: LONG }), page.click('#save-pilot')]);
    const pilot = await withTenant(stack.database.db, tenantId, (tx) => tx.selectFrom('clients').select('collection_enabled').execute());
    expect(pilot.filter((c) => c.collection_enabled)).toHaveLength(2);

    // ---- The import: counts move in the fragment htmx refreshes; the page itself is not reloaded.
    await checkPage(page, '/app/setup/import (before)');
    await Promise.all([page.waitForURL(`${base}/app/setup/import`, { timeout: LONG }), page.click('#start-import')]);
    await page.waitForLoadState('load');
    await page.evaluate('window.__sameDocument = true');
    const runningAtFirst = (await page.getAttribute('#import-progress', 'data-running')) === 'yes';
    if (runningAtFirst) await page.waitForResponse((r) => r.url().endsWith('/app/setup/import/progress'), { timeout: LONG });
    await page.waitForSelector('#import-progress[data-running=no]', { timeout: 180_000 });
    expect(await page.evaluate('window.__sameDocument === true')).toBe(true);
    const counts = await withTenant(stack.database.db, tenantId, async (tx) => ({
      invoices: Number(
        (
          await tx
            .selectFrom('invoices')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
      lines: Number(
        (
          await tx
            .selectFrom('invoice_lines')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    }));
    expect(counts.invoices).toBeGreaterThan(0);
    expect(await page.textContent('#count-invoices')).toBe(String(counts.invoices));
    expect(await page.textContent('#count-lines')).toBe(String(counts.lines));
    await checkPage(page, '/app/setup/import (done)');

    // ---- Settings → Accounts: change the fee account; audited, saved into the connection.
    await page.goto(`${base}/app/settings/accounts`);
    await checkPage(page, '/app/settings/accounts');
    await page.selectOption('#account-feeExpenseAccountId', feesId);
    await Promise.all([page.waitForURL(`${base}/app/settings/accounts?saved=1`, { timeout: LONG }), page.click('#save-accounts')]);
    expect(await page.locator('.notice--ok').textContent()).toContain('next postings use these accounts');
    expect(await page.inputValue('#account-feeExpenseAccountId')).toBe(feesId);
    const after = (await connections()).find((c) => c.role === 'accounting')!;
    expect(after.config['feeExpenseAccountId']).toBe(feesId);
    const audit = await withTenant(stack.database.db, tenantId, (tx) =>
      tx
        .selectFrom('audit_log')
        .select(['actor', 'detail'])
        .where('action', '=', 'connection.accounts_changed')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow(),
    );
    expect(audit.actor).toMatch(/^user:/);
    expect(audit.detail).toMatchObject({ feeExpenseAccountId: { to: feesId, to_name: 'Stripe processing fees' } });

    // ---- Connections: all three connected; "Test connection" runs the doctor's check and records it.
    await page.goto(`${base}/app/connections`);
    for (const role of ['psa', 'payments', 'accounting']) expect(await page.locator(`#connection-${role} [data-state=active]`).count(), role).toBe(1);
    await Promise.all([
      page.waitForURL(`${base}/app/connections/accounting/test`, { timeout: LONG }),
      page.click('#connection-accounting button:has-text("Test connection")'),
    ]);
    expect(await page.locator('#test-result').textContent()).toContain('passed');
    await eventually(async () => (await connections()).find((c) => c.role === 'accounting')?.last_success_at, 10_000, 'test recorded');
    expect(await page.locator('#connection-accounting .last-success').textContent()).not.toBe('—');
    await checkPage(page, '/app/connections (connected)');
    // Reconnect by keys and the disconnect confirmation are pages of their own (nothing changes by opening them).
    await page.goto(`${base}/app/connections/psa/connectwise`);
    expect(await page.inputValue('#f-secrets-privateKey')).toBe('');
    await checkPage(page, '/app/connections/psa/connectwise');
    await page.goto(`${base}/app/connections/payments/disconnect`);
    expect(await page.locator('#confirm-disconnect').textContent()).toContain('Disconnect Stripe');
    await checkPage(page, '/app/connections/payments/disconnect');
    expect((await connections()).every((c) => c.status === 'active')).toBe(true);
    await page.close();
  }, 600_000);
});
