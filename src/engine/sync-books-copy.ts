// Keep Settle's copy of the books current (three-way reconciliation, issue #11). The connector reads what
// changed since its cursor (QuickBooks Online: CDC; connectors/accounting/ledger-copy.ts), and the changes
// are stored in one transaction with the new cursor, so a crash between the two re-reads the same changes
// (every store is an upsert) and never skips any. Runs in the workspace's own `books-copy:<tenant>` queue —
// never behind the books flush — every few minutes (cron books-copy-tick) and at once before an on-demand
// report when the copy is stale. A failure to read is retried by the job; the report says how old the copy
// is, so a copy that cannot be refreshed is seen, never silently trusted.
import { sql } from 'kysely';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { LedgerChanges } from '../connectors/accounting/ledger-copy.ts';
import type { EngineContext } from './context.ts';

export const booksCopyCursorName = (vendor: string): string => `books-copy:${vendor}`;
export const booksCopyJobKey = (tenantId: string): string => `sync-books-copy:${tenantId}`;
export const booksCopyQueue = (tenantId: string): string => `books-copy:${tenantId}`;
/** Enough rounds for a catch-up of tens of thousands of changes; a connector that never completes is a bug. */
const MAX_ROUNDS = 200;
const CHUNK = 1000;

/** What sync_cursors keeps for the copy: the connector's own cursor and the moment the copy is current to. */
interface Stored {
  readonly cursor: string;
  readonly asOf: string;
}

export interface BooksCopyState {
  readonly vendor: string;
  readonly asOf: Date | null;
}

export async function booksCopyState(tx: Tx, vendor: string): Promise<BooksCopyState> {
  const row = await tx.selectFrom('sync_cursors').select('cursor_value').where('name', '=', booksCopyCursorName(vendor)).executeTakeFirst();
  const stored = parseStored(row?.cursor_value ?? null);
  return { vendor, asOf: stored ? new Date(stored.asOf) : null };
}

function parseStored(text: string | null): Stored | null {
  if (!text) return null;
  try {
    const s = JSON.parse(text) as Partial<Stored>;
    return typeof s.cursor === 'string' && typeof s.asOf === 'string' ? { cursor: s.cursor, asOf: s.asOf } : null;
  } catch {
    return null;
  }
}

export interface BooksCopySyncResult {
  readonly vendor: string | null;
  readonly rounds: number;
  readonly invoices: number;
  readonly payments: number;
  readonly deposits: number;
  readonly deleted: number;
  readonly asOf: Date | null;
}

export async function syncBooksCopy(ctx: EngineContext, tenantId: string): Promise<BooksCopySyncResult> {
  const books = await ctx.connectors.accounting(tenantId);
  if (!books?.readLedgerChanges) return { vendor: books?.vendor ?? null, rounds: 0, invoices: 0, payments: 0, deposits: 0, deleted: 0, asOf: null };
  const vendor = books.vendor;
  const name = booksCopyCursorName(vendor);
  let totals = { invoices: 0, payments: 0, deposits: 0, deleted: 0 };
  let asOf: Date | null = null;
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const row = await withTenant(ctx.db, tenantId, (tx) => tx.selectFrom('sync_cursors').select('cursor_value').where('name', '=', name).executeTakeFirst());
    const changes = await books.readLedgerChanges(parseStored(row?.cursor_value ?? null)?.cursor ?? null);
    await withTenant(ctx.db, tenantId, async (tx) => {
      await storeLedgerChanges(tx, tenantId, vendor, changes);
      const value = JSON.stringify({ cursor: changes.cursor, asOf: changes.asOf.toISOString() } satisfies Stored);
      await tx
        .insertInto('sync_cursors')
        .values({ tenant_id: tenantId, name, cursor_value: value })
        .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet({ cursor_value: value, updated_at: new Date() }))
        .execute();
    });
    totals = {
      invoices: totals.invoices + changes.invoices.length,
      payments: totals.payments + changes.payments.length,
      deposits: totals.deposits + changes.deposits.length,
      deleted: totals.deleted + changes.deleted.length,
    };
    asOf = changes.asOf;
    if (changes.complete) return { vendor, rounds: round, ...totals, asOf };
  }
  throw new Error(`the ${vendor} copy did not catch up in ${MAX_ROUNDS} reads; the connector's cursor is not advancing`);
}

