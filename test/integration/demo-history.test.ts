// The demo's three months of history, built through the engine against the simulators, tell the story the
// staff app is shown with: invoices over ~13 weeks, declines recovered on retry, refunds, one ACH return, one
// payment waiting for its invoice in the books (the open exception), one autopay charge waiting for approval —
// and the book agrees with itself, the PSA and the books, with the dashboard's figures filled in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startStack, type Stack } from '../helpers/stack.ts';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import { buildDemoHistory, type DemoHistorySummary } from '../../src/cli/demo/demo-history.ts';
import { arMetrics, workspaceClock } from '../../src/db/queries/ar-metrics.ts';
import { resolvePeriod } from '../../src/domain/report-period.ts';

let stack: Stack;
let summary: DemoHistorySummary | null;
const q = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => withTenant(stack.database.db, stack.tenantId, fn);
const DAY = 86_400_000;

beforeAll(async () => {
  // The demo's own shape: 25 clients, 170 invoices over the last 90 days; bank debits settle after 1.5 s.
  stack = await startStack({ companies: 25, invoices: 170, achSettleDelayMs: 1500 });
  summary = await buildDemoHistory(stack.settle!.ctx, stack.tenantId, stack.sims);
  console.log('demo history built', summary);
}, 240_000);
afterAll(async () => {
  await stack?.close();
});

