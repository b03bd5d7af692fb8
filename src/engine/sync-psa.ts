// Incremental pull from the PSA: clients, then invoices changed since the last cursor. This is the
// polling fallback behind push notifications and the initial import; it is safe to run at any time and
// any number of times, because ingestion is idempotent per invoice version.
import { sql } from 'kysely';
import { withTenant } from '../db/tenant.ts';
import type { Tx } from '../db/tenant.ts';
import type { PsaClient, PsaConnector, PsaInvoice, PsaPage } from '../connectors/psa/types.ts';
import type { EngineContext } from './context.ts';
import { ingestInvoice, ingestNewInvoices, upsertClient } from './ingest-invoice.ts';
import { inSavepoint, isRecordDataError, logTextRepairs, quarantinePsaRecord, releasePsaRecords } from './psa-quarantine.ts';
import { offerPayLinks, startPayLinks } from './pay-links.ts';
import { credentialsAccepted, tellIfCredentialsRefused } from './psa-credentials.ts';

/**
 * New invoices per bulk insert: a whole ConnectWise page (1,000). Each statement carries its rows as one json
 * parameter (ingest-invoice.ts), so the size costs memory, not parameters; a larger slice means fewer
 * statements to parse, plan and check under row-level security — 250 took 30.2 s for 100,000, 1,000 took
 * 25.9 s (bench connectwise-import-100k, same machine and load), and a HaloPSA or Autotask page is smaller anyway.
 */
const NEW_INVOICES_PER_INSERT = 1000;

export interface SyncSummary {
  clients: number;
  invoices: number;
  created: number;
  changed: number;
}

async function readCursor(ctx: EngineContext, tenantId: string, name: string): Promise<string | null> {
  const row = await withTenant(ctx.db, tenantId, (tx) => tx.selectFrom('sync_cursors').select('cursor_value').where('name', '=', name).executeTakeFirst());
  return row?.cursor_value ?? null;
}

export async function syncClients(ctx: EngineContext, tenantId: string, psa: PsaConnector): Promise<number> {
  const name = `${psa.vendor}:clients`;
  let cursor = await readCursor(ctx, tenantId, name);
  let n = 0;
  for await (const page of psa.listClients(cursor)) {
    logTextRepairs(ctx, tenantId, psa.vendor, page, 'client');
    await withTenant(ctx.db, tenantId, async (tx) => {
      for (const rec of page.rejected ?? []) await quarantinePsaRecord(ctx, tx, tenantId, psa.vendor, rec);
      const { stored } = await storeEach(
        tx,
        page,
        async (clients) => {
          for (const c of clients) await upsertClient(tx, tenantId, psa.vendor, c);
        },
        (c, e) =>
          quarantinePsaRecord(ctx, tx, tenantId, psa.vendor, {
            entity: 'client',
            externalId: c.externalId,
            label: `company "${c.name}" (${c.identifier}, id ${c.externalId})`,
            reason: (e as Error).message,
          }),
      );
      await releasePsaRecords(
        tx,
        tenantId,
        psa.vendor,
        'client',
        stored.map((c) => c.externalId),
      );
      for (const c of page) if (!cursor || c.updatedAt > cursor) cursor = c.updatedAt;
      await saveCursor(tx, tenantId, name, cursor);
    });
    n += page.length;
  }
  return n;
}

/**
 * Store a page's records in one go; if the database refuses one record's data, store them one by one under
 * savepoints instead, and hand each record that still fails to `reject` (the rest go on). Returns the records
 * stored and what each successful `store` call returned. Errors that are not about a record's data (deadlock,
 * outage) fail the page, to be retried whole.
 */
async function storeEach<T, R>(
  tx: Tx,
  records: readonly T[],
  store: (records: readonly T[]) => Promise<R>,
  reject: (record: T, e: unknown) => Promise<void>,
): Promise<{ stored: T[]; results: R[] }> {
  try {
    const r = await inSavepoint(tx, () => store(records));
    return { stored: [...records], results: [r] };
  } catch (e) {
    if (!isRecordDataError(e)) throw e;
  }
  const stored: T[] = [];
  const results: R[] = [];
  for (const record of records) {
    try {
      results.push(await inSavepoint(tx, () => store([record])));
      stored.push(record);
    } catch (e) {
      if (!isRecordDataError(e)) throw e;
      await reject(record, e);
    }
  }
  return { stored, results };
}

