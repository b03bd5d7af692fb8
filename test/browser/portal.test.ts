// The client portal in a real browser (Debian's chromium driven by playwright-core): a client opens the
// signed link, chooses an invoice, types a test card into the processor's hosted fields (an iframe served by
// the Stripe simulator — the card number never reaches Settle's page), pays, and the payment lands in
// ConnectWise and QuickBooks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';

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

// The browser test needs Debian's `chromium` (CI installs it in .ci/run); without it the test is reported as skipped.
describe.skipIf(!haveBrowser)('client portal in a browser', () => {
  it('pays one invoice by card through the hosted fields; the card number never appears in Settle’s page', async () => {
    const [invoice, other] = await openInvoices(stack);
    const token = await stack.portalToken(invoice!.client_id);
    const page = await browser.newPage();
    const requestsToSettle: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(stack.settleUrl)) requestsToSettle.push(`${r.url()} ${r.postData() ?? ''}`);
    });
    await page.goto(`${stack.settleUrl}/portal/${token}`);
    expect(await page.locator('h2').textContent()).toContain('Invoices for');
    // Pay only the first invoice of this client.
    const boxes = page.locator('input[name=invoice]');
    const count = await boxes.count();
    for (let i = 0; i < count; i++) {
      const box = boxes.nth(i);
      if ((await box.getAttribute('value')) !== invoice!.id) await box.uncheck();
    }
    await page.click('#continue');
    const frame = page.frameLocator('iframe');
    await frame.locator('[data-testid=card-number]').fill('4242 4242 4242 4242');
    await frame.locator('[data-testid=card-expiry]').fill('12 / 34');
    await frame.locator('[data-testid=card-cvc]').fill('123');
    await page.click('#confirm');
    await page.waitForURL(/\?paid=/, { timeout: 15_000 });
    expect(await page.locator('body').textContent()).toContain('Thank you');

    expect(requestsToSettle.join('\n')).not.toContain('4242');
    await eventually(async () => stack.sims.connectwise.sim.paymentsFor(Number(invoice!.remote)).length === 1, 15_000, 'ConnectWise payment');
    await eventually(async () => stack.sims.quickbooks.sim.payments().length === 1, 15_000, 'QuickBooks Payment');
    const status = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('invoices').select('status').where('id', '=', invoice!.id).executeTakeFirstOrThrow(),
    );
    expect(status.status).toBe('paid');
    if (other && other.client_id === invoice!.client_id) {
      const untouched = await withTenant(stack.database.db, stack.tenantId, (tx) =>
        tx.selectFrom('invoices').select('status').where('id', '=', other.id).executeTakeFirstOrThrow(),
      );
      expect(untouched.status).toBe('open');
    }
  });

  it('shows the processor’s decline message and lets the client try again', async () => {
    const invoices = await openInvoices(stack);
    const invoice = invoices[0]!;
    const page = await browser.newPage();
    await page.goto(`${stack.settleUrl}/portal/${await stack.portalToken(invoice.client_id)}`);
    await page.click('#continue');
    const frame = page.frameLocator('iframe');
    await frame.locator('[data-testid=card-number]').fill('4000 0000 0000 0002');
    await frame.locator('[data-testid=card-expiry]').fill('12 / 34');
    await frame.locator('[data-testid=card-cvc]').fill('123');
    await page.click('#confirm');
    await page
      .locator('#message')
      .filter({ hasText: /declined/i })
      .waitFor({ timeout: 10_000 });
    expect(await page.locator('#confirm').isEnabled()).toBe(true);
  });

  it('refuses an altered link with a clear message', async () => {
    const page = await browser.newPage();
    const token = await stack.portalToken();
    const res = await page.goto(`${stack.settleUrl}/portal/${token.slice(0, -3)}abc`);
    expect(res?.status()).toBe(403);
    expect(await page.locator('body').textContent()).toContain('not valid');
  });
});
