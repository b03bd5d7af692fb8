import type { Generated } from 'kysely';
import type { Created } from './columns.ts';

// ---- 0015_api_idempotency: Idempotency-Key of money-moving API requests ----
export interface ApiIdempotencyKeysTable {
  id: Generated<string>;
  tenant_id: string;
  caller: string;
  idempotency_key: string;
  endpoint: string;
  request_hash: string;
  payment_id: string | null;
  status: Generated<'in_progress' | 'done'>;
  response_status: number | null;
  response_body: unknown;
  created_at: Created;
  completed_at: Date | null;
}
