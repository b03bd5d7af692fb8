// The A/R dashboard's figures, served stale-while-revalidate (issue #9: the page must answer within 150 ms on
// a book of 1,000,000 invoices, and computing the figures reads the whole open book — seconds there).
// - Stored figures younger than DASHBOARD_FRESH_MS are served as they are.
// - Older ones are served as they are too, and one background refresh is queued (job refresh-dashboard-figures,
//   one per workspace and period however many people open the page); the page says so.
// - No stored figures (a period's first visit, a new day, custom dates) or "Refresh now": computed on the
//   request, in a read-only transaction of their own, then stored.
// The page always says when its figures were computed. GET /api/v1/reports/ar never reads the snapshot: what
// automation reads is computed live.
import { sql } from 'kysely';
import { arMetrics, lastDayOf, workspaceClock, type ArMetrics } from '../db/queries/ar-metrics.ts';
import { claimRefresh, periodKey, readSnapshot, saveSnapshot } from '../db/queries/dashboard-snapshots.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import { PeriodError, resolvePeriod, type ReportPeriod } from '../domain/report-period.ts';
import type { EngineContext } from './context.ts';
import { enqueue } from './enqueue.ts';

/** How long stored figures are served without queuing a refresh (default of SETTLE_DASHBOARD_FRESH_SECONDS). */
export const DASHBOARD_FRESH_MS = 60_000;

export const freshMsOf = (ctx: EngineContext): number => ctx.dashboardFreshMs ?? DASHBOARD_FRESH_MS;
/** A queued refresh that stored nothing within this long (worker down, job failed) may be queued again. */
export const REFRESH_PENDING_MS = 5 * 60_000;

export interface DashboardFigures {
  readonly metrics: ArMetrics;
  /** The instant the figures describe: when their computation started. */
  readonly computedAt: Date;
  readonly computeMs: number;
  /** computed: on this request; fresh: stored, within the window; stale: stored, older (a refresh is on its way). */
  readonly source: 'computed' | 'fresh' | 'stale';
  /** A background refresh of these figures is queued or running. */
  readonly refreshing: boolean;
}

/** What the refresh job is given: the period as the person chose it (resolved again on the worker's day). */
export interface PeriodChoice {
  readonly preset: ReportPeriod['preset'];
  readonly from?: string;
  readonly lastDay?: string;
}

function choiceOf(period: ReportPeriod): PeriodChoice {
  return period.preset === 'custom' ? { preset: 'custom', from: period.from, lastDay: lastDayOf(period) } : { preset: period.preset };
}

/** Computes the figures on this request (read-only transaction) and stores them. */
export async function computeDashboardFigures(ctx: EngineContext, tenantId: string, period: ReportPeriod, timeZone: string): Promise<DashboardFigures> {
  const computedAt = ctx.now();
  const started = performance.now();
  const metrics = await withTenant(ctx.db, tenantId, async (tx) => {
    await sql`SET TRANSACTION READ ONLY`.execute(tx);
    return arMetrics(tx, period, timeZone, computedAt);
  });
  const computeMs = performance.now() - started;
  await withTenant(ctx.db, tenantId, (tx) => saveSnapshot(tx, { tenantId, key: periodKey(period, timeZone), metrics, computedAt, computeMs }));
  return { metrics, computedAt, computeMs: Math.round(computeMs), source: 'computed', refreshing: false };
}

