-- Workspace branding (issue #9, engine/branding.ts): what the client portal and the e-mails carry instead of
-- Settle's look — the MSP's logo, its primary colour, the sender's display name and a reply-to address.
-- One row per workspace, absent until an owner saves the branding page (then Settle's defaults apply).
--
-- The logo is kept here as bytes (bytea, at most 512 KB, PNG / JPEG / WebP by their magic bytes — never SVG,
-- which can carry script): an install has no file store to keep in step with backups, and the portal serves
-- it from here with a cache key of its SHA-256 (logo_sha256), which the audit log also names instead of bytes.
CREATE TABLE workspace_branding (
  tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
  -- '#rrggbb', lower case; buttons use it with white text, so it is checked for 4.5:1 contrast on save
  primary_color text CHECK (primary_color ~ '^#[0-9a-f]{6}$'),
  -- the display name in From: (the address stays SETTLE_MAIL_FROM); null: the workspace's name
  sender_name text CHECK (length(sender_name) BETWEEN 1 AND 100),
  reply_to text CHECK (length(reply_to) BETWEEN 3 AND 254),
  logo bytea CHECK (octet_length(logo) BETWEEN 1 AND 524288),
  logo_type text CHECK (logo_type IN ('image/png', 'image/jpeg', 'image/webp')),
  logo_sha256 text CHECK (logo_sha256 ~ '^[0-9a-f]{64}$'),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- a logo is its bytes, its type and its hash together, or none of them
  CHECK ((logo IS NULL) = (logo_type IS NULL) AND (logo IS NULL) = (logo_sha256 IS NULL))
);
ALTER TABLE workspace_branding ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspace_branding FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workspace_branding USING (tenant_id = settle_current_tenant()) WITH CHECK (tenant_id = settle_current_tenant());
