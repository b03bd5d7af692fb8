// renderStaff: every staff page is an Eta view (views/*.eta, escaped by default) inside views/layout.eta.
// It adds what every page needs to the view's data: the signed-in person, the workspace, the CSRF token,
// the navigation with the Needs-attention count, the asset URLs and the formatting helpers (money with its
// currency symbol, dates in the workspace's timezone). Signed-out pages (sign-in, reset) render through it
// too and simply get no navigation.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTenant } from '../../db/tenant.ts';
import { openAttentionCount } from '../../db/queries/attention-count.ts';
import { format, money, parseCurrency, type Money } from '../../domain/money.ts';
import { formatDate, formatDateTime, workspaceTimezone } from '../../domain/timezone.ts';
import { staffSession } from '../auth.ts';
import { CSRF_FIELD, csrfToken } from '../csrf.ts';
import type { HttpDeps } from '../deps.ts';
import { DEFAULT_TIMEOUTS, type StaffSession } from '../../engine/staff-sessions.ts';
import { assetUrls } from './assets.ts';
import { navFor, type NavItem } from './nav.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export const eta = new Eta({
  views: path.join(here, 'views'),
  autoEscape: true,
  // Templates are read and compiled once (the process restarts on a code change anyway); with
  // NODE_ENV=development an edited view shows on the next request.
  cache: process.env.NODE_ENV !== 'development',
});

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by registerStaffApp: what renderStaff needs to read the session and the workspace. */
    staffDeps: HttpDeps | null;
  }
}

export function provideStaffDeps(app: FastifyInstance, deps: HttpDeps): void {
  if (!app.hasDecorator('staffDeps')) app.decorate('staffDeps', deps);
}

function depsOf(req: FastifyRequest): HttpDeps {
  const deps = req.server.staffDeps;
  if (!deps) throw new Error('renderStaff before registerStaffApp: the staff app is not registered on this server');
  return deps;
}

/** What every view sees besides its own data (as `it.…`). */
export interface StaffContext {
  readonly user: { readonly email: string; readonly role: StaffSession['role'] } | null;
  readonly workspace: { readonly name: string; readonly slug: string } | null;
  readonly nav: readonly NavItem[];
  /** Open exceptions: the number on the Needs-attention badge. */
  readonly attentionCount: number;
  /** The CSRF token for forms (`include('partials/csrf', it)`) and htmx requests (a meta tag in the layout). */
  readonly csrf: string;
  readonly csrfField: string;
  readonly path: string;
  readonly timezone: string;
  readonly assets: ReturnType<typeof assetUrls>;
  /** "$1,234.56": a Money, or minor units (bigint, or an integer string from SQL) with a currency code. */
  money(amount: Money | bigint | string | number, currency?: string): string;
  /** "2026-03-14" in the workspace's timezone (a plain YYYY-MM-DD date is shown as is). */
  date(v: Date | string | null | undefined): string;
  /** "2026-03-14 09:05" in the workspace's timezone. */
  dateTime(v: Date | string | null | undefined): string;
  /** A value as JSON safe inside <script type="application/json"> (print it raw: `<%~ it.json(x) %>`). */
  json(v: unknown): string;
}

function moneyText(amount: Money | bigint | string | number, currency?: string): string {
  if (typeof amount === 'object') return format(amount);
  if (!currency) throw new Error('money(amount, currency): a currency is needed with minor units');
  return format(money(BigInt(amount), parseCurrency(currency)));
}

/**
 * A value as JSON inside a <script type="application/json"> data block: `<` (so no `</script>` or `<!--`),
 * `>`, `&` and the two JavaScript line separators escaped, whatever the value holds.
 */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const jsonSafe = (v: unknown): string => scriptJson(JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))));

/** The context for this request: one read of the session, one of the workspace (with the badge count). */
export async function staffContext(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps): Promise<StaffContext> {
  const session = await staffSession(req, deps.ctx.db, deps.staff?.timeouts ?? DEFAULT_TIMEOUTS);
  const ws = session
    ? await withTenant(deps.ctx.db, session.tenantId, async (tx) => {
        const t = await tx.selectFrom('tenants').select(['name', 'slug', 'settings']).where('id', '=', session.tenantId).executeTakeFirstOrThrow();
        return { name: t.name, slug: t.slug, timezone: workspaceTimezone(t.settings), attention: await openAttentionCount(tx) };
      })
    : null;
  return contextFor(req, reply, deps, session, ws);
}

function contextFor(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: HttpDeps,
  session: StaffSession | null,
  ws: { name: string; slug: string; timezone: string; attention: number } | null,
): StaffContext {
  const urlPath = req.url.split('?')[0] ?? '/';
  const timezone = ws?.timezone ?? 'UTC';
  const csrf = csrfToken(req, reply, deps.sessionSecret, deps.security?.https ?? false);
  return {
    user: session ? { email: session.email, role: session.role } : null,
    workspace: ws ? { name: ws.name, slug: ws.slug } : null,
    nav: session ? navFor(session.role, urlPath) : [],
    attentionCount: ws?.attention ?? 0,
    csrf,
    csrfField: CSRF_FIELD,
    path: urlPath,
    timezone,
    assets: assetUrls(),
    money: moneyText,
    date: (v) => formatDate(v, timezone),
    dateTime: (v) => formatDateTime(v, timezone),
    json: jsonSafe,
  };
}

export interface RenderOptions {
  /** HTTP status (default 200). */
  readonly status?: number;
  /** For code that runs before or outside the staff app's registration (authorize.ts): its own deps. */
  readonly deps?: HttpDeps;
}

/**
 * Render `view` (src/http/staff/views/<view>.eta) with `data` plus the staff context, and send it.
 * A view that does not call layout() is a fragment (an htmx swap) and is sent as it is.
 * Returns the reply, so a handler can `return renderStaff(…)`.
 */
export async function renderStaff(
  req: FastifyRequest,
  reply: FastifyReply,
  view: string,
  data: Record<string, unknown> = {},
  opts: RenderOptions = {},
): Promise<FastifyReply> {
  const ctx = await staffContext(req, reply, opts.deps ?? depsOf(req));
  const body = eta.render(view, { ...ctx, ...data });
  return reply
    .code(opts.status ?? 200)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);
}

/**
 * A page for someone who is not signed in (a refused sign-in), rendered at once without reading the
 * database: no session, no workspace, no navigation.
 */
export function renderSignedOut(
  req: FastifyRequest,
  reply: FastifyReply,
  view: string,
  data: Record<string, unknown> = {},
  opts: RenderOptions = {},
): FastifyReply {
  const body = eta.render(view, { ...contextFor(req, reply, opts.deps ?? depsOf(req), null, null), ...data });
  return reply
    .code(opts.status ?? 200)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);
}
