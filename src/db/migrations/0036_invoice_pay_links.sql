-- Pay links written into the PSA (issue #10, "Pay from inside the PSA"): each open invoice gets one link of
-- its own, written once into the field the PSA shows on the invoice (a ConnectWise invoice custom field, the
-- Autotask invoice's Comments, a HaloPSA invoice custom field — docs/architecture.md says why), so the
-- invoice the PSA sends already carries "Pay now". The link's token is never stored: it is an HMAC of the
-- link id under the workspace's portal secret (engine/pay-links.ts), like every other portal link, so a
-- copy of this table opens nothing. Revoking marks the row and makes a replacement (one live link per
-- invoice); a revoked link tells the client to ask the MSP for a new one.
CREATE TABLE invoice_pay_links (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  invoice_id uuid NOT NULL REFERENCES invoices(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  revoked_at timestamptz,
  revoked_by text,
  -- The link in the PSA: pending (the write job is queued), written, field_missing (the MSP has not made the
  -- field; one exception for the workspace says how), not_written (no PSA connected, or pay links off).
  psa_state text NOT NULL DEFAULT 'pending' CHECK (psa_state IN ('pending', 'written', 'field_missing', 'not_written')),
  psa_vendor text,
  psa_field text,
  psa_written_at timestamptz,
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
-- One live link per invoice: a second "create" finds the first instead of making another.
CREATE UNIQUE INDEX invoice_pay_links_live ON invoice_pay_links (tenant_id, invoice_id) WHERE revoked_at IS NULL;
CREATE INDEX invoice_pay_links_invoice ON invoice_pay_links (invoice_id, created_at);
CREATE INDEX invoice_pay_links_waiting ON invoice_pay_links (tenant_id) WHERE psa_state = 'field_missing' AND revoked_at IS NULL;

-- When pay links start for the PSA connection: invoices Settle first sees from then on get one on their own
-- (set when the first import completes, so an MSP's back catalogue is not written in one go — the
-- Autotask hourly budget could not take it). Older open invoices get one from the invoice page.
ALTER TABLE connections ADD COLUMN pay_links_from timestamptz;

ALTER TABLE invoice_pay_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_pay_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoice_pay_links USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
