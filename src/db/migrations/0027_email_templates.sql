-- E-mail templates (issue #9, notify/templates/): a workspace's own subject and body for a kind of e-mail
-- Settle sends to clients. The default wording lives in code (notify/templates/catalogue.ts); a row here is
-- an override, checked on save against the kind's fixed variables. Reset to the default deletes the row.
CREATE TABLE email_templates (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  kind text NOT NULL,
  subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL,
  PRIMARY KEY (tenant_id, kind)
);
ALTER TABLE email_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_templates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_templates USING (tenant_id = settle_current_tenant()) WITH CHECK (tenant_id = settle_current_tenant());
