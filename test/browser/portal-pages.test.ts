// The client portal's pages as Eta views in the portal layout (issue #9 quality bar), in a real browser:
// each page — the invoices, the pay step with the hosted fields, the thank-you page, the bank-account page,
// the update-method page and a refused link — is axe clean (no critical or serious violation), does not
// scroll sideways at 360 px, carries no inline script or style, and the pay flow works from the keyboard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { expectAccessible, expectNoHorizontalScroll } from '../helpers/axe.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { updateMethodLinkFor } from '../../src/notify/update-method-link.ts';
import { charge, failureOf, savedCard } from '../helpers/failed-payments.ts';
import { openInvoices, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let browser: Browser;
beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 3, invoices: 9 });
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const LONG = 60_000; // generous: the machine may be busy

/** What the CSP forbids the page itself: inline <script> bodies, <style> elements, style="" attributes. */
async function inlineCode(page: Page): Promise<{ scripts: number; styles: number }> {
  return (await page.evaluate(
    `({ scripts: [...document.scripts].filter((s) => !s.src && s.type !== 'application/json').length,
        styles: document.querySelectorAll('style, [style]').length })`,
  )) as { scripts: number; styles: number };
}

/** axe clean at desktop width and at 360 px, nothing sideways at 360 px; back to desktop after. */
async function checkPortalPage(page: Page, label: string): Promise<void> {
  await expectAccessible(page, label);
  await expectNoHorizontalScroll(page, label);
  await expectAccessible(page, `${label} at 360 px`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe.skipIf(!haveBrowser)('client portal pages (Eta views)', () => {
  it('invoices, pay step and thank-you page: accessible, fit a phone, no inline code, payable from the keyboard', async () => {
    const [invoice] = await openInvoices(stack);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${stack.settleUrl}/portal/${await stack.portalToken(invoice!.client_id)}`);
    expect(await page.locator('h1').textContent()).toMatch(/^Pay /);
    expect(await inlineCode(page)).toEqual({ scripts: 0, styles: 0 });
    await checkPortalPage(page, 'portal invoices');

    // Keyboard only: pay just this invoice (Space on the other boxes), then Enter on "Continue to payment".
    const boxes = page.locator('input[name=invoice]');
    for (let i = 0; i < (await boxes.count()); i++) {
      const box = boxes.nth(i);
      if ((await box.getAttribute('value')) !== invoice!.id) {
        await box.focus();
        await page.keyboard.press('Space');
        expect(await box.isChecked()).toBe(false);
      }
    }
    await page.locator('#continue').focus();
    await page.keyboard.press('Enter');
    const frame = page.frameLocator('iframe');
    await frame.locator('[data-testid=card-number]').fill('4242 4242 4242 4242', { timeout: LONG });
    await frame.locator('[data-testid=card-expiry]').fill('12 / 34');
    await frame.locator('[data-testid=card-cvc]').fill('123');
    expect(await page.locator('#summary').textContent()).toMatch(/^Paying \$/);
    await checkPortalPage(page, 'portal pay step');

    await page.locator('#confirm').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\?paid=/, { timeout: LONG });
    await page.locator('#paid').waitFor({ timeout: LONG });
    expect(await page.locator('#paid-invoices').textContent()).toContain(invoice!.number);
    expect(await inlineCode(page)).toEqual({ scripts: 0, styles: 0 });
    await checkPortalPage(page, 'portal thank-you');
    await page.close();
  });

  it('the bank-account page where the MSP has no NACHA debits: says so in plain words, accessible, fits a phone', async () => {
    // With a bank ACH connection the page (labelled fields, mandate filled in) is walked in portal-self-service.test.ts.
    const [invoice] = await openInvoices(stack);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const r = await page.goto(`${stack.settleUrl}/portal/${await stack.portalToken(invoice!.client_id)}/bank-account`);
    expect(r?.status()).toBe(403);
    expect(await page.locator('#refused').textContent()).toMatch(/does not take payments straight from a bank account here/);
    expect(await inlineCode(page)).toEqual({ scripts: 0, styles: 0 });
    await checkPortalPage(page, 'portal bank account');
    await page.close();
  });

  it('the update-method page: accessible, fits a phone, no inline code', async () => {
    const apiKey = await stack.apiKey();
    const invoice = (await openInvoices(stack)).at(-1)!;
    const card = await savedCard(stack, invoice.client_id, 'pm_card_chargeDeclined');
    const { paymentId } = await charge(stack, apiKey, card, [invoice.id]);
    const failure = await failureOf(stack, paymentId);
    const link = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      updateMethodLinkFor(
        tx,
        stack.settleUrl,
        { tenantId: stack.tenantId, clientId: invoice.client_id, failureId: failure.id },
        3600,
        SecretBox.fromHex(stack.secretKeyHex),
      ),
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(link.url);
    expect(await page.locator('h2').textContent()).toBe('Update your payment method');
    expect(await page.locator('main').textContent()).toContain(invoice.number);
    expect(await inlineCode(page)).toEqual({ scripts: 0, styles: 0 });
    await checkPortalPage(page, 'portal update method');
    await page.close();
  });

  it('a refused link: 403, says why, accessible, names no workspace', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const token = await stack.portalToken();
    const r = await page.goto(`${stack.settleUrl}/portal/${token.slice(0, -3)}abc`);
    expect(r?.status()).toBe(403);
    expect(await page.locator('#refused').textContent()).toContain('not valid');
    expect(await page.locator('#brand-name').count()).toBe(0);
    await checkPortalPage(page, 'portal refused link');
    await page.close();
  });
});
