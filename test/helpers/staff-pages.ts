// Browser-test steps every staff page test takes: sign in through the real form, and check a page the way the
// issue asks (axe clean, nothing scrolls sideways at 360 px) before going back to a desktop width.
import type { BrowserContext, Page } from 'playwright-core';
import { expectAccessible, expectNoHorizontalScroll } from './axe.ts';

export interface StaffLogin {
  readonly workspace: string;
  readonly email: string;
  readonly password: string;
}

/** Signs in on /login and waits until the browser has left the sign-in page. */
export async function signInStaff(context: BrowserContext, baseUrl: string, who: StaffLogin, timeoutMs: number): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/login`);
  await page.fill('input[name=workspace]', who.workspace);
  await page.fill('input[name=email]', who.email);
  await page.fill('input[name=password]', who.password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: timeoutMs }), page.click('button[type=submit]')]);
  return page;
}

/** axe clean and no sideways scroll at 360 px, then back to 1280 × 800. */
/** axe clean as it is and again at 360 px with no sideways scroll, then back to the desktop width. */
export async function checkPageAlsoAt360(page: Page, label: string): Promise<void> {
  await expectAccessible(page, label);
  await expectNoHorizontalScroll(page, label);
  await expectAccessible(page, `${label} at 360 px`);
  await page.setViewportSize({ width: 1200, height: 900 });
}

export async function checkStaffPage(page: Page, label: string): Promise<void> {
  await expectAccessible(page, label);
  await expectNoHorizontalScroll(page, label);
  await page.setViewportSize({ width: 1280, height: 800 });
}
