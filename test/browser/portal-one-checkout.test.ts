// Issue #6 items 2 and 9 in a real browser: two tabs on the same portal link paying the same invoice, and a
// double click on Pay, must give one charge at the Stripe simulator, at most one open intent and no client
// credit. After paying, the page shows what was paid (amount, invoices, method, reference) and what is
// still open, and does not offer the paid invoice again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let browser: Browser;
beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 3, invoices: 9 });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const LONG = 60_000; // generous: the machine may be busy
const OPEN = new Set(['requires_payment_method', 'requires_confirmation', 'requires_action']);

type Inv = Awaited<ReturnType<typeof openInvoices>>[number];

/** An open invoice of a client that has at least one other open invoice (so something stays open after paying). */
async function invoiceWithSibling(): Promise<{ invoice: Inv; sibling: Inv }> {
  const all = await openInvoices(stack);
  for (const invoice of all) {
    const sibling = all.find((o) => o.client_id === invoice.client_id && o.id !== invoice.id);
    if (sibling) return { invoice, sibling };
  }
  throw new Error('no client with two open invoices');
}

async function openTab(token: string, invoiceId: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${stack.settleUrl}/portal/${token}`);
  const boxes = page.locator('input[name=invoice]');
  for (let i = 0; i < (await boxes.count()); i++) {
    const box = boxes.nth(i);
    if ((await box.getAttribute('value')) !== invoiceId) await box.uncheck();
  }
  await page.click('#continue');
  const frame = page.frameLocator('iframe');
  await frame.locator('[data-testid=card-number]').fill('4242 4242 4242 4242', { timeout: LONG });
  await frame.locator('[data-testid=card-expiry]').fill('12 / 34');
  await frame.locator('[data-testid=card-cvc]').fill('123');
  return page;
}

/** The Stripe simulator's intents and successful charges for this client, and Settle's credit entries. */
async function stateFor(clientId: string) {
  const { customer, credit, paymentIds } = await withTenant(stack.database.db, stack.tenantId, async (tx) => {
    const c = await tx.selectFrom('clients').select('processor_customer_id').where('id', '=', clientId).executeTakeFirstOrThrow();
    const credit = await tx.selectFrom('client_credit_entries').select('amount_minor').where('client_id', '=', clientId).execute();
    const payments = await tx.selectFrom('payments').select('id').where('client_id', '=', clientId).execute();
    return { customer: c.processor_customer_id, credit, paymentIds: payments.map((p) => p.id) };
  });
  const intents = [...stack.sims.stripe.sim.store.paymentIntents.values()].filter((pi) => pi.customer === customer);
  const charges = [...stack.sims.stripe.sim.store.charges.values()].filter(
    (ch) => ch.status === 'succeeded' && paymentIds.includes(ch.metadata['settle_payment'] ?? ''),
  );
  return { intents, openIntents: intents.filter((pi) => OPEN.has(pi.status)), charges, credit };
}

async function invoiceStatus(id: string): Promise<string> {
  const r = await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('invoices').select('status').where('id', '=', id).executeTakeFirstOrThrow(),
  );
  return r.status;
}

describe.skipIf(!haveBrowser)('one checkout per client and invoice, in a browser', () => {
  it('two tabs on the same link pay the same invoice: one charge, at most one open intent, no client credit', async () => {
    const { invoice } = await invoiceWithSibling();
    const token = await stack.portalToken(invoice.client_id);
    const tabA = await openTab(token, invoice.id);
    const tabB = await openTab(token, invoice.id);
    // Both tabs hold a checkout for the same invoice: it is the same one.
    const before = await stateFor(invoice.client_id);
    expect(before.openIntents).toHaveLength(1);
    // Both press Pay at once.
    await Promise.all([tabA.click('#confirm'), tabB.click('#confirm')]);
    await eventually(async () => (await invoiceStatus(invoice.id)) === 'paid', LONG, 'invoice paid');
    // One tab lands on the thank-you page; the other is told, never charged again.
    await eventually(async () => [tabA, tabB].some((t) => t.url().includes('?paid=')), LONG, 'a tab on the thank-you page');
    const after = await stateFor(invoice.client_id);
    expect(after.charges).toHaveLength(1);
    expect(after.charges[0]!.amount).toBe(Number(invoice.total_minor));
    expect(after.openIntents.length).toBeLessThanOrEqual(1);
    expect(after.credit).toEqual([]);
    await tabA.close();
    await tabB.close();
  }, 180_000);

  it('a double click on Pay charges once', async () => {
    const { invoice } = await invoiceWithSibling();
    const token = await stack.portalToken(invoice.client_id);
    const tab = await openTab(token, invoice.id);
    const chargesBefore = (await stateFor(invoice.client_id)).charges.length;
    await tab.dblclick('#confirm');
    await tab.waitForURL(/\?paid=/, { timeout: LONG });
    await eventually(async () => (await invoiceStatus(invoice.id)) === 'paid', LONG, 'invoice paid');
    const after = await stateFor(invoice.client_id);
    expect(after.charges.length - chargesBefore).toBe(1);
    expect(after.openIntents).toHaveLength(0);
    expect(after.credit).toEqual([]);
    await tab.close();
  }, 180_000);

  it('the thank-you page shows what was paid and what is still open, and does not offer the paid invoice again', async () => {
    const { invoice, sibling } = await invoiceWithSibling();
    const token = await stack.portalToken(invoice.client_id);
    const tab = await openTab(token, invoice.id);
    await tab.click('#confirm');
    await tab.waitForURL(/\?paid=/, { timeout: LONG });
    const paymentId = new URL(tab.url()).searchParams.get('paid')!;
    const paid = tab.locator('#paid');
    await paid.waitFor({ timeout: LONG });
    const amount = `$${(Number(invoice.total_minor) / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`;
    expect(await paid.textContent()).toContain('Thank you');
    expect(await tab.locator('#paid-amount').textContent()).toContain(amount);
    expect(await tab.locator('#paid-invoices').textContent()).toContain(invoice.number);
    expect(await tab.locator('#paid-method').textContent()).toMatch(/Card/);
    expect(await tab.locator('#paid-reference').textContent()).toContain(paymentId);
    // What is still open is offered; the invoice just paid is not — also on a reload of the same link.
    for (const page of [tab, await browser.newPage()]) {
      if (page !== tab) await page.goto(`${stack.settleUrl}/portal/${token}`);
      const offered = await page.locator('input[name=invoice]').evaluateAll((boxes) => boxes.map((b) => b.getAttribute('value')));
      expect(offered).not.toContain(invoice.id);
      expect(offered).toContain(sibling.id);
      await page.close();
    }
  }, 180_000);
});
