-- Account lockout after repeated failed sign-ins (issue #8 item 2). One row per workspace, e-mail and client
-- address: repeated failures from one address lock that e-mail for sign-ins from that address, for a growing
-- interval (15 min, then 30, 60, … up to a day). Keyed by the e-mail typed, not a user id, so that an unknown
-- e-mail locks exactly as a real one does (the answer never tells which e-mails exist). Kept in PostgreSQL so
-- that a restart or a second Settle process does not forget a lock. Lifted by a successful sign-in after the
-- lock ends, by an owner on the staff page /staff/lockouts, or by `settle user unlock`.
CREATE TABLE sign_in_lockouts (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  email text NOT NULL,
  address text NOT NULL,
  -- failed sign-ins since the last lock, success or unlock (reset when the last one is over an hour old)
  failures int NOT NULL DEFAULT 0 CHECK (failures >= 0),
  -- how many times this e-mail/address was locked since the last success or unlock: sets the next interval
  locks int NOT NULL DEFAULT 0 CHECK (locks >= 0),
  locked_until timestamptz,
  last_failed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, email, address)
);

ALTER TABLE sign_in_lockouts ENABLE ROW LEVEL SECURITY;
ALTER TABLE sign_in_lockouts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sign_in_lockouts USING (tenant_id = settle_current_tenant()) WITH CHECK (tenant_id = settle_current_tenant());
