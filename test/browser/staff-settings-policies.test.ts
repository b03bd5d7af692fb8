// Issue #9 "Settings: surcharge, retry policy, the workspace's timezone" in a real browser, on real PostgreSQL
// and Settle as its own process: the owner opens each page from the settings index, sends something wrong
// (an error summary, nothing stored, nothing audited), then changes the setting through the form — the
// database holds it and the audit log has the same entry the API writes. The surcharge saved on the page is
// what the API reads; the retry policy resets to the reference default; after a timezone change the pages
// show times in it. A viewer (and finance, for these owner settings) gets no form, and a direct POST is
// answered 403 with nothing changed. Every page passes axe and fits 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { formatDateTime } from '../../src/domain/timezone.ts';
import { OWNER, startLeanSettle, type LeanSettle } from '../security/lean-settle.ts';

const LONG = 60_000;
const FINANCE = { email: 'finance@acme.test', password: 'finance horse battery' };
const VIEWER = { email: 'viewer@acme.test', password: 'viewer horse battery' };

let s: LeanSettle;
let browser: Browser;

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(s.database.db, s.tenantId, fn);
const audits = (action: string) =>
  q((tx) => tx.selectFrom('audit_log').select(['actor', 'detail', 'subject_id']).where('action', '=', action).orderBy('id').execute());
const surchargeRow = () => q((tx) => tx.selectFrom('surcharge_settings').selectAll().executeTakeFirst());
const retryRow = () => q((tx) => tx.selectFrom('retry_policies').selectAll().executeTakeFirst());
const settingsJson = async () => (await q((tx) => tx.selectFrom('tenants').select('settings').where('id', '=', s.tenantId).executeTakeFirstOrThrow())).settings;
const parse = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

beforeAll(async () => {
  if (!haveBrowser) return;
  s = await startLeanSettle({});
  browser = await launchBrowser();
  await s.addUser({ ...FINANCE, role: 'finance' });
  await s.addUser({ ...VIEWER, role: 'viewer' });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await s?.close();
});

const signIn = (context: BrowserContext, who: { email: string; password: string }): Promise<Page> =>
  signInStaff(context, s.base, { workspace: OWNER.workspace, ...who }, LONG);

/** From the settings index, by the link's name: the page is reachable through the product's own door. */
async function openFromSettings(page: Page, label: string, path: string): Promise<void> {
  await page.goto(`${s.base}/app/settings`);
  await Promise.all([page.waitForURL((u) => u.pathname === path, { timeout: LONG }), page.getByRole('link', { name: label, exact: true }).click()]);
}

const submit = (page: Page, button: string) =>
  Promise.all([page.waitForResponse((r) => r.request().method() === 'POST', { timeout: LONG }), page.click(button)]).then(([r]) => r);