/** Upsert the changes into the copy (and, for a full read, mark what was not in it as deleted). */
export async function storeLedgerChanges(tx: Tx, tenantId: string, vendor: string, changes: LedgerChanges): Promise<void> {
  const now = new Date();
  for (let s = 0; s < changes.invoices.length; s += CHUNK) {
    const rows = changes.invoices.slice(s, s + CHUNK).map((i) => ({
      tenant_id: tenantId,
      vendor,
      remote_id: i.remoteId,
      number: i.number,
      customer_remote_id: i.customerRemoteId,
      currency: i.total.currency,
      total_minor: i.total.amountMinor,
      balance_minor: i.balance.amountMinor,
      voided: i.voided,
      deleted: false,
      remote_updated_at: i.updatedAt,
      synced_at: now,
    }));
    await tx
      .insertInto('books_invoices')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'vendor', 'remote_id']).doUpdateSet((eb) => ({
          number: eb.ref('excluded.number'),
          customer_remote_id: eb.ref('excluded.customer_remote_id'),
          currency: eb.ref('excluded.currency'),
          total_minor: eb.ref('excluded.total_minor'),
          balance_minor: eb.ref('excluded.balance_minor'),
          voided: eb.ref('excluded.voided'),
          deleted: false,
          remote_updated_at: eb.ref('excluded.remote_updated_at'),
          synced_at: now,
        })),
      )
      .execute();
  }
  for (let s = 0; s < changes.payments.length; s += CHUNK) {
    const chunk = changes.payments.slice(s, s + CHUNK);
    await tx
      .insertInto('books_payments')
      .values(
        chunk.map((p) => ({
          tenant_id: tenantId,
          vendor,
          remote_id: p.remoteId,
          currency: p.total.currency,
          total_minor: p.total.amountMinor,
          paid_on: p.paidOn,
          customer_remote_id: p.customerRemoteId,
          settle_key: p.settleKey,
          reference: p.reference,
          voided: p.voided,
          deleted: false,
          remote_updated_at: p.updatedAt,
          synced_at: now,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'vendor', 'remote_id']).doUpdateSet((eb) => ({
          currency: eb.ref('excluded.currency'),
          total_minor: eb.ref('excluded.total_minor'),
          paid_on: eb.ref('excluded.paid_on'),
          customer_remote_id: eb.ref('excluded.customer_remote_id'),
          settle_key: eb.ref('excluded.settle_key'),
          reference: eb.ref('excluded.reference'),
          voided: eb.ref('excluded.voided'),
          deleted: false,
          remote_updated_at: eb.ref('excluded.remote_updated_at'),
          synced_at: now,
        })),
      )
      .execute();
    // A payment's applications are replaced whole: a person may have moved it to another invoice.
    const ids = chunk.map((p) => p.remoteId);
    await tx.deleteFrom('books_payment_lines').where('vendor', '=', vendor).where('payment_remote_id', 'in', ids).execute();
    const lines = chunk.flatMap((p) =>
      p.applied.map((a, n) => ({
        tenant_id: tenantId,
        vendor,
        payment_remote_id: p.remoteId,
        line_no: n,
        invoice_remote_id: a.invoiceRemoteId,
        amount_minor: a.amount.amountMinor,
      })),
    );
    for (let l = 0; l < lines.length; l += CHUNK)
      await tx
        .insertInto('books_payment_lines')
        .values(lines.slice(l, l + CHUNK))
        .execute();
  }
  for (let s = 0; s < changes.deposits.length; s += CHUNK) {
    const rows = changes.deposits.slice(s, s + CHUNK).map((d) => ({
      tenant_id: tenantId,
      vendor,
      remote_id: d.remoteId,
      currency: d.total.currency,
      total_minor: d.total.amountMinor,
      deposited_on: d.depositedOn,
      settle_key: d.settleKey,
      voided: d.voided,
      deleted: false,
      remote_updated_at: d.updatedAt,
      synced_at: now,
    }));
    await tx
      .insertInto('books_deposits')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'vendor', 'remote_id']).doUpdateSet((eb) => ({
          currency: eb.ref('excluded.currency'),
          total_minor: eb.ref('excluded.total_minor'),
          deposited_on: eb.ref('excluded.deposited_on'),
          settle_key: eb.ref('excluded.settle_key'),
          voided: eb.ref('excluded.voided'),
          deleted: false,
          remote_updated_at: eb.ref('excluded.remote_updated_at'),
          synced_at: now,
        })),
      )
      .execute();
  }
  const table = { invoice: 'books_invoices', payment: 'books_payments', deposit: 'books_deposits' } as const;
  for (const kind of ['invoice', 'payment', 'deposit'] as const) {
    const gone = changes.deleted.filter((d) => d.kind === kind).map((d) => d.remoteId);
    if (changes.full) {
      // Everything is in the answer: what the copy holds beyond it was deleted in the books.
      const seen = kind === 'invoice' ? changes.invoices : kind === 'payment' ? changes.payments : changes.deposits;
      const ids = seen.map((r) => r.remoteId);
      await sql`UPDATE ${sql.table(table[kind])} SET deleted = true, synced_at = ${now}
                 WHERE vendor = ${vendor} AND NOT deleted AND NOT (remote_id = ANY(${ids}::text[]))`.execute(tx);
    }
    if (gone.length)
      await sql`UPDATE ${sql.table(table[kind])} SET deleted = true, synced_at = ${now} WHERE vendor = ${vendor} AND remote_id = ANY(${gone}::text[])`.execute(
        tx,
      );
  }
}
