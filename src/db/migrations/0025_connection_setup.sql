-- Connecting systems from the staff app (issue #9, engine/quickbooks-connect.ts, engine/connection-checks.ts).
--
-- OAuth `state` for "Connect to QuickBooks": the signed state names a random nonce; this row makes it single
-- use (used_at set by the callback with a conditional UPDATE), binds it to the staff session that started it
-- (the session's id, never its cookie) and lets it expire. Only the nonce's SHA-256 is kept.
CREATE TABLE oauth_states (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  session_id uuid NOT NULL REFERENCES staff_sessions(id) ON DELETE CASCADE,
  vendor text NOT NULL,
  nonce_hash text NOT NULL UNIQUE,
  -- where the person goes after connecting (the set-up wizard or the connections page)
  return_to text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
ALTER TABLE oauth_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_states FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON oauth_states USING (tenant_id = settle_current_tenant()) WITH CHECK (tenant_id = settle_current_tenant());

-- The last "Test connection" (the doctor's check) of each connection, shown on the connections page.
ALTER TABLE connections
  ADD COLUMN last_checked_at timestamptz,
  ADD COLUMN last_success_at timestamptz,
  ADD COLUMN last_error_at timestamptz,
  ADD COLUMN last_error text;
