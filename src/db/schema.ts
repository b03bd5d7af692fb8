// Kysely table types, one per table of migrations/*.sql, in files by migration (src/db/schema/). Kysely over
// Drizzle: money code needs explicit transactions, row locks and conditional updates (`UPDATE … WHERE state =
// $from`) written close to SQL, and migrations stay plain reviewed SQL files (docs/architecture.md).
import type { Insertable, Selectable } from 'kysely';
import type * as core from './schema/core.ts';
import type * as autopay from './schema/autopay.ts';
import type * as collections from './schema/collections.ts';
import type * as lifecycle from './schema/lifecycle.ts';
import type * as retries from './schema/retries.ts';
import type * as bankAch from './schema/bank-ach.ts';
import type * as booksWaiting from './schema/books-waiting.ts';
import type * as portalCheckouts from './schema/portal-checkouts.ts';
import type * as apiIdempotency from './schema/api-idempotency.ts';
import type * as bankStatement from './schema/bank-statement.ts';
import type * as signInLockouts from './schema/sign-in-lockouts.ts';
import type * as staffAccounts from './schema/staff-accounts.ts';
import type * as connectionSetup from './schema/connection-setup.ts';
import type * as installmentOffers from './schema/installment-offers.ts';
import type * as emailTemplates from './schema/email-templates.ts';
import type * as branding from './schema/branding.ts';
import type * as dashboardSnapshots from './schema/dashboard-snapshots.ts';
import type * as quickbooksDesktop from './schema/quickbooks-desktop.ts';
import type * as payLinks from './schema/pay-links.ts';
import type * as contracts from './schema/contracts.ts';
import type * as autotaskBudget from './schema/autotask-budget.ts';
import type * as glMapping from './schema/gl-mapping.ts';
import type * as reconciliation from './schema/reconciliation.ts';
import type * as webhooksOut from './schema/webhooks-out.ts';
import type * as collectionsAssist from './schema/collections-assist.ts';
import type * as portalSelfService from './schema/portal-self-service.ts';

export type * from './schema/core.ts';
export type * from './schema/autopay.ts';
export type * from './schema/collections.ts';
export type * from './schema/lifecycle.ts';
export type * from './schema/retries.ts';
export type * from './schema/bank-ach.ts';
export type * from './schema/books-waiting.ts';
export type * from './schema/portal-checkouts.ts';
export type * from './schema/api-idempotency.ts';
export type * from './schema/bank-statement.ts';
export type * from './schema/sign-in-lockouts.ts';
export type * from './schema/staff-accounts.ts';
export type * from './schema/connection-setup.ts';
export type * from './schema/installment-offers.ts';
export type * from './schema/email-templates.ts';
export type * from './schema/branding.ts';
export type * from './schema/dashboard-snapshots.ts';
export type * from './schema/pay-links.ts';
export type * from './schema/contracts.ts';
export type * from './schema/reconciliation.ts';

