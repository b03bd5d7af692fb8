// The workspace's timezone (tenants.settings.timezone, an IANA name), the one every staff page shows dates
// and times in and the A/R dashboard counts its days in (domain/timezone.ts). Changed on the staff page
// /app/settings/workspace; audited settings.timezone_changed with before → after in the same transaction.
import { sql } from 'kysely';
import type { Tx } from '../db/tenant.ts';
import { DEFAULT_TIMEZONE, isTimezone, workspaceTimezone } from '../domain/timezone.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError } from './context.ts';

/** The names a person may choose: the runtime's IANA zones, plus UTC (which Intl leaves out of the list). */
export function timezoneChoices(): readonly string[] {
  const zones = Intl.supportedValuesOf('timeZone');
  return zones.includes(DEFAULT_TIMEZONE) ? zones : [DEFAULT_TIMEZONE, ...zones];
}

export async function readWorkspaceTimezone(tx: Tx, tenantId: string): Promise<string> {
  const t = await tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirstOrThrow();
  return workspaceTimezone(t.settings);
}

/** Set the timezone; a name not in the list is refused (UseCaseError 'invalid') and nothing changes. */
export async function setWorkspaceTimezone(tx: Tx, tenantId: string, timezone: string, actor: Actor): Promise<{ before: string; after: string }> {
  if (!timezoneChoices().includes(timezone) || !isTimezone(timezone)) {
    throw new UseCaseError('invalid', `"${timezone}" is not a timezone Settle knows; choose one from the list, e.g. America/Chicago`);
  }
  const before = await readWorkspaceTimezone(tx, tenantId);
  await tx
    .updateTable('tenants')
    .set({ settings: sql`settings || jsonb_build_object('timezone', ${timezone}::text)` })
    .where('id', '=', tenantId)
    .execute();
  await audit(tx, tenantId, actor, 'settings.timezone_changed', { type: 'tenant', id: tenantId }, { before, after: timezone });
  return { before, after: timezone };
}
