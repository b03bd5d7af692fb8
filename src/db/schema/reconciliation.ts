import type { ColumnType, Generated } from 'kysely';

// ---- 0042_books_copy_reconciliation: Settle's copy of the ledger, and the three-way reconciliation ----
type Stamp = ColumnType<Date, Date | string | undefined, Date | string>;
type DateOrNull = ColumnType<string | null, string | null | undefined, string | null>;

export interface BooksInvoicesTable {
  tenant_id: string;
  vendor: string;
  remote_id: string;
  number: string;
  customer_remote_id: string | null;
  currency: string;
  total_minor: bigint;
  balance_minor: bigint;
  voided: Generated<boolean>;
  deleted: Generated<boolean>;
  remote_updated_at: Date | null;
  synced_at: Stamp;
}
export interface BooksPaymentsTable {
  tenant_id: string;
  vendor: string;
  remote_id: string;
  currency: string;
  total_minor: bigint;
  paid_on: DateOrNull;
  customer_remote_id: string | null;
  settle_key: string | null;
  reference: string | null;
  voided: Generated<boolean>;
  deleted: Generated<boolean>;
  remote_updated_at: Date | null;
  synced_at: Stamp;
}
export interface BooksPaymentLinesTable {
  tenant_id: string;
  vendor: string;
  payment_remote_id: string;
  line_no: number;
  invoice_remote_id: string;
  amount_minor: bigint;
}
export interface BooksDepositsTable {
  tenant_id: string;
  vendor: string;
  remote_id: string;
  currency: string;
  total_minor: bigint;
  deposited_on: DateOrNull;
  settle_key: string | null;
  voided: Generated<boolean>;
  deleted: Generated<boolean>;
  remote_updated_at: Date | null;
  synced_at: Stamp;
}
export interface ReconciliationRunsTable {
  id: Generated<string>;
  tenant_id: string;
  trigger: 'nightly' | 'on_demand';
  requested_by: string;
  started_at: Stamp;
  finished_at: Date | null;
  books_vendor: string | null;
  books_copy_as_of: Date | null;
  invoices_checked: Generated<number>;
  payouts_checked: Generated<number>;
  drift_count: Generated<number>;
  drift_minor: Generated<bigint>;
  zero_drift: boolean | null;
  summary: ColumnType<Record<string, unknown>, string | undefined, string>;
  /** A nightly run's date and timezone in the workspace (0045); null for on-demand runs. */
  local_date: ColumnType<string | null, string | null | undefined, string | null>;
  timezone: string | null;
}
export interface ReconciliationDriftsTable {
  id: Generated<string>;
  tenant_id: string;
  run_id: string;
  subject: 'invoice' | 'payout';
  invoice_id: string | null;
  payout_id: string | null;
  reference: string;
  kind: string;
  currency: string;
  psa_minor: bigint | null;
  settle_minor: bigint | null;
  books_minor: bigint | null;
  bank_minor: bigint | null;
  difference_minor: bigint;
  cause: string;
  fix: ColumnType<DriftFix | null, string | null | undefined, string | null>;
  advice: string;
  fixed_at: Date | null;
  fixed_by: string | null;
}

/** A fix Settle can make itself: post again a record Settle posted that a person removed in the other system. */
export interface DriftFix {
  /** repost: post the record again; restore_deposit: put an edited deposit back as Settle posted it. */
  readonly action: 'repost' | 'restore_deposit';
  readonly posting_id: string;
}
