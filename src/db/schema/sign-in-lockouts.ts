import type { Generated } from 'kysely';

// ---- 0021_sign_in_lockouts: lockout after repeated failed sign-ins from one address ----
export interface SignInLockoutsTable {
  tenant_id: string;
  email: string;
  address: string;
  failures: Generated<number>;
  locks: Generated<number>;
  locked_until: Date | null;
  last_failed_at: Generated<Date>;
}
