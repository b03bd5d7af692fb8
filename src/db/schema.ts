// Kysely table types, one per table of migrations/*.sql. Kysely over Drizzle: money code needs explicit
// transactions, row locks and conditional updates (`UPDATE … WHERE state = $from`) written close to SQL,
// and migrations stay plain reviewed SQL files (docs/architecture.md).
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Created = ColumnType<Date, Date | string | undefined, never>;
type Updated = ColumnType<Date, Date | string | undefined, Date | string>;
type DateText = ColumnType<string, string, string>; // SQL date, kept as YYYY-MM-DD text

export interface TenantsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  currency: Generated<string>;
  settings: Generated<Record<string, unknown>>;
  portal_secret: Generated<string>;
  created_at: Created;
}
export interface UsersTable {
  id: Generated<string>;
  tenant_id: string;
  email: string;
  name: string;
  role: 'owner' | 'finance' | 'viewer';
  password_hash: string;
  created_at: Created;
}
export interface ApiKeysTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  key_hash: string;
  prefix: string;
  created_at: Created;
  revoked_at: Date | null;
}
export interface ConnectionsTable {
  id: Generated<string>;
  tenant_id: string;
  role: 'psa' | 'payments' | 'accounting' | 'bank_ach';
  vendor: string;
  config: Record<string, unknown>;
  secrets_ciphertext: string;
  status: Generated<'active' | 'needs_attention' | 'disabled'>;
  status_detail: string | null;
  created_at: Created;
  updated_at: Updated;
}
export interface SyncCursorsTable {
  tenant_id: string;
  name: string;
  cursor_value: string | null;
  updated_at: Updated;
}
export interface ClientsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  identifier: string;
  billing_email: string | null;
  billing_contact: string | null;
  region: string | null;
  country: string | null;
  collection_enabled: Generated<boolean>;
  autopay_enabled: Generated<boolean>;
  processor_customer_id: string | null;
  created_at: Created;
  updated_at: Updated;
}
export interface ExternalRefsTable {
  tenant_id: string;
  entity: 'client' | 'invoice' | 'payment' | 'payout';
  entity_id: string;
  system: string;
  remote_id: string;
  created_at: Created;
}
export type InvoiceStatus = 'open' | 'partially_paid' | 'paid' | 'void' | 'credit';
export interface InvoicesTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string;
  number: string;
  type: string;
  currency: string;
  total_minor: bigint;
  psa_balance_minor: bigint;
  paid_minor: Generated<bigint>;
  status: InvoiceStatus;
  psa_status: string;
  issued_on: DateText;
  due_on: DateText | null;
  current_version: Generated<number>;
  psa_updated_at: Date | string;
  psa_fetched_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  first_seen_at: Created;
  updated_at: Updated;
}
export interface InvoiceVersionsTable {
  tenant_id: string;
  invoice_id: string;
  version: number;
  content_hash: string;
  total_minor: bigint;
  snapshot: unknown;
  received_at: Created;
}
export interface InvoiceLinesTable {
  tenant_id: string;
  invoice_id: string;
  version: number;
  line_no: number;
  external_id: string;
  kind: string;
  description: string;
  quantity: string;
  amount_minor: bigint;
}
export interface PaymentMethodsTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string;
  processor: string;
  processor_method_id: string;
  kind: 'card' | 'us_bank_account';
  brand: string | null;
  last4: string;
  funding: string | null;
  exp_month: number | null;
  exp_year: number | null;
  is_default: Generated<boolean>;
  created_at: Created;
}
export type PaymentState =
  'pending' | 'processing' | 'succeeded' | 'failed' | 'unknown' | 'refunded' | 'partially_refunded' | 'returned' | 'disputed' | 'charged_back';
