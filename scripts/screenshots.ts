// `npm run screenshots`: regenerate docs/screenshots/*.png, the pictures docs/screenshots.md shows.
// Starts Settle exactly as `npm start` does (embedded PostgreSQL, the demo workspace on the three vendor
// simulators), but in a throwaway data directory and on its own ports so it never touches a running
// Settle; pays one invoice in the client portal the way a client does (hosted fields, test card), then
// signs in as the demo's owner and photographs the main staff pages — each at a desktop width and at a
// 360 px phone width. Browser: Debian's chromium through playwright-core, as the browser tests use.
//   SCREENSHOT_PORT   Settle's port (default 4710; the demo's simulators take the next three)
//   CHROMIUM_PATH     the browser (default /usr/bin/chromium)
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'docs', 'screenshots');
const port = Number(process.env.SCREENSHOT_PORT ?? 4710);
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 360, height: 780 };
const STARTUP_MS = 8 * 60_000; // the first start creates a PostgreSQL cluster; slow on a busy machine
const STEP_MS = 90_000;

interface Demo {
  readonly child: ChildProcess;
  readonly url: string;
  readonly portal: string;
  readonly signIn: { workspace: string; email: string; password: string };
}

/** `settle start` in a fresh data dir; resolves once the demo banner (sign-in and portal link) is printed. */
async function startDemo(dataDir: string): Promise<Demo> {
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href, path.join(root, 'src/cli/main.ts'), 'start'],
    {
      cwd: root,
      env: {
        ...process.env,
        SETTLE_DATA_DIR: dataDir,
        PORT: String(port),
        SETTLE_PG_PORT: String(port + 10),
        SETTLE_DEMO: 'on',
        // No new invoice every few seconds: the pictures should not depend on when they were taken.
        SETTLE_DEMO_INVOICE_EVERY_MS: '0',
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => process.stderr.write(b));
  const deadline = Date.now() + STARTUP_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`settle start exited with ${child.exitCode}:\n${out}`);
    const portal = /Client portal\s+(\S+)/.exec(out)?.[1];
    const staff = /Staff app\s+(\S+)\/app/.exec(out)?.[1];
    const login = /Sign in\s+workspace "([^"]+)", (\S+) \/ (\S+)/.exec(out);
    if (portal && staff && login) return { child, url: staff, portal, signIn: { workspace: login[1]!, email: login[2]!, password: login[3]! } };
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill('SIGTERM');
  throw new Error(`the demo did not start within ${STARTUP_MS / 1000} s:\n${out}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

const written: string[] = [];

/** One picture of what the page shows now at `size` (the top of the page: what a person sees first). */
async function shoot(page: Page, name: string, size: { width: number; height: number }): Promise<void> {
  await page.setViewportSize(size);
  // Charts and stacked tables re-lay out on resize; give the page a moment to settle.
  // (The processor's hosted fields keep a connection open, so "network idle" is only waited for briefly.)
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => undefined);
  await page.waitForTimeout(300);
  const file = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled' });
  written.push(path.relative(root, file));
  console.log(`  ${path.relative(root, file)}`);
}

/** Open `url` and take it at both widths. */
async function both(page: Page, url: string, name: string): Promise<void> {
  await page.goto(url, { timeout: STEP_MS });
  await shoot(page, name, DESKTOP);
  await shoot(page, `${name}-360`, PHONE);
  await page.setViewportSize(DESKTOP);
}

/** The portal as a client sees it: the invoices, the hosted card form, then the thank-you page. Returns the invoice paid. */
async function portalPictures(context: BrowserContext, demo: Demo): Promise<string> {
  const page = await context.newPage();
  await both(page, demo.portal, 'portal-invoices');
  // Pay only the first invoice, as a client paying one bill would.
  const boxes = page.locator('input[name=invoice]');
  const invoiceId = (await boxes.first().getAttribute('value'))!;
  const n = await boxes.count();
  for (let i = 1; i < n; i++) await boxes.nth(i).uncheck();
  await page.click('#continue');
  const frame = page.frameLocator('iframe');
  await frame.locator('[data-testid=card-number]').fill('4242 4242 4242 4242', { timeout: STEP_MS });
  await frame.locator('[data-testid=card-expiry]').fill('12 / 34');
  await frame.locator('[data-testid=card-cvc]').fill('123');
  await shoot(page, 'portal-pay', DESKTOP);
  await shoot(page, 'portal-pay-360', PHONE);
  await page.setViewportSize(DESKTOP);
  await page.click('#confirm');
  await page.waitForURL(/\?paid=/, { timeout: STEP_MS });
  await page.locator('#paid').waitFor({ timeout: STEP_MS });
  const thanks = page.url();
  await both(page, thanks, 'portal-thank-you');
  await page.close();
  return invoiceId;
}

async function signIn(context: BrowserContext, demo: Demo): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${demo.url}/login`, { timeout: STEP_MS });
  await page.fill('input[name=workspace]', demo.signIn.workspace);
  await page.fill('input[name=email]', demo.signIn.email);
  await page.fill('input[name=password]', demo.signIn.password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: STEP_MS }), page.click('button[type=submit]')]);
  return page;
}

/** Wait (polling the page) until the paid invoice's page says it is paid, so its timeline has the postings. */
async function invoicePaid(page: Page, url: string): Promise<void> {
  const deadline = Date.now() + STEP_MS * 2;
  while (Date.now() < deadline) {
    await page.goto(url, { timeout: STEP_MS });
    const text = (await page.locator('main').textContent()) ?? '';
    if (/QuickBooks/i.test(text) && /\bpaid\b/i.test(text)) return;
    await page.waitForTimeout(2000);
  }
}

async function staffPictures(context: BrowserContext, demo: Demo, invoiceId: string): Promise<void> {
  const page = await signIn(context, demo);
  const app = `${demo.url}/app`;
  await both(page, app, 'staff-dashboard');
  await both(page, `${app}/invoices`, 'staff-invoices');
  await invoicePaid(page, `${app}/invoices/${invoiceId}`);
  await both(page, `${app}/invoices/${invoiceId}`, 'staff-invoice-timeline');
  const client = await page.locator('main a[href^="/app/clients/"]').first().getAttribute('href');
  if (client) await both(page, `${demo.url}${client}`, 'staff-client');
  await both(page, `${app}/attention`, 'staff-needs-attention');
  await both(page, `${app}/payments`, 'staff-payments');
  await both(page, `${app}/payouts`, 'staff-payouts');
  await both(page, `${app}/autopay`, 'staff-autopay');
  await both(page, `${app}/connections`, 'staff-connections');
  await both(page, `${app}/setup`, 'staff-setup-wizard');
  await both(page, `${app}/settings`, 'staff-settings');
  await page.close();
}

async function main(): Promise<void> {
  fs.mkdirSync(outDir, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-screenshots-'));
  console.log(`Starting the demo (data in ${dataDir}) …`);
  const demo = await startDemo(dataDir);
  // Interrupted (Ctrl-C): stop the demo's Settle and its PostgreSQL rather than leave them running.
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      void stop(demo.child).finally(() => {
        fs.rmSync(dataDir, { recursive: true, force: true });
        process.exit(130);
      });
    });
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1, reducedMotion: 'reduce' });
    console.log('Client portal:');
    const invoiceId = await portalPictures(context, demo);
    console.log('Staff app:');
    await staffPictures(context, demo, invoiceId);
    await context.close();
  } finally {
    await browser.close();
    await stop(demo.child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`${written.length} screenshots in ${path.relative(root, outDir)}/ (shown by docs/screenshots.md)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
