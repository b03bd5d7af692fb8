// ConnectWise callbacks into Settle, end to end: the workspace subscribed at /system/callbacks during
// wiring, so every invoice change in the simulator is POSTed (signed) to /webhooks/<slug>/connectwise.
// Settle stores the notice in inbox_events, then fetches the invoice's current record and ingests it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { storeInvoices, syncPsa } from '../../src/engine/sync-psa.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 3 });
});
afterAll(async () => stack?.close());
afterEach(async () => {
  // The delivery levers are shared by every test in this file: put them back.
  Object.assign(stack.sims.connectwise.sim.callbackOptions, { duplicate: false, reverseBursts: false, burstWindowMs: 50, drop: false, delayMs: 0 });
  await stack.sims.connectwise.sim.flushCallbacks();
});

const cw = () => stack.sims.connectwise.sim;
const minorOf = (amount: number): bigint => BigInt(Math.round(amount * 100));

interface SettleInvoice {
  id: string;
  number: string;
  total_minor: bigint;
  psa_balance_minor: bigint;
  current_version: number;
  psa_updated_at: string | Date;
}

async function settleInvoice(remoteId: number): Promise<SettleInvoice | undefined> {
  return withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx
      .selectFrom('invoices as i')
      .innerJoin('external_refs as r', (j) => j.onRef('r.entity_id', '=', 'i.id').on('r.entity', '=', 'invoice').on('r.system', '=', 'connectwise'))
      .select(['i.id', 'i.number', 'i.total_minor', 'i.psa_balance_minor', 'i.current_version', 'i.psa_updated_at'])
      .where('r.remote_id', '=', String(remoteId))
      .executeTakeFirst(),
  );
}

async function inboxRows(): Promise<{ vendor_event_id: string; event_type: string; processed_at: Date | null; attempts: number; last_error: string | null }[]> {
  return withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx
      .selectFrom('inbox_events')
      .select(['vendor_event_id', 'event_type', 'processed_at', 'attempts', 'last_error'])
      .where('source', '=', 'connectwise')
      .execute(),
  );
}

async function invoiceCountByNumber(number: string): Promise<number> {
  const rows = await withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('invoices').select('id').where('number', '=', number).execute());
  return rows.length;
}

/** When the cron sweep (which also fans out a PSA poll) last ran, so a "no poll happened" check can know. */
async function lastSweep(): Promise<Date | null> {
  const r = await sql<{ last_execution: Date | null }>`SELECT last_execution FROM graphile_worker._private_known_crontabs WHERE identifier = 'sweep'`.execute(
    stack.database.db,
  );
  return r.rows[0]?.last_execution ?? null;
}

const invoiceListCalls = (): number => [...cw().calls.counts].filter(([k]) => /^GET .*\/finance\/invoices$/.test(k)).reduce((n, [, v]) => n + v, 0);

