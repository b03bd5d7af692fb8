import type { ColumnType, Generated } from 'kysely';
import type { Created, DateText, Updated } from './columns.ts';

// ---- 0006_retries: retry policies, failed payments, staff exceptions ----
export interface RetryPoliciesTable {
  tenant_id: string;
  soft_steps: ColumnType<unknown, string, string>;
  technical_steps: ColumnType<unknown, string, string>;
  update_link_ttl_hours: Generated<number>;
  retry_on_method_update: Generated<boolean>;
  updated_by: string;
  updated_at: Updated;
}
export type PaymentFailureStatus = 'scheduled' | 'retrying' | 'retried' | 'stopped' | 'resolved';
export interface PaymentFailuresTable {
  id: Generated<string>;
  tenant_id: string;
  payment_id: string;
  root_payment_id: string;
  client_id: string;
  invoice_ids: string[];
  method_kind: string | null;
  method_label: string | null;
  failure_code: string | null;
  failure_class: string;
  return_code: string | null;
  decision: 'retry' | 'no_retry';
  reason: string;
  detail: string;
  rules_applied: ColumnType<string[], string | undefined, string>;
  retry_number: number | null;
  retry_at: Date | null;
  status: PaymentFailureStatus;
  retry_payment_id: string | null;
  psa_note_id: string | null;
  created_at: Created;
  updated_at: Updated;
}
export interface ExceptionsTable {
  id: Generated<string>;
  tenant_id: string;
  kind: string;
  dedupe_key: string;
  status: Generated<'open' | 'resolved'>;
  client_id: string | null;
  invoice_ids: ColumnType<string[], string[] | undefined, string[]>;
  payment_id: string | null;
  title: string;
  detail: string;
  data: ColumnType<Record<string, unknown>, string | undefined, string>;
  opened_at: Created;
  updated_at: Updated;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution: string | null;
  /** What the person who resolved it did, or why they dismissed it (0024). */
  resolution_note: ColumnType<string | null, string | null | undefined, string | null>;
}
