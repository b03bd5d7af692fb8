-- Staff accounts (issue #8 items 5 and 6): server-side sessions, TOTP second factor with recovery codes,
-- and single-use links for password resets and invitations.
--
-- A session cookie holds only a random id; the table keeps its SHA-256, so a copy of the database does
-- not sign anyone in. Ending a session (sign-out, "sign out everywhere", a password change, removal of
-- the user) sets ended_at, and the next request with that cookie is refused: nothing waits for an expiry.
CREATE TABLE staff_sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- moved at most once a minute by requests (idle timeout)
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  -- the absolute timeout, fixed at sign-in
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  ended_reason text CHECK (ended_reason IN ('signed_out', 'signed_out_everywhere', 'password_changed', 'password_reset',
    'user_removed', 'second_factor_changed', 'idle', 'expired', 'ended_by_owner')),
  ip text,
  user_agent text
);
CREATE INDEX staff_sessions_user ON staff_sessions (tenant_id, user_id) WHERE ended_at IS NULL;

-- Password reset and invitation links: the e-mailed secret's SHA-256, single use, expiring.
CREATE TABLE staff_links (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose IN ('password_reset', 'invitation')),
  token_hash text NOT NULL UNIQUE,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

-- The TOTP secret is sealed with the instance key (db/crypto.ts), bound to the user. mfa_last_step is the
-- last 30-second step accepted, so a code seen once (over a shoulder, in a proxy log) is not accepted again.
-- Recovery codes are random and kept as SHA-256 hashes; using one removes it.
ALTER TABLE users
  ADD COLUMN mfa_secret_sealed text,
  ADD COLUMN mfa_enabled_at timestamptz,
  ADD COLUMN mfa_last_step bigint,
  ADD COLUMN mfa_recovery_hashes text[] NOT NULL DEFAULT '{}',
  ADD COLUMN password_changed_at timestamptz,
  -- an invited user has no password until the invitation is accepted
  ADD COLUMN invited_at timestamptz;

ALTER TABLE staff_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON staff_sessions USING (tenant_id = settle_current_tenant()) WITH CHECK (tenant_id = settle_current_tenant());
-- Like API keys: a request presenting a cookie may read the one session whose hash it knows, to learn its tenant.
CREATE POLICY authenticate_by_hash ON staff_sessions FOR SELECT
  USING (token_hash = nullif(current_setting('settle.session_hash', true), ''));

ALTER TABLE staff_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON staff_links USING (tenant_id = settle_current_tenant()) WITH CHECK (tenant_id = settle_current_tenant());
CREATE POLICY authenticate_by_hash ON staff_links FOR SELECT
  USING (token_hash = nullif(current_setting('settle.link_hash', true), ''));