export interface PlannedAllocation {
  readonly invoiceId: string;
  readonly amountMinor: string; // bigint as text inside JSON
}
export interface PaymentsTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string;
  currency: string;
  amount_minor: bigint;
  surcharge_minor: Generated<bigint>;
  /** ACH discount granted (0009): the invoices are paid in full, the processor charged amount_minor. */
  discount_minor: Generated<bigint>;
  planned_allocations: ColumnType<PlannedAllocation[], string | undefined, string>;
  fee_minor: bigint | null;
  state: PaymentState;
  source: 'portal' | 'autopay' | 'manual' | 'installment';
  processor: string;
  processor_payment_id: string | null;
  method_kind: string | null;
  method_brand: string | null;
  method_last4: string | null;
  failure_code: string | null;
  failure_message: string | null;
  succeeded_at: Date | null;
  // 0005_lifecycle
  sec_code: Generated<'CCD' | 'CTX' | 'PPD' | 'WEB' | 'TEL' | null>;
  final_after: ColumnType<string | null, string | null | undefined, string | null>;
  refunded_minor: Generated<bigint>;
  created_at: Created;
  updated_at: Updated;
}
export type AttemptOutcome = 'sending' | 'succeeded' | 'processing' | 'requires_action' | 'declined' | 'not_sent' | 'unknown';
export interface PaymentAttemptsTable {
  id: Generated<string>;
  tenant_id: string;
  payment_id: string;
  attempt_no: number;
  idempotency_key: string;
  outcome: AttemptOutcome;
  processor_payment_id: string | null;
  decline_code: string | null;
  message: string | null;
  created_at: Created;
  resolved_at: Date | null;
}
export interface PaymentEventsTable {
  id: Generated<bigint>;
  tenant_id: string;
  payment_id: string;
  from_state: string | null;
  to_state: string;
  event: string;
  detail: unknown;
  created_at: Created;
}
export interface AllocationsTable {
  id: Generated<string>;
  tenant_id: string;
  payment_id: string;
  invoice_id: string;
  amount_minor: bigint;
  reversed_minor: Generated<bigint>; // 0005_lifecycle
  created_at: Created;
}
export interface PayoutsTable {
  id: Generated<string>;
  tenant_id: string;
  processor: string;
  processor_payout_id: string;
  currency: string;
  amount_minor: bigint;
  gross_minor: bigint;
  fees_minor: bigint;
  adjustments_minor: bigint;
  arrival_date: DateText;
  status: string;
  created_at: Created;
}
export interface PayoutItemsTable {
  tenant_id: string;
  payout_id: string;
  balance_transaction_id: string;
  type: string;
  processor_payment_id: string | null;
  payment_id: string | null;
  gross_minor: bigint;
  fee_minor: bigint;
  net_minor: bigint;
}
export interface LedgerEntriesTable {
  id: Generated<bigint>;
  tenant_id: string;
  journal_id: string;
  journal_kind: string;
  account: string;
  direction: 'debit' | 'credit';
  amount_minor: bigint;
  currency: string;
  memo: Generated<string>;
  payment_id: string | null;
  payout_id: string | null;
  invoice_id: string | null;
  created_at: Created;
}
export type PostingStatus = 'pending' | 'posted' | 'failed';
export interface PostingsTable {
  id: Generated<string>;
  tenant_id: string;
  target: 'psa' | 'accounting';
  vendor: string;
  kind: 'payment' | 'deposit' | 'payment_reversal' | 'refund';
  payment_id: string | null;
  payout_id: string | null;
  invoice_id: string | null;
  amount_minor: bigint;
  currency: string;
  idempotency_key: string;
  status: Generated<PostingStatus>;
  remote_id: string | null;
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: Generated<Date>;
  created_at: Created;
  posted_at: Date | null;
  // 0005_lifecycle: a reversal names the payment posting it undoes and what of it is to remain
  reverses_posting_id: Generated<string | null>;
  remaining_minor: Generated<bigint | null>;
}
export interface InboxEventsTable {
  id: Generated<bigint>;
  tenant_id: string;
  source: string;
  vendor_event_id: string;
  event_type: string;
  payload: unknown;
  received_at: Created;
  processed_at: Date | null;
  attempts: Generated<number>;
  last_error: string | null;
}
export interface AuditLogTable {
  id: Generated<bigint>;
  tenant_id: string;
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string | null;
  detail: unknown;
  created_at: Created;
}
export interface WorkerHeartbeatsTable {
  worker_id: string;
  host: string;
  pid: number;
  started_at: Created;
  seen_at: Updated;
}

