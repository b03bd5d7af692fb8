// The A/R dashboard's stored figures (migration 0033): read one, store one, and claim the right to queue its
// background refresh — so that of many page visits after the figures went stale, one queues the refresh.
import { sql } from 'kysely';
import type { ReportPeriod } from '../../domain/report-period.ts';
import type { Tx } from '../tenant.ts';
import type { ArMetrics } from './ar-metrics.ts';
import { decodeFigures, encodeFigures, FIGURES_FORMAT, FiguresCodecError } from './ar-metrics-codec.ts';

/** Snapshots nobody looked at for this long are deleted when another is stored (a week of days, custom ranges). */
const KEEP_UNVISITED_DAYS = 7;

/**
 * The period as computed: preset, first day, first day after, the day after the last measured day, and the
 * timezone whose days these are. "This month" on the 6th and on the 7th are different figures (DSO counts
 * the days measured), so they are different snapshots.
 */
export function periodKey(period: ReportPeriod, timeZone: string): string {
  return `${period.preset}|${period.from}|${period.to}|${period.measuredTo}|${timeZone}`;
}

export interface StoredFigures {
  readonly metrics: ArMetrics;
  readonly computedAt: Date;
  readonly computeMs: number;
  readonly refreshRequestedAt: Date | null;
}

/** The stored figures of a period, or null when there are none or they were stored in another format. */
export async function readSnapshot(tx: Tx, tenantId: string, key: string): Promise<StoredFigures | null> {
  const row = await tx
    .selectFrom('dashboard_snapshots')
    .select(['figures', 'format', 'computed_at', 'compute_ms', 'refresh_requested_at'])
    .where('tenant_id', '=', tenantId)
    .where('period_key', '=', key)
    .executeTakeFirst();
  if (!row || row.format !== FIGURES_FORMAT) return null;
  try {
    return { metrics: decodeFigures(row.figures), computedAt: row.computed_at, computeMs: row.compute_ms, refreshRequestedAt: row.refresh_requested_at };
  } catch (e) {
    if (e instanceof FiguresCodecError) return null; // unreadable: computed again and overwritten
    throw e;
  }
}

/**
 * Stores figures computed at `computedAt`, unless figures computed later are stored already (a slow
 * computation finishing after a quicker, newer one must not put older figures back). A refresh asked for
 * after this computation started stays asked for: its job is still to come.
 */
export async function saveSnapshot(tx: Tx, s: { tenantId: string; key: string; metrics: ArMetrics; computedAt: Date; computeMs: number }): Promise<void> {
  await sql`
    INSERT INTO dashboard_snapshots (tenant_id, period_key, figures, format, computed_at, compute_ms)
    VALUES (${s.tenantId}, ${s.key}, ${encodeFigures(s.metrics)}::jsonb, ${FIGURES_FORMAT}, ${s.computedAt}, ${Math.max(0, Math.round(s.computeMs))})
    ON CONFLICT (tenant_id, period_key) DO UPDATE SET
      figures = EXCLUDED.figures,
      format = EXCLUDED.format,
      computed_at = EXCLUDED.computed_at,
      compute_ms = EXCLUDED.compute_ms,
      refresh_requested_at = CASE WHEN dashboard_snapshots.refresh_requested_at > EXCLUDED.computed_at
                                  THEN dashboard_snapshots.refresh_requested_at END
    WHERE dashboard_snapshots.computed_at <= EXCLUDED.computed_at`.execute(tx);
  await tx
    .deleteFrom('dashboard_snapshots')
    .where('tenant_id', '=', s.tenantId)
    .where('computed_at', '<', new Date(s.computedAt.getTime() - KEEP_UNVISITED_DAYS * 86_400_000))
    .execute();
}

/**
 * Marks the snapshot's refresh as asked for at `now`, unless a refresh asked for within `pendingMs` has not
 * stored its figures yet. True when this caller got the claim and must queue the job (in the same
 * transaction: the mark and the job commit together).
 */
export async function claimRefresh(tx: Tx, tenantId: string, key: string, now: Date, pendingMs: number): Promise<boolean> {
  const r = await sql`
    UPDATE dashboard_snapshots SET refresh_requested_at = ${now}
     WHERE tenant_id = ${tenantId} AND period_key = ${key}
       AND (refresh_requested_at IS NULL OR refresh_requested_at <= computed_at OR refresh_requested_at < ${new Date(now.getTime() - pendingMs)})`.execute(tx);
  return Number(r.numAffectedRows ?? 0n) === 1;
}
