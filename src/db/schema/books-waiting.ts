import type { Generated } from 'kysely';
import type { Created } from './columns.ts';

// ---- 0012_books_waiting: books deposits that carry payments not yet in the books on a clearing line ----
export interface DepositLinesTable {
  id: Generated<string>;
  tenant_id: string;
  deposit_posting_id: string;
  payment_posting_id: string;
  amount_minor: bigint;
  currency: string;
  /** linked: the deposit links the payment's books record; clearing: a line to the clearing account until it is in the books */
  status: 'linked' | 'clearing';
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: Generated<Date>;
  created_at: Created;
  linked_at: Date | null;
}
