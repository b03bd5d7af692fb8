// Issue #8 item 3 in a real browser: what the issue reproduced — a page on another port of the same host
// (same-site, not same-origin), opened by a signed-in staff member, posting a form with the staff cookie to
// Settle — is refused and changes nothing, while the staff member's own sign-in and forms work as before.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { haveBrowser, launchBrowser } from '../helpers/browser.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually } from '../helpers/stack.ts';
import { OWNER, startLeanSettle, type LeanSettle } from '../security/lean-settle.ts';

let s: LeanSettle;
let browser: Browser;
let evil: http.Server;
let evilUrl = '';

beforeAll(async () => {
  if (!haveBrowser) return;
  s = await startLeanSettle({});
  browser = await launchBrowser();
  // The attacker's page: auto-submitting forms aimed at Settle (the API with a form body, and a staff form).
  evil = http.createServer((req, res) => {
    const target = req.url === '/api' ? `${s.base}/api/v1/autopay/rules` : `${s.base}/logout`;
    res.setHeader('content-type', 'text/html');
    res.end(`<!doctype html><form id="f" method="post" action="${target}"><input name="name" value="Forged rule"></form>
      <script>document.getElementById('f').submit()</script>`);
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
  evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (evil ? evil.close(r) : r(null)));
  await s?.close();
});

const LONG = 60_000;

describe.runIf(haveBrowser)('CSRF in a browser', () => {
  it('staff sign in through the form; a same-site page elsewhere cannot post with their cookie', async () => {
    const context = await browser.newContext();
    const staff = await context.newPage();
    await staff.goto(`${s.base}/login`);
    await staff.fill('input[name=workspace]', OWNER.workspace);
    await staff.fill('input[name=email]', OWNER.email);
    await staff.fill('input[name=password]', OWNER.password);
    await Promise.all([staff.waitForURL(/\/app$/, { timeout: LONG }), staff.click('button[type=submit]')]);

    const rules = () => withTenant(s.database.db, s.tenantId, (tx) => tx.selectFrom('autopay_rules').select('id').execute());
    const before = (await rules()).length;

    // The forged API call: a form post with the session cookie attached — 401, the API takes API keys only.
    const api = await context.newPage();
    const apiAnswer = api.waitForResponse((r) => r.url().startsWith(`${s.base}/api/v1/`), { timeout: LONG });
    await api.goto(`${evilUrl}/api`);
    expect((await apiAnswer).status()).toBe(401);

    // The forged staff form (sign-out): 403, and the session is still there.
    const form = await context.newPage();
    const formAnswer = form.waitForResponse((r) => r.url() === `${s.base}/logout`, { timeout: LONG });
    await form.goto(`${evilUrl}/staff`);
    expect((await formAnswer).status()).toBe(403);
    expect(await form.content()).toContain('sent from another site');

    await staff.reload();
    await eventually(async () => /\/app$/.test(staff.url()), LONG, 'still signed in');
    expect(await staff.locator('#sign-out').count()).toBe(1);
    expect((await rules()).length).toBe(before);

    // The staff member's own Sign out button (same origin, with the token) works.
    await Promise.all([staff.waitForURL(/\/login/, { timeout: LONG }), staff.click('#sign-out')]);
    await context.close();
  }, 180_000);
});
