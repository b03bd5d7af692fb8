// Issue #12 "Client portal, complete", in a real browser on real PostgreSQL and the simulators (ConnectWise,
// Stripe, the bank's SFTP): every portal page fits 360 px and is axe clean; the invoice page shows the lines,
// the PSA's PDF, the payments and their receipts (PDF, and e-mailed on request); a client saves a card through
// the hosted fields, chooses the default, removes one, enrols in autopay (the MSP's terms and notice policy
// shown, consent stored with time and IP, a copy e-mailed) and is charged on the due date by the autopay run,
// then leaves autopay; a client authorises a bank account (the mandate filled in, no "{msp}") and pays by
// NACHA debit; an expired link e-mails a fresh one to the billing contact, at most three a day.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { expectAccessible, expectNoHorizontalScroll } from '../helpers/axe.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { eventually, openInvoices } from '../helpers/stack.ts';
import { addDays, apiFor, intentsForInvoice, newCompany, newInvoice, product, runOn, scheduleOf, todayUtc, type Api } from '../helpers/autopay.ts';
import { startBankAchStack, type BankAchStack } from '../integration/bank-ach-stack.ts';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import { portalSecretOf } from '../../src/db/portal-secret.ts';
import { signToken } from '../../src/http/signed-token.ts';
import { RENEWALS_PER_DAY } from '../../src/http/portal/renew-link.ts';
import { saveBranding } from '../../src/engine/branding.ts';
import { signInStaff } from '../helpers/staff-pages.ts';

const LONG = 60_000; // generous: the machine may be busy
const today = todayUtc();

let smtp: TestSmtp;
let s: BankAchStack;
let browser: Browser;
let api: Api;
beforeAll(async () => {
  if (!haveBrowser) return;
  smtp = await startTestSmtp();
  s = await startBankAchStack({ companies: 3, invoices: 9, smtpUrl: smtp.url });
  api = apiFor(s.stack, await s.stack.apiKey());
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
  await smtp?.close();
});

const q = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => withTenant(s.stack.database.db, s.stack.tenantId, fn);

