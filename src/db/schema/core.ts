// Tables of 0001_core and 0002_notifications: tenants, clients, invoices, payments, ledger, postings, inbox, audit, outbox.
import type { ColumnType, Generated } from 'kysely';
import type { Created, DateText, Updated } from './columns.ts';

export interface TenantsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  currency: Generated<string>;
  settings: Generated<Record<string, unknown>>;
  /** In clear only until Settle seals it (0023, db/portal-secret.ts); then null. */
  portal_secret: Generated<string | null>;
  /** 0023: the portal secret sealed with the instance key (db/crypto.ts, context portal-secret:<tenant id>). */
  portal_secret_sealed: Generated<string | null>;
  created_at: Created;
  /** 0014: moves whenever one of the workspace's connections is added, removed or saved (engine/connections.ts). */
  connections_revision: Generated<bigint>;
}
export interface UsersTable {
  id: Generated<string>;
  tenant_id: string;
  email: string;
  name: string;
  role: 'owner' | 'finance' | 'viewer';
  password_hash: string;
  created_at: Created;
  // 0019_staff_sessions: second factor, password age, invitation
  mfa_secret_sealed: Generated<string | null>;
  mfa_enabled_at: Generated<Date | null>;
  mfa_last_step: Generated<bigint | null>;
  mfa_recovery_hashes: Generated<string[]>;
  password_changed_at: Generated<Date | null>;
  invited_at: Generated<Date | null>;
}
export interface ApiKeysTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  key_hash: string;
  prefix: string;
  created_at: Created;
  revoked_at: Date | null;
  /** 0022: the staff role the key acts with (http/permissions.ts); keys older than 0022 became owner. */
  role: 'owner' | 'finance' | 'viewer';
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_by: string | null;
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
  // 0025_connection_setup: the last "Test connection" (engine/connection-checks.ts)
  last_checked_at: Generated<Date | null>;
  last_success_at: Generated<Date | null>;
  last_error_at: Generated<Date | null>;
  last_error: Generated<string | null>;
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
  /** Installment-plan fee charged with this payment (0034): beyond the invoice, like a surcharge, never allocated. */
  plan_fee_minor: Generated<bigint>;
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
  kind: 'payment' | 'deposit' | 'payment_reversal' | 'refund' | 'bank_withdrawal' | 'credit_memo'; // credit_memo: 0041
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
  // 0012_books_waiting: waiting for something outside Settle (the invoice in the books), not failing
  waiting_for: Generated<'invoice_in_books' | null>;
  waiting_since: Generated<Date | null>;
  request_generation: Generated<number>;
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
  /** 0055: a sending batch's lease (engine/collections-assist/send.ts). */
  sending_until: Date | null;
  sending_by: string | null;
  /** 0055: the statement of account attached as a PDF, as of statement_as_of. */
  statement_client_id: string | null;
  statement_as_of: DateText | null;
}
