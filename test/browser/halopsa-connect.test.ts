// HaloPSA through Settle's own doors, in a real browser, on the HaloPSA simulator: a new workspace's owner
// picks HaloPSA on the set-up wizard's PSA step, a wrong client secret is refused by Halo's token endpoint
// and never shown back, the right one connects — Settle registers its webhook with Halo (basic
// authentication) and imports the invoices with their lines — and a change made in Halo reaches Settle by
// webhook. Every page: axe clean, no sideways scroll at 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { checkPageAlsoAt360 } from '../helpers/staff-pages.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { freePort } from '../helpers/ports.ts';
import { createWorkspace } from '../../src/cli/workspace.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { startHaloSimulator, type RunningHaloSimulator } from '../../simulators/halopsa/index.ts';

let stack: Stack;
let halo: RunningHaloSimulator;
let browser: Browser;
let tenantId: string;
const LONG = 60_000;
const FRESH = { workspace: 'halo-msp', email: 'owner@halo.test', password: 'correct horse battery' };

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 2, invoices: 2, settlePort: await freePort() });
  halo = await startHaloSimulator({ seed: { clients: 3, invoices: 12, seed: 4, paidShare: 0 } });
  tenantId = await createWorkspace(stack.database.db, {
    slug: FRESH.workspace,
    name: 'Halo MSP',
    adminEmail: FRESH.email,
    adminPassword: FRESH.password,
    actor: 'system:test',
  });
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await halo?.close();
  await stack?.close();
});

const checkPage = checkPageAlsoAt360;

const connections = () => withTenant(stack.database.db, tenantId, (tx) => tx.selectFrom('connections').selectAll().execute());
const invoices = () =>
  withTenant(stack.database.db, tenantId, (tx) => tx.selectFrom('invoices').select(['id', 'number', 'total_minor', 'psa_balance_minor']).execute());

describe.runIf(haveBrowser)('HaloPSA connected in the browser', () => {
  it('is picked on the wizard, refuses a wrong secret, connects, registers its webhook, imports, and follows a change by webhook', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const base = stack.settleUrl;
    await page.goto(`${base}/login`);
    await page.fill('input[name=workspace]', FRESH.workspace);
    await page.fill('input[name=email]', FRESH.email);
    await page.fill('input[name=password]', FRESH.password);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: LONG }), page.click('button[type=submit]')]);

    // The PSA step offers HaloPSA beside ConnectWise; its form comes from the registry's schema.
    await page.goto(`${base}/app/setup/psa`);
    await Promise.all([page.waitForURL(`${base}/app/setup/psa?vendor=halopsa`, { timeout: LONG }), page.click('text=connect HaloPSA')]);
    await checkPage(page, '/app/setup/psa?vendor=halopsa');
    expect(await page.locator('h1').textContent()).toContain('HaloPSA');
    await page.click('#connect-submit');
    await page.waitForSelector('.error-summary');
    expect(await page.locator('.error-summary a[href="#f-secrets-clientSecret"]').count()).toBe(1);

    await page.fill('#f-config-baseUrl', halo.baseUrl);
    await page.fill('#f-config-clientId', halo.credentials.clientId);
    await page.click('details summary');
    await page.fill('#f-config-tenant', halo.credentials.tenant!);
    await page.fill('#f-secrets-clientSecret', 'WrongHaloSecret123');
    await page.click('#connect-submit');
    await page.waitForSelector('.error-summary');
    expect(await page.locator('.error-summary').textContent()).toContain('refused these keys');
    expect(await page.content()).not.toContain('WrongHaloSecret123');
    expect((await connections()).length).toBe(0);
    await checkPage(page, '/app/setup/psa?vendor=halopsa with errors');

    if (!(await page.locator('details').getAttribute('open'))) await page.click('details summary');
    await page.fill('#f-config-tenant', halo.credentials.tenant!);
    await page.fill('#f-secrets-clientSecret', halo.credentials.clientSecret);
    await Promise.all([page.waitForURL(`${base}/app/setup/payments`, { timeout: LONG }), page.click('#connect-submit')]);
    const psa = (await connections()).find((c) => c.role === 'psa')!;
    expect(psa.vendor).toBe('halopsa');
    expect(JSON.stringify(psa)).not.toContain(halo.credentials.clientSecret);

    // Settle registered its webhook with Halo, authenticated (basic), for invoice create and update.
    const hooks = [...halo.state.webhooks.values()];
    expect(hooks.map((h) => [h.url, h.authentication_type, h.eventnos])).toEqual([[`${base}/webhooks/${FRESH.workspace}/halopsa`, 1, [301, 302]]]);

    // The first import brings every invoice, totals exact.
    await eventually(async () => (await invoices()).length === 12, LONG, 'twelve Halo invoices imported');
    const target = [...halo.state.invoices.values()][3]!;
    const before = (await invoices()).find((i) => i.number === target.invoicenumber)!;
    expect(before.total_minor).toBe(BigInt(halo.state.totalCents(target)));

    // A change in Halo arrives by webhook (verified), and Settle fetches the invoice again.
    halo.sim.updateInvoice(target.id, { addLines: [{ description: 'Onsite visit', quantity: '2', unitPrice: '95.00' }] });
    await halo.sim.flushWebhooks();
    expect(halo.sim.deliveries.at(-1)).toMatchObject({ status: 200 });
    await eventually(
      async () => (await invoices()).find((i) => i.number === target.invoicenumber)!.total_minor === before.total_minor + 19000n,
      LONG,
      'the changed invoice updated in Settle',
    );

    // The connections page names HaloPSA and its settings, never the secret.
    await page.goto(`${base}/app/connections`);
    const main = (await page.locator('main').textContent()) ?? '';
    expect(main).toContain('HaloPSA');
    expect(main).toContain(halo.credentials.clientId);
    expect(main).not.toContain(halo.credentials.clientSecret);
    await checkPage(page, '/app/connections (HaloPSA)');
  }, 300_000);
});
