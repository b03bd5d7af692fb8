// The dashboard's cash forecast in a real browser: the panel arrives after the page (htmx on load), shows each
// currency's buckets as the API computes them, says plainly when there is too little history to measure its
// accuracy, offers the CSV, passes axe-core and fits 360 px (the panel and its page) — and without JavaScript the panel's link opens the
// same forecast as a page of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { expectAccessible, expectNoHorizontalScroll } from '../helpers/axe.ts';
import { insertInvoice, insertPayment } from '../helpers/ar-book.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { addDays } from '../../src/domain/rules/calendar-date.ts';
import { localDate } from '../../src/domain/report-period.ts';
import { format, money, parseCurrency } from '../../src/domain/money.ts';
import { OWNER, startLeanSettle, type LeanSettle } from '../security/lean-settle.ts';

const TZ = 'America/Chicago';
const LONG = 60_000;
let s: LeanSettle;
let browser: Browser;

beforeAll(async () => {
  if (!haveBrowser) return;
  s = await startLeanSettle({});
  browser = await launchBrowser();
  const today = localDate(new Date(), TZ);
  const noon = (d: string) => `${d}T18:00:00Z`;
  await withTenant(s.database.db, s.tenantId, async (tx) => {
    await tx
      .updateTable('tenants')
      .set({ settings: JSON.stringify({ timezone: TZ }) as never })
      .where('id', '=', s.tenantId)
      .execute();
    const [a, b] = s.clientIds as [string, string];
    const t = s.tenantId;
    // Client a paid three invoices 6 days late: its next is predicted from that; b has no history (terms).
    for (const d of [-120, -90, -60]) {
      const due = addDays(today, d);
      const id = await insertInvoice(tx, t, {
        client: a,
        number: `P${-d}`,
        total: 50_000n,
        psaBalance: 0n,
        paid: 50_000n,
        status: 'paid',
        issued: addDays(due, -30),
        due,
        psaUpdatedAt: noon(addDays(due, 6)),
      });
      await insertPayment(tx, t, { client: a, amount: 50_000n, state: 'succeeded', at: noon(addDays(due, 6)), kind: 'card', pays: [[id, 50_000n]] });
    }
    const open = (client: string, number: string, due: string, total: bigint, currency = 'USD') =>
      insertInvoice(tx, t, {
        client,
        number,
        currency,
        total,
        psaBalance: total,
        status: 'open',
        issued: addDays(due, -30),
        due,
        psaUpdatedAt: new Date().toISOString(),
      });
    await open(a, 'INV-1', addDays(today, 10), 120_000n);
    await open(b, 'INV-2', addDays(today, 45), 33_333n);
    await open(b, 'INV-3', addDays(today, -20), 9_900n); // overdue, no history to date it
    await open(b, 'CAD-1', addDays(today, 70), 70_000n, 'CAD');
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await s?.close();
});

async function signIn(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${s.base}/login`);
  await page.fill('input[name=workspace]', OWNER.workspace);
  await page.fill('input[name=email]', OWNER.email);
  await page.fill('input[name=password]', OWNER.password);
  await Promise.all([page.waitForURL(/\/(app|dashboard)$/, { timeout: LONG }), page.click('button[type=submit]')]);
  return page;
}

interface Api {
  currencies: Array<{ currency: string; buckets: Array<{ key: string; amount_minor: string; invoices: number }> }>;
  accuracy: { count: number; mae_days: number | null };
}

/** Each currency's rows as the API computes them, worded as the page words them. */
async function fromApi(): Promise<Record<string, string[]>> {
  const res = await fetch(`${s.base}/api/v1/reports/cash-forecast?limit=0`, { headers: { authorization: `Bearer ${await s.apiKey()}` } });
  expect(res.status).toBe(200);
  const f = (await res.json()) as Api;
  expect(f.accuracy.mae_days).toBeNull();
  return Object.fromEntries(
    f.currencies.map((c) => [c.currency, c.buckets.map((b) => `${b.key} ${format(money(BigInt(b.amount_minor), parseCurrency(c.currency)))} ${b.invoices}`)]),
  );
}

async function shown(page: Page): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const section of await page.locator('[data-forecast-currency]').all()) {
    const cur = (await section.getAttribute('data-forecast-currency'))!;
    out[cur] = [];
    for (const row of await section.locator('tbody tr').all()) {
      const cells = (await row.locator('td').allTextContents()).map((x) => x.trim());
      out[cur].push(`${await row.getAttribute('data-bucket')} ${cells[1]} ${cells[2]}`);
    }
  }
  return out;
}

describe.runIf(haveBrowser)('cash forecast on the dashboard', () => {
  it('loads after the page with the figures of the API, says when history is too thin, passes axe and fits 360 px', async () => {
    const context = await browser.newContext();
    const page = await signIn(context);
    await page.goto(`${s.base}/app`);
    await page.waitForSelector('#cash-forecast #forecast-panel', { timeout: LONG });
    expect(await shown(page)).toEqual(await fromApi());
    expect(await page.locator('[data-forecast-currency=USD] tr[data-bucket=beyond] td').nth(1).textContent()).toBe('$99.00');
    expect(await page.locator('#forecast-accuracy-thin').textContent()).toContain('Too little history to measure');
    expect(await page.locator('#forecast-mae').count()).toBe(0);
    expect(await page.locator('#forecast-bases').textContent()).toBeTruthy();
    const csv = await page.request.get(`${s.base}/app/forecast.csv`);
    expect(csv.status()).toBe(200);
    expect(await csv.text()).toContain('INV-3,');
    await expectAccessible(page, '/app (with the forecast panel)');
    await expectNoHorizontalScroll(page, '/app (with the forecast panel)');
    // the forecast as a page of its own (where the link leads without JavaScript)
    await page.goto(`${s.base}/app/forecast`);
    await expectAccessible(page, '/app/forecast');
    await expectNoHorizontalScroll(page, '/app/forecast');
    await context.close();
  }, 240_000);

  it('without JavaScript the link opens the forecast as a page', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await signIn(context);
    page.setDefaultTimeout(LONG);
    await page.goto(`${s.base}/app`);
    expect(await page.locator('#cash-forecast #forecast-panel').count()).toBe(0);
    await Promise.all([page.waitForURL(/\/app\/forecast$/), page.click('#cash-forecast a[href="/app/forecast"]')]);
    expect(await page.locator('h1').textContent()).toBe('Cash forecast');
    expect(await shown(page)).toEqual(await fromApi());
    await context.close();
  }, 240_000);
});
