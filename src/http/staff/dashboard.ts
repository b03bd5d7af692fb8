// Staff → Dashboard (GET /app): who owes us what, how fast they pay, where the money comes from — one set of
// figures per currency for a period in the workspace's timezone (db/queries/ar-metrics.ts, the same figures as
// GET /api/v1/reports/ar). The period is a plain GET form (works without JavaScript; the address can be
// bookmarked or shared). Not an htmx swap: htmx drops the <script type="application/json"> the charts read.
// The figures are the last computed ones when they are recent (engine/dashboard-figures.ts: on a large book
// computing them takes seconds); the page says when they were computed and whether newer ones are on their way.
//   GET /app?period=this_month|last_month|last_90_days|custom&from=YYYY-MM-DD&to=YYYY-MM-DD   (viewer)
//   POST /app/figures/refresh   period, from, to: compute now, then back to the page            (finance)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { lastDayOf, workspaceClock } from '../../db/queries/ar-metrics.ts';
import { withTenant } from '../../db/tenant.ts';
import { localDate, PeriodError, resolvePeriod, type ReportPeriod } from '../../domain/report-period.ts';
import { roleAtLeast } from '../../domain/roles.ts';
import { computeDashboardFigures, dashboardFigures, freshMsOf, type DashboardFigures } from '../../engine/dashboard-figures.ts';
import { identify } from '../auth.ts';
import { callerOf } from '../api/caller.ts';
import type { HttpDeps } from '../deps.ts';
import { DEFAULT_TIMEOUTS } from '../../engine/staff-sessions.ts';
import { dashboardView } from './dashboard-view.ts';
import { registerForecastRoutes } from './dashboard-forecast.ts';
import { renderStaff } from './view.ts';

type Query = Record<string, string | undefined>;

export const PERIOD_CHOICES = [
  { value: 'this_month', label: 'This month' },
  { value: 'last_month', label: 'Last month' },
  { value: 'last_90_days', label: 'Last 90 days' },
  { value: 'custom', label: 'Custom dates' },
] as const;

/** The period asked for, or the errors to show (GOV.UK style: each names its field). */
export function periodFromQuery(q: Query, today: string): { period: ReportPeriod | null; errors: { field: string; message: string }[] } {
  try {
    return { period: resolvePeriod({ preset: q.period, from: q.from, lastDay: q.to }, today), errors: [] };
  } catch (e) {
    if (e instanceof PeriodError) return { period: null, errors: [{ field: e.field === 'period' ? 'period-this_month' : e.field, message: e.message }] };
    throw e;
  }
}

/** "14:03:22" in the workspace's timezone, with the date in front when it is not today there. */
export function asOfText(at: Date, timeZone: string, today: string): string {
  const time = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(at);
  const day = localDate(at, timeZone);
  return day === today ? time : `${day} ${time}`;
}

/** What the page says about its figures: when they were computed, how long that took, whether newer are coming. */
function figuresNote(f: DashboardFigures, timeZone: string, today: string, freshMs: number) {
  return {
    keptFor: freshMs === 60_000 ? 'a minute' : `${Math.round(freshMs / 1000)} s`,
    asOf: asOfText(f.computedAt, timeZone, today),
    asOfIso: f.computedAt.toISOString(),
    took: f.computeMs < 1000 ? `${f.computeMs} ms` : `${(f.computeMs / 1000).toFixed(1)} s`,
    source: f.source,
    refreshing: f.refreshing,
  };
}

async function dashboard(req: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply, deps: HttpDeps): Promise<FastifyReply> {
  const caller = req.caller ?? (await identify(req, deps.ctx.db, deps.sessionSecret, deps.staff?.timeouts ?? DEFAULT_TIMEOUTS));
  if (!caller) return reply.redirect('/login');
  const q = req.query ?? {};
  const { timeZone, today, period, errors } = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
    const clock = await workspaceClock(tx, caller.tenantId, deps.ctx.now());
    return { ...periodFromQuery(q, clock.today), timeZone: clock.timeZone, today: clock.today };
  });
  const figures = period ? await dashboardFigures(deps.ctx, caller.tenantId, period, timeZone) : null;
  const chosen = period?.preset ?? (PERIOD_CHOICES.some((c) => c.value === q.period) ? q.period : 'custom');
  return renderStaff(
    req,
    reply,
    'dashboard',
    {
      title: 'A/R dashboard',
      charts: true,
      errors,
      choices: PERIOD_CHOICES,
      chosen,
      // what the custom-date fields show: what was typed, else the period's own first and last day
      fromValue: q.from ?? period?.from ?? '',
      toValue: q.to ?? (period ? lastDayOf(period) : ''),
      view: figures ? dashboardView(figures.metrics) : null,
      figures: figures ? figuresNote(figures, timeZone, today, freshMsOf(deps.ctx)) : null,
      canRefresh: roleAtLeast(caller.role, 'finance'),
      timeZone,
    },
    { status: errors.length ? 400 : 200 },
  );
}

/** The page's address for a period as the form sent it (only the period's own fields). */
export function dashboardUrl(form: Query): string {
  const q = new URLSearchParams();
  for (const k of ['period', 'from', 'to'] as const) {
    const v = form[k];
    if (typeof v === 'string' && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `/app?${s}` : '/app';
}

/** "Refresh now": the figures computed on this request and stored, then the page (which then serves them). */
async function refreshNow(req: FastifyRequest<{ Body: Query }>, reply: FastifyReply, deps: HttpDeps): Promise<FastifyReply> {
  const caller = callerOf(req);
  const form = req.body ?? {};
  const asked = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
    const clock = await workspaceClock(tx, caller.tenantId, deps.ctx.now());
    return { ...periodFromQuery(form, clock.today), timeZone: clock.timeZone };
  });
  // A bad period computes nothing: the page, opened with it, names the field.
  if (asked.period) await computeDashboardFigures(deps.ctx, caller.tenantId, asked.period, asked.timeZone);
  return reply.redirect(dashboardUrl(form), 303);
}

export function registerArDashboardRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get<{ Querystring: Query }>('/app', { schema: { hide: true } }, (req, reply) => dashboard(req, reply, deps));
  app.post<{ Body: Query }>('/app/figures/refresh', { schema: { hide: true } }, (req, reply) => refreshNow(req, reply, deps));
  registerForecastRoutes(app, deps);
}
