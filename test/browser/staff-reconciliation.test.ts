// The reconciliation page in a real browser, on real PostgreSQL and the ConnectWise, Stripe and QuickBooks
// simulators: a client pays, a bookkeeper deletes Settle's payment in QuickBooks (the simulator's _sim/drift
// control, as the demo offers it), and finance runs the report from the page with the keyboard — it names the
// drift and its cause; a viewer reads the same page with no button and a direct POST of the fix is refused
// with 403, nothing changed; finance presses "Post it again", runs the report again and reads zero drift, and
// the CSV says so. Then the payout's deposit is edited by hand in QuickBooks: the report names it, finance
// presses "Restore the deposit", and the next run reads zero drift. Every state of the page passes axe and
// fits 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';

const LONG = 90_000;
const FINANCE = { workspace: 'acme-it', email: 'finance@acme.test', password: 'finance horse battery' };
const VIEWER = { workspace: 'acme-it', email: 'viewer@acme.test', password: 'viewer horse battery' };

let stack: Stack;
let browser: Browser;
let bookPosting: { id: string; remote_id: string | null; status: string };

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const drifts = () => q((tx) => tx.selectFrom('reconciliation_drifts').selectAll().execute());

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 2, invoices: 2 });
  browser = await launchBrowser();
  for (const [who, role] of [
    [FINANCE, 'finance'],
    [VIEWER, 'viewer'],
  ] as const) {
    const password_hash = await hashPassword(who.password);
    await q((tx) => tx.insertInto('users').values({ tenant_id: stack.tenantId, email: who.email, name: role, role, password_hash }).execute());
  }
  const [inv] = await openInvoices(stack);
  const { paymentId } = await payInPortal(stack, await stack.portalToken(inv!.client_id), [inv!.id]);
  bookPosting = await eventually(
    async () => {
      const p = await q((tx) =>
        tx
          .selectFrom('postings')
          .select(['id', 'remote_id', 'status'])
          .where('payment_id', '=', paymentId)
          .where('target', '=', 'accounting')
          .executeTakeFirst(),
      );
      return p?.status === 'posted' ? p : null;
    },
    LONG,
    'the payment in QuickBooks',
  );
  // What a bookkeeper does by hand in QuickBooks (the demo's _sim control).
  const res = await fetch(`${stack.sims.quickbooks.baseUrl}/_sim/drift`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'delete-payment', payment: bookPosting.remote_id }),
  });
  expect(res.status).toBe(200);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const signIn = (context: BrowserContext, who: typeof FINANCE): Promise<Page> => signInStaff(context, stack.settleUrl, who, LONG);

