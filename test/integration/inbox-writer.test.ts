// The webhook route stores events in batches (engine/inbox-writer.ts). What must hold whatever the batching:
// each distinct event stored once with exactly one processing job, every redelivery — in the same batch or a
// later one — answered as a duplicate with no job, workspaces kept apart, and a failed write failing every
// request of its batch (so the vendor sends them again) without storing any of them.
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { InboxWriter, type InboundEvent } from '../../src/engine/inbox-writer.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let database: TestDatabase;
let tenantA: string;
let tenantB: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const insert = async (slug: string) => (await database.db.insertInto('tenants').values({ slug, name: slug }).returning('id').executeTakeFirstOrThrow()).id;
  tenantA = await insert('inbox-a');
  tenantB = await insert('inbox-b');
});
afterAll(async () => {
  await database?.drop();
});

const event = (id: string): InboundEvent => ({
  source: 'stripe',
  vendorEventId: id,
  eventType: 'customer.updated',
  payload: { id, amount: { amountMinor: 123n, currency: 'USD' } },
});

async function storedIds(tenantId: string): Promise<string[]> {
  const rows = await withTenant(database.db, tenantId, (tx) => tx.selectFrom('inbox_events').select(['id', 'vendor_event_id']).execute());
  return rows.map((r) => r.vendor_event_id).sort();
}

async function jobsFor(tenantId: string): Promise<string[]> {
  // The public jobs view leaves the payload out; the private table holds it.
  const r = await sql<{ id: string }>`SELECT j.payload->>'inboxEventId' AS id
    FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    WHERE t.identifier = 'process-inbox-event' AND j.payload->>'tenantId' = ${tenantId}`.execute(database.db);
  return r.rows.map((x) => x.id);
}

describe('InboxWriter', () => {
  it('stores 600 concurrent deliveries of 400 events once each, with one job per stored event', async () => {
    const writer = new InboxWriter(database.db, { maxBatch: 64, concurrency: 2 });
    const ids = Array.from({ length: 400 }, (_, i) => `evt_${i}_${crypto.randomBytes(3).toString('hex')}`);
    // 200 redeliveries: half land in the same burst as their first delivery (often the same batch).
    const deliveries = [...ids, ...ids.slice(0, 200)].sort(() => Math.random() - 0.5);
    const answers = await Promise.all(deliveries.map((id) => writer.receive(tenantA, event(id)).then((r) => ({ id, ...r }))));
    const firsts = answers.filter((a) => !a.duplicate);
    expect(firsts).toHaveLength(400);
    expect(new Set(firsts.map((a) => a.id)).size).toBe(400);
    expect(answers.filter((a) => a.duplicate)).toHaveLength(200);
    expect(await storedIds(tenantA)).toEqual([...ids].sort());
    const jobs = await jobsFor(tenantA);
    expect(jobs).toHaveLength(400);
    const rows = await withTenant(database.db, tenantA, (tx) => tx.selectFrom('inbox_events').select('id').execute());
    expect(new Set(jobs)).toEqual(new Set(rows.map((r) => r.id.toString())));

    // Delivered again later: all duplicates, nothing new stored or enqueued.
    const again = await Promise.all(ids.slice(0, 50).map((id) => writer.receive(tenantA, event(id))));
    expect(again.every((a) => a.duplicate)).toBe(true);
    expect(await jobsFor(tenantA)).toHaveLength(400);
  });

  it('keeps workspaces apart within one batch: the same event id is distinct per workspace', async () => {
    const writer = new InboxWriter(database.db);
    const id = `evt_shared_${crypto.randomBytes(3).toString('hex')}`;
    const [a, b] = await Promise.all([writer.receive(tenantA, event(id)), writer.receive(tenantB, event(id))]);
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(false);
    expect(await storedIds(tenantB)).toEqual([id]);
    expect((await jobsFor(tenantB)).length).toBe(1);
  });

  it('fails every request of a batch whose write fails, and stores none of it', async () => {
    const writer = new InboxWriter(database.db, { maxBatch: 500 });
    const before = (await storedIds(tenantB)).length;
    // A payload PostgreSQL refuses (a NUL in JSON text) fails the whole transaction of its batch.
    const bad: InboundEvent = { ...event('evt_bad'), payload: { text: 'a\u0000b' } };
    const results = await Promise.allSettled([
      writer.receive(tenantB, event('evt_ok_1')),
      writer.receive(tenantB, bad),
      writer.receive(tenantB, event('evt_ok_2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((await storedIds(tenantB)).length).toBe(before);
    // The vendor sends them again; without the bad one they are stored.
    const retried = await Promise.all([writer.receive(tenantB, event('evt_ok_1')), writer.receive(tenantB, event('evt_ok_2'))]);
    expect(retried.map((r) => r.duplicate)).toEqual([false, false]);
  });
});
