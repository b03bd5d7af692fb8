import type { Generated } from 'kysely';
import type { Created } from './columns.ts';

// ---- 0025_connection_setup: single-use OAuth state (engine/quickbooks-connect.ts) ----
export interface OAuthStatesTable {
  id: Generated<string>;
  tenant_id: string;
  session_id: string;
  vendor: string;
  nonce_hash: string;
  return_to: string;
  created_at: Created;
  expires_at: Date;
  used_at: Date | null;
}
