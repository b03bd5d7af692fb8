// ---- 0047_webhooks_out: outbound webhook subscriptions, their events, deliveries and the delivery log ----
import type { ColumnType, Generated } from 'kysely';
import type { Created, Updated } from './columns.ts';

type Stamp = ColumnType<Date, Date | string | undefined, Date | string>;
type StampOrNull = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface WebhookSubscriptionsTable {
  id: Generated<string>;
  tenant_id: string;
  url: string;
  description: Generated<string>;
  event_types: string[];
  secrets_sealed: string;
  previous_expires_at: StampOrNull;
  status: Generated<'active' | 'disabled'>;
  failing_since: StampOrNull;
  created_at: Created;
  updated_at: Updated;
}

export interface WebhookEventsTable {
  id: string;
  tenant_id: string;
  seq: ColumnType<string, string | number | bigint, never>;
  type: string;
  subject_type: string;
  subject_id: string;
  body: string;
  created_at: Stamp;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  tenant_id: string;
  subscription_id: string;
  event_id: string;
  seq: ColumnType<string, string | number | bigint, never>;
  status: Generated<'pending' | 'delivered' | 'failed'>;
  attempts: Generated<number>;
  next_attempt_at: Stamp;
  give_up_at: Stamp;
  last_attempt_at: StampOrNull;
  last_status: number | null;
  last_error: string | null;
  delivered_at: StampOrNull;
  created_at: Created;
}

export interface WebhookAttemptsTable {
  id: Generated<string>;
  tenant_id: string;
  delivery_id: string;
  attempt_no: number;
  started_at: Date;
  duration_ms: number;
  response_status: number | null;
  error: string | null;
  response_body: string | null;
}