describe('demo history', () => {
  it('spans about three months of invoices and payments', async () => {
    expect(summary).not.toBeNull();
    const span = await q((tx) =>
      sql<{ first_invoice: string; first_paid: Date; last_paid: Date; paid: number }>`
        SELECT (SELECT min(issued_on)::text FROM invoices) AS first_invoice,
               min(succeeded_at) AS first_paid, max(succeeded_at) AS last_paid, count(*)::int AS paid
          FROM payments WHERE succeeded_at IS NOT NULL`.execute(tx),
    );
    const r = span.rows[0]!;
    expect(Date.parse(r.first_invoice)).toBeLessThan(Date.now() - 80 * DAY);
    expect(new Date(r.first_paid).getTime()).toBeLessThan(Date.now() - 60 * DAY);
    expect(new Date(r.last_paid).getTime()).toBeGreaterThan(Date.now() - 3 * DAY);
    expect(r.paid).toBeGreaterThan(60);
    // Payments are spread over the weeks, not bunched on the day the demo was built.
    const weeks = await q((tx) =>
      sql<{ n: number }>`SELECT count(DISTINCT date_trunc('week', succeeded_at))::int AS n FROM payments WHERE succeeded_at IS NOT NULL`.execute(tx),
    );
    expect(weeks.rows[0]!.n).toBeGreaterThanOrEqual(10);
  });

  it('has each named case: declines recovered, refunds, one ACH return, one open exception, one pending approval', async () => {
    const recovered = await q((tx) =>
      tx
        .selectFrom('payment_failures as f')
        .innerJoin('payments as r', 'r.id', 'f.retry_payment_id')
        .select('f.id')
        .where('r.state', 'in', ['succeeded', 'partially_refunded'])
        .execute(),
    );
    expect(recovered.length).toBeGreaterThanOrEqual(1);
    const refunds = await q((tx) => tx.selectFrom('refunds').select(['id', 'status']).execute());
    expect(refunds.length).toBeGreaterThanOrEqual(1);
    expect(refunds.every((r) => r.status === 'succeeded')).toBe(true);
    const returned = await q((tx) => tx.selectFrom('payments').select(['id', 'method_kind']).where('state', '=', 'returned').execute());
    expect(returned).toEqual([{ id: expect.any(String), method_kind: 'us_bank_account' }]);
    const open = await q((tx) => tx.selectFrom('exceptions').select(['kind']).where('status', '=', 'open').execute());
    expect(open).toEqual([{ kind: 'posting_waiting_for_invoice' }]);
    // A person handled the return from Needs attention: the rollout view's manual touch.
    const touched = await q((tx) =>
      tx.selectFrom('exceptions').select(['kind']).where('status', '=', 'resolved').where('resolved_by', 'like', 'user:%').execute(),
    );
    expect(touched).toEqual([{ kind: 'payment_returned' }]);
    const approvals = await q((tx) => tx.selectFrom('autopay_schedules').select('id').where('state', '=', 'awaiting_approval').execute());
    expect(approvals).toHaveLength(1);
    // Weekly payouts, each with its deposit in the books.
    const deposits = await q((tx) => tx.selectFrom('postings').select(['status']).where('kind', '=', 'deposit').where('target', '=', 'accounting').execute());
    expect(deposits.length).toBeGreaterThanOrEqual(8);
    expect(deposits.every((d) => d.status === 'posted')).toBe(true);
    expect(stack.sims.quickbooks.sim.deposits().length).toBe(deposits.length);
  });

  it('balances: every journal, and every settled payment once in the PSA and once in the books', async () => {
    const unbalanced = await q((tx) =>
      sql<{ journal_id: string }>`
        SELECT journal_id FROM ledger_entries GROUP BY journal_id, currency
        HAVING sum(CASE WHEN direction = 'debit' THEN amount_minor ELSE -amount_minor END) <> 0`.execute(tx),
    );
    expect(unbalanced.rows).toEqual([]);
    // Each allocation of a payment that kept its money: one posted PSA payment; each such payment: one books payment
    // (except the one waiting for its invoice in QuickBooks).
    const each = await q((tx) =>
      sql<{ payment_id: string; psa: number; books: number; waiting: number }>`
        SELECT a.payment_id,
               (SELECT count(*)::int FROM postings p WHERE p.payment_id = a.payment_id AND p.invoice_id = a.invoice_id
                   AND p.target = 'psa' AND p.kind = 'payment' AND p.status = 'posted') AS psa,
               (SELECT count(*)::int FROM postings p WHERE p.payment_id = a.payment_id AND p.invoice_id = a.invoice_id
                   AND p.target = 'accounting' AND p.kind = 'payment' AND p.status = 'posted') AS books,
               (SELECT count(*)::int FROM postings p WHERE p.payment_id = a.payment_id AND p.invoice_id = a.invoice_id
                   AND p.target = 'accounting' AND p.kind = 'payment' AND p.waiting_for IS NOT NULL) AS waiting
          FROM allocations a JOIN payments py ON py.id = a.payment_id
         WHERE py.state IN ('succeeded', 'partially_refunded')`.execute(tx),
    );
    expect(each.rows.length).toBeGreaterThan(60);
    expect(each.rows.filter((r) => r.psa !== 1)).toEqual([]);
    expect(each.rows.filter((r) => r.waiting === 1 && r.books === 0)).toHaveLength(1);
    expect(each.rows.filter((r) => r.waiting === 0 && r.books !== 1)).toEqual([]);
    // The simulators hold exactly what the postings say: one QuickBooks Payment per books payment posting
    // (the returned debit's was posted too and is re-applied, not deleted), a ConnectWise payment per PSA posting left standing.
    const postedBooks = await q((tx) =>
      tx.selectFrom('postings').select('id').where('target', '=', 'accounting').where('kind', '=', 'payment').where('status', '=', 'posted').execute(),
    );
    expect(stack.sims.quickbooks.sim.payments().length).toBe(postedBooks.length);
  });

  it('fills the dashboard: DSO, aging, cash per week, failure and recovery rates (the dashboard’s own queries)', async () => {
    const m = await q(async (tx) => {
      const clock = await workspaceClock(tx, stack.tenantId, new Date());
      return arMetrics(tx, resolvePeriod({ preset: 'last_90_days' }, clock.today), clock.timeZone, clock.now);
    });
    const usd = m.currencies.find((c) => c.currency === 'USD')!;
    expect(usd.dso).not.toBeNull();
    expect(usd.dso!).toBeGreaterThan(0);
    expect(usd.openNow.amountMinor).toBeGreaterThan(0n);
    expect(usd.aging.filter((b) => b.amountMinor > 0n).length).toBeGreaterThanOrEqual(3);
    expect(usd.cashPerWeek.filter((w) => w.amountMinor > 0n).length).toBeGreaterThanOrEqual(10);
    expect(usd.daysToPay.invoices).toBeGreaterThan(40);
    expect(usd.daysToPay.byCount!).toBeGreaterThan(3);
    expect(usd.failures.failed).toBeGreaterThanOrEqual(1);
    expect(usd.failures.recovered).toBeGreaterThanOrEqual(1);
    expect(usd.methodMix.find((x) => x.method === 'ach')!.count).toBeGreaterThanOrEqual(1);
    expect(usd.autopay.clientsOnAutopay).toBeGreaterThanOrEqual(1);
    // The rollout view compares pilot clients with the rest: both groups exist.
    const groups = await q((tx) => tx.selectFrom('clients').select('collection_enabled').distinct().execute());
    expect(groups.map((g) => g.collection_enabled).sort()).toEqual([false, true]);
  });

  it('is built once: a second call builds nothing', async () => {
    const before = await q((tx) =>
      tx
        .selectFrom('payments')
        .select(sql<number>`count(*)::int`.as('n'))
        .executeTakeFirstOrThrow(),
    );
    expect(await buildDemoHistory(stack.settle!.ctx, stack.tenantId, stack.sims)).toBeNull();
    const after = await q((tx) =>
      tx
        .selectFrom('payments')
        .select(sql<number>`count(*)::int`.as('n'))
        .executeTakeFirstOrThrow(),
    );
    expect(after.n).toBe(before.n);
  });
});
