-- Outgoing email, stored before it is sent (an outbox): the row is written in the same transaction as the
-- event that causes it, with an idempotency key, and a job sends it. A crash never loses an email and a
-- retry never sends one twice (the key is also the Message-ID).
CREATE TABLE notifications (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  kind text NOT NULL,
  client_id uuid REFERENCES clients(id),
  to_email text NOT NULL,
  subject text NOT NULL,
  body_text text NOT NULL,
  body_html text,
  idempotency_key text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX notifications_client ON notifications (tenant_id, client_id, created_at DESC);

ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notifications USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