describe('ConnectWise callbacks into Settle', () => {
  it('a new invoice in ConnectWise appears in Settle through its callback, without a poll', async () => {
    // A poll queued by an earlier sweep (or the worker's start) may still be waiting for its turn on a busy
    // machine: let it finish first, so a list call in the window below can only be a poll that began in it.
    await eventually(
      async () =>
        (
          await sql<{ n: number }>`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'sync-psa' AND attempts < max_attempts`.execute(
            stack.database.db,
          )
        ).rows[0]!.n === 0 || null,
      60_000,
      'no PSA poll queued or running',
    );
    const sweepBefore = await lastSweep();
    cw().calls.reset();
    const created = cw().createInvoice({ lines: [{ kind: 'product', description: 'Firewall subscription', quantity: 3, price: '120.50' }] });

    const inv = await eventually(() => settleInvoice(created.id), 10_000, 'invoice ingested from the callback');
    expect(inv.number).toBe(created.invoiceNumber);
    expect(inv.total_minor).toBe(minorOf(created.total));
    expect(inv.current_version).toBe(1);

    // It came in through the inbox: one stored notice for the callback's MessageId, processed.
    const delivery = cw().deliveries.find((d) => d.entityId === created.id && d.action === 'added');
    expect(delivery?.status).toBe(200);
    const row = await eventually(
      async () => (await inboxRows()).find((r) => r.vendor_event_id === delivery!.messageId && r.processed_at),
      5_000,
      'processed inbox row',
    );
    expect(row.event_type).toBe('invoice.added');
    // Settle asked for that one invoice; it did not list invoices (unless the every-minute sweep happened
    // to fire meanwhile, which polls by design).
    expect([...cw().calls.counts.keys()].some((k) => /^GET .*\/finance\/invoices\/:id$/.test(k))).toBe(true);
    const sweepAfter = await lastSweep();
    if (String(sweepAfter) === String(sweepBefore)) expect(invoiceListCalls()).toBe(0);
  });

  it('a callback delivered twice is stored once per MessageId and makes one invoice', async () => {
    cw().callbackOptions.duplicate = true;
    const created = cw().createInvoice({ lines: [{ kind: 'product', description: 'Backup seats', quantity: 7, price: '9.99' }] });
    await cw().flushCallbacks();

    const sent = cw().deliveries.filter((d) => d.entityId === created.id);
    expect(sent).toHaveLength(2);
    expect(sent[0]!.messageId).toBe(sent[1]!.messageId);
    expect(sent.every((d) => d.status === 200)).toBe(true); // the copy is acknowledged, not refused

    await eventually(() => settleInvoice(created.id), 10_000, 'invoice ingested');
    const rows = (await inboxRows()).filter((r) => r.vendor_event_id === sent[0]!.messageId);
    expect(rows).toHaveLength(1);
    expect(await invoiceCountByNumber(created.invoiceNumber)).toBe(1);
    const versions = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx
        .selectFrom('invoice_versions as v')
        .innerJoin('invoices as i', 'i.id', 'v.invoice_id')
        .select('v.version')
        .where('i.number', '=', created.invoiceNumber)
        .execute(),
    );
    expect(versions).toHaveLength(1);
  });

  it('create and update delivered newest first end at the latest version, with no rollback', async () => {
    Object.assign(cw().callbackOptions, { reverseBursts: true, burstWindowMs: 300 });
    const created = cw().createInvoice({ lines: [{ kind: 'product', description: 'Endpoint protection', quantity: 4, price: '30.00' }] });
    const firstTotal = created.total; // the simulator hands out its live record: copy before changing it
    const updated = structuredClone(cw().updateInvoice(created.id, { addLines: [{ kind: 'expense', notes: 'On-site travel', amount: '85.25' }] }));
    expect(updated.total).toBeGreaterThan(firstTotal);
    await cw().flushCallbacks();

    const sent = cw().deliveries.filter((d) => d.entityId === created.id);
    expect(sent.map((d) => d.action)).toEqual(['updated', 'added']); // really out of order
    expect(sent.every((d) => d.status === 200)).toBe(true);

    // Both notices processed (the older one last), and the invoice is at the newest state. Both name the same
    // new invoice and may be ingested at the same moment: neither may fail on the other's insert.
    const processed = await eventually(
      async () => {
        const rows = (await inboxRows()).filter((r) => sent.some((d) => d.messageId === r.vendor_event_id));
        return rows.length === 2 && rows.every((r) => r.processed_at) ? rows : null;
      },
      15_000,
      'both notices processed',
    );
    expect(processed.map((r) => ({ attempts: r.attempts, last_error: r.last_error }))).toEqual([
      { attempts: 1, last_error: null },
      { attempts: 1, last_error: null },
    ]);
    const inv = (await settleInvoice(created.id))!;
    expect(inv.total_minor).toBe(minorOf(updated.total));
    expect(inv.psa_balance_minor).toBe(minorOf(updated.balance));
    const versions = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('invoice_versions').select(['version', 'total_minor']).where('invoice_id', '=', inv.id).orderBy('version').execute(),
    );
    // No version carries the older total after the newer one.
    expect(versions.at(-1)!.total_minor).toBe(minorOf(updated.total));
    expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));

    // Redelivering the older "added" notice later still changes nothing.
    cw().callbackOptions.reverseBursts = false;
    cw().updateInvoice(created.id, {}); // an "updated" with the same content
    await cw().flushCallbacks();
    await new Promise((r) => setTimeout(r, 500));
    const after = (await settleInvoice(created.id))!;
    expect(after.total_minor).toBe(minorOf(updated.total));
    expect(after.current_version).toBe(inv.current_version);
  });

  it('an invoice update (a line added) becomes version 2 with the new total, and the open amount follows', async () => {
    const created = cw().createInvoice({ lines: [{ kind: 'product', description: 'Managed switch', quantity: 2, price: '60.00' }] });
    const v1 = await eventually(() => settleInvoice(created.id), 10_000, 'invoice ingested');
    expect(v1.current_version).toBe(1);

    const updated = structuredClone(
      cw().updateInvoice(created.id, { addLines: [{ kind: 'time', notes: 'Switch configuration', hours: '1.5', rate: '150.00' }] }),
    );
    const v2 = await eventually(
      async () => {
        const i = await settleInvoice(created.id);
        return i && i.current_version === 2 ? i : null;
      },
      10_000,
      'version 2',
    );
    expect(v2.total_minor).toBe(minorOf(updated.total));
    expect(v2.total_minor).toBeGreaterThan(v1.total_minor);

    const versions = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('invoice_versions').select(['version', 'total_minor']).where('invoice_id', '=', v2.id).orderBy('version').execute(),
    );
    expect(versions).toEqual([
      { version: 1, total_minor: v1.total_minor },
      { version: 2, total_minor: minorOf(updated.total) },
    ]);
    const lines = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('invoice_lines').select(['version', 'description']).where('invoice_id', '=', v2.id).where('version', '=', 2).execute(),
    );
    expect(lines).toHaveLength(2);

    // What the API says is still open follows the PSA's new balance.
    const key = await stack.apiKey();
    const res = await fetch(`${stack.settleUrl}/api/v1/invoices/${v2.id}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { total_minor: string; open_minor: string; version: number; lines: unknown[] };
    expect(body.version).toBe(2);
    expect(body.total_minor).toBe(minorOf(updated.total).toString());
    expect(body.open_minor).toBe(minorOf(updated.balance).toString());
    expect(body.lines).toHaveLength(2);
  });

  it('two notices for the same new invoice ingested at the same moment both succeed and make one invoice', async () => {
    // What a callback racing another callback (or the poll) does: fetch the current record, store it.
    cw().callbackOptions.drop = true;
    const created = cw().createInvoice({ lines: [{ kind: 'product', description: 'Wi-Fi access points', quantity: 5, price: '210.00' }] });
    const ctx = stack.settle!.ctx;
    const psa = (await ctx.connectors.psa(stack.tenantId))!;
    const inv = (await psa.getInvoice(String(created.id)))!;
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => storeInvoices(ctx, stack.tenantId, psa, [inv])));
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(results.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value.created : 0), 0)).toBe(1);
    expect(await invoiceCountByNumber(created.invoiceNumber)).toBe(1);
    expect((await settleInvoice(created.id))?.current_version).toBe(1);
  });

  it('when callbacks are lost, the PSA poll still finds the invoice', async () => {
    cw().callbackOptions.drop = true;
    const created = cw().createInvoice({ lines: [{ kind: 'product', description: 'Email security', quantity: 12, price: '4.00' }] });
    await cw().flushCallbacks();
    expect(
      cw()
        .deliveries.filter((d) => d.entityId === created.id)
        .map((d) => d.error),
    ).toEqual(['dropped']);
    await new Promise((r) => setTimeout(r, 300));
    expect(await settleInvoice(created.id)).toBeUndefined();

    const summary = await syncPsa(stack.settle!.ctx, stack.tenantId);
    expect(summary.created).toBeGreaterThanOrEqual(1);
    const inv = await settleInvoice(created.id);
    expect(inv?.total_minor).toBe(minorOf(created.total));
    expect(await invoiceCountByNumber(created.invoiceNumber)).toBe(1);
  });
});
