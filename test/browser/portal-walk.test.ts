// What a client and their MSP meet when they use the portal the way people do (found by walking `npm start`):
// a second tab whose payment the first tab already made, the Back button after paying, a stale page whose
// invoices were paid meanwhile, and a disputed payment on the staff dashboard. Each page must say the truth
// in plain words — never the processor's raw message, never a paid invoice offered again, never a "Pay now"
// with no payment behind it, and each problem once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let browser: Browser;
beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 6, invoices: 24 });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const LONG = 60_000; // generous: the machine may be busy
type Inv = Awaited<ReturnType<typeof openInvoices>>[number];

/** An open invoice of a client with at least one other open invoice that no earlier test in this file used. */
const used = new Set<string>();
async function invoiceWithSibling(): Promise<{ invoice: Inv; sibling: Inv }> {
  const all = await openInvoices(stack);
  for (const invoice of all) {
    const sibling = all.find((o) => o.client_id === invoice.client_id && o.id !== invoice.id);
    if (sibling && !used.has(invoice.client_id)) {
      used.add(invoice.client_id);
      return { invoice, sibling };
    }
  }
  throw new Error('no unused client with two open invoices');
}

async function openLink(token: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${stack.settleUrl}/portal/${token}`);
  return page;
}

async function choose(page: Page, invoiceId: string): Promise<void> {
  const boxes = page.locator('input[name=invoice]');
  for (let i = 0; i < (await boxes.count()); i++) {
    const box = boxes.nth(i);
    if ((await box.getAttribute('value')) !== invoiceId) await box.uncheck();
  }
}

async function continueWithCard(page: Page, invoiceId: string, card = '4242 4242 4242 4242'): Promise<void> {
  await choose(page, invoiceId);
  await page.click('#continue');
  const frame = page.frameLocator('iframe');
  await frame.locator('[data-testid=card-number]').fill(card, { timeout: LONG });
  await frame.locator('[data-testid=card-expiry]').fill('12 / 34');
  await frame.locator('[data-testid=card-cvc]').fill('123');
}

const offered = (page: Page) => page.locator('input[name=invoice]').evaluateAll((boxes) => boxes.map((b) => b.getAttribute('value')));

async function succeededCharges(clientId: string): Promise<number> {
  const ids = await withTenant(stack.database.db, stack.tenantId, async (tx) =>
    (await tx.selectFrom('payments').select('id').where('client_id', '=', clientId).execute()).map((p) => p.id),
  );
  return [...stack.sims.stripe.sim.store.charges.values()].filter((c) => c.status === 'succeeded' && ids.includes(c.metadata['settle_payment'] ?? '')).length;
}

describe.skipIf(!haveBrowser)('portal and dashboard, walked as people use them', () => {
  it('a second tab pressing Pay after the first tab paid lands on the thank-you page, not a processor error', async () => {
    const { invoice } = await invoiceWithSibling();
    const token = await stack.portalToken(invoice.client_id);
    const tabA = await openLink(token);
    const tabB = await openLink(token);
    await continueWithCard(tabA, invoice.id);
    await continueWithCard(tabB, invoice.id);
    await tabA.click('#confirm');
    await tabA.waitForURL(/\?paid=/, { timeout: LONG });
    const paymentId = new URL(tabA.url()).searchParams.get('paid')!;

    await tabB.click('#confirm');
    await tabB.waitForURL(/\?paid=/, { timeout: LONG });
    // The same payment (one checkout per client and invoice), shown as paid, in the page's own words.
    expect(new URL(tabB.url()).searchParams.get('paid')).toBe(paymentId);
    await tabB.locator('#paid').waitFor({ timeout: LONG });
    const page = (await tabB.locator('main').textContent()) ?? '';
    expect(page).toContain('Thank you');
    expect(page).not.toMatch(/PaymentIntent/);
    expect(await tabB.locator('#paid-invoices').textContent()).toContain(invoice.number);
    expect(await succeededCharges(invoice.client_id)).toBe(1);
    await tabA.close();
    await tabB.close();
  }, 180_000);

  it('Back after paying shows what is due now: the paid invoice is not offered again', async () => {
    const { invoice, sibling } = await invoiceWithSibling();
    const token = await stack.portalToken(invoice.client_id);
    const tab = await openLink(token);
    expect(await offered(tab)).toContain(invoice.id);
    await continueWithCard(tab, invoice.id);
    await tab.click('#confirm');
    await tab.waitForURL(/\?paid=/, { timeout: LONG });
    await tab.locator('#paid').waitFor({ timeout: LONG });

    await tab.goBack();
    await tab.waitForLoadState('load');
    await eventually(async () => !tab.url().includes('paid=') && (await tab.locator('h2').count()) > 0, LONG, 'the page before paying');
    const now = await offered(tab);
    expect(now).not.toContain(invoice.id);
    expect(now).toContain(sibling.id);
    // The browser is told never to keep the page (it is what Back shows otherwise).
    const res = await fetch(`${stack.settleUrl}/portal/${token}`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    await tab.close();
  }, 180_000);

  it('a page whose invoice was paid meanwhile says so and to reload, without a "Pay now" that pays nothing', async () => {
    const { invoice } = await invoiceWithSibling();
    const token = await stack.portalToken(invoice.client_id);
    const stale = await openLink(token); // opened first, left open
    const payer = await openLink(token);
    await continueWithCard(payer, invoice.id);
    await payer.click('#confirm');
    await payer.waitForURL(/\?paid=/, { timeout: LONG });

    await choose(stale, invoice.id);
    await stale.click('#continue');
    const message = stale.locator('#message');
    await message.filter({ hasText: /./ }).waitFor({ timeout: LONG });
    expect(await message.textContent()).toMatch(new RegExp(`${invoice.number}.*Reload this page to see what is still due\\.$`));
    expect(await stale.locator('#confirm').isVisible()).toBe(false);
    expect(await succeededCharges(invoice.client_id)).toBe(1);
    await stale.close();
    await payer.close();
  }, 180_000);

  it('a card whose bank asks for a confirmation this page cannot complete: told so, nothing charged, not "check your details"', async () => {
    const { invoice } = await invoiceWithSibling();
    const tab = await openLink(await stack.portalToken(invoice.client_id));
    await continueWithCard(tab, invoice.id, '4000 0027 6000 3184'); // Stripe's test card that always asks for 3-D Secure
    await tab.click('#confirm');
    const message = tab.locator('#message');
    await message.filter({ hasText: /./ }).waitFor({ timeout: LONG });
    expect(await message.textContent()).toMatch(/confirmation from your bank.*Nothing was charged/);
    expect(tab.url()).not.toContain('paid=');
    expect(await succeededCharges(invoice.client_id)).toBe(0);
    await tab.close();
  }, 180_000);

  it('the dashboard shows a disputed payment once, with its explanation', async () => {
    const { invoice } = await invoiceWithSibling();
    const tab = await openLink(await stack.portalToken(invoice.client_id));
    await continueWithCard(tab, invoice.id, '4000 0000 0000 0259'); // Stripe's test card that is disputed
    await tab.click('#confirm');
    await tab.waitForURL(/\?paid=/, { timeout: LONG });
    const paymentId = new URL(tab.url()).searchParams.get('paid')!;
    await eventually(
      async () =>
        withTenant(stack.database.db, stack.tenantId, (tx) =>
          tx.selectFrom('exceptions').select('id').where('payment_id', '=', paymentId).where('kind', '=', 'dispute').executeTakeFirst(),
        ),
      LONG,
      'the dispute exception',
    );

    const staff = await browser.newPage();
    await staff.goto(`${stack.settleUrl}/login`);
    await staff.fill('input[name=workspace]', stack.slug);
    await staff.fill('input[name=email]', 'owner@acme.test');
    await staff.fill('input[name=password]', 'correct horse battery');
    await Promise.all([staff.waitForURL(/\/app$/, { timeout: LONG }), staff.click('button[type=submit]')]);
    // The tables of the old dashboard: every invoice across the systems, payouts, what needs a person.
    await staff.goto(`${stack.settleUrl}/app/overview`);
    const attention = (await staff.locator('.card', { hasText: 'Needs attention' }).textContent()) ?? '';
    expect(attention).toContain('Payment disputed');
    // Not a second, bare row naming only the payment's id.
    expect(attention).not.toContain(paymentId);
    expect(attention.match(/disputed/gi)?.length).toBe(1);
    await staff.close();
    await tab.close();
  }, 180_000);
});
