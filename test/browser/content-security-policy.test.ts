// The Content-Security-Policy (issue #8 item 7) in a real browser: the client portal, the update-method page
// and the bank-account page load their scripts and the processor's hosted fields (the Stripe simulator's
// frame, named by origin from the connection's jsUrl) with no policy violation, and a script injected
// without the nonce is blocked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { updateMethodLinkFor } from '../../src/notify/update-method-link.ts';
import { charge, failureOf, savedCard } from '../helpers/failed-payments.ts';
import { openInvoices, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let browser: Browser;
beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack();
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** A page that records every CSP violation the browser reports. */
async function watchedPage(): Promise<{ page: Page; violations: () => Promise<string[]> }> {
  const page = await browser.newPage();
  // As text: this runs in the page (the project's TypeScript has no DOM types).
  await page.addInitScript({
    content: "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
  });
  return { page, violations: () => page.evaluate<string[]>('window.__csp') };
}

describe.skipIf(!haveBrowser)('Content-Security-Policy in a browser', () => {
  it('the portal loads its script and the hosted-fields frame with no violation; a script without the nonce is blocked', async () => {
    const [invoice] = await openInvoices(stack);
    const { page, violations } = await watchedPage();
    await page.goto(`${stack.settleUrl}/portal/${await stack.portalToken(invoice!.client_id)}`);
    await page.click('#continue');
    await page.frameLocator('iframe').locator('[data-testid=card-number]').waitFor({ timeout: 30_000 });
    expect(await violations()).toEqual([]);

    // What an injected script (a PSA field that escaped escaping) would be: refused by the policy.
    await page.evaluate("const s = document.createElement('script'); s.textContent = 'window.__injected = true'; document.body.appendChild(s);");
    expect(await page.evaluate<boolean>('window.__injected === true')).toBe(false);
    expect((await violations()).some((v) => v.startsWith('script-src'))).toBe(true);
    await page.close();
  });

  it('the update-method page opens its setup in the hosted fields with no violation', async () => {
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
    const { page, violations } = await watchedPage();
    await page.goto(link.url);
    await page.click('#continue');
    await page.frameLocator('iframe').locator('[data-testid=card-number]').waitFor({ timeout: 30_000 });
    expect(await violations()).toEqual([]);
    await page.close();
  });

  it('the bank-account page runs its own script with no violation', async () => {
    const [invoice] = await openInvoices(stack);
    const { page, violations } = await watchedPage();
    const r = await page.goto(`${stack.settleUrl}/portal/${await stack.portalToken(invoice!.client_id)}/bank-account`);
    expect(r?.status()).toBeLessThan(500);
    expect(await violations()).toEqual([]);
    await page.close();
  });
});