export interface NotificationsTable {
  id: Generated<string>;
  tenant_id: string;
  kind: string;
  client_id: string | null;
  to_email: string;
  subject: string;
  body_text: string;
  body_html: string | null;
  idempotency_key: string;
  status: Generated<'pending' | 'sent' | 'failed' | 'skipped'>;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: Created;
  sent_at: Date | null;
}

export interface Database {
  notifications: NotificationsTable;
  tenants: TenantsTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  connections: ConnectionsTable;
  sync_cursors: SyncCursorsTable;
  clients: ClientsTable;
  external_refs: ExternalRefsTable;
  invoices: InvoicesTable;
  invoice_versions: InvoiceVersionsTable;
  invoice_lines: InvoiceLinesTable;
  payment_methods: PaymentMethodsTable;
  payments: PaymentsTable;
  payment_attempts: PaymentAttemptsTable;
  payment_events: PaymentEventsTable;
  allocations: AllocationsTable;
  payouts: PayoutsTable;
  payout_items: PayoutItemsTable;
  ledger_entries: LedgerEntriesTable;
  postings: PostingsTable;
  inbox_events: InboxEventsTable;
  audit_log: AuditLogTable;
  worker_heartbeats: WorkerHeartbeatsTable;
  // 0003_autopay
  autopay_settings: AutopaySettingsTable;
  autopay_rules: AutopayRulesTable;
  autopay_client_settings: AutopayClientSettingsTable;
  autopay_schedules: AutopaySchedulesTable;
  autopay_approvals: AutopayApprovalsTable;
  // 0007_collections
  surcharge_settings: SurchargeSettingsTable;
  surcharge_exemptions: SurchargeExemptionsTable;
  surcharge_quotes: SurchargeQuotesTable;
  client_credit_entries: ClientCreditEntriesTable;
  credit_refunds: CreditRefundsTable;
  installment_plans: InstallmentPlansTable;
  installment_parts: InstallmentPartsTable;
  // 0005_lifecycle
  refunds: RefundsTable;
  disputes: DisputesTable;
  // 0006_retries
  retry_policies: RetryPoliciesTable;
  payment_failures: PaymentFailuresTable;
  exceptions: ExceptionsTable;
  // 0004_bank_ach
  ach_bank_accounts: AchBankAccountsTable;
  ach_mandates: AchMandatesTable;
  ach_files: AchFilesTable;
  ach_entries: AchEntriesTable;
  ach_inbound_files: AchInboundFilesTable;
  ach_entry_notices: AchEntryNoticesTable;
}

export type Invoice = Selectable<InvoicesTable>;
export type Payment = Selectable<PaymentsTable>;
export type Posting = Selectable<PostingsTable>;
export type NewLedgerEntry = Insertable<LedgerEntriesTable>;

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
}

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
  kind: 'ack' | 'returns';
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

// ---- 0005_lifecycle: refunds and disputes ----
export interface RefundsTable {
  id: Generated<string>;
  tenant_id: string;
  payment_id: string;
  currency: string;
  amount_minor: bigint;
  surcharge_minor: Generated<bigint>;
  credit_minor: Generated<bigint>;
  reason: string;
  status: Generated<'pending' | 'succeeded' | 'failed'>;
  source: 'settle' | 'processor';
  processor_refund_id: string | null;
  idempotency_key: string;
  request_hash: string;
  requested_by: string;
  attempts: Generated<number>;
  failure_message: string | null;
  created_at: Created;
  updated_at: Updated;
  succeeded_at: Date | null;
}
export interface DisputesTable {
  id: Generated<string>;
  tenant_id: string;
  payment_id: string;
  processor_dispute_id: string;
  kind: 'card' | 'ach';
  currency: string;
  amount_minor: bigint;
  fee_minor: Generated<bigint>;
  reason: string;
  status: 'open' | 'won' | 'lost';
  opened_at: Created;
  closed_at: Date | null;
}
export type Refund = Selectable<RefundsTable>;
export type Dispute = Selectable<DisputesTable>;
