-- Client portal self-service (issue #12): saved methods the client removed themselves, and the client's own
-- autopay authorisation (engine/portal-autopay.ts). A removed method is detached at the processor and kept
-- here only as history (autopay charges, plans and receipts still name it); nothing charges it again.
ALTER TABLE payment_methods ADD COLUMN removed_at timestamptz;

-- One row per enrolment from the portal: the exact terms on the screen (and their hash), the pre-debit
-- notice the MSP promised, when and from where the client agreed, and when and from where they left.
CREATE TABLE autopay_consents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  method_id uuid REFERENCES payment_methods(id),
  terms_text text NOT NULL,
  terms_sha256 text NOT NULL CHECK (terms_sha256 ~ '^[0-9a-f]{64}$'),
  notice_days integer NOT NULL CHECK (notice_days >= 0),
  accepted_at timestamptz NOT NULL DEFAULT now(),
  accepted_ip text NOT NULL,
  accepted_user_agent text,
  left_at timestamptz,
  left_ip text
);
-- At most one standing authorisation per client.
CREATE UNIQUE INDEX autopay_consents_standing ON autopay_consents (tenant_id, client_id) WHERE left_at IS NULL;

ALTER TABLE autopay_consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE autopay_consents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON autopay_consents USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
