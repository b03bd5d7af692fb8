// The workspace's .qwc file for the QuickBooks Web Connector (connectors/accounting/quickbooks-desktop/qwc.ts),
// from its QuickBooks Desktop connection: one function for the staff app's download and `settle qwc`.
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import { qwcFile } from '../connectors/accounting/quickbooks-desktop/qwc.ts';
import { UseCaseError } from './context.ts';

export async function workspaceQwc(db: Db, tenantId: string, publicUrl: string): Promise<{ fileName: string; body: string }> {
  const { tenant, conn } = await withTenant(db, tenantId, async (tx) => ({
    tenant: await tx.selectFrom('tenants').select(['name', 'slug']).where('id', '=', tenantId).executeTakeFirstOrThrow(),
    conn: await tx.selectFrom('connections').select(['vendor', 'config']).where('role', '=', 'accounting').where('status', '!=', 'disabled').executeTakeFirst(),
  }));
  if (conn?.vendor !== 'quickbooks-desktop') {
    throw new UseCaseError(
      'not_configured',
      'The books are not QuickBooks Desktop: connect QuickBooks Desktop first (Connections → Books), then download the .qwc file.',
    );
  }
  const every = Number(conn.config['runEveryMinutes'] ?? 5);
  try {
    return {
      fileName: `settle-${tenant.slug}.qwc`,
      body: qwcFile({ tenantId, workspaceName: tenant.name, publicUrl, runEveryMinutes: Number.isInteger(every) && every > 0 ? every : 5 }),
    };
  } catch (e) {
    throw new UseCaseError('invalid', e instanceof Error ? e.message : String(e));
  }
}