/** axe clean at desktop width and at 360 px, nothing sideways at 360 px; back to desktop after. */
async function checkPortalPage(page: Page, label: string): Promise<void> {
  await expectAccessible(page, label);
  await expectNoHorizontalScroll(page, label);
  await expectAccessible(page, `${label} at 360 px`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function open(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${s.stack.settleUrl}${path}`);
  return page;
}

async function expiredToken(clientId: string): Promise<string> {
  const secret = (await portalSecretOf(s.stack.database.db, s.box, s.stack.tenantId))!;
  return signToken({ t: s.stack.tenantId, c: clientId, exp: Math.floor(Date.now() / 1000) - 60 }, secret);
}

/** Type a test card into the hosted fields on the methods page and save it; back on the page with "saved". */
async function saveCardInPortal(page: Page, card: string): Promise<void> {
  await page.click('#add-method');
  const frame = page.frameLocator('#payment-element iframe');
  await frame.locator('[data-testid=card-number]').fill(card, { timeout: LONG });
  await frame.locator('[data-testid=card-expiry]').fill('12 / 34');
  await frame.locator('[data-testid=card-cvc]').fill('123');
  await Promise.all([page.waitForURL(/done=saved/, { timeout: LONG }), page.click('#save-method')]);
}

const mailsTo = (to: string) => smtp.received.filter((m) => m.to.includes(to));

describe.skipIf(!haveBrowser)('client portal, complete', () => {
  it('every portal page fits 360 px and is axe clean; amounts in the currency, no placeholders or internal words', async () => {
    const [invoice] = await openInvoices(s.stack);
    const token = await s.stack.portalToken(invoice!.client_id);
    const pages: [string, string][] = [
      ['invoices', `/portal/${token}`],
      ['invoice detail', `/portal/${token}/invoices/${invoice!.id}`],
      ['saved methods and autopay', `/portal/${token}/methods`],
      ['bank account', `/portal/${token}/bank-account`],
      ['pay in parts', `/portal/${token}/plan/${invoice!.id}`],
      ['expired link', `/portal/${await expiredToken(invoice!.client_id)}`],
    ];
    // The MSP's colour from Settings → Branding is on every page of the link (the expired one names no one).
    await saveBranding(s.stack.database.db, s.stack.tenantId, { primaryColor: '#0b5394', senderName: '', replyTo: '' }, 'system:test');
    for (const [label, path] of pages) {
      const page = await open(path);
      if (label !== 'expired link') expect(await page.locator('link[rel=stylesheet][href*="/brand.css?v=0b5394"]').count(), label).toBe(1);
      await checkPortalPage(page, label);
      const text = (await page.locator('main').textContent()) ?? '';
      expect(text, label).not.toMatch(/minor units|_minor|\{msp\}|\{client\}|undefined|null/);
      await page.close();
    }

    const detail = await open(`/portal/${token}/invoices/${invoice!.id}`);
    expect(await detail.locator('h1').textContent()).toBe(`Invoice ${invoice!.number}`);
    expect(await detail.locator('#invoice-lines tbody tr').count()).toBeGreaterThan(0);
    expect(await detail.locator('#invoice-total').textContent()).toMatch(/^\$[\d,]+\.\d\d$/);
    // The PSA's own PDF of the invoice (ConnectWise's /finance/invoices/{id}/pdf), through Settle.
    const pdfHref = await detail.locator('#invoice-pdf').getAttribute('href');
    const pdf = await fetch(`${s.stack.settleUrl}${pdfHref}`);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    await detail.close();

    // The debit authorization names the MSP and the client; nothing left as a placeholder.
    const bank = await open(`/portal/${token}/bank-account`);
    const mandate = (await bank.locator('#mandate').textContent()) ?? '';
    const names = await q((tx) => tx.selectFrom('clients').select('name').where('id', '=', invoice!.client_id).executeTakeFirstOrThrow());
    expect(mandate).toMatch(/^I authorize Acme IT to electronically debit/);
    expect(mandate).toContain((names as { name: string }).name);
    expect(mandate).not.toMatch(/\{\w+\}/);
    await bank.close();

    // An amount over what is owed is refused in money, not in minor units.
    const over = await fetch(`${s.stack.settleUrl}/portal/${token}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoices: [{ invoice_id: invoice!.id, amount: '99999.99' }], method: 'card' }),
    });
    expect(over.status).toBe(422);
    const refused = ((await over.json()) as { error: { message: string } }).error.message;
    expect(refused).toMatch(/left to pay; \$99,999\.99 is more than that — enter at most \$[\d,]+\.\d\d$/);
    expect(refused).not.toMatch(/minor/);
  }, 240_000);

  it('a client saves cards, chooses the default, removes one, enrols in autopay, is charged on the due date, gets receipts, and leaves', async () => {
    const company = newCompany(s.stack, 'Portal Autopay Dental');
    const dueOn = addDays(today, 6);
    const inv = await newInvoice(s.stack, company, { date: today, dueDate: dueOn, lines: [product('Managed Workstation', '40.00', 3)] });
    const rule = await api('POST', '/autopay/rules', { name: 'On the due date', client_id: inv.clientId, anchor: 'due_date', offset_days: 0 });
    expect(rule.status).toBe(201);
    const token = await s.stack.portalToken(inv.clientId);
    const page = await open(`/portal/${token}/methods`);
    // No method yet: the terms are shown, enrolment waits for a saved method.
    expect(await page.locator('#autopay-terms').textContent()).toMatch(/charged on its due date.*at least 3 days ahead \(the pre-debit notice\)/);
    expect(await page.locator('#autopay-form').count()).toBe(0);

    await saveCardInPortal(page, '4242 4242 4242 4242');
    expect(await page.locator('.method').count()).toBe(1);
    expect(await page.locator('.method').first().textContent()).toMatch(/Visa ending 4242[\s\S]*Default/);
    await saveCardInPortal(page, '5555 5555 5555 4444');
    const master = page.locator('.method', { hasText: 'ending 4444' });
    expect(await master.locator('.pill').count()).toBe(0); // a second card does not take the default by itself
    await Promise.all([page.waitForURL(/done=default/, { timeout: LONG }), master.locator('button', { hasText: 'Make default' }).click()]);
    expect(await page.locator('.method', { hasText: 'ending 4444' }).locator('.pill').textContent()).toBe('Default');
    // Remove the Visa: detached at Stripe, gone from the page, never chosen by autopay.
    const visaId = await page.locator('.method', { hasText: 'ending 4242' }).getAttribute('data-method');
    await Promise.all([
      page.waitForURL(/done=removed/, { timeout: LONG }),
      page.locator('.method', { hasText: 'ending 4242' }).locator('button', { hasText: 'Remove' }).click(),
    ]);
    expect(await page.locator('.method').count()).toBe(1);
    const removed = await q((tx) =>
      tx.selectFrom('payment_methods').select(['removed_at', 'processor_method_id']).where('id', '=', visaId!).executeTakeFirstOrThrow(),
    );
    const r = removed as { removed_at: Date | null; processor_method_id: string };
    expect(r.removed_at).not.toBeNull();
    expect(s.stack.sims.stripe.sim.store.paymentMethods.get(r.processor_method_id)?.customer ?? null).toBeNull();
    // Staff no longer see it among the client's methods, and cannot charge it.
    const listed = await api('GET', `/clients/${inv.clientId}/payment-methods`);
    expect(listed.body.data.map((m: { id: string }) => m.id)).not.toContain(visaId);
    const onRemoved = await api('POST', '/payments', { payment_method_id: visaId, invoices: [{ invoice_id: inv.id }] });
    expect(onRemoved.status).toBe(409);
    expect(onRemoved.body.error.message).toMatch(/removed by the client in the portal/);
    await checkPortalPage(page, 'saved methods');

    // Enrol: without ticking the box nothing changes and the page says what to do.
    await page.click('#enrol-autopay');
    await page.locator('#message').filter({ hasText: /Tick/ }).waitFor({ timeout: LONG });
    expect(await q((tx) => tx.selectFrom('autopay_consents').select('id').where('client_id', '=', inv.clientId).execute())).toEqual([]);
    const terms = (await page.locator('#autopay-terms').textContent())!;
    await page.check('#autopay-agree');
    await Promise.all([page.waitForURL(/done=enrolled/, { timeout: LONG }), page.click('#enrol-autopay')]);
    expect(await page.locator('#autopay-state').textContent()).toMatch(/You are enrolled.*Mastercard ending 4444/);
    await checkPortalPage(page, 'autopay enrolled');
    const consent = (await q((tx) => tx.selectFrom('autopay_consents').selectAll().where('client_id', '=', inv.clientId).executeTakeFirstOrThrow())) as {
      terms_text: string;
      accepted_ip: string;
      accepted_at: Date;
      left_at: Date | null;
    };
    expect(consent.terms_text).toBe(terms);
    expect(consent.accepted_ip).toMatch(/127\.0\.0\.1|::1/);
    expect(Math.abs(consent.accepted_at.getTime() - Date.now())).toBeLessThan(10 * 60_000);
    const billing = 'ap@portalautopaydental.example';
    await eventually(async () => mailsTo(billing).some((m) => m.subject.startsWith('Your autopay authorisation')), LONG, 'the copy of the authorisation');
    expect(mailsTo(billing).find((m) => m.subject.startsWith('Your autopay authorisation'))!.raw).toContain('pre-debit notice');
    // Staff see on the client's page that the client enrolled themselves, when, from where, and on what terms.
    const staffContext = await browser.newContext();
    const staff = await signInStaff(
      staffContext,
      s.stack.settleUrl,
      { workspace: s.stack.slug, email: 'owner@acme.test', password: 'correct horse battery' },
      LONG,
    );
    await staff.goto(`${s.stack.settleUrl}/app/clients/${inv.clientId}`);
    expect(await staff.locator('#autopay-consent').textContent()).toMatch(
      /enrolled in autopay in the portal on \d{4}-\d\d-\d\d \d\d:\d\d UTC from .*(127\.0\.0\.1|::1)/,
    );
    await staffContext.close();

    // The existing autopay run: notice three days ahead, the charge on the due date, to the chosen default.
    await runOn(s.stack, today);
    expect((await scheduleOf(s.stack, inv.id))!.state).toBe('pending_notice');
    await runOn(s.stack, addDays(dueOn, -3));
    expect((await scheduleOf(s.stack, inv.id))!.state).toBe('noticed');
    await runOn(s.stack, addDays(dueOn, -1));
    expect(await intentsForInvoice(s.stack, inv.id)).toEqual([]);
    const onDue = await runOn(s.stack, dueOn);
    expect(onDue.charged).toBe(1);
    expect(await intentsForInvoice(s.stack, inv.id)).toEqual([expect.objectContaining({ amount: 12000, status: 'succeeded' })]);

    // The invoice page: the payment with its receipt as a PDF and by e-mail.
    const detail = await open(`/portal/${token}/invoices/${inv.id}`);
    await eventually(
      async () => {
        await detail.reload();
        return (await detail.locator('#payment-history .pill.ok').count()) === 1;
      },
      LONG,
      'the autopay payment shown as paid',
    );
    expect(await detail.locator('#payment-history').textContent()).toMatch(/Mastercard ending 4444[\s\S]*\$120\.00/);
    await checkPortalPage(detail, 'invoice detail with a payment');
    const receiptHref = await detail.locator('a.receipt-pdf').getAttribute('href');
    const receipt = await fetch(`${s.stack.settleUrl}${receiptHref}`);
    expect(receipt.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await receipt.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    const receiptsBefore = mailsTo(billing).filter((m) => /receipt/i.test(m.subject)).length;
    await detail.locator('#payment-history button', { hasText: 'E-mail it to me' }).click();
    await detail
      .locator('.form-message')
      .filter({ hasText: /on its way to a…@portalautopaydental\.example/ })
      .waitFor({ timeout: LONG });
    await eventually(async () => mailsTo(billing).filter((m) => /receipt/i.test(m.subject)).length > receiptsBefore, LONG, 'the receipt e-mailed again');
    await detail.close();

    // Leaving: switched off at once, the consent stamped.
    await page.goto(`${s.stack.settleUrl}/portal/${token}/methods`);
    await Promise.all([page.waitForURL(/done=left/, { timeout: LONG }), page.click('#leave-autopay')]);
    const after = (await q((tx) => tx.selectFrom('clients').select('autopay_enabled').where('id', '=', inv.clientId).executeTakeFirstOrThrow())) as {
      autopay_enabled: boolean;
    };
    expect(after.autopay_enabled).toBe(false);
    const left = (await q((tx) => tx.selectFrom('autopay_consents').select('left_at').where('client_id', '=', inv.clientId).executeTakeFirstOrThrow())) as {
      left_at: Date | null;
    };
    expect(left.left_at).not.toBeNull();
    await page.close();
  }, 300_000);

  it('a client not in the pilot is not offered autopay', async () => {
    const company = newCompany(s.stack, 'Not In Pilot Dental');
    const inv = await newInvoice(s.stack, company, { date: today, dueDate: addDays(today, 10), lines: [product('Backup', '10.00')] });
    await api('POST', '/autopay/rules', { name: 'Not-pilot rule', client_id: inv.clientId });
    const off = await api('PUT', `/autopay/clients/${inv.clientId}`, { collection_enabled: false });
    expect(off.status).toBe(200);
    const token = await s.stack.portalToken(inv.clientId);
    const page = await open(`/portal/${token}/methods`);
    expect(await page.locator('#autopay-state').textContent()).toMatch(/not offered for your account/);
    expect(await page.locator('#autopay-form').count()).toBe(0);
    const forced = await fetch(`${s.stack.settleUrl}/portal/${token}/autopay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agree: 'yes', terms_sha256: 'a'.repeat(64) }),
    });
    expect(forced.status).toBe(409);
    await page.close();
  }, 120_000);

  it('a client authorises a bank account and pays by NACHA debit from the portal', async () => {
    const clientId = (await openInvoices(s.stack))[0]!.client_id; // only looked at by the first test
    const token = await s.stack.portalToken(clientId);
    // Reached from the portal's own navigation, not only by a typed address.
    const page = await open(`/portal/${token}`);
    await Promise.all([page.waitForURL(/bank-account$/, { timeout: LONG }), page.click('nav.portal-nav >> text=Pay from a bank account')]);
    await page.getByLabel('Account holder name').fill('Pat Example');
    await page.getByLabel('Routing number').fill('021000021');
    await page.getByLabel('Account number').fill('000123456789');
    await page.check('input[name=agree]');
    await Promise.all([page.waitForURL(/authorized=6789/, { timeout: LONG }), page.click('#bank-form button[type=submit]')]);
    expect(await page.locator('#notice').textContent()).toContain('ending 6789');
    await checkPortalPage(page, 'bank account with an authorized account');
    const mandate = (await q((tx) =>
      tx
        .selectFrom('ach_mandates as m')
        .innerJoin('ach_bank_accounts as a', 'a.id', 'm.bank_account_id')
        .select('m.text')
        .where('a.client_id', '=', clientId)
        .executeTakeFirstOrThrow(),
    )) as { text: string };
    expect(mandate.text).toContain('ending in 6789');
    expect(mandate.text).not.toMatch(/\{\w+\}/);

    await page.click('#pay-bank');
    await page.locator('#pay-done').waitFor({ timeout: LONG });
    expect(await page.locator('#pay-done').textContent()).toMatch(/Your payment of \$[\d,]+\.\d\d is on its way/);
    const payment = (await q((tx) =>
      tx
        .selectFrom('payments')
        .select(['state', 'processor', 'source'])
        .where('client_id', '=', clientId)
        .where('processor', '=', 'bank-ach')
        .executeTakeFirstOrThrow(),
    )) as { state: string; source: string };
    expect(payment).toMatchObject({ state: 'processing', source: 'portal' });
    // Its invoices are no longer offered (money on its way is never offered again).
    await page.goto(`${s.stack.settleUrl}/portal/${token}`);
    expect(await page.locator('input[name=invoice]').count()).toBe(0);
    await page.close();
  }, 180_000);

  it('an expired link e-mails a fresh one to the billing contact, at most three a day, and says the same for any link', async () => {
    const company = newCompany(s.stack, 'Expired Link Dental');
    const inv = await newInvoice(s.stack, company, { date: today, dueDate: addDays(today, 10), lines: [product('Firewall', '25.00')] });
    const billing = 'ap@expiredlinkdental.example';
    const expired = await expiredToken(inv.clientId);
    const page = await open(`/portal/${expired}`);
    expect(await page.locator('#refused').textContent()).toContain('expired');
    await page.click('#renew');
    await page
      .locator('#renew-form .form-message')
      .filter({ hasText: /new one is on its way/ })
      .waitFor({ timeout: LONG });
    await eventually(async () => mailsTo(billing).length === 1, LONG, 'the fresh link');
    // The link's path (the e-mail names Settle's public address; the test reaches it at settleUrl).
    const path = /\/portal\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.exec(mailsTo(billing)[0]!.raw.replace(/=\r?\n/g, ''))![0];
    const fresh = await fetch(`${s.stack.settleUrl}${path}`);
    expect(fresh.status).toBe(200);
    await page.close();

    // More presses the same day: the same answer, no more than RENEWALS_PER_DAY e-mails.
    for (let i = 0; i < RENEWALS_PER_DAY + 2; i++) {
      const r = await fetch(`${s.stack.settleUrl}/portal/${expired}/renew`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(r.status).toBe(200);
    }
    const queued = (await q((tx) =>
      tx.selectFrom('notifications').select('id').where('client_id', '=', inv.clientId).where('kind', '=', 'portal_link').execute(),
    )) as unknown[];
    expect(queued).toHaveLength(RENEWALS_PER_DAY);
    // A link Settle did not sign cannot ask at all (nothing to enumerate), and a valid link has nothing to renew.
    const forged = await fetch(`${s.stack.settleUrl}/portal/${expired.slice(0, -4)}AAAA/renew`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(forged.status).toBe(403);
    const current = await fetch(`${s.stack.settleUrl}/portal/${await s.stack.portalToken(inv.clientId)}/renew`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(current.status).toBe(403);
  }, 180_000);
});
