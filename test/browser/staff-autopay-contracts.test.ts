// Autopay by contract kind in a real browser, on real PostgreSQL and the ConnectWise simulator: a person opens
// a client's autopay rule, ticks the contract kinds it may charge automatically (managed services and per
// device) and saves — audited; a project invoice then waits for approval and the queue says why, while the
// agreement invoice is noticed as usual. The invoice page shows each line's contract and lists the invoice's
// contracts. The pages pass axe and fit 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { LineInput } from '../../simulators/connectwise/index.ts';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { addDays, apiFor, enableAutopay, newCompany, newInvoice, q, runOn, saveCard, scheduleOf, todayUtc, type Api } from '../helpers/autopay.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';

const LONG = 60_000;
const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };
const today = todayUtc();

let stack: Stack;
let browser: Browser;
let api: Api;
let company: number;
let clientId: string;
let ruleId: string;
let agreementLines: LineInput[];

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 1, invoices: 1 });
  browser = await launchBrowser();
  api = apiFor(stack, await stack.apiKey());
  expect((await api('PUT', '/autopay/settings', { notice_days: 1, jump_percent: 50 })).status).toBe(200);
  company = newCompany(stack, 'Northwind Dental');
  const cw = stack.sims.connectwise.state;
  const managed = cw.addAgreement(company, 'Northwind Managed IT', 150_000n, addDays(today, -90));
  const devices = cw.addAgreement(company, 'Northwind Per Device', 90_000n, addDays(today, -90), new Date(), 'Per Device');
  agreementLines = [
    { kind: 'product', description: 'Managed IT', quantity: 1, price: '1500.00', under: { agreementId: managed.id } },
    { kind: 'product', description: 'Managed Workstation', quantity: 20, price: '45.00', under: { agreementId: devices.id } },
  ];
  const first = await newInvoice(stack, company, { type: 'Agreement', date: addDays(today, -30), dueDate: addDays(today, -1), lines: agreementLines });
  clientId = first.clientId;
  await saveCard(stack, api, clientId);
  const rule = await api('POST', '/autopay/rules', { name: 'Northwind autopay', client_id: clientId });
  expect(rule.status).toBe(201);
  ruleId = rule.body.id;
  await enableAutopay(api, clientId);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe.runIf(haveBrowser)('staff autopay by contract kind', () => {
  it('staff limit a rule to managed services and per device; a project invoice then waits with the reason shown', async () => {
    const context = await browser.newContext();
    const page = await signInStaff(context, stack.settleUrl, OWNER, LONG);
    await page.goto(`${stack.settleUrl}/app/autopay/rules/${ruleId}`);
    await checkStaffPage(page, 'autopay rule page');
    await page.check('input[name=contract_kinds][value=managed_services]');
    await page.check('input[name=contract_kinds][value=per_device]');
    await Promise.all([page.waitForURL(/\/app\/autopay\/rules\?saved=/, { timeout: LONG }), page.click('#save-rule')]);
    expect(await page.locator('#rules').textContent()).toContain(
      'automatic only for managed services (recurring agreement), per device / per user (other contracts wait for approval)',
    );
    const audited = await q(stack, (tx) =>
      tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', 'autopay.rule_updated').where('subject_id', '=', ruleId).execute(),
    );
    expect(audited).toHaveLength(1);
    expect(audited[0]!.actor).toMatch(/^user:/);
    expect((audited[0]!.detail as { after: { contract_kinds: string[] } }).after.contract_kinds).toEqual(['managed_services', 'per_device']);

    const project = await newInvoice(stack, company, {
      date: today,
      dueDate: addDays(today, 1),
      lines: [{ kind: 'product', description: 'Server migration', quantity: 1, price: '4800.00', under: { project: { id: 41, name: 'Server migration' } } }],
    });
    const monthly = await newInvoice(stack, company, { type: 'Agreement', date: today, dueDate: addDays(today, 1), lines: agreementLines });
    await runOn(stack, today);
    expect((await scheduleOf(stack, project.id))!).toMatchObject({ state: 'awaiting_approval', reason: 'contract_not_covered' });
    expect((await scheduleOf(stack, monthly.id))!.state).toBe('noticed');

    await page.goto(`${stack.settleUrl}/app/autopay`);
    const row = page.locator('#approvals tr', { hasText: `#${project.number}` });
    expect(await row.textContent()).toContain('has lines billed as Project (“Server migration”), which this rule does not charge automatically');
    await checkStaffPage(page, 'autopay queue');

    await page.goto(`${stack.settleUrl}/app/invoices/${monthly.id}`);
    expect(await page.locator('#invoice-contracts').textContent()).toBe(
      'Northwind Managed IT (Managed services (recurring agreement), $1,500.00); Northwind Per Device (Per device / per user, $900.00)',
    );
    expect(await page.locator('#lines tbody tr').first().locator('td[data-label=Contract]').textContent()).toBe(
      'Northwind Managed IT (Managed services (recurring agreement))',
    );
    await checkStaffPage(page, 'invoice page with contracts');
    await context.close();
  }, 240_000);
});