export interface Database {
  notifications: core.NotificationsTable;
  tenants: core.TenantsTable;
  users: core.UsersTable;
  api_keys: core.ApiKeysTable;
  connections: core.ConnectionsTable & payLinks.ConnectionPayLinkColumns; // + 0036_invoice_pay_links
  sync_cursors: core.SyncCursorsTable;
  clients: core.ClientsTable;
  external_refs: core.ExternalRefsTable;
  invoices: core.InvoicesTable & glMapping.InvoiceCreditColumns; // + 0041_credit_memo_applications
  invoice_versions: core.InvoiceVersionsTable;
  invoice_lines: core.InvoiceLinesTable & contracts.InvoiceLineContractColumns; // + 0035_invoice_contracts
  payment_methods: core.PaymentMethodsTable & portalSelfService.PaymentMethodRemovedColumns; // + 0049_portal_self_service
  payments: core.PaymentsTable;
  payment_attempts: core.PaymentAttemptsTable;
  payment_events: core.PaymentEventsTable;
  allocations: core.AllocationsTable;
  payouts: core.PayoutsTable;
  payout_items: core.PayoutItemsTable;
  ledger_entries: core.LedgerEntriesTable;
  postings: core.PostingsTable;
  inbox_events: core.InboxEventsTable;
  audit_log: core.AuditLogTable;
  worker_heartbeats: core.WorkerHeartbeatsTable;
  // 0003_autopay
  autopay_settings: autopay.AutopaySettingsTable;
  autopay_rules: autopay.AutopayRulesTable & contracts.AutopayRuleContractColumns; // + 0035_invoice_contracts
  autopay_client_settings: autopay.AutopayClientSettingsTable;
  autopay_schedules: autopay.AutopaySchedulesTable;
  autopay_approvals: autopay.AutopayApprovalsTable;
  // 0007_collections
  surcharge_settings: collections.SurchargeSettingsTable;
  surcharge_exemptions: collections.SurchargeExemptionsTable;
  surcharge_quotes: collections.SurchargeQuotesTable;
  client_credit_entries: collections.ClientCreditEntriesTable;
  credit_refunds: collections.CreditRefundsTable;
  installment_plans: collections.InstallmentPlansTable;
  installment_parts: collections.InstallmentPartsTable;
  // 0005_lifecycle
  refunds: lifecycle.RefundsTable;
  disputes: lifecycle.DisputesTable;
  // 0006_retries
  retry_policies: retries.RetryPoliciesTable;
  payment_failures: retries.PaymentFailuresTable;
  exceptions: retries.ExceptionsTable;
  // 0004_bank_ach
  ach_bank_accounts: bankAch.AchBankAccountsTable;
  ach_mandates: bankAch.AchMandatesTable;
  ach_files: bankAch.AchFilesTable;
  ach_entries: bankAch.AchEntriesTable;
  ach_inbound_files: bankAch.AchInboundFilesTable;
  ach_entry_notices: bankAch.AchEntryNoticesTable;
  // 0012_books_waiting
  deposit_lines: booksWaiting.DepositLinesTable;
  bank_statement_lines: bankStatement.BankStatementLinesTable;
  // 0011_portal_checkouts
  portal_checkouts: portalCheckouts.PortalCheckoutsTable;
  // 0015_api_idempotency
  api_idempotency_keys: apiIdempotency.ApiIdempotencyKeysTable;
  // 0021_sign_in_lockouts
  sign_in_lockouts: signInLockouts.SignInLockoutsTable;
  // 0019_staff_sessions
  staff_sessions: staffAccounts.StaffSessionsTable;
  staff_links: staffAccounts.StaffLinksTable;
  // 0025_connection_setup
  oauth_states: connectionSetup.OAuthStatesTable;
  // 0030_installment_offers
  installment_offers: installmentOffers.InstallmentOffersTable;
  // 0027_email_templates
  email_templates: emailTemplates.EmailTemplatesTable;
  // 0026_branding
  workspace_branding: branding.WorkspaceBrandingTable;
  // 0033_dashboard_snapshots
  dashboard_snapshots: dashboardSnapshots.DashboardSnapshotsTable;
  // 0036_invoice_pay_links
  invoice_pay_links: payLinks.InvoicePayLinksTable;
  // 0040_quickbooks_desktop
  qbd_work: quickbooksDesktop.QbdWorkTable;
  qbd_invoices: quickbooksDesktop.QbdInvoicesTable;
  qbd_sessions: quickbooksDesktop.QbdSessionsTable;
  // 0038_autotask_budget_use
  autotask_budget_use: autotaskBudget.AutotaskBudgetUseTable;
  // 0041_gl_tracking_rules
  gl_tracking_rules: glMapping.GlTrackingRulesTable;
  credit_memo_applications: glMapping.CreditMemoApplicationsTable;
  // 0042_books_copy_reconciliation
  books_invoices: reconciliation.BooksInvoicesTable;
  books_payments: reconciliation.BooksPaymentsTable;
  books_payment_lines: reconciliation.BooksPaymentLinesTable;
  books_deposits: reconciliation.BooksDepositsTable;
  reconciliation_runs: reconciliation.ReconciliationRunsTable;
  reconciliation_drifts: reconciliation.ReconciliationDriftsTable;
  // 0047_webhooks_out
  webhook_subscriptions: webhooksOut.WebhookSubscriptionsTable;
  webhook_events: webhooksOut.WebhookEventsTable;
  webhook_deliveries: webhooksOut.WebhookDeliveriesTable;
  webhook_attempts: webhooksOut.WebhookAttemptsTable;
  // 0048_collections_assist
  collection_settings: collectionsAssist.CollectionSettingsTable;
  collection_sequences: collectionsAssist.CollectionSequencesTable;
  collection_steps: collectionsAssist.CollectionStepsTable;
  collection_assignments: collectionsAssist.CollectionAssignmentsTable;
  collection_holds: collectionsAssist.CollectionHoldsTable;
  collection_sends: collectionsAssist.CollectionSendsTable;
  // 0049_portal_self_service
  autopay_consents: portalSelfService.AutopayConsentsTable;
}

export type Invoice = Selectable<core.InvoicesTable>;
export type Payment = Selectable<core.PaymentsTable>;
export type Posting = Selectable<core.PostingsTable>;
export type NewLedgerEntry = Insertable<core.LedgerEntriesTable>;
export type Refund = Selectable<lifecycle.RefundsTable>;
export type Dispute = Selectable<lifecycle.DisputesTable>;
