// A company created or changed in the PSA, pushed to Settle (Autotask company webhooks): acted on from the
// inbox like an invoice callback — the notice was stored (deduplicated by the vendor's event id) before this
// runs, and only says "company N changed", so the company is read from the PSA now and the client in Settle
// created or updated from it. Duplicate and out-of-order deliveries are therefore harmless.
import { withTenant } from '../db/tenant.ts';
import { VendorError } from '../connectors/http.ts';
import type { PsaChangeNotice, PsaClient, PsaConnector } from '../connectors/psa/types.ts';
import type { EngineContext } from './context.ts';
import { upsertClient } from './ingest-invoice.ts';
import { quarantinePsaRecord, releasePsaRecords } from './psa-quarantine.ts';

export async function applyCompanyNotice(ctx: EngineContext, tenantId: string, psa: PsaConnector, notice: PsaChangeNotice): Promise<string> {
  if (!psa.getClient) return 'ignored company notice';
  if (notice.action === 'deleted') return 'company deletion noted; the client stays in Settle with its history';
  let client: PsaClient | null;
  try {
    client = await psa.getClient(notice.externalId);
  } catch (e) {
    if (e instanceof VendorError) throw e; // the PSA did not answer well: retried
    const reason = (e as Error).message;
    const rec = { entity: 'client' as const, externalId: notice.externalId, label: `company with id ${notice.externalId}`, reason };
    await withTenant(ctx.db, tenantId, (tx) => quarantinePsaRecord(ctx, tx, tenantId, psa.vendor, rec));
    return `company set aside: ${reason}`;
  }
  if (!client) return 'company no longer exists in the PSA';
  const found = client;
  return withTenant(ctx.db, tenantId, async (tx) => {
    const before = await tx
      .selectFrom('external_refs')
      .select('entity_id')
      .where('system', '=', psa.vendor)
      .where('entity', '=', 'client')
      .where('remote_id', '=', found.externalId)
      .executeTakeFirst();
    await upsertClient(tx, tenantId, psa.vendor, found);
    await releasePsaRecords(tx, tenantId, psa.vendor, 'client', [found.externalId]);
    return before ? 'client updated' : 'client created';
  });
}
