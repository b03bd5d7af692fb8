// Issue #9 "Settings: the audit log with filters" in a real browser against a running Settle on real
// PostgreSQL: finance opens Settings → Audit log, pages through more entries than a page holds (newer and
// older), filters by what happened (a settings change shown as before → after, its detail expandable), by
// who (an API key), by period (days in the workspace's timezone, Chicago here) and by record (a payment),
// removes a filter by its chip, gets a clear error for a bad date, and downloads the filtered rows as CSV.
// A viewer finds no Audit log in Settings and is answered 403 on the page and its CSV. axe clean, 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { sql } from 'kysely';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import { audit } from '../../src/engine/audit.ts';
import { createApiKey } from '../../src/cli/workspace.ts';
import { OWNER, startLeanSettle, type LeanSettle } from '../security/lean-settle.ts';

const LONG = 60_000;
const FINANCE = { email: 'finance@acme.test', password: 'finance horse battery' };
const VIEWER = { email: 'viewer@acme.test', password: 'viewer horse battery' };
const PAYMENT = '0f4c7a52-3b1e-4d7c-9a55-2b8e6f0d1a11';
const OTHER_PAYMENT = '7d2e9b41-8c3a-4f60-b1d2-5e6f7a8b9c0d';

let s: LeanSettle;
let browser: Browser;
let keyId = '';
let financeId = '';
const q = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => withTenant(s.database.db, s.tenantId, fn);

