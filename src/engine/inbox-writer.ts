// Inbound vendor events are stored before they are acted on — in batches when they arrive together.
// Stripe can push hundreds of events a second at one workspace; one transaction per event (BEGIN, tenant,
// INSERT, add_job, COMMIT, each a round trip, and a WAL flush per commit) capped the webhook route at about
// 560 events/s on two cores. Events that arrive while a write is in flight wait for the next one, so an idle
// server still writes each event at once (no timer), and a burst is written a few hundred per transaction:
// one multi-row INSERT … ON CONFLICT DO NOTHING and one add_jobs per workspace. The guarantees are those of
// the inbox: a vendor is answered 200 only after its event committed, together with the job that
// processes it; a redelivery (in the same batch or later) is a duplicate and enqueues nothing; a failed write
// fails every request of its batch (5xx, so the vendors send them again).
import type { Db } from '../db/pool.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import { enqueueMany } from './enqueue.ts';

export interface InboundEvent {
  readonly source: string; // 'stripe' | 'connectwise' | ...
  /** The vendor's own event identity (Stripe event id, ConnectWise MessageId): the deduplication key. */
  readonly vendorEventId: string;
  readonly eventType: string;
  readonly payload: unknown;
}

interface Waiting {
  readonly tenantId: string;
  readonly event: InboundEvent;
  readonly resolve: (r: { duplicate: boolean }) => void;
  readonly reject: (e: unknown) => void;
}

export interface InboxWriterOptions {
  /** Events per transaction at most (one INSERT of that many rows). */
  readonly maxBatch?: number;
  /** Transactions in flight at once: more overlap network and commit waits, each holds a pool connection. */
  readonly concurrency?: number;
}

export class InboxWriter {
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly concurrency: number;

  constructor(
    private readonly db: Db,
    opts: InboxWriterOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 250;
    this.concurrency = opts.concurrency ?? 2;
  }

  /** Stores one event (deduplicated by the vendor's event id) and enqueues its processing; resolves once committed. */
  receive(tenantId: string, event: InboundEvent): Promise<{ duplicate: boolean }> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ tenantId, event, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.concurrency) return;
    this.scheduled = true;
    // Requests parsed in the same turn of the event loop share a transaction.
    setImmediate(() => {
      this.scheduled = false;
      this.start();
    });
  }

  private start(): void {
    while (this.inFlight < this.concurrency && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        if (this.waiting.length > 0) this.schedule();
      });
    }
  }

  private async write(batch: readonly Waiting[]): Promise<void> {
    const byTenant = new Map<string, Waiting[]>();
    for (const w of batch) byTenant.set(w.tenantId, [...(byTenant.get(w.tenantId) ?? []), w]);
    await Promise.all(
      [...byTenant].map(async ([tenantId, items]) => {
        try {
          const outcomes = await withTenant(this.db, tenantId, (tx) => storeEvents(tx, tenantId, items));
          items.forEach((w, i) => w.resolve({ duplicate: outcomes[i]! }));
        } catch (e) {
          for (const w of items) w.reject(e);
        }
      }),
    );
  }
}

const eventKey = (e: InboundEvent): string => `${e.source}\u0000${e.vendorEventId}`;

/** Inserts the batch's distinct events; returns, per item, whether it was a duplicate. */
async function storeEvents(tx: Tx, tenantId: string, items: readonly Waiting[]): Promise<boolean[]> {
  // The first of two deliveries of one event in the same batch is the one stored.
  const firstIndex = new Map<string, number>();
  items.forEach((w, i) => {
    if (!firstIndex.has(eventKey(w.event))) firstIndex.set(eventKey(w.event), i);
  });
  // Inserted in key order: two batches that share events (a vendor's retries racing its first delivery, on two
  // writers) then take the unique index's locks in the same order, where arrival order deadlocked (CI under load:
  // 40P01 on this insert). Which item is a duplicate is decided by key below, not by position.
  const distinct = [...firstIndex.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, i]) => items[i]!.event);
  const inserted = await tx
    .insertInto('inbox_events')
    .values(
      distinct.map((e) => ({
        tenant_id: tenantId,
        source: e.source,
        vendor_event_id: e.vendorEventId,
        event_type: e.eventType,
        payload: JSON.stringify(e.payload, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      })),
    )
    .onConflict((oc) => oc.columns(['tenant_id', 'source', 'vendor_event_id']).doNothing())
    .returning(['id', 'source', 'vendor_event_id'])
    .execute();
  await enqueueMany(
    tx,
    inserted.map((r) => ({
      task: 'process-inbox-event' as const,
      payload: { tenantId, inboxEventId: r.id.toString() },
      options: { maxAttempts: 25 },
    })),
  );
  const stored = new Set(inserted.map((r) => `${r.source}\u0000${r.vendor_event_id}`));
  return items.map((w, i) => !(stored.has(eventKey(w.event)) && firstIndex.get(eventKey(w.event)) === i));
}
