// Autotask through Settle's own doors, in a real browser, on the Autotask simulator: a new workspace's owner
// picks Autotask on the set-up wizard's PSA step, a wrong secret is refused (401) and never shown back, the
// right one connects and Settle imports the invoices with their lines, and the connections page shows the
// database's hourly threshold with Settle's budget (its share of what other integrations leave). Every page:
// axe clean, no sideways scroll at 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { checkPageAlsoAt360 } from '../helpers/staff-pages.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { freePort } from '../helpers/ports.ts';
import { createWorkspace } from '../../src/cli/workspace.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../simulators/autotask/index.ts';

let stack: Stack;
let at: RunningAutotaskSimulator;
let browser: Browser;
let tenantId: string;
const LONG = 60_000;
const FRESH = { workspace: 'autotask-msp', email: 'owner@autotask.test', password: 'correct horse battery' };

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 2, invoices: 2, settlePort: await freePort() });
  at = await startAutotaskSimulator({ seed: { companies: 3, invoices: 12 }, limits: { latencyAtHalfMs: 0, latencyAtThreeQuartersMs: 0 } });
  at.sim.limits.addOthers(6_000); // other integrations of the MSP have used 60 % of the hour
  tenantId = await createWorkspace(stack.database.db, {
    slug: FRESH.workspace,
    name: 'Autotask MSP',
    adminEmail: FRESH.email,
    adminPassword: FRESH.password,
    actor: 'system:test',
  });
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await at?.close();
  await stack?.close();
});

const checkPage = checkPageAlsoAt360;

const connections = () => withTenant(stack.database.db, tenantId, (tx) => tx.selectFrom('connections').selectAll().execute());
const invoices = () => withTenant(stack.database.db, tenantId, (tx) => tx.selectFrom('invoices').select(['id', 'number', 'total_minor']).execute());

describe.runIf(haveBrowser)('Autotask connected in the browser', () => {
  it('is picked on the wizard, refuses a wrong secret, connects, imports, and shows its API budget', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const base = stack.settleUrl;
    await page.goto(`${base}/login`);
    await page.fill('input[name=workspace]', FRESH.workspace);
    await page.fill('input[name=email]', FRESH.email);
    await page.fill('input[name=password]', FRESH.password);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: LONG }), page.click('button[type=submit]')]);

    await page.goto(`${base}/app/setup/psa`);
    await Promise.all([page.waitForURL(`${base}/app/setup/psa?vendor=autotask`, { timeout: LONG }), page.click('text=connect Autotask PSA')]);
    await checkPage(page, '/app/setup/psa?vendor=autotask');
    expect(await page.locator('h1').textContent()).toContain('Autotask');

    await page.fill('#f-config-username', at.credentials.username);
    await page.fill('#f-config-integrationCode', at.credentials.integrationCode);
    await page.click('details summary');
    await page.fill('#f-config-globalUrl', at.baseUrl);
    await page.fill('#f-secrets-secret', 'WrongAutotaskSecret1');
    await page.click('#connect-submit');
    await page.waitForSelector('.error-summary');
    expect(await page.locator('.error-summary').textContent()).toContain('refused these keys');
    expect(await page.content()).not.toContain('WrongAutotaskSecret1');
    expect((await connections()).length).toBe(0);
    await checkPage(page, '/app/setup/psa?vendor=autotask with errors');

    if (!(await page.locator('details').getAttribute('open'))) await page.click('details summary');
    await page.fill('#f-config-globalUrl', at.baseUrl);
    await page.fill('#f-secrets-secret', at.credentials.secret);
    await Promise.all([page.waitForURL(`${base}/app/setup/payments`, { timeout: LONG }), page.click('#connect-submit')]);
    const psa = (await connections()).find((c) => c.role === 'psa')!;
    expect(psa.vendor).toBe('autotask');
    expect(JSON.stringify(psa)).not.toContain(at.credentials.secret);

    await eventually(async () => (await invoices()).length === 12, LONG, 'twelve Autotask invoices imported');
    const sample = [...at.sim.state.table('Invoices').values()][2]!;
    const got = (await invoices()).find((i) => i.number === sample.InvoiceNumber)!;
    expect(got.total_minor).toBe(BigInt(Math.round(Number(sample.InvoiceTotal) * 100)));

    await page.goto(`${base}/app/connections`);
    const main = (await page.locator('main').textContent()) ?? '';
    expect(main).toContain('Autotask PSA');
    expect(main).toContain(at.credentials.username);
    expect(main).not.toContain(at.credentials.secret);
    expect(main).toContain('10,000 requests per rolling hour per Autotask database');
    expect(main).toMatch(/Settle \(this server\) this hour: \d+ of its 1000 requests \(25 % of what other integrations leave/);
    expect(at.sim.limits.refused).toEqual({ hourly: 0, thread: 0 });
    await checkPage(page, '/app/connections (Autotask)');
  }, 300_000);
});
