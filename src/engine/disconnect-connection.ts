// Disconnecting a system from the staff app (owner only): the connection is switched off (status disabled —
// the row and its audit history stay; connecting again replaces it), the cached connector is dropped in every
// process (the revision trigger), and the change is audited. Nothing is sent to or read from that system
// afterwards; what was waiting on it waits until it is connected again.
import { withTenant } from '../db/tenant.ts';
import type { Db } from '../db/pool.ts';
import type { ConnectionRole } from '../connectors/registry.ts';
import type { TenantConnectors } from './context.ts';
import { UseCaseError } from './context.ts';
import { audit, type Actor } from './audit.ts';

export async function disconnectConnection(
  deps: { readonly db: Db; readonly connectors: TenantConnectors },
  tenantId: string,
  role: ConnectionRole,
  actor: Actor,
): Promise<{ vendor: string }> {
  const vendor = await withTenant(deps.db, tenantId, async (tx) => {
    const row = await tx
      .updateTable('connections')
      .set({ status: 'disabled', status_detail: 'disconnected by a person', updated_at: new Date() })
      .where('role', '=', role)
      .where('status', '!=', 'disabled')
      .returning('vendor')
      .executeTakeFirst();
    if (!row) throw new UseCaseError('not_found', `this workspace has no ${role} connection to disconnect`);
    await audit(tx, tenantId, actor, 'connection.disconnected', { type: 'connection', id: role }, { vendor: row.vendor });
    return row.vendor;
  });
  deps.connectors.forget(tenantId);
  return { vendor };
}
