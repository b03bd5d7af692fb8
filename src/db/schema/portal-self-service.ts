import type { ColumnType, Generated } from 'kysely';
import type { Created } from './columns.ts';

type Later<T> = ColumnType<T | null, T | null | undefined, T | null>;

// ---- 0049_portal_self_service: the client's own autopay authorisation (engine/portal-autopay.ts) ----
export interface AutopayConsentsTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string;
  method_id: Later<string>;
  terms_text: string;
  terms_sha256: string;
  notice_days: number;
  accepted_at: Created;
  accepted_ip: string;
  accepted_user_agent: Later<string>;
  left_at: Later<Date>;
  left_ip: Later<string>;
}

/** payment_methods + 0049: set when the client removed the method in the portal (detached at the processor). */
export interface PaymentMethodRemovedColumns {
  removed_at: Later<Date>;
}
