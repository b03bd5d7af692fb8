// renderPortal: every client-portal page is an Eta view (views/*.eta, escaped by default) inside
// views/layout.eta, the portal's own look (the MSP's name and, with branding, its logo and colours — never
// Settle's staff chrome). No inline script or style: the page's behaviour comes from files under /assets
// (assets/portal-*.js), which read what they need from data-* attributes the view writes escaped; the
// processor's hosted-fields script is the one foreign script, named in the portal's CSP by origin and
// carrying the response's nonce.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { FastifyReply } from 'fastify';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { assetUrl } from '../staff/assets.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export const portalEta = new Eta({
  views: path.join(here, 'views'),
  autoEscape: true,
  cache: process.env.NODE_ENV !== 'development',
});

/**
 * The MSP's branding on the portal header (filled from the workspace's branding settings when set):
 * `name` replaces the workspace name, `logoUrl` shows as the header's image, `cssUrl` is a stylesheet with
 * the MSP's colours loaded after the portal's own.
 */
export interface PortalBranding {
  readonly name?: string | null;
  readonly logoUrl?: string | null;
  readonly cssUrl?: string | null;
}

/** What the layout needs from every page besides the view's own data. */
export interface PortalPageData {
  /** The page's question, as its <title> and <h1>. */
  readonly title: string;
  /** Whose portal this is: the MSP's workspace name (none on a refused link: we do not know whose it is). */
  readonly brand?: string | null;
  readonly branding?: PortalBranding | null;
  /** Scripts at the end of the page, in order: the processor's (with the nonce) and the page's own asset. */
  readonly scripts?: readonly { readonly src: string; readonly nonce?: string }[];
  readonly [key: string]: unknown;
}

/** Asset URLs (with their content hash) for templates and handlers. */
export const portalAssets = {
  get css(): string {
    return assetUrl('portal.css');
  },
  get pay(): string {
    return assetUrl('portal-pay.js');
  },
  get updateMethod(): string {
    return assetUrl('portal-update-method.js');
  },
  get bankAccount(): string {
    return assetUrl('portal-bank-account.js');
  },
  /** Saved methods, autopay, receipts: JSON forms and the hosted fields for saving a method. */
  get account(): string {
    return assetUrl('portal-account.js');
  },
};

/** "$1,234.56" from minor units (bigint, or an integer string from SQL) and a currency code. */
function moneyText(amount: bigint | string | number, currency: string): string {
  return format(money(BigInt(amount), parseCurrency(currency)));
}

/** The HTML of `view` with `data` and the helpers every portal view may use (as `it.…`). */
export function renderPortalHtml(view: string, data: PortalPageData): string {
  return portalEta.render(view, { branding: null, brand: null, scripts: [], ...data, assets: portalAssets, money: moneyText });
}

/**
 * Render `view` (src/http/portal/views/<view>.eta) and send it. Never kept by the browser: what is due
 * changes with every payment, and the link in the address is a bearer credential.
 */
export function renderPortal(reply: FastifyReply, view: string, data: PortalPageData, opts: { status?: number } = {}): FastifyReply {
  return reply
    .code(opts.status ?? 200)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(renderPortalHtml(view, data));
}

/** A link that cannot be used (expired, altered, incomplete): 403 with the reason in plain words. */
export function refusePortal(reply: FastifyReply, title: string, message: string): FastifyReply {
  return renderPortal(reply, 'refused', { title, message }, { status: 403 });
}
