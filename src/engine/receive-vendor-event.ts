// Inbound vendor events are stored before they are acted on. The insert is deduplicated by the vendor's own
// event identity; only a first delivery enqueues processing, in the same transaction as the insert, so a
// crash after the commit loses nothing and a redelivery does nothing twice.
import { withTenant } from '../db/tenant.ts';
import type { Db } from '../db/pool.ts';
import { enqueue } from './enqueue.ts';

export interface InboundEvent {
  readonly source: string; // 'stripe' | 'connectwise' | ...
  readonly vendorEventId: string;
  readonly eventType: string;
  readonly payload: unknown;
}

export async function receiveVendorEvent(db: Db, tenantId: string, event: InboundEvent): Promise<{ duplicate: boolean }> {
  return withTenant(db, tenantId, async (tx) => {
    const inserted = await tx
      .insertInto('inbox_events')
      .values({
        tenant_id: tenantId,
        source: event.source,
        vendor_event_id: event.vendorEventId,
        event_type: event.eventType,
        payload: JSON.stringify(event.payload, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'source', 'vendor_event_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return { duplicate: true };
    await enqueue(tx, 'process-inbox-event', { tenantId, inboxEventId: inserted.id.toString() }, { maxAttempts: 25 });
    return { duplicate: false };
  });
}
