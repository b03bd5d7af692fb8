import type { Generated } from 'kysely';
import type { Created } from './columns.ts';

// ---- 0011_portal_checkouts: at most one open (confirmable) portal checkout per invoice ----
export interface PortalCheckoutsTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string;
  payment_id: string;
  invoice_id: string;
  amount_minor: bigint;
  method_kinds: string[];
  status: Generated<'open' | 'closed'>;
  opened_at: Created;
  closed_at: Date | null;
  close_reason: string | null;
}
