// Settings → Webhooks in a real browser, on real PostgreSQL with Settle and its worker running and a real
// receiver: the owner finds the page under Settings, is refused a URL that is not one and a subscription with
// no events (nothing saved), adds one (the secret shown once), sees a delivery in the log after an event,
// changes the events, rotates the secret, replays a delivery (it arrives again, same event id) and disables
// it — each change in the audit log. A viewer reads the page without the forms. Axe clean; no sideways
// scroll at 360 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { checkStaffPage, signInStaff } from '../helpers/staff-pages.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { hashPassword } from '../../src/http/passwords.ts';
import { reconciledPayout } from '../helpers/webhook-changes.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';
import { verifySignature } from '../../src/engine/webhooks-out/signing.ts';

const LONG = 60_000;
const OWNER = { workspace: 'acme-it', email: 'owner@acme.test', password: 'correct horse battery' };
const VIEWER = { workspace: 'acme-it', email: 'viewer@acme.test', password: 'viewer horse battery' };

let stack: Stack;
let browser: Browser;
let receiver: Receiver;
const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);

beforeAll(async () => {
  if (!haveBrowser) return;
  stack = await startStack({ companies: 1, invoices: 2, env: { SETTLE_WEBHOOKS_ALLOW_PRIVATE: '1' } });
  browser = await launchBrowser();
  receiver = await startReceiver();
  const password_hash = await hashPassword(VIEWER.password);
  await q((tx) => tx.insertInto('users').values({ tenant_id: stack.tenantId, email: VIEWER.email, name: 'viewer', role: 'viewer', password_hash }).execute());
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await stack?.close();
});