describe.runIf(haveBrowser)('staff settings: surcharge, retry policy, timezone', () => {
  it('the owner sets up card surcharging; wrong input is refused with nothing stored; the change is audited and the API reads it', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await openFromSettings(page, 'Card surcharge', '/app/settings/surcharge');
    expect(await page.locator('#now-enabled').textContent()).toContain('Off');
    expect(await page.locator('#surcharge-rules').textContent()).toContain('Only credit cards carry a surcharge');
    expect(await page.locator('#surcharge-places').textContent()).toContain('Connecticut');
    await checkStaffPage(page, '/app/settings/surcharge');

    // Turned on without a cost of acceptance, and a percentage that is not one: both named, nothing stored.
    await page.check('#enabled');
    await page.fill('#cost', '');
    await page.fill('#ach_discount', 'two');
    expect((await submit(page, '#save-surcharge')).status()).toBe(422);
    const summary = (await page.locator('.error-summary').textContent()) ?? '';
    expect(summary).toContain('Enter your cost of accepting credit cards before turning surcharges on');
    expect(summary).toContain('Enter the bank transfer discount as a percentage');
    expect(await page.locator('#enabled').isChecked()).toBe(true);
    expect(await surchargeRow()).toBeUndefined();
    expect(await audits('settings.surcharge_updated')).toHaveLength(0);
    await checkStaffPage(page, '/app/settings/surcharge with errors');

    // A Colorado MSP at 3.50 % cost, notice filed 40 days ago, ACH discount where surcharging is not allowed.
    const notice = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
    await page.selectOption('#msp_country', 'US');
    await page.fill('#msp_region', 'co');
    await page.fill('#cost', '3.5');
    await page.fill('#notice_filed_on', notice);
    await page.check('#alternative-ach_discount');
    await page.fill('#ach_discount', '2');
    await Promise.all([page.waitForURL(/\/app\/settings\/surcharge\?saved=1$/, { timeout: LONG }), page.click('#save-surcharge')]);
    expect(await page.locator('.notice--ok').textContent()).toContain('Saved');
    expect(await surchargeRow()).toMatchObject({
      enabled: true,
      msp_country: 'US',
      msp_region: 'CO',
      cost_of_acceptance_bps: 350,
      notice_filed_on: notice,
      alternative: 'ach_discount',
      ach_discount_bps: 200,
    });
    const logged = await audits('settings.surcharge_updated');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.actor).toMatch(/^user:/);
    expect(parse(logged[0]!.detail)).toMatchObject({
      before: { enabled: false, cost_of_acceptance_bps: 0 },
      after: { enabled: true, msp_region: 'CO', cost_of_acceptance_bps: 350, ach_discount_bps: 200 },
    });
    // The page states the effect: Colorado's 2 % cap binds below Visa's 3 % and the 3.50 % cost.
    expect(await page.locator('#now-enabled').textContent()).toContain('On');
    expect(await page.locator('#surcharge-examples tr', { hasText: 'Visa' }).textContent()).toContain('$2.00 (2.00%)');
    expect(await page.locator('#own-place').textContent()).toContain('at most 2.00%');
    await checkStaffPage(page, '/app/settings/surcharge after saving');

    // The API reads what the page wrote (one engine function for both doors).
    const key = await s.apiKey();
    const api = await fetch(`${s.base}/api/v1/settings/surcharge`, { headers: { authorization: `Bearer ${key}` } });
    expect(await api.json()).toMatchObject({ enabled: true, msp_region: 'CO', cost_of_acceptance_bps: 350, alternative: 'ach_discount' });
    await context.close();
  }, 300_000);

  it('the owner edits the retry schedules step by step, an out-of-range step is refused, and a reset returns the reference default', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await openFromSettings(page, 'Retry policy', '/app/settings/retry-policy');
    expect(await page.locator('#now-title').textContent()).toContain('reference default');
    expect(await page.locator('#now-soft').textContent()).toBe('retried after 1 business day, 3 business days, 5 business days, 7 business days');
    expect(await page.locator('#reset-retry-policy').count()).toBe(0);
    await checkStaffPage(page, '/app/settings/retry-policy');

    // 45 business days is past the 30-day window the card limits count: refused, nothing stored.
    await page.fill('#soft_0_value', '45');
    expect((await submit(page, '#save-retry-policy')).status()).toBe(422);
    expect(await page.locator('.error-summary').textContent()).toContain('Enter a whole number of business days from 1 to 30 for soft-decline retry 1');
    expect(await page.locator('#soft_0_value').inputValue()).toBe('45');
    expect(await retryRow()).toBeUndefined();
    expect(await audits('settings.retry_policy_changed')).toHaveLength(0);
    await checkStaffPage(page, '/app/settings/retry-policy with an error');

    // Remove the 7-day retry, add one after 2 business days (in an empty row: put in order on saving), turn
    // the 6-hour technical retry into 120 minutes and add 30 minutes; the link for 3 days; no retry on update.
    await page.fill('#soft_0_value', '1');
    await page.check('#soft_3_remove');
    await page.fill('#soft_4_value', '2');
    await page.fill('#technical_2_value', '120');
    await page.fill('#technical_3_value', '30');
    await page.selectOption('#technical_3_unit', 'minutes');
    await page.fill('#update_link_ttl_hours', '72');
    await page.uncheck('#retry_on_method_update');
    await Promise.all([page.waitForURL(/\?saved=1$/, { timeout: LONG }), page.click('#save-retry-policy')]);
    const row = (await retryRow())!;
    expect(parse(row.soft_steps)).toEqual([{ businessDays: 1 }, { businessDays: 2 }, { businessDays: 3 }, { businessDays: 5 }]);
    expect(parse(row.technical_steps)).toEqual([{ minutes: 15 }, { minutes: 30 }, { minutes: 60 }, { minutes: 120 }]);
    expect(row.update_link_ttl_hours).toBe(72);
    expect(row.retry_on_method_update).toBe(false);
    const changed = await audits('settings.retry_policy_changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]!.actor).toMatch(/^user:/);
    expect(parse(changed[0]!.detail)).toMatchObject({ before: { is_default: true }, after: { update_link_ttl_hours: 72, retry_on_method_update: false } });
    expect(await page.locator('#now-technical').textContent()).toBe('retried after 15 minutes, 30 minutes, 1 hour, 2 hours');
    expect(await page.locator('#soft_1_value').inputValue()).toBe('2');
    await checkStaffPage(page, '/app/settings/retry-policy after saving');

    // Reset: the reference default again, audited the same way.
    await Promise.all([page.waitForURL(/\?reset=1$/, { timeout: LONG }), page.click('#reset-retry-policy')]);
    const reset = (await retryRow())!;
    expect(parse(reset.soft_steps)).toEqual([{ businessDays: 1 }, { businessDays: 3 }, { businessDays: 5 }, { businessDays: 7 }]);
    expect(parse(reset.technical_steps)).toEqual([{ minutes: 15 }, { minutes: 60 }, { minutes: 360 }]);
    expect(reset.update_link_ttl_hours).toBe(168);
    expect(reset.retry_on_method_update).toBe(true);
    expect(await audits('settings.retry_policy_changed')).toHaveLength(2);
    expect(await page.locator('#now-title').textContent()).toContain('reference default');
    await context.close();
  }, 300_000);

  it('the owner sets the workspace timezone; an unknown name is refused; the pages then show times in it', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await openFromSettings(page, 'Workspace timezone', '/app/settings/workspace');
    expect(await page.locator('#current-timezone').textContent()).toBe('UTC');
    await checkStaffPage(page, '/app/settings/workspace');

    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const wrong = await page.request.post(`${s.base}/app/settings/workspace`, { form: { _csrf: csrf, timezone: 'Mars/Olympus_Mons' }, maxRedirects: 0 });
    expect(wrong.status()).toBe(422);
    expect(await wrong.text()).toContain('is not one Settle knows');
    expect((parse(await settingsJson()) as Record<string, unknown>)['timezone']).toBeUndefined();
    expect(await audits('settings.timezone_changed')).toHaveLength(0);

    await page.selectOption('#timezone', 'Asia/Tokyo');
    await Promise.all([page.waitForURL(/\?saved=1$/, { timeout: LONG }), page.click('#save-timezone')]);
    expect((parse(await settingsJson()) as Record<string, unknown>)['timezone']).toBe('Asia/Tokyo');
    const logged = await audits('settings.timezone_changed');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.actor).toMatch(/^user:/);
    expect(parse(logged[0]!.detail)).toEqual({ before: 'UTC', after: 'Asia/Tokyo' });
    expect(await page.locator('#current-timezone').textContent()).toBe('Asia/Tokyo');

    // The account page lists this sign-in with its time: now in Tokyo's time (UTC+9), not UTC's.
    const signedIn = await q((tx) => tx.selectFrom('staff_sessions').select('created_at').orderBy('created_at', 'desc').executeTakeFirstOrThrow());
    await page.goto(`${s.base}/account`);
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain(formatDateTime(signedIn.created_at, 'Asia/Tokyo'));
    expect(text).not.toContain(formatDateTime(signedIn.created_at, 'UTC'));
    await context.close();
  }, 300_000);

  it('a viewer reads the three pages without a form, and direct POSTs by a viewer or finance are refused with 403 and change nothing', async () => {
    const before = {
      surcharge: await surchargeRow(),
      retry: await retryRow(),
      settings: await settingsJson(),
      audits: (await q((tx) => tx.selectFrom('audit_log').select('id').where('action', 'like', 'settings.%').execute())).length,
    };
    for (const who of [VIEWER, FINANCE]) {
      const context = await browser.newContext();
      const page = await signIn(context, who);
      for (const [path, form] of [
        ['/app/settings/surcharge', '#surcharge-form'],
        ['/app/settings/retry-policy', '#retry-policy-form'],
        ['/app/settings/workspace', '#workspace-form'],
      ] as const) {
        await page.goto(`${s.base}${path}`);
        expect(await page.locator(form).count()).toBe(0);
        expect(await page.locator('main form').count()).toBe(0);
        expect(await page.locator('#read-only').textContent()).toContain('Only the workspace owner');
        if (who === VIEWER) await checkStaffPage(page, `${path} as viewer`);
      }
      const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
      const posts: [string, Record<string, string>][] = [
        ['/app/settings/surcharge', { _csrf: csrf, enabled: 'on', msp_country: 'US', cost: '9', alternative: 'absorb', ach_discount: '0' }],
        ['/app/settings/retry-policy', { _csrf: csrf, soft_0_value: '2', soft_0_unit: 'businessDays', update_link_ttl_hours: '1' }],
        ['/app/settings/retry-policy', { _csrf: csrf, action: 'reset' }],
        ['/app/settings/workspace', { _csrf: csrf, timezone: 'Europe/Paris' }],
      ];
      for (const [path, form] of posts) {
        const res = await page.request.post(`${s.base}${path}`, { form, maxRedirects: 0 });
        expect(res.status(), `${who.email} POST ${path}`).toBe(403);
        expect(await res.text()).toContain('needs the owner role');
      }
      await context.close();
    }
    expect(await surchargeRow()).toEqual(before.surcharge);
    expect(await retryRow()).toEqual(before.retry);
    expect(await settingsJson()).toEqual(before.settings);
    expect((await q((tx) => tx.selectFrom('audit_log').select('id').where('action', 'like', 'settings.%').execute())).length).toBe(before.audits);
  }, 300_000);

  it("finance records a client's state and exemption from the client page; a reason is required; a viewer cannot", async () => {
    const clientId = s.clientIds[0]!;
    const client = () => q((tx) => tx.selectFrom('clients').select(['country', 'region']).where('id', '=', clientId).executeTakeFirstOrThrow());
    const exemption = () => q((tx) => tx.selectFrom('surcharge_exemptions').select('reason').where('client_id', '=', clientId).executeTakeFirst());
    const context = await browser.newContext();
    const page = await signIn(context, FINANCE);
    await page.goto(`${s.base}/app/clients/${clientId}`);
    expect(await page.locator('#client-location').textContent()).toContain('none — never surcharged');
    await Promise.all([page.waitForURL(/\/surcharge$/, { timeout: LONG }), page.click('#change-surcharge')]);
    await checkStaffPage(page, '/app/clients/:id/surcharge');

    // Connecticut bans surcharges: the page says so once saved.
    await page.selectOption('#country', 'US');
    await page.fill('#region', 'ct');
    await Promise.all([page.waitForURL(/\?saved=surcharge$/, { timeout: LONG }), page.click('#save-client-surcharge')]);
    expect(await client()).toEqual({ country: 'US', region: 'CT' });
    expect(await page.locator('#client-location').textContent()).toContain('CT, US');
    const logged = await audits('client.surcharge_updated');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.subject_id).toBe(clientId);
    expect(parse(logged[0]!.detail)).toEqual({ before: { country: null, region: null, exempt: null }, after: { country: 'US', region: 'CT', exempt: null } });
    await page.click('#change-surcharge');
    await page.waitForSelector('#client-place');
    expect(await page.locator('#client-place').textContent()).toContain('Connecticut does not allow card surcharges');

    // Exempting without a reason: refused, nothing changed.
    await page.check('#exempt');
    expect((await submit(page, '#save-client-surcharge')).status()).toBe(422);
    expect(await page.locator('.error-summary').textContent()).toContain('Give the reason for exempting this client');
    expect(await exemption()).toBeUndefined();
    expect(await audits('client.surcharge_updated')).toHaveLength(1);
    await checkStaffPage(page, '/app/clients/:id/surcharge with an error');
    await page.fill('#exempt_reason', 'nonprofit rate agreed in the contract');
    await Promise.all([page.waitForURL(/\?saved=surcharge$/, { timeout: LONG }), page.click('#save-client-surcharge')]);
    expect(await exemption()).toEqual({ reason: 'nonprofit rate agreed in the contract' });
    expect(await page.locator('#client-location').textContent()).toContain('exempt from surcharges (nonprofit rate agreed in the contract)');
    await context.close();

    const viewer = await browser.newContext();
    const vpage = await signIn(viewer, VIEWER);
    await vpage.goto(`${s.base}/app/clients/${clientId}`);
    expect(await vpage.locator('#change-surcharge').count()).toBe(0);
    const csrf = (await vpage.locator('meta[name=csrf-token]').getAttribute('content'))!;
    expect((await vpage.request.get(`${s.base}/app/clients/${clientId}/surcharge`, { maxRedirects: 0 })).status()).toBe(403);
    const forged = await vpage.request.post(`${s.base}/app/clients/${clientId}/surcharge`, { form: { _csrf: csrf, country: '' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    expect(await client()).toEqual({ country: 'US', region: 'CT' });
    expect(await exemption()).toEqual({ reason: 'nonprofit rate agreed in the contract' });
    expect(await audits('client.surcharge_updated')).toHaveLength(2);
    await viewer.close();
  }, 300_000);
});
