-- Three-way reconciliation (issue #11), completion. The nightly run happens at 02:30 in each workspace's own
-- timezone (engine/reconciliation-schedule.ts), not 02:30 UTC for everyone; each nightly run records the
-- workspace's local date and timezone it ran for. One nightly run per workspace and local date: the tick
-- runs every 15 minutes and may queue a workspace again while its run is in progress (or after a crash), and
-- this index makes the second one a no-op (runReconciliation inserts ON CONFLICT DO NOTHING). The dated
-- zero-drift summaries an auditor asks for are these rows (the staff page lists them by local date).
-- Null for on-demand runs (and nightly runs made before this migration, at 02:30 UTC).
ALTER TABLE reconciliation_runs ADD COLUMN local_date date;
ALTER TABLE reconciliation_runs ADD COLUMN timezone text;
CREATE UNIQUE INDEX reconciliation_runs_one_nightly ON reconciliation_runs (tenant_id, local_date) WHERE trigger = 'nightly';
-- The audit history on the staff page: the dated nightly summaries, newest first.
CREATE INDEX reconciliation_runs_nightly_history ON reconciliation_runs (tenant_id, local_date DESC) WHERE trigger = 'nightly';
