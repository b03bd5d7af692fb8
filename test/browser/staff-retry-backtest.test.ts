// Settings → Retry policy → "Preview against your history" (issue #12) in a real browser, Settle as its own
// process on real PostgreSQL with the hand-worked failure history of src/domain/retry-backtest/backtest.test.ts:
// the owner changes the soft schedule in the form, previews it and sees the policy in force and the proposed
// one side by side ($407.42 against $479.58 expected from retries of soft declines), with nothing saved or
// audited; a negative step is refused with the form's own error; saving afterwards is audited once, as
// before. The page passes axe with the preview and fits 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';
import { handWorkedHistory, historyMonday, seedRetryHistory } from '../helpers/retry-history.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { OWNER, startLeanSettle, type LeanSettle } from '../security/lean-settle.ts';

const LONG = 60_000;
let s: LeanSettle;
let browser: Browser;

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(s.database.db, s.tenantId, fn);
const retryRow = () => q((tx) => tx.selectFrom('retry_policies').selectAll().executeTakeFirst());
const changes = () => q((tx) => tx.selectFrom('audit_log').select('id').where('action', '=', 'settings.retry_policy_changed').execute());
const text = async (page: Page, selector: string) => ((await page.locator(selector).textContent()) ?? '').replace(/\s+/g, ' ');
const submit = (page: Page, button: string) =>
  Promise.all([page.waitForResponse((r) => r.request().method() === 'POST', { timeout: LONG }), page.click(button)]).then(([r]) => r);

beforeAll(async () => {
  if (!haveBrowser) return;
  s = await startLeanSettle({});
  const first = historyMonday(new Date());
  await seedRetryHistory(s.database.db, s.tenantId, s.clientIds[0]!, first, handWorkedHistory(first));
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe.runIf(haveBrowser)('retry policy: preview against your history', () => {
  it('shows the policy in force and the proposed one side by side before saving, and saves nothing', async () => {
    const context = await browser.newContext();
    const page = await signInStaff(context, s.base, OWNER, LONG);
    await page.goto(`${s.base}/app/settings`);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/app/settings/retry-policy', { timeout: LONG }),
      page.getByRole('link', { name: 'Retry policy', exact: true }).click(),
    ]);
    expect(await page.locator('#backtest').count()).toBe(0);

    // A negative step: the form's own error, no preview, nothing stored.
    await page.fill('#soft_0_value', '-1');
    expect((await submit(page, '#preview-retry-policy')).status()).toBe(422);
    expect(await text(page, '.error-summary')).toContain('Enter a whole number of business days from 1 to 30 for soft-decline retry 1');
    expect(await page.locator('#backtest').count()).toBe(0);

    // Soft declines after 1, 3 and 10 business days instead of 1, 3, 5, 7.
    await page.fill('#soft_0_value', '1');
    await page.fill('#soft_2_value', '10');
    await page.check('#soft_3_remove');
    expect((await submit(page, '#preview-retry-policy')).status()).toBe(200);
    expect(await text(page, '#backtest-scope')).toContain('Your 13 failed payments since');
    expect(await text(page, '#backtest-current')).toContain('soft declines: 1 business day, 3 business days, 5 business days, 7 business days');
    expect(await text(page, '#backtest-proposed')).toContain('soft declines: 1 business day, 3 business days, 10 business days');
    const soft = await text(page, '#backtest-soft');
    expect(soft).toContain('4 collected by a retry, 1 paid by the client another way, 4 never collected');
    expect(soft).toContain('4 of 23 retries collected (17%)');
    expect(soft).toContain('retry 1: 2 of 9 · retry 2: 2 of 6 · retry 3: 0 of 4 · retry 4: 0 of 4');
    expect(soft).toContain('$407.42'); // in force (hand-worked: 40,742 ¢)
    expect(soft).toContain('$479.58'); // proposed (47,958 ¢)
    expect(await text(page, '#backtest-soft td[data-label="Change"]')).toBe('+$72.16; −8 retries at most');
    // Retries 1 and 2 of eight failures and retry 1 of the client-paid one by their time; +10 days never tried: the class rate.
    expect(soft).toContain('chances of the proposed retries: 17 by time since the first attempt, 8 from the whole kind of decline');
    expect(await text(page, '#backtest-hard')).toContain('never retried');
    expect(await text(page, '#backtest-technical')).toContain('Not enough history for 1 failure');
    expect(await text(page, '#backtest-technical td[data-label="In force"]')).toBe('not enough history3 retries at most'); // a line break between the two;
    expect(await text(page, '#backtest-in-total')).toContain('$585.20 in force, $657.36 proposed');
    // The form keeps what the owner typed, in order, ready to save.
    expect(await page.locator('#soft_2_value').inputValue()).toBe('10');
    expect(await retryRow()).toBeUndefined();
    expect(await changes()).toHaveLength(0);
    await checkStaffPage(page, '/app/settings/retry-policy with a preview');

    // Saving is what changes the policy, audited once (existing behaviour).
    await Promise.all([page.waitForURL(/\?saved=1$/, { timeout: LONG }), page.click('#save-retry-policy')]);
    expect((await retryRow())!.soft_steps).toEqual([{ businessDays: 1 }, { businessDays: 3 }, { businessDays: 10 }]);
    expect(await changes()).toHaveLength(1);
    await context.close();
  }, 300_000);
});
