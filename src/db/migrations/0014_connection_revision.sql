-- Connections changed while Settle runs (issue #6 item 6). Every process (`settle start`, any number of
-- `settle worker`, the `settle connect` CLI) caches the connectors it built from a workspace's connections;
-- a new connection, new settings or a rotated secret must be used at once by all of them. So each workspace
-- carries a revision that moves whenever one of its connections is added, removed or saved, and a process
-- drops its cached connectors when the revision it sees differs from the one it built them under
-- (engine/connections.ts). The tenants row is readable without a tenant context, so the check is one small
-- query (and free on the webhook path, which reads the row anyway).
ALTER TABLE tenants ADD COLUMN connections_revision bigint NOT NULL DEFAULT 0;

CREATE FUNCTION settle_bump_connections_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tenants SET connections_revision = connections_revision + 1
   WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END);
  RETURN NULL;
END $$;

-- `UPDATE OF vendor, config, status` fires when a statement sets any of these columns (saving a connection
-- sets all three, disabling one sets status), but not when a connector only stores its own refreshed OAuth
-- tokens (secrets_ciphertext and updated_at alone): that must not throw away the connector that did it.
CREATE TRIGGER connections_revision
  AFTER INSERT OR DELETE OR UPDATE OF vendor, config, status ON connections
  FOR EACH ROW EXECUTE FUNCTION settle_bump_connections_revision();
