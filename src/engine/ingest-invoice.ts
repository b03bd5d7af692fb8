// The PSA is the source of truth for invoices. Ingesting an invoice upserts its client, and stores a new
// version only when the content changed (a redelivered or out-of-order callback carrying the same or an
// older state changes nothing). The open balance Settle collects follows the newest PSA version.
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { PsaClient, PsaInvoice, PsaInvoiceLine } from '../connectors/psa/types.ts';
import type { Tx } from '../db/tenant.ts';
import { contentHash } from '../domain/invoice.ts';
import { invoiceStatusFrom, refreshInvoiceStatus } from '../db/queries/invoice-balance.ts';
import { audit } from './audit.ts';

export interface IngestResult {
  readonly invoiceId: string;
  readonly change: 'created' | 'new_version' | 'unchanged' | 'stale';
}

export async function upsertClient(tx: Tx, tenantId: string, vendor: string, c: PsaClient): Promise<string> {
  const ref = await tx
    .selectFrom('external_refs')
    .select('entity_id')
    .where('system', '=', vendor)
    .where('entity', '=', 'client')
    .where('remote_id', '=', c.externalId)
    .executeTakeFirst();
  if (ref) {
    await tx
      .updateTable('clients')
      .set({ name: c.name, identifier: c.identifier, billing_email: c.billingEmail, billing_contact: c.billingContactName, updated_at: new Date() })
      .where('id', '=', ref.entity_id)
      .execute();
    return ref.entity_id;
  }
  const row = await tx
    .insertInto('clients')
    .values({ tenant_id: tenantId, name: c.name, identifier: c.identifier, billing_email: c.billingEmail, billing_contact: c.billingContactName })
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx.insertInto('external_refs').values({ tenant_id: tenantId, entity: 'client', entity_id: row.id, system: vendor, remote_id: c.externalId }).execute();
  return row.id;
}

/**
 * What makes a new invoice version: amounts, lines, due date, void. The PSA's balance is deliberately not
 * part of it: our own payment written back to the PSA changes the balance, not the invoice. Nor is the lines'
 * contract: it sorts the lines, it is not what the client is charged (a changed contract is updated in place,
 * see refreshLineContracts — no new version, no corrected pre-debit notice).
 */