async function saveCursor(tx: Parameters<Parameters<typeof withTenant>[2]>[0], tenantId: string, name: string, value: string | null): Promise<void> {
  await tx
    .insertInto('sync_cursors')
    .values({ tenant_id: tenantId, name, cursor_value: value })
    .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet({ cursor_value: value, updated_at: new Date() }))
    .execute();
}

/** Store a batch of invoices fetched from the PSA; fetches clients first when an invoice names an unknown one. */
export async function storeInvoices(
  ctx: EngineContext,
  tenantId: string,
  psa: PsaConnector,
  invoices: PsaPage<PsaInvoice>,
  cursorName?: string,
  /** When the request that returned these invoices was sent (see ingestInvoice). */
  fetchedAt: Date = new Date(),
  /** Their clients' ids, when the caller already looked them up (resolveClients). */
  clients?: Map<string, string>,
): Promise<{ created: number; changed: number }> {
  const clientIds = clients ?? (await resolveClients(ctx, tenantId, psa, invoices));
  logTextRepairs(ctx, tenantId, psa.vendor, invoices, 'invoice');
  return withTenant(ctx.db, tenantId, async (tx) => {
    for (const rec of invoices.rejected ?? []) await quarantinePsaRecord(ctx, tx, tenantId, psa.vendor, rec);
    let cursor: string | null = cursorName
      ? ((await tx.selectFrom('sync_cursors').select('cursor_value').where('name', '=', cursorName).executeTakeFirst())?.cursor_value ?? null)
      : null;
    const items: { inv: PsaInvoice; clientId: string }[] = [];
    for (const inv of invoices) {
      const clientId = clientIds.get(inv.clientExternalId);
      if (!clientId) {
        // Its company could not be imported (set aside itself) or was not listed: never skipped silently.
        await quarantinePsaRecord(ctx, tx, tenantId, psa.vendor, {
          entity: 'invoice',
          externalId: inv.externalId,
          label: `invoice ${inv.number} (id ${inv.externalId})`,
          reason:
            `its company (id ${inv.clientExternalId}) is not in Settle — see the exception for that company, if any. ` +
            `Once the company is imported, any change to the invoice in the PSA brings it in`,
        });
        continue;
      }
      if (!cursor || inv.updatedAt > cursor) cursor = inv.updatedAt;
      items.push({ inv, clientId });
    }
    // The whole page at once; if the database refuses one invoice's data, one by one (psa-quarantine.ts).
    const { stored, results } = await storeEach(
      tx,
      items,
      (some) => storeInvoicePage(tx, tenantId, psa.vendor, some, fetchedAt),
      (one, e) =>
        quarantinePsaRecord(ctx, tx, tenantId, psa.vendor, {
          entity: 'invoice',
          externalId: one.inv.externalId,
          label: `invoice ${one.inv.number} (id ${one.inv.externalId})`,
          reason: (e as Error).message,
        }),
    );
    await releasePsaRecords(
      tx,
      tenantId,
      psa.vendor,
      'invoice',
      stored.map((k) => k.inv.externalId),
    );
    if (cursorName) await saveCursor(tx, tenantId, cursorName, cursor);
    // New, owed invoices get their pay link (written into the PSA once; pay-links.ts says which).
    await offerPayLinks(
      tx,
      tenantId,
      psa.vendor,
      stored.map((k) => k.inv.externalId),
    );
    return { created: results.reduce((n, r) => n + r.created, 0), changed: results.reduce((n, r) => n + r.changed, 0) };
  });
}

