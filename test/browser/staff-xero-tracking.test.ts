// Issue #11, Xero tracking categories in the GL mapping, in a real browser on real PostgreSQL and the Xero
// simulator. The organisation has two tracking categories (Region, Service line); the owner picks an option
// of each on Settings → Accounts from Xero's live lists (an archived option is not offered), saves (audited,
// stored in the connection), and the next payout's fee SPEND in Xero carries both on its line. Then a
// bookkeeper archives the chosen Region option in Xero: `settle doctor` names it with the fix, and the
// settings page shows it as not active so it can be changed. Every page: axe clean, no sideways scroll at 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';
import { useXeroBooks } from '../helpers/xero-books.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { doctor } from '../../src/cli/doctor.ts';
import { createLogger } from '../../src/cli/logger.ts';
import { ConnectorCache } from '../../src/engine/connections.ts';
import type { RunningXeroSimulator } from '../../simulators/xero/index.ts';

const LONG = 60_000;
const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };

let stack: Stack;
let xero: RunningXeroSimulator;
let browser: Browser;

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const booksConfig = async (): Promise<Record<string, unknown>> =>
  (await q((tx) => tx.selectFrom('connections').select('config').where('role', '=', 'accounting').executeTakeFirstOrThrow())).config as Record<string, unknown>;

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 2, invoices: 3 });
  xero = await useXeroBooks(stack);
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await xero?.close();
});

async function booksFinding(): Promise<{ ok: boolean; detail: string }> {
  const db = stack.database.db;
  const box = SecretBox.fromHex(stack.secretKeyHex);
  const all = await doctor(db, new ConnectorCache(db, box), { box, publicUrl: stack.settleUrl, log: createLogger('silent') });
  return all.find((f) => f.what === `${stack.slug} accounting accounts`)!;
}

describe.runIf(haveBrowser)('Xero tracking categories in the GL mapping', () => {
  it('the owner picks a Region and a Service line; the payout’s fee line carries them; an archived option is named by doctor', async () => {
    xero.sim.archiveTracking('Service line', 'Projects');
    const cats = xero.sim.store.trackingCategories;
    const [region, line] = [cats[0]!, cats[1]!];
    const north = region.Options.find((o) => o.Name === 'North')!;
    const managed = line.Options.find((o) => o.Name === 'Managed services')!;

    const context = await browser.newContext();
    const page = await signInStaff(context, stack.settleUrl, OWNER, LONG);
    await page.goto(`${stack.settleUrl}/app/settings/accounts`);
    // Xero's own account codes under the ledger-neutral pickers; no Undeposited Funds picker (Xero has none).
    expect(await page.inputValue('#account-bankAccountId')).toBe(xero.sim.codes.bank);
    expect(await page.inputValue('#account-clearingAccountId')).toBe(xero.sim.codes.clearing);
    expect(await page.locator('#account-undepositedFundsAccountId').count()).toBe(0);
    expect(await page.locator('#tracking legend').textContent()).toBe('Tracking categories');
    expect(await page.locator('label[for=tracking-tracking1]').textContent()).toContain('Region');
    expect(await page.locator('#tracking-tracking1 option').allTextContents()).toEqual(['None', 'North', 'South']);
    expect(await page.locator('#tracking-tracking2 option').allTextContents()).toEqual(['None', 'Managed services']); // Projects is archived
    await checkStaffPage(page, '/app/settings/accounts with Xero tracking categories');

    await page.selectOption('#tracking-tracking1', { label: 'North' });
    await page.selectOption('#tracking-tracking2', { label: 'Managed services' });
    await Promise.all([page.waitForURL(`${stack.settleUrl}/app/settings/accounts?saved=1`, { timeout: LONG }), page.click('#save-accounts')]);
    const northValue = `${region.TrackingCategoryID}:${north.TrackingOptionID}`;
    const saved = await booksConfig();
    expect(saved).toMatchObject({ tracking1: northValue, tracking2: `${line.TrackingCategoryID}:${managed.TrackingOptionID}` });
    expect(saved).toMatchObject({ bankAccountCode: xero.sim.codes.bank, clearingAccountCode: xero.sim.codes.clearing, feeAccountCode: xero.sim.codes.fees });
    expect(saved['bankAccountId']).toBeUndefined();
    const audit = await q((tx) =>
      tx.selectFrom('audit_log').select('detail').where('action', '=', 'connection.accounts_changed').orderBy('id', 'desc').executeTakeFirstOrThrow(),
    );
    expect(audit.detail).toMatchObject({ tracking1: { from: null, to: northValue, to_name: 'Region: North' } });
    expect((await booksFinding()).detail).toContain('tracking “Region: North”, “Service line: Managed services” active');

    // A client pays; the processor pays out; the fee SPEND Settle writes to Xero carries both options.
    const invoice = (await openInvoices(stack))[0]!;
    await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
    await eventually(async () => xero.sim.livePayments().length === 1, LONG, 'the payment in Xero');
    const payout = stack.sims.stripe.sim.runPayouts();
    expect(payout).not.toBeNull();
    const spend = await eventually(async () => xero.sim.store.bankTransactions.find((t) => t.Type === 'SPEND'), LONG, 'the payout’s fee SPEND in Xero');
    expect(spend.lines.map((l) => l.tracking)).toEqual([
      [
        { Name: 'Region', Option: 'North' },
        { Name: 'Service line', Option: 'Managed services' },
      ],
    ]);

    // Rules by contract kind have nowhere to go in Xero: the page says why and where the choice is made.
    await page.goto(`${stack.settleUrl}/app/settings/gl-rules`);
    expect(await page.locator('#no-tracking').textContent()).toContain('chosen once for the workspace on Books accounts');
    await checkStaffPage(page, '/app/settings/gl-rules with Xero books');

    // A bookkeeper archives North in Xero: doctor names it with the fix; the page shows it as not active.
    xero.sim.archiveTracking('Region', 'North');
    const finding = await booksFinding();
    expect(finding.ok).toBe(false);
    expect(finding.detail).toContain('the Region option “North” mapped as tracking1 is archived in Xero: restore it in Xero, or choose another option');
    await page.goto(`${stack.settleUrl}/app/settings/accounts`);
    expect(await page.locator('#tracking-tracking1 option:checked').textContent()).toBe('Region: North (not active in the books)');
    await checkStaffPage(page, '/app/settings/accounts with an archived tracking option');
    await page.selectOption('#tracking-tracking1', { label: 'South' });
    await Promise.all([page.waitForURL(`${stack.settleUrl}/app/settings/accounts?saved=1`, { timeout: LONG }), page.click('#save-accounts')]);
    expect((await booksFinding()).ok).toBe(true);
    await context.close();
  }, 300_000);
});
