import type { ColumnType, Generated } from 'kysely';
import type { Created, DateText, Updated } from './columns.ts';

// ---- 0004_bank_ach: NACHA debits by file to the MSP's bank, returns and NOCs ----
export type AchSecCode = 'CCD' | 'PPD' | 'WEB';
export interface AchBankAccountsTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string;
  holder_name: string;
  holder_kind: 'business' | 'personal';
  sec_code: AchSecCode;
  routing_number: string;
  account_sealed: string;
  account_last4: string;
  account_type: 'checking' | 'savings';
  receiver_id: string | null;
  status: Generated<'active' | 'revoked' | 'disabled'>;
  status_reason: string | null;
  validation: 'not_required' | 'pending' | 'validated' | 'failed';
  validated_at: Date | null;
  created_at: Created;
  updated_at: Updated;
}
export interface AchMandatesTable {
  id: Generated<string>;
  tenant_id: string;
  bank_account_id: string;
  client_id: string;
  text: string;
  text_sha256: string;
  channel: 'portal' | 'staff';
  accepted_by: string;
  accepted_at: Date | string;
  accepted_ip: string;
  user_agent: string | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
  created_at: Created;
}
export type AchFileStatus = 'built' | 'sent' | 'accepted' | 'rejected';
export interface AchFilesTable {
  id: Generated<string>;
  tenant_id: string;
  file_name: string;
  file_date: DateText;
  file_id_modifier: string;
  window_id: string;
  content_sealed: string;
  sha256: string;
  byte_size: number;
  batch_count: number;
  entry_count: number;
  total_debit_minor: bigint;
  total_credit_minor: bigint;
  first_trace_seq: number;
  last_trace_seq: number;
  status: Generated<AchFileStatus>;
  upload_attempts: Generated<number>;
  last_error: string | null;
  remote_path: string | null;
  sent_at: Date | null;
  delivery: 'uploaded' | 'already_at_bank' | null;
  ack_file_name: string | null;
  ack_text: string | null;
  ack_at: Date | null;
  created_at: Created;
}
export type AchEntryStatus = 'pending' | 'batched' | 'sent' | 'settled' | 'returned' | 'cancelled';
export interface AchEntriesTable {
  id: Generated<string>;
  tenant_id: string;
  payment_id: string | null;
  bank_account_id: string;
  kind: 'debit' | 'prenote';
  presentment: Generated<number>;
  original_entry_id: string | null;
  sec_code: AchSecCode;
  amount_minor: bigint;
  currency: Generated<string>;
  company_name: string;
  company_id: string;
  entry_description: string;
  remittance: string | null;
  same_day: Generated<boolean>;
  not_before: DateText;
  latest_on: DateText | null;
  status: Generated<AchEntryStatus>;
  status_reason: string | null;
  file_id: string | null;
  trace_number: string | null;
  effective_date: DateText | null;
  settled_at: Date | null;
  created_at: Created;
  updated_at: Updated;
}
export interface AchInboundFilesTable {
  id: Generated<string>;
  tenant_id: string;
  remote_name: string;
  sha256: string;
  byte_size: number;
  content_sealed: string;
  kind: 'ack' | 'returns' | 'statement';
  received_at: Created;
  processed_at: Date | null;
  attempts: Generated<number>;
  last_error: string | null;
}
export interface AchEntryNoticesTable {
  id: Generated<string>;
  tenant_id: string;
  inbound_file_id: string;
  addenda_line: number;
  entry_id: string | null;
  kind: 'return' | 'noc';
  code: string;
  outcome: string;
  detail: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Created;
}