/** Invoices whose client is known: existing ones one by one (versions compared), new ones in bulk. */
async function storeInvoicePage(
  tx: Tx,
  tenantId: string,
  vendor: string,
  items: readonly { inv: PsaInvoice; clientId: string }[],
  fetchedAt: Date,
): Promise<{ created: number; changed: number }> {
  let created = 0;
  let changed = 0;
  // Lock the invoices of this page that already exist; everything else is new and goes in bulk.
  const numbers = [...new Set(items.map((i) => i.inv.number))];
  const known =
    numbers.length === 0
      ? new Set<string>()
      : new Set(
          (await tx.selectFrom('invoices').select('number').where('number', 'in', numbers).orderBy('id').forNoKeyUpdate().execute()).map((r) => r.number),
        );
  const fresh = new Map<string, { inv: PsaInvoice; clientId: string }>();
  for (const { inv, clientId } of items) {
    if (!known.has(inv.number)) {
      // The same invoice twice in one page (inclusive cursors): keep the newest state.
      const prev = fresh.get(inv.number);
      if (!prev || prev.inv.updatedAt <= inv.updatedAt) fresh.set(inv.number, { inv, clientId });
      continue;
    }
    const r = await ingestInvoice(tx, tenantId, vendor, inv, clientId, fetchedAt);
    if (r.change === 'created') created++;
    if (r.change === 'new_version') changed++;
  }
  // In slices, so a page larger than a ConnectWise page never builds one huge statement (memory stays flat).
  const news = [...fresh.values()];
  for (let s = 0; s < news.length; s += NEW_INVOICES_PER_INSERT) {
    const r = await ingestNewInvoices(tx, tenantId, vendor, news.slice(s, s + NEW_INVOICES_PER_INSERT), fetchedAt);
    created += r.inserted;
    for (const { inv, clientId } of r.raced) {
      const one = await ingestInvoice(tx, tenantId, vendor, inv, clientId, fetchedAt);
      if (one.change === 'new_version') changed++;
    }
  }
  return { created, changed };
}

/** Settle's client id for each PSA company the invoices name; companies not seen yet are fetched first. */
async function resolveClients(ctx: EngineContext, tenantId: string, psa: PsaConnector, invoices: readonly PsaInvoice[]): Promise<Map<string, string>> {
  const clientIds = await clientMap(ctx, tenantId, psa.vendor, invoices);
  if (invoices.some((i) => !clientIds.has(i.clientExternalId))) {
    await syncClients(ctx, tenantId, psa);
    const again = await clientMap(ctx, tenantId, psa.vendor, invoices);
    for (const [k, v] of again) clientIds.set(k, v);
  }
  return clientIds;
}

async function clientMap(ctx: EngineContext, tenantId: string, vendor: string, invoices: readonly PsaInvoice[]): Promise<Map<string, string>> {
  const ids = [...new Set(invoices.map((i) => i.clientExternalId))];
  if (ids.length === 0) return new Map();
  const rows = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('external_refs')
      .select(['remote_id', 'entity_id'])
      .where('system', '=', vendor)
      .where('entity', '=', 'client')
      .where('remote_id', 'in', ids)
      .execute(),
  );
  return new Map(rows.map((r) => [r.remote_id, r.entity_id]));
}

export async function syncPsa(ctx: EngineContext, tenantId: string): Promise<SyncSummary> {
  const psa = await ctx.connectors.psa(tenantId);
  if (!psa) return { clients: 0, invoices: 0, created: 0, changed: 0 };
  // Credentials the PSA refuses become an exception with their fix; a poll that gets through closes it.
  const summary = await pullPsa(ctx, tenantId, psa).catch(async (e: unknown) => {
    await tellIfCredentialsRefused(ctx, tenantId, psa.vendor, e);
    throw e;
  });
  await credentialsAccepted(ctx, tenantId);
  return summary;
}

/**
 * Pages stored at once. While PostgreSQL stores one page on one connection, the next page is fetched, mapped
 * and stored on a second: the import keeps both cores busy (PostgreSQL's insert work, our own mapping and
 * hashing) instead of taking turns (bench/README.md: issue #10's 100,000-invoice import). Three pages in flight
 * were no faster on two cores and hold a third page in memory.
 */
const PAGES_IN_FLIGHT = 2;

/** New invoices after which the tables' statistics are refreshed first, then at each doubling (see analyzeGrowth). */
const ANALYZE_FIRST_AT = 2_000;

