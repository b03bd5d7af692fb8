import type { ColumnType } from 'kysely';

// ---- 0033_dashboard_snapshots: the A/R dashboard's last computed figures per workspace and period ----
export interface DashboardSnapshotsTable {
  tenant_id: string;
  period_key: string;
  /** jsonb: read as parsed JSON, written as the codec's JSON text (db/queries/ar-metrics-codec.ts). */
  figures: ColumnType<unknown, string, string>;
  format: number;
  computed_at: Date;
  compute_ms: number;
  refresh_requested_at: Date | null;
}
