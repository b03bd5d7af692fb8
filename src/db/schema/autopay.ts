import type { ColumnType, Generated } from 'kysely';
import type { Created, DateText, Updated } from './columns.ts';

// ---- 0003_autopay: rules, per-client settings, schedules, approvals ----
export interface AutopaySettingsTable {
  tenant_id: string;
  notice_days: Generated<number>;
  jump_percent: ColumnType<number | null, number | null | undefined, number | null>;
  requests_per_second: Generated<number>;
  concurrency: Generated<number>;
  updated_at: Updated;
}
export interface AutopayRulesTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string | null;
  name: string;
  position: Generated<number>;
  enabled: Generated<boolean>;
  invoice_types: string[] | null;
  line_kinds: string[] | null;
  currency: string | null;
  approval_cap_minor: bigint | null;
  anchor: Generated<'due_date' | 'invoice_date'>;
  offset_days: Generated<number>;
  method_kinds: Generated<('card' | 'us_bank_account')[]>;
  notice_days: number | null;
  created_at: Created;
  updated_at: Updated;
  deleted_at: Date | null;
}
export interface AutopayClientSettingsTable {
  tenant_id: string;
  client_id: string;
  locked_rule_id: string | null;
  fallback_method_id: string | null;
  updated_at: Updated;
}
export type AutopayScheduleState = 'pending_notice' | 'awaiting_approval' | 'blocked' | 'noticed' | 'charging' | 'charged' | 'failed' | 'cancelled';
export interface AutopaySchedulesTable {
  id: Generated<string>;
  tenant_id: string;
  invoice_id: string;
  client_id: string;
  rule_id: string;
  state: AutopayScheduleState;
  reason: string | null;
  charge_on: DateText;
  notice_days: number;
  not_before: DateText | null;
  noticed_version: number | null;
  noticed_amount_minor: bigint | null;
  noticed_at: Date | null;
  notices_sent: Generated<number>;
  method_id: string | null;
  attempt: Generated<number>;
  payment_id: string | null;
  created_at: Created;
  updated_at: Updated;
}
export interface AutopayApprovalsTable {
  id: Generated<string>;
  tenant_id: string;
  schedule_id: string;
  invoice_id: string;
  invoice_version: number;
  amount_minor: bigint;
  currency: string;
  reasons: string[];
  detail: unknown;
  status: Generated<'pending' | 'approved' | 'rejected' | 'superseded'>;
  decided_by: string | null;
  decided_at: Date | null;
  note: string | null;
  created_at: Created;
}
