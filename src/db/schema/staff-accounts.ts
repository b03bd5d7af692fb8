import type { Generated } from 'kysely';
import type { Created } from './columns.ts';

// ---- 0019_staff_sessions: server-side staff sessions, reset and invitation links ----
export type SessionEndReason =
  | 'signed_out'
  | 'signed_out_everywhere'
  | 'password_changed'
  | 'password_reset'
  | 'user_removed'
  | 'second_factor_changed'
  | 'idle'
  | 'expired'
  | 'ended_by_owner';

export interface StaffSessionsTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string;
  token_hash: string;
  created_at: Created;
  last_seen_at: Generated<Date>;
  expires_at: Date;
  ended_at: Date | null;
  ended_reason: SessionEndReason | null;
  ip: string | null;
  user_agent: string | null;
}

export interface StaffLinksTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string;
  purpose: 'password_reset' | 'invitation';
  token_hash: string;
  created_by: string;
  created_at: Created;
  expires_at: Date;
  used_at: Date | null;
}