/** The figures the dashboard shows for a period: stored ones when there are, else computed now (see above). */
export async function dashboardFigures(
  ctx: EngineContext,
  tenantId: string,
  period: ReportPeriod,
  timeZone: string,
  opts: { freshMs?: number } = {},
): Promise<DashboardFigures> {
  const key = periodKey(period, timeZone);
  const now = ctx.now();
  const stored = await withTenant(ctx.db, tenantId, async (tx) => {
    const s = await readSnapshot(tx, tenantId, key);
    if (!s) return null;
    if (now.getTime() - s.computedAt.getTime() <= (opts.freshMs ?? freshMsOf(ctx))) return { ...s, source: 'fresh' as const, refreshing: false };
    const pending = s.refreshRequestedAt !== null && s.refreshRequestedAt > s.computedAt && now.getTime() - s.refreshRequestedAt.getTime() < REFRESH_PENDING_MS;
    if (!pending && (await claimRefresh(tx, tenantId, key, now, REFRESH_PENDING_MS))) await queueRefresh(tx, tenantId, key, choiceOf(period));
    return { ...s, source: 'stale' as const, refreshing: true };
  });
  if (!stored) return computeDashboardFigures(ctx, tenantId, period, timeZone);
  // Stored under this key, so the same days and timezone; `today` is the request's.
  return {
    metrics: { ...stored.metrics, period },
    computedAt: stored.computedAt,
    computeMs: stored.computeMs,
    source: stored.source,
    refreshing: stored.refreshing,
  };
}

/** One job per workspace and period: a visit while it waits changes nothing; one refresh at a time per workspace. */
async function queueRefresh(tx: Tx, tenantId: string, key: string, choice: PeriodChoice): Promise<void> {
  await enqueue(
    tx,
    'refresh-dashboard-figures',
    { tenantId, ...choice },
    { jobKey: `dashboard-figures:${tenantId}:${key}`, jobKeyMode: 'preserve_run_at', queueName: `dashboard:${tenantId}`, maxAttempts: 3 },
  );
}

const PRESETS = ['this_month', 'last_month', 'last_90_days'] as const;

/**
 * Called by the per-minute sweep: in a workspace whose dashboard is in use (figures kept from the last week),
 * the preset periods of the workspace's day are computed in the background as soon as that day begins (and
 * after a start), so the day's first visit finds them instead of computing for seconds on the request
 * (1,000,000 invoices: 0.8–2.5 s). Only custom dates and "Refresh now" still compute on the request.
 * Returns how many refreshes it queued.
 */
export async function warmDashboardPresets(ctx: EngineContext, tx: Tx, tenantId: string): Promise<number> {
  const inUse = await tx.selectFrom('dashboard_snapshots').select('period_key').where('tenant_id', '=', tenantId).limit(1).executeTakeFirst();
  if (!inUse) return 0;
  const clock = await workspaceClock(tx, tenantId, ctx.now());
  const wanted = PRESETS.map((preset) => ({ preset, key: periodKey(resolvePeriod({ preset }, clock.today), clock.timeZone) }));
  const kept = await tx
    .selectFrom('dashboard_snapshots')
    .select('period_key')
    .where('tenant_id', '=', tenantId)
    .where(
      'period_key',
      'in',
      wanted.map((w) => w.key),
    )
    .execute();
  const missing = wanted.filter((w) => !kept.some((k) => k.period_key === w.key));
  // The same job key as a visit's refresh: a visit meanwhile queues nothing more.
  for (const w of missing) await queueRefresh(tx, tenantId, w.key, { preset: w.preset });
  return missing.length;
}

/**
 * The background refresh (job refresh-dashboard-figures): the period is resolved again on the workspace's
 * day now, so a job run after midnight computes today's figures, not yesterday's.
 */
export async function refreshDashboardFigures(ctx: EngineContext, tenantId: string, choice: PeriodChoice): Promise<{ periodKey: string; ms: number } | null> {
  const clock = await withTenant(ctx.db, tenantId, (tx) => workspaceClock(tx, tenantId, ctx.now()));
  let period: ReportPeriod;
  try {
    period = resolvePeriod({ preset: choice.preset, from: choice.from, lastDay: choice.lastDay }, clock.today);
  } catch (e) {
    if (e instanceof PeriodError) return null; // cannot happen for a period the page accepted; nothing to redo
    throw e;
  }
  const f = await computeDashboardFigures(ctx, tenantId, period, clock.timeZone);
  return { periodKey: periodKey(period, clock.timeZone), ms: f.computeMs };
}
