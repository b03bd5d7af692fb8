// ---- 0041_gl_tracking_rules: class / location (any ledger's tracking dimension) by a PSA field of the invoice ----
export type GlPsaField = 'contract_kind';
export interface GlTrackingRulesTable {
  tenant_id: string;
  psa_field: GlPsaField;
  psa_value: string;
  dimension: string;
  option_id: string;
  option_name: string;
  updated_at: Date;
  updated_by: string;
}
