// Staff → Dashboard (GET /app): who owes us what, how fast they pay, where the money comes from — one set of
// figures per currency for a period in the workspace's timezone (db/queries/ar-metrics.ts, the same figures as
// GET /api/v1/reports/ar). The period is a plain GET form (works without JavaScript; the address can be
// bookmarked or shared). Not an htmx swap: htmx drops the <script type="application/json"> the charts read.
//   GET /app?period=this_month|last_month|last_90_days|custom&from=YYYY-MM-DD&to=YYYY-MM-DD   (viewer)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { arMetrics, lastDayOf, workspaceClock } from '../../db/queries/ar-metrics.ts';
import { withTenant } from '../../db/tenant.ts';
import { PeriodError, resolvePeriod, type ReportPeriod } from '../../domain/report-period.ts';
import { identify } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';
import { DEFAULT_TIMEOUTS } from '../../engine/staff-sessions.ts';
import { dashboardView } from './dashboard-view.ts';
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

async function dashboard(req: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply, deps: HttpDeps): Promise<FastifyReply> {
  const caller = req.caller ?? (await identify(req, deps.ctx.db, deps.sessionSecret, deps.staff?.timeouts ?? DEFAULT_TIMEOUTS));
  if (!caller) return reply.redirect('/login');
  const q = req.query ?? {};
  const { timeZone, period, errors, metrics } = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
    const clock = await workspaceClock(tx, caller.tenantId, deps.ctx.now());
    const asked = periodFromQuery(q, clock.today);
    return { ...asked, timeZone: clock.timeZone, metrics: asked.period ? await arMetrics(tx, asked.period, clock.timeZone, clock.now) : null };
  });
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
      view: metrics ? dashboardView(metrics) : null,
      timeZone,
    },
    { status: errors.length ? 400 : 200 },
  );
}

export function registerArDashboardRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get<{ Querystring: Query }>('/app', { schema: { hide: true } }, (req, reply) => dashboard(req, reply, deps));
}
