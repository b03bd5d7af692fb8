-- API keys carry a staff role like users do (issue #8 item 4), an optional expiry and the time they were
-- last used. Keys made before this migration could do everything an owner can; they stay `owner` so an
-- upgrade breaks no integration, and `settle api-key list` shows them for review (replace each with a key
-- of the narrowest role it needs, then `settle api-key revoke` the old one). New keys must name a role:
-- the default is dropped right after the existing rows are filled.
ALTER TABLE api_keys ADD COLUMN role text NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'finance', 'viewer'));
ALTER TABLE api_keys ALTER COLUMN role DROP DEFAULT;
-- null: never expires
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
-- written at most once a minute per key (http/api-key-auth.ts), so a busy integration costs no write per call
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
-- who revoked it (audit actor form); revoked_at already exists
ALTER TABLE api_keys ADD COLUMN revoked_by text;
