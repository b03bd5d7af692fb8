// Acts on one stored inbound event. Marked processed in the database only after the action committed; a
// crash in between makes the job run again, and every action below is idempotent.
import { withTenant } from '../db/tenant.ts';
import type { PsaChangeNotice, PsaInvoice } from '../connectors/psa/types.ts';
import { VendorError } from '../connectors/http.ts';
import { quarantinePsaRecord } from './psa-quarantine.ts';
import type { ProcessorEvent } from '../connectors/payments/types.ts';
import type { EngineContext } from './context.ts';
import { applyProcessorEvent } from './apply-processor-event.ts';
import { decodeEvent } from './event-codec.ts';
import { storeInvoices } from './sync-psa.ts';
import { applyCompanyNotice } from './psa-company-notice.ts';

export async function processInboxEvent(ctx: EngineContext, tenantId: string, inboxEventId: string): Promise<string> {
  const row = await withTenant(ctx.db, tenantId, (tx) => tx.selectFrom('inbox_events').selectAll().where('id', '=', BigInt(inboxEventId)).executeTakeFirst());
  if (!row) return 'gone';
  if (row.processed_at) return 'already processed';
  let result: string;
  try {
    result = await act(ctx, tenantId, row.source, row.payload);
  } catch (e) {
    await withTenant(ctx.db, tenantId, (tx) =>
      tx
        .updateTable('inbox_events')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: (e as Error).message.slice(0, 2000) }))
        .where('id', '=', row.id)
        .execute(),
    );
    throw e;
  }
  await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .updateTable('inbox_events')
      .set((eb) => ({ processed_at: new Date(), attempts: eb('attempts', '+', 1), last_error: null }))
      .where('id', '=', row.id)
      .execute(),
  );
  return result;
}

async function act(ctx: EngineContext, tenantId: string, source: string, payload: unknown): Promise<string> {
  const psa = await ctx.connectors.psa(tenantId);
  if (psa && source === psa.vendor) {
    const notice = payload as PsaChangeNotice;
    if (notice.entity === 'company') return applyCompanyNotice(ctx, tenantId, psa, notice);
    if (notice.entity !== 'invoice') return `ignored ${notice.entity} notice`;
    // The notice says only that something changed; the PSA's current record is the truth, so fetch it
    // (this also makes duplicate and out-of-order notices harmless).
    const fetchedAt = new Date();
    let inv: PsaInvoice | null;
    try {
      inv = await psa.getInvoice(notice.externalId);
    } catch (e) {
      if (e instanceof VendorError) throw e; // the PSA did not answer well: retried
      // The PSA answered with a record Settle cannot take: set aside as an exception, not retried forever.
      const reason = (e as Error).message;
      const rec = { entity: 'invoice' as const, externalId: notice.externalId, label: `invoice with id ${notice.externalId}`, reason };
      await withTenant(ctx.db, tenantId, (tx) => quarantinePsaRecord(ctx, tx, tenantId, psa.vendor, rec));
      return `invoice set aside: ${reason}`;
    }
    if (!inv) return 'invoice no longer exists in the PSA';
    const r = await storeInvoices(ctx, tenantId, psa, [inv], undefined, fetchedAt);
    return r.created ? 'invoice created' : r.changed ? 'invoice changed' : 'invoice unchanged';
  }
  const processor = await ctx.connectors.payments(tenantId);
  if (processor && source === processor.vendor) {
    return applyProcessorEvent(ctx, tenantId, decodeEvent<ProcessorEvent>(payload));
  }
  throw new Error(`no connector for event source "${source}" in this workspace`);
}
