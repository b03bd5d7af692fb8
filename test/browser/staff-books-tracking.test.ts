// Issue #9 Settings → GL mapping, "class/location/department mapping where the books support it", in a real
// browser on real PostgreSQL and the simulators. The QuickBooks company tracks classes and locations; the
// owner picks a class and a location on Settings → Accounts from the books' live lists (an inactive class is
// not offered), saves (audited, stored in the connection), and the next payout's deposit in QuickBooks carries
// them — on the deposit and its fee line — as does the payment. A company that does not track them sees no
// such pickers. A viewer sees the choice without a save button, and a direct POST is 403 with nothing changed.
// Every page: axe clean, no sideways scroll at 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';

const LONG = 60_000;
const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };
const VIEWER = { email: 'viewer@acme.test', password: 'viewer horse battery' };

type Json = Record<string, any>;
let stack: Stack;
let browser: Browser;

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const booksConfig = async (): Promise<Json> =>
  (await q((tx) => tx.selectFrom('connections').select('config').where('role', '=', 'accounting').executeTakeFirstOrThrow())).config as Json;

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 2, invoices: 3 });
  browser = await launchBrowser();
  const password_hash = await hashPassword(VIEWER.password);
  await q((tx) => tx.insertInto('users').values({ tenant_id: stack.tenantId, email: VIEWER.email, name: 'viewer', role: 'viewer', password_hash }).execute());
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const signIn = (context: BrowserContext, who: { email: string; password: string }): Promise<Page> =>
  signInStaff(context, stack.settleUrl, { workspace: OWNER.workspace, ...who }, LONG);

