import type { ColumnType, Generated } from 'kysely';
import type { Created, DateText, Updated } from './columns.ts';

// ---- 0005_lifecycle: refunds and disputes ----
export interface RefundsTable {
  id: Generated<string>;
  tenant_id: string;
  payment_id: string;
  currency: string;
  amount_minor: bigint;
  surcharge_minor: Generated<bigint>;
  /** Part of the payment's installment-plan fee given back (0034). */
  plan_fee_minor: Generated<bigint>;
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
