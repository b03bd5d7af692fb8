// The A/R dashboard in a real browser: the owner signs in to a Settle holding a small book (two currencies,
// this month and last), sees the figures the query computes, changes the period with the selector (a GET form,
// so the address can be bookmarked; it works without JavaScript too), is told plainly about bad dates,
// and the page passes axe-core and fits 360 px. The page says when its figures were computed (they are kept
// for a minute: engine/dashboard-figures.ts) and "Refresh now" computes them again. The API's report gives the
// same figures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { expectAccessible, expectNoHorizontalScroll } from '../helpers/axe.ts';
import { insertInvoice, insertPayment } from '../helpers/ar-book.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { arMetrics } from '../../src/db/queries/ar-metrics.ts';
import { addDays } from '../../src/domain/rules/calendar-date.ts';
import { localDate, resolvePeriod } from '../../src/domain/report-period.ts';
import { dashboardView, type DashboardView } from '../../src/http/staff/dashboard-view.ts';
import { arReportJson } from '../../src/http/api/reports.ts';
import { OWNER, startLeanSettle, type LeanSettle } from '../security/lean-settle.ts';

const TZ = 'America/Chicago';
const LONG = 60_000;
let s: LeanSettle;
let browser: Browser;

const today = (): string => localDate(new Date(), TZ);
const firstOfMonth = (d: string): string => `${d.slice(0, 7)}-01`;