export function invoiceFingerprint(inv: PsaInvoice): string {
  const canonical = contentHash({
    number: inv.number,
    currency: inv.currency,
    total: inv.total,
    dueOn: inv.dueOn,
    voided: /void/i.test(inv.status),
    lines: inv.lines.map((l) => ({ externalId: l.externalId, description: l.description, quantity: l.quantity, amount: l.amount })),
  });
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

export async function ingestInvoice(
  tx: Tx,
  tenantId: string,
  vendor: string,
  inv: PsaInvoice,
  clientId: string,
  /** When the request that returned `inv` was sent; orders two reads the PSA's timestamp cannot tell apart. */
  fetchedAt: Date = new Date(),
): Promise<IngestResult> {
  const fingerprint = invoiceFingerprint(inv);
  const existing = await tx
    .selectFrom('invoices')
    .select(['id', 'current_version', 'psa_updated_at', 'psa_fetched_at', 'paid_minor'])
    .where('number', '=', inv.number)
    .forNoKeyUpdate() // not FOR UPDATE: rows referring to the invoice need not wait (invoice-locks.ts)
    .executeTakeFirst();

  if (!existing) {
    const row = await tx
      .insertInto('invoices')
      .values({
        tenant_id: tenantId,
        client_id: clientId,
        number: inv.number,
        type: inv.type,
        currency: inv.currency,
        total_minor: inv.total.amountMinor,
        psa_balance_minor: inv.balance.amountMinor,
        status: 'open', // re-derived below
        psa_status: inv.status,
        issued_on: inv.issuedOn,
        due_on: inv.dueOn,
        psa_updated_at: inv.updatedAt,
        psa_fetched_at: fetchedAt,
      })
      // Two notices for the same new invoice (a callback and its duplicate, or a callback and a poll) can be
      // ingested at once: the second insert waits for the first transaction, then finds the row and takes
      // the update path instead of failing on the unique number.
      .onConflict((oc) => oc.columns(['tenant_id', 'number']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!row) return ingestInvoice(tx, tenantId, vendor, inv, clientId, fetchedAt);
    await tx
      .insertInto('external_refs')
      .values({ tenant_id: tenantId, entity: 'invoice', entity_id: row.id, system: vendor, remote_id: inv.externalId })
      .execute();
    await writeVersion(tx, tenantId, row.id, 1, fingerprint, inv);
    await refreshInvoiceStatus(tx, row.id);
    return { invoiceId: row.id, change: 'created' };
  }

  // An older state arriving after a newer one (out-of-order callback or slow poll) must not roll back.
  // The PSA's own timestamp decides when it can; within the same second (ConnectWise keeps whole seconds)
  // the read that was sent later wins — e.g. our read-back after posting a payment over a callback's fetch
  // that started just before the payment.
  // A stored stamp in the future (a PSA clock ahead of ours) would freeze the invoice: then only the order of
  // our own reads counts.
  const psaTime = new Date(inv.updatedAt).getTime();
  const storedTime = new Date(existing.psa_updated_at).getTime();
  const readEarlier = existing.psa_fetched_at !== null && fetchedAt < existing.psa_fetched_at;
  const storedInFuture = storedTime > Date.now() + 60_000;
  if (storedInFuture ? readEarlier : psaTime < storedTime || (psaTime === storedTime && readEarlier)) {
    return { invoiceId: existing.id, change: 'stale' };
  }
  const last = await tx
    .selectFrom('invoice_versions')
    .select('content_hash')
    .where('invoice_id', '=', existing.id)
    .where('version', '=', existing.current_version)
    .executeTakeFirst();
  if (last?.content_hash === fingerprint) {
    // Same invoice; the PSA's balance or status text may still have moved (e.g. our own payment posted).
    await tx
      .updateTable('invoices')
      .set({ psa_updated_at: inv.updatedAt, psa_fetched_at: fetchedAt, psa_balance_minor: inv.balance.amountMinor, psa_status: inv.status })
      .where('id', '=', existing.id)
      .execute();
    await refreshLineContracts(tx, existing.id, existing.current_version, inv);
    await refreshInvoiceStatus(tx, existing.id);
    return { invoiceId: existing.id, change: 'unchanged' };
  }
  const version = existing.current_version + 1;
  await tx
    .updateTable('invoices')
    .set({
      client_id: clientId,
      type: inv.type,
      total_minor: inv.total.amountMinor,
      psa_balance_minor: inv.balance.amountMinor,
      psa_status: inv.status,
      issued_on: inv.issuedOn,
      due_on: inv.dueOn,
      psa_updated_at: inv.updatedAt,
      psa_fetched_at: fetchedAt,
      current_version: version,
      updated_at: new Date(),
    })
    .where('id', '=', existing.id)
    .execute();
  await writeVersion(tx, tenantId, existing.id, version, fingerprint, inv);
  await refreshInvoiceStatus(tx, existing.id);
  await audit(
    tx,
    tenantId,
    `vendor:${vendor}`,
    'invoice.changed_in_psa',
    { type: 'invoice', id: existing.id },
    {
      version,
      total_minor: inv.total.amountMinor,
      balance_minor: inv.balance.amountMinor,
    },
  );
  return { invoiceId: existing.id, change: 'new_version' };
}

async function writeVersion(tx: Tx, tenantId: string, invoiceId: string, version: number, hash: string, inv: PsaInvoice): Promise<void> {
  await tx
    .insertInto('invoice_versions')
    .values({
      tenant_id: tenantId,
      invoice_id: invoiceId,
      version,
      content_hash: hash,
      total_minor: inv.total.amountMinor,
      snapshot: JSON.stringify(inv, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    })
    .execute();
  if (inv.lines.length > 0) {
    await tx
      .insertInto('invoice_lines')
      .values(
        inv.lines.map((l, i) => ({
          tenant_id: tenantId,
          invoice_id: invoiceId,
          version,
          line_no: i + 1,
          external_id: l.externalId,
          kind: l.kind,
          description: l.description,
          quantity: l.quantity,
          amount_minor: l.amount.amountMinor,
          ...contractColumns(l),
        })),
      )
      .execute();
  }
}

/**
 * The contract of each line of the stored version, as the PSA says now (a line moved to another agreement, or
 * an invoice stored before Settle read contracts). Only lines whose contract differs are written.
 */
async function refreshLineContracts(tx: Tx, invoiceId: string, version: number, inv: PsaInvoice): Promise<void> {
  if (inv.lines.length === 0) return;
  const rows = inv.lines.map((l, i) => {
    const c = contractColumns(l);
    return sql`(${i + 1}::int, ${l.externalId}::text, ${c.contract_ref}::text, ${c.contract_name}::text, ${c.contract_kind}::text)`;
  });
  await sql`UPDATE invoice_lines l SET contract_ref = v.ref, contract_name = v.name, contract_kind = v.kind
              FROM (VALUES ${sql.join(rows)}) AS v(line_no, external_id, ref, name, kind)
             WHERE l.invoice_id = ${invoiceId}::uuid AND l.version = ${version} AND l.line_no = v.line_no
               AND l.external_id = v.external_id
               AND (l.contract_ref, l.contract_name, l.contract_kind) IS DISTINCT FROM (v.ref, v.name, v.kind)`.execute(tx);
}

/** The line's contract as its three columns (0035), all null when it has none. */
function contractColumns(l: PsaInvoiceLine) {
  return { contract_ref: l.contract?.externalId ?? null, contract_name: l.contract?.name ?? null, contract_kind: l.contract?.kind ?? null };
}

const LINE_ROWS_PER_INSERT = 5000; // one json parameter a statement (insertRows); slices keep each text a few MB

/**
 * Invoices Settle has never seen (the initial import, and most of any sync), stored with four bulk
 * statements per page instead of several statements per invoice. A new invoice has no allocations yet, so
 * its status follows from the PSA alone. Callers pass only numbers that do not exist (checked under lock).
 */
export async function ingestNewInvoices(
  tx: Tx,
  tenantId: string,
  vendor: string,
  all: readonly { inv: PsaInvoice; clientId: string }[],
  fetchedAt: Date = new Date(),
): Promise<{ inserted: number; raced: { inv: PsaInvoice; clientId: string }[] }> {
  if (all.length === 0) return { inserted: 0, raced: [] };
  const rows = await insertRows<{ id: string; number: string }>(
    tx,
    'invoices',
    all.map(({ inv, clientId }) => ({
      tenant_id: tenantId,
      client_id: clientId,
      number: inv.number,
      type: inv.type,
      currency: inv.currency,
      total_minor: inv.total.amountMinor,
      psa_balance_minor: inv.balance.amountMinor,
      status: invoiceStatusFrom({ type: inv.type, total_minor: inv.total.amountMinor, psa_status: inv.status }, inv.balance.amountMinor),
      psa_status: inv.status,
      issued_on: inv.issuedOn,
      due_on: inv.dueOn,
      psa_updated_at: inv.updatedAt,
      psa_fetched_at: fetchedAt,
    })),
    // Another ingestion (a callback racing the poll) may have inserted some of them since the caller looked;
    // those go back to the caller for the one-by-one path, which compares versions.
    sql`ON CONFLICT (tenant_id, number) DO NOTHING RETURNING id, number`,
  );
  const idByNumber = new Map(rows.map((r) => [r.number, r.id]));
  const items = all.filter(({ inv }) => idByNumber.has(inv.number));
  const raced = all.filter(({ inv }) => !idByNumber.has(inv.number));
  if (items.length === 0) return { inserted: 0, raced };
  const idOf = (inv: PsaInvoice): string => idByNumber.get(inv.number)!;
  await insertRows(
    tx,
    'external_refs',
    items.map(({ inv }) => ({ tenant_id: tenantId, entity: 'invoice', entity_id: idOf(inv), system: vendor, remote_id: inv.externalId })),
  );
  await insertRows(
    tx,
    'invoice_versions',
    items.map(({ inv }) => ({
      tenant_id: tenantId,
      invoice_id: idOf(inv),
      version: 1,
      content_hash: invoiceFingerprint(inv),
      total_minor: inv.total.amountMinor,
      snapshot: inv, // the jsonb column takes the object itself (bigints as strings, as writeVersion stores them)
    })),
  );
  const lines = items.flatMap(({ inv }) =>
    inv.lines.map((l, i) => ({
      tenant_id: tenantId,
      invoice_id: idOf(inv),
      version: 1,
      line_no: i + 1,
      external_id: l.externalId,
      kind: l.kind,
      description: l.description,
      quantity: l.quantity,
      amount_minor: l.amount.amountMinor,
      ...contractColumns(l),
    })),
  );
  for (let s = 0; s < lines.length; s += LINE_ROWS_PER_INSERT) await insertRows(tx, 'invoice_lines', lines.slice(s, s + LINE_ROWS_PER_INSERT));
  return { inserted: items.length, raced };
}

/**
 * One INSERT of many rows, passed as ONE json parameter and turned into rows by PostgreSQL
 * (json_populate_recordset with the table's own row type, so every column gets its own type and whatever
 * columns the rows carry are inserted). A VALUES list of 250 invoices was 3,000+ parameters for the driver to
 * send and the server to parse and plan; this is one, whatever the count (issue #10: 100,000 invoices with
 * lines must import within 3 × a raw COPY — COPY FROM itself is refused under row-level security).
 * Columns left out get their defaults; `tail` is ON CONFLICT / RETURNING.
 */
async function insertRows<R = unknown>(tx: Tx, table: string, rows: readonly Record<string, unknown>[], tail?: ReturnType<typeof sql>): Promise<R[]> {
  if (rows.length === 0) return [];
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const json = JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  const list = sql.join(columns.map((c) => sql.ref(c)));
  const result =
    await sql<R>`INSERT INTO ${sql.table(table)} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${sql.table(table)}, ${json}::json) ${tail ?? sql``}`.execute(
      tx,
    );
  return result.rows;
}