/**
 * Refresh the planner's statistics on the tables a large import is filling, as PostgreSQL advises after a bulk
 * load. Autovacuum analyses them only once a minute at best; meanwhile the planner still believes the invoices
 * table holds the few rows it had, and "which of this page's numbers exist" read the whole workspace's
 * invoices through the tenant index instead of probing the (tenant, number) key: 1.2 s a page by 100,000
 * invoices, the whole import's largest cost (bench connectwise-import-100k). A doubling schedule keeps the
 * cost a handful of ANALYZEs per import. Refused (a role that may not), it is only a lost speed-up.
 */
async function analyzeGrowth(ctx: EngineContext, created: number, analyzedAt: number): Promise<number> {
  if (created < Math.max(ANALYZE_FIRST_AT, analyzedAt * 2)) return analyzedAt;
  await sql`ANALYZE invoices, external_refs`.execute(ctx.db).catch((e: unknown) => {
    ctx.log.warn({ err: (e as Error).message }, "could not refresh the invoice tables' statistics during an import (it is only slower)");
  });
  return created;
}

interface PageInFlight {
  readonly stored: Promise<{ created: number; changed: number }>;
  readonly invoices: number;
  /** Its invoices' numbers and PSA ids: a page naming one of them again waits for this one (never two writers of one invoice). */
  readonly keys: ReadonlySet<string>;
  /** The cursor once this page and every page before it are stored. */
  readonly cursor: string | null;
}

async function pullPsa(ctx: EngineContext, tenantId: string, psa: PsaConnector): Promise<SyncSummary> {
  const clients = await syncClients(ctx, tenantId, psa);
  const name = `${psa.vendor}:invoices`;
  let cursor = await readCursor(ctx, tenantId, name);
  const summary: SyncSummary = { clients, invoices: 0, created: 0, changed: 0 };
  const pages = psa.listInvoices(cursor)[Symbol.asyncIterator]();
  const inFlight: PageInFlight[] = [];
  let analyzedAt = 0;
  // Pages finish in the order they were read, and the cursor moves past a page only once it and every page
  // before it are committed: a crash (or a failed page) leaves the cursor where a re-read loses nothing — the
  // pages stored after it are read again and found unchanged.
  const finishOldest = async (): Promise<void> => {
    const page = inFlight.shift()!;
    const r = await page.stored;
    summary.invoices += page.invoices;
    summary.created += r.created;
    summary.changed += r.changed;
    if (page.cursor !== cursor) {
      cursor = page.cursor;
      await withTenant(ctx.db, tenantId, (tx) => saveCursor(tx, tenantId, name, page.cursor));
    }
  };
  try {
    for (;;) {
      const fetchedAt = new Date();
      const next = await pages.next();
      if (next.done) break;
      const page = next.value;
      let pageCursor = inFlight.at(-1)?.cursor ?? cursor;
      for (const inv of page) if (!pageCursor || inv.updatedAt > pageCursor) pageCursor = inv.updatedAt;
      // The same invoice on two pages (changed while we paged): the later page waits for the earlier one.
      const keys = new Set(page.flatMap((inv) => [`n:${inv.number}`, `x:${inv.externalId}`]));
      while (inFlight.some((p) => [...keys].some((k) => p.keys.has(k)))) await finishOldest();
      // Companies one page at a time (a new one is fetched and inserted once), invoices concurrently.
      const clientIds = await resolveClients(ctx, tenantId, psa, page);
      const stored = storeInvoices(ctx, tenantId, psa, page, undefined, fetchedAt, clientIds);
      stored.catch(() => undefined); // awaited in order by finishOldest; not an unhandled rejection meanwhile
      inFlight.push({ stored, invoices: page.length, keys, cursor: pageCursor });
      if (inFlight.length >= PAGES_IN_FLIGHT) await finishOldest();
      analyzedAt = await analyzeGrowth(ctx, summary.created, analyzedAt);
    }
    while (inFlight.length > 0) await finishOldest();
  } catch (e) {
    // Let the other page's transaction end before the error goes up (the caller may close the pool).
    await Promise.allSettled(inFlight.map((p) => p.stored));
    throw e;
  }
  // A complete run: invoices Settle sees from now on get pay links (the back catalogue it just read does not).
  await startPayLinks(ctx.db, tenantId, new Date());
  return summary;
}