describe.runIf(haveBrowser)('class and location in the GL mapping', () => {
  it('no pickers while the books track neither; then the owner picks a class and a location, and the next payout’s deposit carries them', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    const qbo = stack.sims.quickbooks.sim;

    // A company without class or location tracking: nothing to choose, nothing changes.
    await page.goto(`${stack.settleUrl}/app/settings/accounts`);
    expect(await page.locator('#tracking').count()).toBe(0);

    // The MSP turns both on in QuickBooks and keeps a few classes and locations.
    qbo.setTracking({ classes: 'line', departments: true });
    const managed = qbo.ensureTracking('Class', 'Managed services');
    qbo.ensureTracking('Class', 'Projects');
    qbo.setTrackingActive('Class', qbo.ensureTracking('Class', 'Old contracts').Id, false);
    const east = qbo.ensureTracking('Department', 'East office');
    qbo.ensureTracking('Department', 'West office');

    await page.goto(`${stack.settleUrl}/app/settings/accounts`);
    expect(await page.locator('#tracking legend').textContent()).toBe('Class and location');
    const classOptions = await page.locator('#tracking-classId option').allTextContents();
    expect(classOptions).toEqual(['None', 'Managed services', 'Projects']); // the inactive class is not offered
    expect(await page.locator('label[for=tracking-departmentId]').textContent()).toContain('Location');
    expect(await page.inputValue('#tracking-classId')).toBe('');
    await checkStaffPage(page, '/app/settings/accounts with class and location');

    await page.selectOption('#tracking-classId', { label: 'Managed services' });
    await page.selectOption('#tracking-departmentId', { label: 'East office' });
    await Promise.all([page.waitForURL(`${stack.settleUrl}/app/settings/accounts?saved=1`, { timeout: LONG }), page.click('#save-accounts')]);
    expect(await page.inputValue('#tracking-classId')).toBe(managed.Id);
    expect(await page.inputValue('#tracking-departmentId')).toBe(east.Id);
    await checkStaffPage(page, '/app/settings/accounts saved');
    expect(await booksConfig()).toMatchObject({ classId: managed.Id, departmentId: east.Id });
    const audit = await q((tx) =>
      tx
        .selectFrom('audit_log')
        .select(['actor', 'detail'])
        .where('action', '=', 'connection.accounts_changed')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow(),
    );
    expect(audit.actor).toMatch(/^user:/);
    expect(audit.detail).toMatchObject({
      classId: { from: null, to: managed.Id, to_name: 'Managed services' },
      departmentId: { from: null, to: east.Id, to_name: 'East office' },
    });

    // A client pays; the processor pays out; the deposit Settle posts afterwards carries the mapping.
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId } = await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
    await eventually(
      async () => {
        const rows = await q((tx) =>
          tx.selectFrom('postings').select('status').where('payment_id', '=', paymentId).where('target', '=', 'accounting').execute(),
        );
        return rows.length === 1 && rows[0]!.status === 'posted';
      },
      LONG,
      'the payment posted to QuickBooks',
    );
    expect(qbo.payments().at(-1)!['DepartmentRef']).toEqual({ value: east.Id, name: 'East office' });
    const payout = stack.sims.stripe.sim.runPayouts();
    expect(payout).not.toBeNull();
    const deposit = (await eventually(async () => qbo.deposits()[0], LONG, 'the payout’s deposit in QuickBooks')) as Json;
    expect(deposit['DepartmentRef']).toEqual({ value: east.Id, name: 'East office' });
    const feeLine = (deposit['Line'] as Json[]).find((l) => l['DepositLineDetail'])!;
    expect(feeLine['Amount']).toBeLessThan(0);
    expect(feeLine['DepositLineDetail']['ClassRef']).toEqual({ value: managed.Id, name: 'Managed services' });
    await context.close();
  }, 240_000);

  it('an unknown class is refused with the reason and nothing saved; “None” takes the mapping off', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, OWNER);
    await page.goto(`${stack.settleUrl}/app/settings/accounts`);
    const before = await booksConfig();
    // A stale form (the class was made inactive in QuickBooks meanwhile): refused, field named, nothing changed.
    await page.evaluate(`document.querySelector('#tracking-classId').insertAdjacentHTML('beforeend', '<option value="9999">Gone</option>')`);
    await page.selectOption('#tracking-classId', '9999');
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/app/settings/accounts') && r.request().method() === 'POST'),
      page.click('#save-accounts'),
    ]);
    expect(await page.locator('.error-summary').textContent()).toContain('9999 is not an active class in the books');
    expect(await page.locator('#tracking-classId-error').count()).toBe(1);
    await checkStaffPage(page, '/app/settings/accounts with a class error');
    expect(await booksConfig()).toEqual(before);

    await page.goto(`${stack.settleUrl}/app/settings/accounts`);
    await page.selectOption('#tracking-departmentId', '');
    await Promise.all([page.waitForURL(`${stack.settleUrl}/app/settings/accounts?saved=1`, { timeout: LONG }), page.click('#save-accounts')]);
    const after = await booksConfig();
    expect(after['departmentId']).toBeUndefined();
    expect(after['classId']).toBe(before['classId']);
    await context.close();
  }, 120_000);

  it('a viewer sees the class and location without a save button; a direct POST is 403 and changes nothing', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, VIEWER);
    await page.goto(`${stack.settleUrl}/app/settings/accounts`);
    expect(await page.locator('#tracking-classId').textContent()).toBe('Managed services');
    expect(await page.locator('#save-accounts').count()).toBe(0);
    expect(await page.locator('select').count()).toBe(0);
    await checkStaffPage(page, '/app/settings/accounts as viewer');

    const before = await booksConfig();
    const audits = async () => (await q((tx) => tx.selectFrom('audit_log').select('id').where('action', '=', 'connection.accounts_changed').execute())).length;
    const auditsBefore = await audits();
    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const res = await page.request.post(`${stack.settleUrl}/app/settings/accounts`, {
      form: {
        _csrf: csrf,
        classId: '',
        departmentId: '',
        bankAccountId: String(before['bankAccountId']),
        feeExpenseAccountId: String(before['feeExpenseAccountId']),
      },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
    expect(await booksConfig()).toEqual(before);
    expect(await audits()).toBe(auditsBefore);
    await context.close();
  }, 120_000);
});
