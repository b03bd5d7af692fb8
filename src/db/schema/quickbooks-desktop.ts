import type { Generated } from 'kysely';
import type { Created } from './columns.ts';

// ---- 0040_quickbooks_desktop: the Web Connector's queue of qbXML work, the invoice copy, sessions ----
export type QbdWorkKind = 'payment' | 'deposit' | 'reversal' | 'invoice-lookup' | 'chart-read' | 'ledger-read' | 'credit-memo' | 'deposit-mod';
export type QbdWorkState = 'queued' | 'in_flight' | 'waiting_invoice' | 'done' | 'refused';
export type QbdStep = 'lookup' | 'check' | 'add' | 'read' | 'credit';

export interface QbdWorkTable {
  id: Generated<string>;
  tenant_id: string;
  key: string;
  kind: QbdWorkKind;
  intent: Record<string, unknown>;
  generation: Generated<number>;
  state: Generated<QbdWorkState>;
  step: QbdStep | null;
  ticket: string | null;
  adds_sent: Generated<number>;
  context: Generated<Record<string, unknown>>;
  remote_id: string | null;
  status_code: number | null;
  last_error: string | null;
  created_at: Created;
  updated_at: Generated<Date>;
  done_at: Date | null;
}

export interface QbdInvoicesTable {
  tenant_id: string;
  txn_id: string;
  ref_number: string;
  customer_list_id: string;
  customer_name: string | null;
  total_minor: bigint;
  balance_minor: bigint;
  currency: string;
  time_modified: string | null;
  seen_at: Generated<Date>;
}

export interface QbdSessionsTable {
  ticket: string;
  tenant_id: string;
  company_file: string | null;
  created_at: Created;
  last_seen_at: Generated<Date>;
  closed_at: Date | null;
  last_error: string | null;
}

// 0044_qbd_chart_ledger_credit adds the kinds and steps above, and qbd_chart (the last chart of accounts the
// Web Connector brought), read and written with plain SQL by quickbooks-desktop/chart.ts.
