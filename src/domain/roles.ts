// Staff roles, each including the one before: a viewer reads everything; finance also moves money and runs
// day-to-day collections; an owner also changes workspace settings, users and API keys. Users and API keys
// carry one; http/permissions.ts says which each route needs.
export const STAFF_ROLES = ['viewer', 'finance', 'owner'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export function isStaffRole(v: unknown): v is StaffRole {
  return typeof v === 'string' && (STAFF_ROLES as readonly string[]).includes(v);
}

/** Does `has` include everything `needs` may do? */
export function roleAtLeast(has: StaffRole, needs: StaffRole): boolean {
  return STAFF_ROLES.indexOf(has) >= STAFF_ROLES.indexOf(needs);
}
