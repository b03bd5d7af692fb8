-- The audit log page (issue #9; /app/settings/audit, db/queries/audit-log.ts): newest first, paged by keyset
-- — the rows before (created_at, id) of the last one shown — never OFFSET, so the first page and the
-- thousandth cost the same. Many entries share a created_at (every entry of one transaction has now()), so
-- id breaks ties and is part of every key. Leading with tenant_id makes the row-level security condition an
-- index condition too.
--
-- This replaces audit_log_tenant (tenant_id, created_at DESC), which it covers.
CREATE INDEX audit_log_recent ON audit_log (tenant_id, created_at DESC, id DESC);
DROP INDEX audit_log_tenant;
-- Filtered by action: the newest entries of that action, and the page's list of actions present, read as a
-- skip scan (one index probe per distinct action instead of reading the whole log).
CREATE INDEX audit_log_action ON audit_log (tenant_id, action, created_at DESC, id DESC);
-- Filtered by one person or API key: theirs are few among the system's many.
CREATE INDEX audit_log_actor ON audit_log (tenant_id, actor, created_at DESC, id DESC);