describe.runIf(haveBrowser)('the reconciliation page', () => {
  it('finance runs the report with the keyboard and reads the drift with its cause', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, FINANCE);
    await page.goto(`${stack.settleUrl}/app/reconciliation`);
    await expect.poll(() => page.locator('#no-run').count()).toBe(1);
    await checkStaffPage(page, 'reconciliation page before any run');
    await page.focus('#run-reconciliation');
    await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
    await expect.poll(() => page.locator('.notice--ok').textContent(), { timeout: LONG }).toMatch(/compared, 1 drift found\.$/);
    const row = page.locator('#drifts tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('Payment removed in the books');
    expect(await row.textContent()).toContain(`(books id ${bookPosting.remote_id}) was deleted in the books`);
    await checkStaffPage(page, 'reconciliation page with a drift');
    await context.close();
  }, 240_000);

  it('a viewer reads it with no button; a direct POST of the fix gets 403 and changes nothing', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/reconciliation`);
    await expect.poll(() => page.locator('#drifts tbody tr').count()).toBe(1);
    expect(await page.locator('#run-reconciliation').count()).toBe(0);
    expect(await page.locator('#drifts button').count()).toBe(0);
    const [d] = await drifts();
    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const res = await page.request.post(`${stack.settleUrl}/app/reconciliation/drifts/${d!.id}/fix`, { form: { _csrf: csrf }, maxRedirects: 0 });
    expect(res.status()).toBe(403);
    const run = await page.request.post(`${stack.settleUrl}/app/reconciliation/run`, { form: { _csrf: csrf }, maxRedirects: 0 });
    expect(run.status()).toBe(403);
    expect((await drifts())[0]!.fixed_at).toBeNull();
    expect((await q((tx) => tx.selectFrom('reconciliation_runs').select('id').execute())).length).toBe(1);
    await context.close();
  }, 120_000);

  it('finance posts it again; the next run reads zero drift, and the CSV says so', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, FINANCE);
    await page.goto(`${stack.settleUrl}/app/reconciliation`);
    const fix = page.locator('#drifts button', { hasText: 'Post it again' });
    await fix.focus();
    await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
    await expect.poll(() => page.locator('.notice--ok').textContent(), { timeout: LONG }).toContain('posting the record to the books again');
    await checkStaffPage(page, 'reconciliation page after a fix');
    await eventually(
      async () => {
        const p = await q((tx) => tx.selectFrom('postings').select(['status', 'remote_id']).where('id', '=', bookPosting.id).executeTakeFirstOrThrow());
        return p.status === 'posted' && p.remote_id !== bookPosting.remote_id;
      },
      LONG,
      'the payment posted again',
    );
    await page.click('#run-reconciliation');
    await expect.poll(() => page.locator('.notice--ok').textContent(), { timeout: LONG }).toMatch(/compared, zero drift\.$/);
    expect(await page.locator('#drifts').count()).toBe(0);
    await checkStaffPage(page, 'reconciliation page with zero drift');
    const href = (await page.locator('#download-csv').getAttribute('href'))!;
    const csv = await page.request.get(`${stack.settleUrl}${href}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');
    const text = await csv.text();
    expect(text.split('\r\n')[0]).toContain('Likely cause');
    expect(text).toContain('zero_drift');
    const audited = await q((tx) => tx.selectFrom('audit_log').select('action').where('action', 'like', 'reconciliation.%').orderBy('id').execute());
    expect(audited.map((a) => a.action)).toEqual(['reconciliation.drift_found', 'reconciliation.fix_applied', 'reconciliation.zero_drift']);
    await context.close();
  }, 300_000);

  it('a deposit edited by hand: finance restores it from the page and the next run reads zero drift', async () => {
    expect(stack.sims.stripe.sim.runPayouts()).not.toBeNull();
    await eventually(
      async () => (await q((tx) => tx.selectFrom('postings').select('status').where('kind', '=', 'deposit').executeTakeFirst()))?.status === 'posted' || null,
      LONG,
      'the payout deposit in QuickBooks',
    );
    const res = await fetch(`${stack.sims.quickbooks.baseUrl}/_sim/drift`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'edit-deposit', amount: '1.00' }),
    });
    expect(res.status).toBe(200);
    const context = await browser.newContext();
    const page = await signIn(context, FINANCE);
    await page.goto(`${stack.settleUrl}/app/reconciliation`);
    expect(await page.locator('#nightly-title').textContent()).toBe('Nightly history');
    await page.click('#run-reconciliation');
    await expect.poll(() => page.locator('.notice--ok').textContent(), { timeout: LONG }).toMatch(/compared, 1 drift found\.$/);
    const row = page.locator('#drifts tbody tr');
    expect(await row.textContent()).toContain('Deposit edited by hand');
    const restore = page.locator('#drifts button', { hasText: 'Restore the deposit' });
    await restore.focus();
    await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
    await expect.poll(() => page.locator('.notice--ok').textContent(), { timeout: LONG }).toContain('put the deposit back in the books');
    await checkStaffPage(page, 'reconciliation page after restoring a deposit');
    await page.click('#run-reconciliation');
    await expect.poll(() => page.locator('.notice--ok').textContent(), { timeout: LONG }).toMatch(/compared, zero drift\.$/);
    await context.close();
  }, 300_000);
});
