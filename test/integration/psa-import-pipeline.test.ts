// The PSA pull stores two pages at once (sync-psa.ts, issue #10's 100,000-invoice import). What that must not
// change: the cursor moves past a page only once it and every page before it are committed, so a page that
// fails while a later one commits is read again next time and nothing is lost; and an invoice that appears on
// two pages (changed while we paged) is written by one transaction after the other, ending in its newest
// state. Real PostgreSQL; the ConnectWise simulator over HTTP, its pages cut smaller here so a handful of
// invoices make many pages.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PsaConnector, PsaInvoice, PsaPage } from '../../src/connectors/psa/types.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 0, invoices: 0 });
  stack.sims.connectwise.sim.callbackOptions.drop = true; // the pull alone
});
afterAll(async () => stack?.close());

const db = () => stack.database.db;
const PAGE = 5;

/**
 * The workspace's real ConnectWise connector, its invoice pages re-cut into pages of five; `extra(i)` may add
 * invoices to page i (as a PSA does when an invoice changes while we page).
 */
async function smallPages(extra: (page: number, seen: PsaInvoice[]) => PsaInvoice[] = () => []): Promise<() => void> {
  const ctx = stack.settle!.ctx;
  const real = (await ctx.connectors.psa(stack.tenantId))!;
  const paged: PsaConnector = Object.create(real) as PsaConnector;
  (paged as { listInvoices: PsaConnector['listInvoices'] }).listInvoices = async function* (since: string | null) {
    const all: PsaInvoice[] = [];
    for await (const page of real.listInvoices(since)) all.push(...page);
    for (let i = 0; i * PAGE < all.length; i++) {
      const page: PsaPage<PsaInvoice> = [...all.slice(i * PAGE, (i + 1) * PAGE), ...extra(i, all)];
      yield page;
    }
  };
  const original = ctx.connectors.psa;
  (ctx.connectors as { psa: typeof original }).psa = async (tenantId: string) =>
    tenantId === stack.tenantId ? paged : original.call(ctx.connectors, tenantId);
  return () => void ((ctx.connectors as { psa: typeof original }).psa = original);
}

async function stored(): Promise<{ invoices: number; versions: number; refs: number; cursor: string | null }> {
  return withTenant(db(), stack.tenantId, async (tx) => ({
    invoices: Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM invoices`.execute(tx)).rows[0]!.n),
    versions: Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM invoice_versions`.execute(tx)).rows[0]!.n),
    refs: Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM external_refs WHERE entity = 'invoice'`.execute(tx)).rows[0]!.n),
    cursor: (await tx.selectFrom('sync_cursors').select('cursor_value').where('name', '=', 'connectwise:invoices').executeTakeFirst())?.cursor_value ?? null,
  }));
}

describe('two pages stored at once', () => {
  it('a failing page keeps the cursor before it while later pages commit; the next pull stores it, each invoice once', async () => {
    const cw = stack.sims.connectwise;
    cw.sim.seed({ companies: 3, invoices: 40, seed: 11, paidShare: 0 });
    const restore = await smallPages();
    try {
      // The pull's order (oldest first) decides the pages; the third page's second invoice is refused by the
      // database with a transient error (not a data error: the page fails whole, to be read again).
      const order: PsaInvoice[] = [];
      const real = (await stack.settle!.ctx.connectors.psa(stack.tenantId))!;
      for await (const p of Object.getPrototypeOf(real).listInvoices.call(real, null) as AsyncIterable<PsaPage<PsaInvoice>>) order.push(...p);
      const victim = order[2 * PAGE + 1]!;
      await sql
        .raw(
          `CREATE FUNCTION test_refuse_invoice() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
             IF NEW.number = '${victim.number}' THEN RAISE EXCEPTION 'test: refused for now' USING ERRCODE = '40001'; END IF;
             RETURN NEW; END $$;
           CREATE TRIGGER test_refuse_invoice BEFORE INSERT ON invoices FOR EACH ROW EXECUTE FUNCTION test_refuse_invoice();`,
        )
        .execute(db());
      await expect(syncPsa(stack.settle!.ctx, stack.tenantId)).rejects.toThrow(/refused for now/);
      const after = await stored();
      // Never past the failed page: every invoice of it is still ahead of the cursor.
      const failedPage = order.slice(2 * PAGE, 3 * PAGE);
      expect(after.cursor === null || failedPage.every((inv) => inv.updatedAt >= after.cursor!)).toBe(true);
      expect(after.invoices).toBeGreaterThanOrEqual(2 * PAGE); // the pages before it are in
      expect(after.invoices).toBeLessThan(order.length);

      await sql.raw(`DROP TRIGGER test_refuse_invoice ON invoices; DROP FUNCTION test_refuse_invoice();`).execute(db());
      await syncPsa(stack.settle!.ctx, stack.tenantId);
      const done = await stored();
      expect(done).toMatchObject({ invoices: order.length, versions: order.length, refs: order.length });
      const newest = order
        .map((inv) => inv.updatedAt)
        .sort()
        .at(-1)!;
      expect(done.cursor! >= newest).toBe(true);
    } finally {
      restore();
    }
  });

  it('an invoice on two pages ends in its newest state, one row, its change a new version', async () => {
    const cw = stack.sims.connectwise;
    const company = cw.state.companies.all()[0]!;
    const fresh = Array.from({ length: 12 }, () => cw.sim.createInvoice({ companyId: company.id }));
    let moved = '';
    const restore = await smallPages((page, all) => {
      if (page !== 1) return [];
      // The first page's second invoice again on the next page, changed (a higher total, later stamp).
      const first = all[1]!;
      moved = first.number;
      const later = new Date(Date.parse(first.updatedAt) + 60_000).toISOString();
      const line = { ...first.lines[0]!, amount: { ...first.lines[0]!.amount, amountMinor: first.lines[0]!.amount.amountMinor + 500n } };
      return [{ ...first, updatedAt: later, lines: [line, ...first.lines.slice(1)], total: { ...first.total, amountMinor: first.total.amountMinor + 500n } }];
    });
    try {
      await syncPsa(stack.settle!.ctx, stack.tenantId);
    } finally {
      restore();
    }
    const rows = await withTenant(db(), stack.tenantId, (tx) =>
      tx.selectFrom('invoices').select(['number', 'total_minor', 'current_version']).where('number', '=', moved).execute(),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.current_version).toBe(2);
    const everything = await stored();
    expect(everything.invoices).toBe(everything.refs);
    const numbers = await withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('invoices').select('number').execute());
    for (const inv of fresh) expect(numbers.map((n) => n.number)).toContain(inv.invoiceNumber);
  });
});
