-- The GL mapping's rules by PSA field (issue #11, "For every ledger"): which option of a ledger's tracking
-- dimension (QuickBooks Class / Location, a Xero tracking category, a QuickBooks Desktop Class) Settle puts on
-- what it posts for an invoice, chosen by a field the PSA gave the invoice. The accounts by role stay in the
-- accounting connection's settings (one ledger per workspace); these rules are per workspace and name the
-- dimension by the ledger-neutral key of connectors/accounting/types.ts LedgerDimension ('class', 'location', …).
-- The one PSA field Settle keeps per invoice today is the contract kind of its lines (0035_invoice_contracts;
-- 'none' = lines under no contract). A rule set here beats the workspace-wide class / location.
CREATE TABLE gl_tracking_rules (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  psa_field text NOT NULL CHECK (psa_field IN ('contract_kind')),
  psa_value text NOT NULL CHECK (psa_value <> ''),
  dimension text NOT NULL CHECK (dimension <> ''),
  option_id text NOT NULL CHECK (option_id <> ''),
  -- The option's name when chosen, so the page and `settle doctor` can name it after it left the ledger.
  option_name text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL,
  PRIMARY KEY (tenant_id, psa_field, psa_value, dimension),
  CHECK (psa_field <> 'contract_kind'
         OR psa_value IN ('managed_services', 'per_device', 'block_hours', 'project', 'time_and_materials', 'none'))
);

ALTER TABLE gl_tracking_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE gl_tracking_rules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON gl_tracking_rules USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