describe.runIf(haveBrowser)('webhooks in the browser', () => {
  it('adds a webhook, shows its deliveries, changes, rotates, replays and disables it', { timeout: 300_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await signInStaff(context, stack.settleUrl, OWNER, LONG);
    const base = stack.settleUrl;

    await page.goto(`${base}/app/settings`);
    await Promise.all([page.waitForURL(`${base}/app/settings/webhooks`), page.click('a[href="/app/settings/webhooks"]')]);
    await checkStaffPage(page, '/app/settings/webhooks');

    // Not a URL, and no events: refused with what to do; nothing saved.
    await page.fill('#url', 'hooks.example');
    await page.check('#event-payout\\.reconciled');
    await Promise.all([page.waitForSelector('.error-summary', { timeout: LONG }), page.click('#add-webhook-button')]);
    expect(await page.locator('.error-summary').textContent()).toMatch(/is not a URL: give the full address of your receiver/);
    await page.fill('#url', receiver.url);
    await page.uncheck('#event-payout\\.reconciled');
    await Promise.all([page.waitForSelector('.error-summary', { timeout: LONG }), page.click('#add-webhook-button')]);
    expect(await page.locator('.error-summary').textContent()).toMatch(/choose at least one event type/);
    expect(await q((tx) => tx.selectFrom('webhook_subscriptions').select('id').execute())).toEqual([]);

    // Added: the secret is shown this once.
    await page.check('#event-payout\\.reconciled');
    await page.fill('#description', 'our PSA bridge');
    await Promise.all([page.waitForSelector('#new-secret', { timeout: LONG }), page.click('#add-webhook-button')]);
    const secret = (await page.locator('#new-secret').textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    const sub = await q((tx) => tx.selectFrom('webhook_subscriptions').select(['id', 'event_types']).executeTakeFirstOrThrow());
    await checkStaffPage(page, '/app/settings/webhooks/:id with its new secret');

    // An event: it arrives signed, and the log shows it delivered.
    const payout = await q((tx) => reconciledPayout(tx, stack.tenantId));
    const got = await eventually(async () => receiver.received.find((r) => r.body.includes(payout)), LONG, 'the delivery at the receiver');
    expect(verifySignature(String(got.headers['settle-signature']), got.body, secret, Math.floor(got.at / 1000))).toBe(true);
    await eventually(
      async () => {
        await page.goto(`${base}/app/settings/webhooks/${sub.id}`);
        return /delivered/.test(
          (await page
            .locator('#deliveries')
            .textContent()
            .catch(() => '')) ?? '',
        );
      },
      LONG,
      'the log shows the delivery',
    );
    expect(await page.locator(`#deliveries tr[data-event="${got.eventId}"]`).count()).toBe(1);
    await checkStaffPage(page, '/app/settings/webhooks/:id with its log');

    // Change the events.
    await page.check('#event-invoice\\.paid');
    await Promise.all([page.waitForURL(/saved=1/), page.click('#save-webhook')]);
    expect((await q((tx) => tx.selectFrom('webhook_subscriptions').select('event_types').executeTakeFirstOrThrow())).event_types).toEqual([
      'invoice.paid',
      'payout.reconciled',
    ]);

    // Rotate: a new secret shown, the old one still signs beside it.
    await Promise.all([page.waitForSelector('#new-secret', { timeout: LONG }), page.click('#rotate-secret')]);
    const fresh = (await page.locator('#new-secret').textContent())!.trim();
    expect(fresh).not.toBe(secret);
    expect(await page.locator('#rotation').textContent()).toMatch(/previous secret still signs/);

    // Replay the delivery: the same event arrives again, signed with both secrets.
    const n = receiver.received.length;
    await Promise.all([page.waitForURL(/replayed=1/), page.click(`#deliveries tr[data-event="${got.eventId}"] button`)]);
    const again = await eventually(async () => receiver.received.slice(n).find((r) => r.eventId === got.eventId), LONG, 'the replay at the receiver');
    expect(again.body).toBe(got.body);
    expect(verifySignature(String(again.headers['settle-signature']), again.body, fresh, Math.floor(again.at / 1000))).toBe(true);
    expect(verifySignature(String(again.headers['settle-signature']), again.body, secret, Math.floor(again.at / 1000))).toBe(true);

    // Disable: no new events go out.
    await Promise.all([page.waitForURL(/saved=1/), page.click('#disable-webhook')]);
    expect(await page.locator('#webhook-state').textContent()).toMatch(/disabled/);
    const m = receiver.received.length;
    await q((tx) => reconciledPayout(tx, stack.tenantId));
    expect(await q((tx) => tx.selectFrom('webhook_deliveries').select('id').where('status', '=', 'pending').execute())).toEqual([]);
    expect(receiver.received.length).toBe(m);

    const actions = await q((tx) => tx.selectFrom('audit_log').select('action').where('subject_id', '=', sub.id).orderBy('id').execute());
    expect(actions.map((a) => a.action)).toEqual([
      'webhook.subscription_created',
      'webhook.subscription_changed',
      'webhook.secret_rotated',
      'webhook.delivery_replayed',
      'webhook.subscription_disabled',
    ]);
    await context.close();
  });

  it('shows a viewer the webhooks and the log without the forms; a direct POST is refused', { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await signInStaff(context, stack.settleUrl, VIEWER, LONG);
    await page.goto(`${stack.settleUrl}/app/settings/webhooks`);
    expect(await page.locator('#read-only').count()).toBe(1);
    expect(await page.locator('#add-webhook').count()).toBe(0);
    const sub = await q((tx) => tx.selectFrom('webhook_subscriptions').select('id').executeTakeFirstOrThrow());
    await page.goto(`${stack.settleUrl}/app/settings/webhooks/${sub.id}`);
    expect(await page.locator('#rotate-form').count()).toBe(0);
    expect(await page.locator('#deliveries').count()).toBe(1);
    const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const r = await page.request.post(`${stack.settleUrl}/app/settings/webhooks/${sub.id}/rotate`, { form: { _csrf: csrf, overlap_hours: '0' } });
    expect(r.status()).toBe(403);
    await context.close();
  });
});
