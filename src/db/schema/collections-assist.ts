import type { Generated } from 'kysely';
import type { DateText, Updated } from './columns.ts';

// ---- 0048_collections_assist: reminder sequences, their steps, assignments, holds and the sends log ----
export interface CollectionSettingsTable {
  tenant_id: string;
  enabled: Generated<boolean>;
  business_days_only: Generated<boolean>;
  send_from: Generated<number>;
  send_until: Generated<number>;
  updated_by: string | null;
  updated_at: Updated;
}
export interface CollectionSequencesTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  is_default: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Updated;
}
export interface CollectionStepsTable {
  id: Generated<string>;
  tenant_id: string;
  sequence_id: string;
  key: string;
  offset_days: number;
  tone: string;
  subject: string;
  body: string;
  attach_statement: Generated<boolean>;
  /** 0055: the statement PDF attached to the e-mail, not only linked. */
  statement_attached: Generated<boolean>;
  notify_staff: Generated<boolean>;
  psa_note: Generated<boolean>;
  escalate: Generated<boolean>;
}
export interface CollectionAssignmentsTable {
  id: Generated<string>;
  tenant_id: string;
  sequence_id: string;
  client_id: string | null;
  segment: string | null;
  created_by: string;
  created_at: Generated<Date>;
}
export interface CollectionHoldsTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string;
  invoice_id: string | null;
  kind: 'promise' | 'dispute' | 'pause';
  until_on: DateText | null;
  note: Generated<string>;
  source: 'portal' | 'staff';
  created_by: string;
  created_at: Generated<Date>;
  released_at: Date | null;
  released_by: string | null;
  release_reason: string | null;
}
export interface CollectionSendsTable {
  id: Generated<string>;
  tenant_id: string;
  invoice_id: string;
  client_id: string;
  sequence_id: string;
  step_id: string | null;
  step_key: string;
  offset_days: number;
  currency: string;
  open_minor: bigint;
  sent_on: DateText;
  sent_at: Date;
  outcome: Generated<'claimed' | 'queued' | 'cancelled'>;
  notification_id: string | null;
  exception_id: string | null;
  psa_note_id: string | null;
}
