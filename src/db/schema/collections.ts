import type { ColumnType, Generated } from 'kysely';
import type { Created, DateText, Updated } from './columns.ts';

// ---- 0007_collections: surcharging, client credit, installments ----
export interface SurchargeSettingsTable {
  tenant_id: string;
  enabled: Generated<boolean>;
  msp_country: Generated<string>;
  msp_region: string | null;
  cost_of_acceptance_bps: Generated<number>;
  notice_filed_on: DateText | null;
  alternative: Generated<'absorb' | 'ach_discount'>;
  ach_discount_bps: Generated<number>;
  updated_at: Updated;
}
export interface SurchargeExemptionsTable {
  tenant_id: string;
  client_id: string;
  reason: string;
  created_at: Created;
}
export interface SurchargeQuotesTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string;
  currency: string;
  base_minor: bigint;
  surcharge_minor: Generated<bigint>;
  rate_bps: Generated<number>;
  allowed: boolean;
  reason: string | null;
  disclosure: string | null;
  display_total_minor: bigint | null;
  processor: string;
  processor_method_id: string;
  card_brand: string | null;
  card_funding: string | null;
  card_last4: string | null;
  rules_applied: ColumnType<string[], string | undefined, string>;
  choices: ColumnType<{ invoiceId: string; amountMinor: string | null }[], string | undefined, string>;
  payment_id: string | null;
  created_at: Created;
  expires_at: Date;
}
export interface ClientCreditEntriesTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string;
  currency: string;
  amount_minor: bigint;
  kind: 'overpayment' | 'applied' | 'refund';
  source_payment_id: string;
  invoice_id: string | null;
  credit_payment_id: string | null;
  refund_id: string | null;
  actor: string;
  note: Generated<string>;
  created_at: Created;
}
export interface CreditRefundsTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string;
  source_payment_id: string;
  currency: string;
  amount_minor: bigint;
  reason: string;
  status: Generated<'decided' | 'sent' | 'refunded' | 'failed'>;
  idempotency_key: string;
  processor_refund_id: string | null;
  decided_by: string;
  created_at: Created;
}
export interface InstallmentPlansTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string;
  invoice_id: string;
  currency: string;
  total_minor: bigint;
  payment_method_id: string;
  status: Generated<'active' | 'completed' | 'cancelled'>;
  created_by: string;
  cancel_reason: string | null;
  created_at: Created;
  updated_at: Updated;
  // 0030_installment_offers: a plan the client chose in the portal
  offer_id: ColumnType<string | null, string | null | undefined, string | null>;
  fee_minor: Generated<bigint>;
  request_key: ColumnType<string | null, string | null | undefined, string | null>;
}
export interface InstallmentPartsTable {
  id: Generated<string>;
  tenant_id: string;
  plan_id: string;
  part_no: number;
  due_on: DateText;
  amount_minor: bigint;
  status: Generated<'scheduled' | 'collecting' | 'paid' | 'failed' | 'cancelled'>;
  payment_id: string | null;
  updated_at: Updated;
}
