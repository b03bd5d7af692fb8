// Issue #6 item 1 in a real browser: the client's card 4000 0000 0000 0002 is declined in the processor's
// hosted fields, the page says so, the client types 4242 4242 4242 4242 into the same form and pays. The
// result must be one succeeded payment in Settle, one successful charge at the processor, one payment in
// ConnectWise and one Payment in QuickBooks — checked in the simulators' own state — and the page and the
// client's history must say "succeeded", never "failed".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { addDays } from '../../src/domain/rules/calendar-date.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let browser: Browser;
beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 3, invoices: 6 });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const LONG = 60_000; // generous: the machine may be busy

async function openPortalFor(invoice: { id: string; client_id: string }): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${stack.settleUrl}/portal/${await stack.portalToken(invoice.client_id)}`);
  const boxes = page.locator('input[name=invoice]');
  for (let i = 0; i < (await boxes.count()); i++) {
    const box = boxes.nth(i);
    if ((await box.getAttribute('value')) !== invoice.id) await box.uncheck();
  }
  await page.click('#continue');
  return page;
}

async function typeCard(page: Page, number: string): Promise<void> {
  const frame = page.frameLocator('iframe');
  await frame.locator('[data-testid=card-number]').fill(number, { timeout: LONG });
  await frame.locator('[data-testid=card-expiry]').fill('12 / 34');
  await frame.locator('[data-testid=card-cvc]').fill('123');
}

/** Settle's payments that planned to pay this invoice. */
async function paymentsOn(invoiceId: string) {
  const rows = await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('payments').select(['id', 'state', 'processor_payment_id', 'planned_allocations']).execute(),
  );
  return rows.filter((p) => p.planned_allocations.some((a) => a.invoiceId === invoiceId));
}

/** What the simulators hold for this invoice: successful charges, ConnectWise payments, QuickBooks Payments. */
function vendorsFor(invoice: { number: string; remote: string }, paymentIds: readonly string[]) {
  const charges = [...stack.sims.stripe.sim.store.charges.values()].filter((c) => paymentIds.includes(c.metadata['settle_payment'] ?? ''));
  const qboInvoice = stack.sims.quickbooks.sim.invoices().find((i) => i['DocNumber'] === invoice.number);
  const qbo = stack.sims.quickbooks.sim
    .payments()
    .filter((p) => (p['Line'] as { LinkedTxn: { TxnId: string }[] }[]).some((l) => l.LinkedTxn.some((t) => t.TxnId === qboInvoice?.['Id'])));
  return {
    succeededCharges: charges.filter((c) => c.status === 'succeeded'),
    failedCharges: charges.filter((c) => c.status === 'failed'),
    cw: stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote)),
    qbo,
  };
}

async function waitForBooks(invoice: { number: string; remote: string }, paymentIds: readonly string[]): Promise<void> {
  await eventually(
    async () => {
      const v = vendorsFor(invoice, paymentIds);
      return v.cw.length >= 1 && v.qbo.length >= 1;
    },
    LONG,
    'the payment in ConnectWise and QuickBooks',
  );
}

describe.skipIf(!haveBrowser)('portal: declined card, then a good card in the same form', () => {
  it('hosted-fields checkout: one payment succeeds, once, everywhere; the client never sees "failed"', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const page = await openPortalFor(invoice);
    await typeCard(page, '4000 0000 0000 0002');
    await page.click('#confirm');
    // The page shows the decline and keeps the same form, ready for another card.
    await page
      .locator('#message')
      .filter({ hasText: /declined.*Enter another card/i })
      .waitFor({ timeout: LONG });
    expect(await page.locator('#confirm').isEnabled()).toBe(true);
    expect(page.url()).not.toContain('paid=');
    // Settle has heard of the decline (webhook) and keeps the checkout open, not failed.
    const [open] = await eventually(
      async () => {
        const ps = await paymentsOn(invoice.id);
        return ps.length === 1 &&
          (
            await withTenant(stack.database.db, stack.tenantId, (tx) =>
              tx.selectFrom('payments').select('failure_code').where('id', '=', ps[0]!.id).executeTakeFirstOrThrow(),
            )
          ).failure_code === 'generic_decline'
          ? ps
          : null;
      },
      LONG,
      'the decline recorded on the open checkout',
    );
    expect(open!.state).toBe('pending');

    await typeCard(page, '4242 4242 4242 4242');
    await page.click('#confirm');
    await page.waitForURL(/\?paid=/, { timeout: LONG });
    expect(await page.locator('body').textContent()).toContain('Thank you');

    await waitForBooks(invoice, [open!.id]);
    const payments = await eventually(
      async () => {
        const ps = await paymentsOn(invoice.id);
        return ps.some((p) => p.state === 'succeeded') ? ps : null;
      },
      LONG,
      'the payment succeeded in Settle',
    );
    // Exactly one payment, the same checkout, succeeded; no failed one.
    expect(payments.map((p) => [p.id, p.state])).toEqual([[open!.id, 'succeeded']]);
    const v = vendorsFor(invoice, [open!.id]);
    expect(v.succeededCharges).toHaveLength(1);
    expect(v.failedCharges).toHaveLength(1);
    expect(v.succeededCharges[0]!.payment_intent).toBe(payments[0]!.processor_payment_id);
    expect(v.cw).toHaveLength(1);
    expect(v.qbo).toHaveLength(1);
    const status = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('invoices').select('status').where('id', '=', invoice.id).executeTakeFirstOrThrow(),
    );
    expect(status.status).toBe('paid');
    // The client's history on the portal says what happened.
    await page.reload();
    const history = await page.locator('body').textContent();
    expect(history).toContain('succeeded');
    expect(history).not.toContain('failed');
    await page.close();
  });

  it('card review (surcharging on): declined, then a good card in the same form; one charge, posted once', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const api = await stack.apiKey();
    const settings = await fetch(`${stack.settleUrl}/api/v1/settings/surcharge`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        enabled: true,
        msp_country: 'US',
        msp_region: 'TX',
        cost_of_acceptance_bps: 300,
        notice_filed_on: addDays(new Date().toISOString().slice(0, 10), -31),
      }),
    });
    expect(settings.status).toBe(200);
    const page = await openPortalFor(invoice);
    await typeCard(page, '4000 0000 0000 0002');
    await page.click('#confirm'); // Review payment
    await page.locator('#confirm').filter({ hasText: /^Pay / }).waitFor({ timeout: LONG });
    await page.click('#confirm'); // Pay <total>
    await page
      .locator('#message')
      .filter({ hasText: /declined/i })
      .waitFor({ timeout: LONG });
    expect(page.url()).not.toContain('paid=');

    await typeCard(page, '4242 4242 4242 4242');
    await page.click('#confirm'); // Review payment again, with the new card
    await page.locator('#confirm').filter({ hasText: /^Pay / }).waitFor({ timeout: LONG });
    await page.click('#confirm');
    await page.waitForURL(/\?paid=/, { timeout: LONG });

    const payments = await paymentsOn(invoice.id);
    const ids = payments.map((p) => p.id);
    await waitForBooks(invoice, ids);
    // The declined review was its own charge attempt, final; the second card is the one payment that succeeded.
    expect(payments.filter((p) => p.state === 'succeeded')).toHaveLength(1);
    expect(payments.filter((p) => p.state !== 'succeeded' && p.state !== 'failed')).toHaveLength(0);
    const v = vendorsFor(invoice, ids);
    expect(v.succeededCharges).toHaveLength(1);
    expect(v.cw).toHaveLength(1);
    expect(v.qbo).toHaveLength(1);
    // A card declined while the client was on the page is not dunned.
    const failures = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('payment_failures').select('id').where('payment_id', 'in', ids).execute(),
    );
    expect(failures).toHaveLength(0);
    await page.close();
  });
});
