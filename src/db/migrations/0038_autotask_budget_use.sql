-- Settle's own use of an Autotask database's hourly API threshold, shared by every Settle process (issue #10).
-- Autotask counts 10,000 requests per rolling hour per database, for all integrations together; Settle keeps
-- its own use under a share of what the others leave. `settle start` and `settle worker` (or several workers)
-- each call Autotask, so each process records what it spent here, per minute, and reads what the other
-- processes spent: together they stay under the one share. Keyed by a hash of the Autotask database (API
-- user and discovery URL), not by workspace — one Autotask database is one budget whichever workspace uses it —
-- so the table holds no workspace data and no row-level security applies.
CREATE TABLE autotask_budget_use (
  budget_key text NOT NULL,
  -- one running Settle process (host:pid:random), so a process can tell its own use from the others'
  process_id text NOT NULL,
  minute timestamptz NOT NULL,
  requests int NOT NULL CHECK (requests > 0),
  PRIMARY KEY (budget_key, minute, process_id)
);