beforeAll(async () => {
  if (!haveBrowser) return;
  s = await startLeanSettle({});
  browser = await launchBrowser();
  await s.addUser({ ...FINANCE, role: 'finance' });
  await s.addUser({ ...VIEWER, role: 'viewer' });
  await createApiKey(s.database.db, s.tenantId, 'Billing script', 'system:test', { role: 'finance' });
  await q(async (tx) => {
    await tx
      .updateTable('tenants')
      .set({ settings: sql`settings || '{"timezone":"America/Chicago"}'::jsonb` })
      .where('id', '=', s.tenantId)
      .execute();
    keyId = (await tx.selectFrom('api_keys').select('id').where('name', '=', 'Billing script').executeTakeFirstOrThrow()).id;
    financeId = (await tx.selectFrom('users').select('id').where('email', '=', FINANCE.email).executeTakeFirstOrThrow()).id;
    // More than two pages of entries: Settle recording payments.
    for (let i = 0; i < 110; i++)
      await audit(tx, s.tenantId, 'system:record-payment', 'payment.succeeded', { type: 'payment', id: i === 0 ? PAYMENT : OTHER_PAYMENT }, { n: i });
    await audit(tx, s.tenantId, `api_key:${keyId}`, 'refund.requested', { type: 'payment', id: PAYMENT }, { amount_minor: 12000n, reason: 'duplicate' });
    await audit(
      tx,
      s.tenantId,
      `user:${financeId}`,
      'settings.retry_policy_changed',
      { type: 'tenant', id: s.tenantId },
      {
        before: { soft_steps: [1, 3], update_link_ttl_hours: 72 },
        after: { soft_steps: [1, 3], update_link_ttl_hours: 48 },
      },
    );
    await audit(tx, s.tenantId, `user:${financeId}`, 'portal_link.created', { type: 'client', id: s.clientIds[0]! }, {});
    // 03:00 UTC on 16 January is 21:00 on the 15th in Chicago.
    await tx
      .insertInto('audit_log')
      .values({
        tenant_id: s.tenantId,
        actor: 'system:setup',
        action: 'connection.accounts_changed',
        subject_type: 'connection',
        subject_id: 'accounting',
        detail: JSON.stringify({ fee_account: { from: '12', to: '57', from_name: 'Bank charges', to_name: 'Card processing fees' } }),
        created_at: new Date('2026-01-16T03:00:00Z'),
      })
      .execute();
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await s?.close();
});

const signIn = (context: BrowserContext, who: { email: string; password: string }): Promise<Page> =>
  signInStaff(context, s.base, { workspace: OWNER.workspace, ...who }, LONG);
const rows = (page: Page) => page.locator('#audit tbody tr');
const show = (page: Page) => Promise.all([page.waitForURL(/\/app\/settings\/audit\?/, { timeout: LONG }), page.click('#filter-audit')]);

describe.runIf(haveBrowser)('staff audit log', () => {
  it('finance pages through the log and filters it by action, actor, period and record; CSV of the filtered rows', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, FINANCE);
    await page.goto(`${s.base}/app/settings`);
    await Promise.all([page.waitForURL(/\/app\/settings\/audit$/, { timeout: LONG }), page.click('a[href="/app/settings/audit"]')]);
    expect(await page.locator('h1').textContent()).toBe('Audit log');
    expect(await rows(page).count()).toBe(50);
    await checkStaffPage(page, '/app/settings/audit');

    // Paging: older entries, to the end, and back; every entry once.
    const seen = new Set<string>();
    const total = Number(
      (
        await q((tx) =>
          tx
            .selectFrom('audit_log')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow(),
        )
      ).n,
    );
    expect(total).toBeGreaterThan(100);
    const firstIds = await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')!));
    firstIds.forEach((id) => seen.add(id));
    while ((await page.locator('#next-page').count()) > 0) {
      await Promise.all([page.waitForURL(/after=/, { timeout: LONG }), page.click('#next-page')]);
      for (const id of await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')!))) {
        expect(seen.has(id), `entry ${id} shown twice`).toBe(false);
        seen.add(id);
      }
    }
    // Sign-ins while the test runs are logged too: count what the database has now.
    const after = Number(
      (
        await q((tx) =>
          tx
            .selectFrom('audit_log')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow(),
        )
      ).n,
    );
    expect(seen.size).toBe(after);
    await Promise.all([page.waitForURL(/before=/, { timeout: LONG }), page.click('#prev-page')]);
    expect(await rows(page).count()).toBe(50);
    await Promise.all([page.waitForURL(/\/app\/settings\/audit$/, { timeout: LONG }), page.click('#first-page')]);
    expect(await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')!))).toEqual(firstIds);

    // By what happened: the retry policy change, as before → after, its detail behind <details>.
    await page.selectOption('#action', 'settings.retry_policy_changed');
    await show(page);
    expect(await rows(page).count()).toBe(1);
    const change = rows(page).first();
    expect(await change.locator('td[data-label=What]').textContent()).toBe('Retry policy changed');
    expect(await change.locator('td[data-label=Who]').textContent()).toBe(`finance (${FINANCE.email})`);
    expect((await change.locator('.audit-changes').textContent())!.replace(/\s+/g, ' ').trim()).toBe('update link ttl hours: 72 → 48');
    expect(await change.locator('td[data-label=Record] a').getAttribute('href')).toBe('/app/settings');
    await change.locator('details summary').click();
    expect(await change.locator('details pre').isVisible()).toBe(true);
    expect(await change.locator('details pre').textContent()).toContain('"update_link_ttl_hours": 48');
    expect(await page.locator('.chip').allTextContents()).toEqual(['What: Retry policy changed × (remove this filter)']);
    await checkStaffPage(page, '/app/settings/audit?action=');

    // Its CSV: the same one row.
    const csv = await page.request.get(`${s.base}${(await page.locator('#export-csv').getAttribute('href'))!}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('Time,Timezone,Who,Actor,What,Action,Record,Record id,Detail');
    expect(lines[1]).toContain(',America/Chicago,finance (finance@acme.test),');
    expect(lines[1]).toContain(',Retry policy changed,settings.retry_policy_changed,Workspace settings,');

    // Removing the chip brings every entry back.
    await Promise.all([page.waitForURL(/\/app\/settings\/audit$/, { timeout: LONG }), page.locator('.chip').first().click()]);
    expect(await rows(page).count()).toBe(50);

    // By who: the API key.
    await page.selectOption('#actor', `api_key:${keyId}`);
    await show(page);
    expect(await rows(page).count()).toBe(1);
    expect(await rows(page).first().locator('td[data-label=Who]').textContent()).toBe('API key “Billing script”');
    expect(await rows(page).first().locator('td[data-label=What]').textContent()).toBe('Refund requested');
    // Any staff member: the people's entries only (the sign-ins, the change, the portal link).
    await page.selectOption('#actor', 'user');
    await show(page);
    const actors = await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-actor')!));
    expect(actors.length).toBeGreaterThanOrEqual(3);
    expect(actors.every((a) => a.startsWith('user:'))).toBe(true);
    const client = rows(page).filter({ hasText: 'Portal link made' });
    expect(await client.locator('td[data-label=Record] a').textContent()).toBe('Bayside Dental');
    expect(await client.locator('td[data-label=Record] a').getAttribute('href')).toBe(`/app/clients/${s.clientIds[0]}`);

    // By period: 15 January in Chicago holds the entry made at 03:00 UTC on the 16th; the 16th does not.
    await page.goto(`${s.base}/app/settings/audit`);
    await page.fill('#from', '2026-01-15');
    await page.fill('#to', '2026-01-15');
    await show(page);
    expect(await rows(page).count()).toBe(1);
    expect(await rows(page).first().locator('time').textContent()).toBe('2026-01-15 21:00:00');
    expect(await rows(page).first().locator('.audit-changes').textContent()).toContain('Bank charges → Card processing fees');
    await page.goto(`${s.base}/app/settings/audit?from=2026-01-16&to=2026-01-16`);
    expect(await rows(page).count()).toBe(0);
    expect(await page.locator('#no-entries').textContent()).toContain('Nothing in the log matches');

    // By record: one payment — its charge and its refund, linked to the payment's page.
    await page.goto(`${s.base}/app/settings/audit`);
    await page.selectOption('#subject_type', 'payment');
    await page.fill('#subject', PAYMENT);
    await show(page);
    expect(await rows(page).locator('td[data-label=What]').allTextContents()).toEqual(['Refund requested', 'Payment succeeded']);
    expect(await rows(page).first().locator('td[data-label=Record] a').getAttribute('href')).toBe(`/app/payments/${PAYMENT}`);
    await checkStaffPage(page, '/app/settings/audit?subject=');

    // A bad date is named, and nothing is listed.
    const bad = await page.goto(`${s.base}/app/settings/audit?from=2026-02-31`);
    expect(bad?.status()).toBe(400);
    expect(await page.locator('.error-summary').textContent()).toContain('Enter the first day as a date');
    expect(await rows(page).count()).toBe(0);
    await checkStaffPage(page, '/app/settings/audit with an error');
    await context.close();
  });

  it('a viewer has no audit log: not in Settings, 403 on the page and its CSV', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${s.base}/app/settings`);
    expect(await page.locator('a[href="/app/settings/audit"]').count()).toBe(0);
    const refused = await page.goto(`${s.base}/app/settings/audit`);
    expect(refused?.status()).toBe(403);
    expect(await page.locator('#audit').count()).toBe(0);
    await checkStaffPage(page, '/app/settings/audit (viewer, 403)');
    expect((await page.request.get(`${s.base}/app/settings/audit.csv`)).status()).toBe(403);
    await context.close();
  });
});
