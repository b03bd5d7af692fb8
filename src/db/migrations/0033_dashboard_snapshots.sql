-- The A/R dashboard's figures, kept (issue #9): computing them reads the whole open book (on 1,000,000
-- invoices 1.5–5 s per request), so the staff page serves the last computed figures, labelled with the time
-- they were computed, and refreshes them in the background once they are older than a minute
-- (engine/dashboard-figures.ts). GET /api/v1/reports/ar still computes live: automation gets exact figures.
-- One row per workspace and period as computed: the period key names the preset, its days, the day measuring
-- stopped and the workspace's timezone (a new day or another timezone is another row).
CREATE TABLE dashboard_snapshots (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  period_key text NOT NULL CHECK (length(period_key) BETWEEN 1 AND 200),
  -- db/queries/ar-metrics-codec.ts: amounts as decimal strings (exact bigint minor units), instants as ISO
  -- text; `format` names the codec's version, so figures stored by an older Settle are recomputed, not misread
  figures jsonb NOT NULL,
  format int NOT NULL,
  -- the instant the figures describe (when the computation started) and how long it took
  computed_at timestamptz NOT NULL,
  compute_ms int NOT NULL CHECK (compute_ms >= 0),
  -- when a page visit queued a background refresh of these figures (NULL once a refresh stored newer ones):
  -- the page says newer figures are on their way, and further visits do not queue another
  refresh_requested_at timestamptz,
  PRIMARY KEY (tenant_id, period_key)
);

ALTER TABLE dashboard_snapshots ENABLE ROW LEVEL SECURITY;
ALTER TABLE dashboard_snapshots FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dashboard_snapshots USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
