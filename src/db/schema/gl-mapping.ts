import type { Generated } from 'kysely';
import type { DateText } from './columns.ts';
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

// ---- 0041_credit_memo_applications: a PSA credit memo application, applied in the books by a posting ----
export interface CreditMemoApplicationsTable {
  tenant_id: string;
  psa_remote_id: string;
  invoice_id: string;
  credit_memo_number: string;
  applied_on: DateText;
  posting_id: string;
  created_at: Generated<Date>;
}

export interface InvoiceCreditColumns {
  credits_checked_psa_at: Generated<Date | string | null>;
}
