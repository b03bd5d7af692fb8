// Issue #11 GL mapping for every ledger, "class / location from PSA fields", in a real browser on real
// PostgreSQL and the simulators: Settings → Class and location by contract. A finance user (owner or finance
// may change them) sees no pickers while the books track neither; once QuickBooks tracks classes and
// locations, picks a location and a class for managed-services invoices from the live lists (keyboard only),
// saves (stored, audited); a stale option is refused with the reason and nothing saved; finance maps the ACH
// discounts account on Books accounts too. A viewer reads the
// rules without a changing control, and a direct POST is 403 with nothing changed. Every state: axe clean, no
// sideways scroll at 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { readTrackingRules } from '../../src/engine/gl-mapping.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';

const LONG = 60_000;
const WORKSPACE = 'acme-it';
const FINANCE = { email: 'finance@acme.test', password: 'finance horse battery' };
const VIEWER = { email: 'viewer@acme.test', password: 'viewer horse battery' };

let stack: Stack;
let browser: Browser;

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const rules = () => q((tx) => readTrackingRules(tx));

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 1, invoices: 1 });
  browser = await launchBrowser();
  for (const [who, role] of [
    [FINANCE, 'finance'],
    [VIEWER, 'viewer'],
  ] as const) {
    const password_hash = await hashPassword(who.password);
    await q((tx) => tx.insertInto('users').values({ tenant_id: stack.tenantId, email: who.email, name: role, role, password_hash }).execute());
  }
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const signIn = (context: BrowserContext, who: { email: string; password: string }): Promise<Page> =>
  signInStaff(context, stack.settleUrl, { workspace: WORKSPACE, ...who }, LONG);

describe.runIf(haveBrowser)('Settings → Class and location by contract', () => {
  let west = '';
  it('finance picks a location and a class for managed-services invoices from the books’ live lists, by keyboard, audited', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, FINANCE);
    const qbo = stack.sims.quickbooks.sim;

    await page.goto(`${stack.settleUrl}/app/settings`);
    expect(await page.locator('a[href="/app/settings/gl-rules"]').textContent()).toContain('Class and location by contract');
    await page.goto(`${stack.settleUrl}/app/settings/gl-rules`);
    expect(await page.locator('#no-tracking').count()).toBe(1);
    expect(await page.locator('select').count()).toBe(0);
    await checkStaffPage(page, '/app/settings/gl-rules without tracking');

    qbo.setTracking({ classes: 'line', departments: true });
    const projects = qbo.ensureTracking('Class', 'Projects');
    qbo.setTrackingActive('Class', qbo.ensureTracking('Class', 'Old contracts').Id, false);
    qbo.ensureTracking('Department', 'East office');
    west = qbo.ensureTracking('Department', 'West office').Id;

    await page.goto(`${stack.settleUrl}/app/settings/gl-rules`);
    expect(await page.locator('fieldset legend').allTextContents()).toEqual([
      'Managed services (recurring agreement)',
      'Per device / per user',
      'Block hours / retainer',
      'Project',
      'Time and materials',
      'No contract',
    ]);
    expect(await page.locator('#rule-managed_services-class option').allTextContents()).toEqual(['Workspace default', 'Projects']); // inactive not offered
    expect(await page.locator('#rule-managed_services-location option').allTextContents()).toEqual(['Workspace default', 'East office', 'West office']);
    await checkStaffPage(page, '/app/settings/gl-rules with class and location');

    // Keyboard only: focus the class select, choose with the arrow keys, Tab to the location, then save with Enter.
    await page.focus('#rule-managed_services-class');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.id')).toBe('rule-managed_services-location');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.focus('#save-gl-rules');
    await Promise.all([page.waitForURL(`${stack.settleUrl}/app/settings/gl-rules?saved=1`, { timeout: LONG }), page.keyboard.press('Enter')]);
    expect(await page.inputValue('#rule-managed_services-location')).toBe(west);
    expect(await page.inputValue('#rule-managed_services-class')).toBe(projects.Id);
    await checkStaffPage(page, '/app/settings/gl-rules saved');
    expect(await rules()).toEqual([
      { psaValue: 'managed_services', dimension: 'class', optionId: projects.Id, optionName: 'Projects' },
      { psaValue: 'managed_services', dimension: 'location', optionId: west, optionName: 'West office' },
    ]);
    const audit = await q((tx) =>
      tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', 'connection.tracking_rules_changed').executeTakeFirstOrThrow(),
    );
    expect(audit.actor).toMatch(/^user:/);
    expect(audit.detail).toMatchObject({ 'rule.managed_services.location': { from: null, to: west, to_name: 'West office' } });

    // A stale form (the option left the books meanwhile): refused, the field named, nothing changed.
    await page.evaluate(`document.querySelector('#rule-project-location').insertAdjacentHTML('beforeend', '<option value="9999">Gone</option>')`);
    await page.selectOption('#rule-project-location', '9999');
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/app/settings/gl-rules') && r.request().method() === 'POST'),
      page.click('#save-gl-rules'),
    ]);
    expect(await page.locator('.error-summary').textContent()).toContain('Project: 9999 is not an active location in the books');
    expect(await page.locator('#rule-project-location-error').count()).toBe(1);
    await checkStaffPage(page, '/app/settings/gl-rules with an error');
    expect(await rules()).toHaveLength(2);

    // Books accounts: finance may change them too; the ACH discounts role is offered from the chart.
    await page.goto(`${stack.settleUrl}/app/settings/accounts`);
    expect(await page.locator('#gl-rules-link').getAttribute('href')).toBe('/app/settings/gl-rules');
    const achOptions = await page.locator('#account-achDiscountAccountId option').allTextContents();
    expect(achOptions.length).toBeGreaterThan(1);
    await page.selectOption('#account-achDiscountAccountId', { index: 1 });
    await Promise.all([page.waitForURL(`${stack.settleUrl}/app/settings/accounts?saved=1`, { timeout: LONG }), page.click('#save-accounts')]);
    const config = (await q((tx) => tx.selectFrom('connections').select('config').where('role', '=', 'accounting').executeTakeFirstOrThrow())).config as Record<
      string,
      unknown
    >;
    expect(typeof config['achDiscountAccountId']).toBe('string');
    await checkStaffPage(page, '/app/settings/accounts as finance');
    await context.close();
  }, 240_000);

  it('a viewer reads the rules without a changing control; a direct POST is 403 and changes nothing', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/settings/gl-rules`);
    expect(await page.locator('#rule-managed_services-location').textContent()).toBe('West office');
    expect(await page.locator('#rule-project-location').textContent()).toBe('Workspace default');
    expect(await page.locator('select').count()).toBe(0);
    expect(await page.locator('#save-gl-rules').count()).toBe(0);
    await checkStaffPage(page, '/app/settings/gl-rules as viewer');

    const before = await rules();
    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const res = await page.request.post(`${stack.settleUrl}/app/settings/gl-rules`, {
      form: { _csrf: csrf, 'rule.managed_services.location': '' },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
    expect(await rules()).toEqual(before);
    expect(west).not.toBe('');
    await context.close();
  }, 120_000);
});
