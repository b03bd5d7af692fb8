// The portal's collections features in a real browser: the client types how much of an invoice to pay,
// enters a credit card in the processor's hosted fields (deferred mode: no payment exists yet), sees the
// surcharge and its disclosure BEFORE confirming, and is charged exactly the total shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { addDays } from '../../src/domain/rules/calendar-date.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';
import { newInvoice } from '../integration/collections-helpers.ts';

let stack: Stack;
let browser: Browser;
beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe.skipIf(!haveBrowser)('portal collections in a browser', () => {
  it('pays part of an invoice by credit card with the surcharge shown before confirming', async () => {
    const [first] = await openInvoices(stack);
    const invoice = await newInvoice(stack, first!.client_id, '300.00');
    const api = await stack.apiKey();
    const put = (path: string, body: unknown) =>
      fetch(`${stack.settleUrl}/api/v1${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${api}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (
        await put('/settings/surcharge', {
          enabled: true,
          msp_country: 'US',
          msp_region: 'TX',
          cost_of_acceptance_bps: 300,
          notice_filed_on: addDays(new Date().toISOString().slice(0, 10), -31),
        })
      ).status,
    ).toBe(200);
    expect((await put(`/clients/${first!.client_id}/surcharge`, { country: 'US', region: 'CO' })).status).toBe(200);

    const page = await browser.newPage();
    const requestsToSettle: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(stack.settleUrl)) requestsToSettle.push(`${r.url()} ${r.postData() ?? ''}`);
    });
    await page.goto(`${stack.settleUrl}/portal/${await stack.portalToken(first!.client_id)}`);
    const boxes = page.locator('input[name=invoice]');
    for (let i = 0; i < (await boxes.count()); i++) {
      const box = boxes.nth(i);
      if ((await box.getAttribute('value')) !== invoice.id) await box.uncheck();
    }
    await page.fill(`input[name=amount][data-invoice="${invoice.id}"]`, '100.00');
    await page.click('#continue');
    const frame = page.frameLocator('iframe');
    await frame.locator('[data-testid=card-number]').fill('4242 4242 4242 4242');
    await frame.locator('[data-testid=card-expiry]').fill('12 / 34');
    await frame.locator('[data-testid=card-cvc]').fill('123');
    expect(await page.locator('#confirm').textContent()).toBe('Review payment');
    await page.click('#confirm');
    // Before anything is charged: the surcharge, its disclosure and the total.
    await page.locator('#disclosure').filter({ hasText: 'surcharge of 2.00% ($2.00)' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#summary').textContent()).toContain('Total: $102.00');
    expect(await page.locator('#confirm').textContent()).toBe('Pay $102.00');
    expect(stack.sims.stripe.sim.store.paymentIntents.size).toBe(0);
    await page.click('#confirm');
    await page.waitForURL(/\?paid=/, { timeout: 15_000 });
    expect(await page.locator('body').textContent()).toContain('Thank you');
    expect(requestsToSettle.join('\n')).not.toContain('4242 4242');

    const intents = [...stack.sims.stripe.sim.store.paymentIntents.values()];
    expect(intents.map((pi) => [pi.amount, pi.status])).toEqual([[10_200, 'succeeded']]);
    await eventually(async () => stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote)).length === 1, 15_000, 'ConnectWise payment');
    expect(Math.round(Number(stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote))[0]!.amount) * 100)).toBe(10_000);
    const row = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('invoices').select(['status', 'paid_minor']).where('id', '=', invoice.id).executeTakeFirstOrThrow(),
    );
    expect(row).toEqual({ status: 'partially_paid', paid_minor: 10_000n });
  });
});
