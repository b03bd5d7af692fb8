// Accessibility and small-screen checks for browser tests: axe-core (the file from node_modules, injected
// into the page) must find no critical or serious violation, and at 360 px nothing may scroll sideways.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeNode {
  target: unknown[];
  html: string;
  failureSummary?: string;
}
interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  helpUrl: string;
  nodes: AxeNode[];
}

/** Runs axe-core on the page as it is now; throws listing every critical or serious violation. */
export async function expectAccessible(page: Page, label = page.url()): Promise<void> {
  // In-page code is given as text: this project compiles without the DOM's types.
  const loaded = (await page.evaluate("typeof window.axe !== 'undefined'")) as boolean;
  // Not as a <script> element (addScriptTag): the page's CSP refuses inline scripts without its nonce.
  // Evaluated through the DevTools protocol instead, which the CSP does not govern.
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate("window.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)")) as AxeViolation[];
  const bad = violations.filter((v) => v.impact === 'critical' || v.impact === 'serious');
  if (bad.length === 0) return;
  const text = bad
    .map(
      (v) =>
        `- [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
        v.nodes
          .slice(0, 5)
          .map(
            (n) => `    ${JSON.stringify(n.target)} ${n.html.slice(0, 160)}${n.failureSummary ? `\n      ${n.failureSummary.replace(/\n/g, '\n      ')}` : ''}`,
          )
          .join('\n'),
    )
    .join('\n');
  throw new Error(`axe-core found ${bad.length} critical/serious violation(s) on ${label}:\n${text}`);
}

/**
 * At a 360 px wide viewport the page must not scroll sideways. Sets the viewport (and leaves it so); the
 * caller reloads or navigates first if the page lays itself out only on load.
 */
export async function expectNoHorizontalScroll(page: Page, label = page.url()): Promise<void> {
  const size = page.viewportSize();
  if (size?.width !== 360) await page.setViewportSize({ width: 360, height: size?.height ?? 740 });
  const m = (await page.evaluate(`(() => {
    const d = document.documentElement;
    // The element that sticks out furthest, to say what to fix.
    let widest = '';
    let right = d.clientWidth;
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > right + 0.5) {
        right = r.right;
        widest = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '');
      }
    }
    return { scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, widest, right };
  })()`)) as { scrollWidth: number; clientWidth: number; widest: string; right: number };
  if (m.scrollWidth > m.clientWidth)
    throw new Error(
      `${label} scrolls sideways at 360 px: scrollWidth ${m.scrollWidth} > clientWidth ${m.clientWidth} (widest: ${m.widest} to ${Math.round(m.right)} px)`,
    );
}
