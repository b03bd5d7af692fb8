// Issue #7 (Stripe): a client who types their bank account's numbers into the hosted fields (their bank is
// not listed for instant verification) is debited only after confirming two microdeposits — as at Stripe.
// The portal's payment page tells them so and links to the verification page; staff see an exception with
// the fix while it waits; nothing is debited until the amounts are confirmed; then the debit starts and the
// exception clears itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';

const LONG = 60_000; // generous: the machine may be busy
let stack: Stack;
let browser: Browser;
beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ achSettleDelayMs: null });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const exceptionFor = (paymentId: string) =>
  withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx
      .selectFrom('exceptions')
      .select(['kind', 'status', 'detail', 'data'])
      .where('payment_id', '=', paymentId)
      .where('kind', '=', 'ach_verification_pending')
      .executeTakeFirst(),
  );
const paymentRow = (paymentId: string) =>
  withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('payments').select(['state', 'processor_payment_id']).where('id', '=', paymentId).executeTakeFirstOrThrow(),
  );

describe.skipIf(!haveBrowser)('portal ACH with a bank account typed by its numbers', () => {
  it('waits for the microdeposits: the client is shown where to verify, staff see why, nothing is debited until then', async () => {
    const [invoice] = await openInvoices(stack);
    const token = await stack.portalToken(invoice!.client_id);
    const page = await browser.newPage();
    await page.goto(`${stack.settleUrl}/portal/${token}`);
    const boxes = page.locator('input[name=invoice]');
    for (let i = 0; i < (await boxes.count()); i++) {
      const box = boxes.nth(i);
      if ((await box.getAttribute('value')) !== invoice!.id) await box.uncheck();
    }
    await page.check('input[name=method][value=us_bank_account]');
    await page.click('#continue');
    const frame = page.frameLocator('iframe');
    await frame.locator('[data-testid=bank-holder]').fill('Acme IT');
    await frame.locator('[data-testid=bank-account]').fill('000123456789');
    await frame.locator('[data-testid=bank-manual]').check(); // "my bank is not listed": microdeposits
    await frame.locator('[data-testid=bank-mandate]').check();
    await page.click('#confirm');
    await page.waitForURL(/\?paid=/, { timeout: LONG });
    const paymentId = new URL(page.url()).searchParams.get('paid')!;

    // The client is told what to do, with the link; not "paid".
    await page.locator('#verify-instructions').waitFor({ timeout: LONG });
    expect(await page.locator('#paid h2').textContent()).toContain('verify your bank account');
    const href = (await page.locator('#verify-link').getAttribute('href'))!;
    expect(href).toContain('/_sim/microdeposit/');

    // Nothing debited; staff see the wait and its fix.
    const p = await paymentRow(paymentId);
    expect(p.state).toBe('pending');
    const intent = stack.sims.stripe.sim.store.paymentIntents.get(p.processor_payment_id!)!;
    expect(intent.status).toBe('requires_action');
    expect(intent.latest_charge).toBeNull();
    await eventually(async () => (await exceptionFor(paymentId))?.status === 'open', LONG, 'verification exception open');
    expect((await exceptionFor(paymentId))!.detail).toMatch(/Nothing is debited until the client confirms/);

    // The client confirms the amounts on Stripe's hosted page (wrong first, then right).
    await page.goto(href);
    await page.fill('[data-testid=md-amount-1]', '10');
    await page.fill('[data-testid=md-amount-2]', '20');
    await page.click('[data-testid=md-verify]');
    expect(await page.locator('[data-testid=md-error]').textContent()).toMatch(/do not match/);
    await page.fill('[data-testid=md-amount-1]', '32');
    await page.fill('[data-testid=md-amount-2]', '45');
    await page.click('[data-testid=md-verify]');
    await page.locator('[data-testid=md-done]').waitFor({ timeout: LONG });

    // The debit starts (webhook payment_intent.processing); the exception clears itself; the debit settles.
    await eventually(async () => (await paymentRow(paymentId)).state === 'processing', LONG, 'payment processing');
    await eventually(async () => (await exceptionFor(paymentId))?.status === 'resolved', LONG, 'verification exception resolved');
    stack.sims.stripe.sim.settleAch({ paymentIntent: intent.id });
    await eventually(async () => (await paymentRow(paymentId)).state === 'succeeded', LONG, 'payment succeeded');
    await page.close();
  });
});