beforeAll(async () => {
  if (!haveBrowser) return;
  s = await startLeanSettle({});
  browser = await launchBrowser();
  const thisMonth = firstOfMonth(today());
  const lastMonth = firstOfMonth(addDays(thisMonth, -1));
  const day = (first: string, n: number): string => addDays(first, n - 1);
  const noonChicago = (date: string): string => `${date}T18:00:00Z`;
  await withTenant(s.database.db, s.tenantId, async (tx) => {
    await tx
      .updateTable('tenants')
      .set({ settings: JSON.stringify({ timezone: TZ }) as never })
      .where('id', '=', s.tenantId)
      .execute();
    const [a, b] = s.clientIds as [string, string];
    await tx.updateTable('clients').set({ autopay_enabled: true }).where('id', '=', a).execute();
    const t = s.tenantId;
    // Last month: one invoice paid by card in 5 days, one still open with a failed bank debit, one in CAD.
    const paid = await insertInvoice(tx, t, {
      client: a,
      number: 'INV-101',
      total: 120000n,
      psaBalance: 0n,
      paid: 120000n,
      status: 'paid',
      issued: day(lastMonth, 5),
      due: day(lastMonth, 20),
      psaUpdatedAt: noonChicago(day(lastMonth, 10)),
    });
    await insertPayment(tx, t, {
      client: a,
      amount: 120000n,
      state: 'succeeded',
      at: noonChicago(day(lastMonth, 10)),
      kind: 'card',
      fee: 3510n,
      pays: [[paid, 120000n]],
    });
    const open = await insertInvoice(tx, t, {
      client: b,
      number: 'INV-102',
      total: 45000n,
      psaBalance: 45000n,
      status: 'open',
      issued: day(lastMonth, 12),
      due: day(lastMonth, 27),
      psaUpdatedAt: noonChicago(day(lastMonth, 12)),
    });
    await insertPayment(tx, t, {
      client: b,
      amount: 45000n,
      state: 'failed',
      at: noonChicago(day(lastMonth, 14)),
      kind: 'us_bank_account',
      pays: [[open, 45000n]],
    });
    await insertInvoice(tx, t, {
      client: b,
      number: 'CAD-7',
      currency: 'CAD',
      total: 70000n,
      psaBalance: 70000n,
      status: 'open',
      issued: day(lastMonth, 3),
      due: day(lastMonth, 18),
      psaUpdatedAt: noonChicago(day(lastMonth, 3)),
    });
    // This month: an invoice issued on the 1st, half paid a minute ago by bank ACH.
    const fresh = await insertInvoice(tx, t, {
      client: a,
      number: 'INV-103',
      total: 30000n,
      psaBalance: 15000n,
      paid: 15000n,
      status: 'partially_paid',
      issued: thisMonth,
      due: addDays(thisMonth, 30),
      psaUpdatedAt: new Date(Date.now() - 60_000).toISOString(),
    });
    await insertPayment(tx, t, {
      client: a,
      amount: 15000n,
      state: 'succeeded',
      at: new Date(Date.now() - 60_000).toISOString(),
      processor: 'bank-ach',
      kind: 'us_bank_account',
      pays: [[fresh, 15000n]],
    });
    // Its PSA payment is written back already: the PSA's balance is what is owed.
    const pay = await tx.selectFrom('allocations').select('payment_id').where('invoice_id', '=', fresh).executeTakeFirstOrThrow();
    await tx
      .insertInto('postings')
      .values({
        tenant_id: t,
        target: 'psa',
        vendor: 'connectwise',
        kind: 'payment',
        payment_id: pay.payment_id,
        invoice_id: fresh,
        amount_minor: 15000n,
        currency: 'USD',
        idempotency_key: `psa:${pay.payment_id}`,
        status: 'posted',
        remote_id: '77',
        posted_at: new Date(),
      })
      .execute();
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await s?.close();
});

/** What the query says for a period, as the page words it. */
async function expected(preset: string): Promise<DashboardView> {
  const period = resolvePeriod({ preset }, today());
  return dashboardView(await withTenant(s.database.db, s.tenantId, (tx) => arMetrics(tx, period, TZ, new Date())));
}

async function shown(page: Page): Promise<{ period: string; currencies: Record<string, string[]> }> {
  const currencies: Record<string, string[]> = {};
  for (const section of await page.locator('section.ar-currency').all()) {
    const cur = (await section.getAttribute('data-currency'))!;
    currencies[cur] = (await section.locator('.ar-figure__value').allTextContents()).map((x) => x.trim());
  }
  return { period: (await page.locator('#period-text').textContent())!.trim(), currencies };
}

function keyFigures(v: DashboardView): { period: string; currencies: Record<string, string[]> } {
  return { period: v.periodText, currencies: Object.fromEntries(v.currencies.map((c) => [c.currency, c.key.map((k) => k.value)])) };
}

async function signIn(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${s.base}/login`);
  await page.fill('input[name=workspace]', OWNER.workspace);
  await page.fill('input[name=email]', OWNER.email);
  await page.fill('input[name=password]', OWNER.password);
  await Promise.all([page.waitForURL(/\/(app|dashboard)$/, { timeout: LONG }), page.click('button[type=submit]')]);
  return page;
}

describe.runIf(haveBrowser)('A/R dashboard', () => {
  it('shows the figures of the query, changes period with the selector, passes axe and fits 360 px', async () => {
    const context = await browser.newContext();
    const page = await signIn(context);
    await page.goto(`${s.base}/app`);
    await page.waitForSelector('canvas[data-chart="weeks-usd-data"][data-drawn]', { timeout: LONG });
    expect(await page.locator('h1').textContent()).toBe('A/R dashboard');

    // This month (the default): USD only has activity, CAD is still owed.
    const thisMonth = await expected('this_month');
    expect(await shown(page)).toEqual(keyFigures(thisMonth));
    expect(thisMonth.currencies.map((c) => c.currency)).toEqual(['CAD', 'USD']);
    expect(await page.locator('main').textContent()).toContain('DSO = open A/R at the end of the period ÷ amount invoiced in the period × days in the period');

    // The selector: last month; the address carries the period.
    const lastMonth = await expected('last_month');
    await page.check('#period-last_month');
    await Promise.all([page.waitForURL(/period=last_month/, { timeout: LONG }), page.click('#show-period')]);
    expect(await shown(page)).toEqual(keyFigures(lastMonth));
    expect(page.url()).toContain('period=last_month');
    const usd = lastMonth.currencies.find((c) => c.currency === 'USD')!;
    expect(usd.key.map((k) => k.value)).not.toEqual(thisMonth.currencies.find((c) => c.currency === 'USD')!.key.map((k) => k.value));
    // The charts are drawn, and their figures are in the tables beside them.
    await page.waitForSelector('canvas[data-chart="aging-usd-data"][data-drawn]', { timeout: LONG });
    const agingRows = await page.locator('#aging-usd tbody tr').allTextContents();
    expect(agingRows.map((r) => r.replace(/\s+/g, ''))).toEqual(usd.aging.rows.map((r) => `${r.label}${r.count}${r.amount}`.replace(/\s+/g, '')));
    expect(await page.locator('#methods-table-usd').textContent()).toContain('$1,200.00');

    await expectAccessible(page, '/app?period=last_month');
    await expectNoHorizontalScroll(page, '/app?period=last_month');
    await context.close();
  }, 240_000);

  it('without JavaScript the same GET form works, and bad dates are refused with the field named', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await signIn(context);
    page.setDefaultTimeout(LONG);
    await page.goto(`${s.base}/app?period=last_90_days`);
    expect(await shown(page)).toEqual(keyFigures(await expected('last_90_days')));
    await page.check('#period-custom');
    await page.fill('#from', '2026-03-10');
    await page.fill('#to', '2026-03-01');
    await Promise.all([page.waitForURL(/period=custom/, { timeout: LONG }), page.click('#show-period')]);
    expect(await page.locator('.error-summary').textContent()).toContain('The last day must be on or after the first day');
    expect(await page.locator('#to-error').count()).toBe(1);
    await context.close();
  }, 240_000);

  it('the rollout view: weekly trends and the pilot check, axe clean, fits 360 px', async () => {
    const context = await browser.newContext();
    const page = await signIn(context);
    await page.goto(`${s.base}/app/rollout`);
    expect(await page.locator('nav[aria-label=Main] a[aria-current=page]').textContent()).toBe('Rollout');
    // Both clients are pilot clients (Settle collects for them); neither payment has reached the books.
    expect(await page.locator('#pilot-check [data-field=reached]').textContent()).toBe('0');
    expect(await page.locator('#pilot-check [data-field=payments]').textContent()).toBe('2');
    expect(await page.locator('#pilot-not-yet tbody tr').count()).toBe(2);
    expect(await page.locator('#rollout-weeks tbody tr').count()).toBe(13);
    await page.waitForSelector('canvas[data-chart="rollout-trend-data"][data-drawn]', { timeout: LONG });
    await expectAccessible(page, '/app/rollout');
    await expectNoHorizontalScroll(page, '/app/rollout');
    await context.close();
  }, 240_000);

  it('says when its figures were computed, and "Refresh now" computes them again', async () => {
    const context = await browser.newContext();
    const page = await signIn(context);
    await page.goto(`${s.base}/app?period=last_month`);
    const asOf = page.locator('#figures-as-of');
    expect(await asOf.textContent()).toMatch(/Figures as of \d{2}:\d{2}:\d{2} \(workspace time, America\/Chicago\)/);
    const before = await asOf.getAttribute('data-computed-at');
    // the figures of last month, kept from the first test's visit or computed now: the same either way
    expect(await shown(page)).toEqual(keyFigures(await expected('last_month')));
    await page.locator('#refresh-figures').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#figures-as-of').getAttribute('data-computed-at'), { timeout: LONG }).not.toBe(before);
    expect(page.url()).toContain('period=last_month');
    expect(await page.locator('#figures-as-of').getAttribute('data-source')).toBe('fresh');
    expect(await shown(page)).toEqual(keyFigures(await expected('last_month')));
    await context.close();
  }, 240_000);

  it('the API report has the same figures', async () => {
    const key = await s.apiKey();
    const res = await fetch(`${s.base}/api/v1/reports/ar?period=last_month`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const period = resolvePeriod({ preset: 'last_month' }, today());
    const want = arReportJson(await withTenant(s.database.db, s.tenantId, (tx) => arMetrics(tx, period, TZ, new Date())));
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(want)));
    const bad = await fetch(`${s.base}/api/v1/reports/ar?from=2026-02-30&to=2026-03-01`, { headers: { authorization: `Bearer ${key}` } });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/from: .*real date/);
  }, 120_000);
});
