// The Autotask budget is one per database, but `settle start` and `settle worker` each call Autotask. Two
// brokers — as two Settle processes have, each with its own ledger identity — share Settle's part of the hour
// through PostgreSQL (migration 0038): together they stay within the share of what other integrations leave.
// Without the ledger each takes the whole share (the first test fails without it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../simulators/autotask/index.ts';
import { ApiBudget, BudgetClosed } from '../../src/connectors/psa/autotask/budget.ts';
import { AutotaskApi } from '../../src/connectors/psa/autotask/api.ts';
import { postgresBudgetLedger } from '../../src/engine/autotask-budget-ledger.ts';
import { createAutotaskConnector } from '../../src/connectors/psa/autotask/connector.ts';
import { money } from '../../src/domain/money.ts';

let database: TestDatabase;
let at: RunningAutotaskSimulator;
beforeAll(async () => {
  database = await createTestDatabase();
  at = await startAutotaskSimulator({ seed: { companies: 2, invoices: 4 }, limits: { limit: 10_000, latencyAtHalfMs: 0, latencyAtThreeQuartersMs: 0 } });
});
afterAll(async () => {
  await at?.close();
  await database?.drop();
});

async function until(what: () => boolean, ms: number, label: string): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error(`not in ${ms} ms: ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One "process": its broker, its own ledger identity, and four callers wanting far more than the share. */
function hammer(budget: ApiBudget) {
  const api = new AutotaskApi({ globalUrl: at.baseUrl, ...at.credentials }, { budget, sleep: async () => {} });
  let granted = 0;
  let failure: unknown = null;
  const callers = Array.from({ length: 4 }, async () => {
    try {
      for (;;) {
        await api.count('Invoices', [{ op: 'exist', field: 'id' }], 'writeback');
        granted++;
      }
    } catch (e) {
      if (!(e instanceof BudgetClosed)) failure = e;
    }
  });
  const stop = async (): Promise<void> => {
    budget.close();
    await Promise.all(callers);
    if (failure) throw failure;
  };
  return { granted: () => granted, stop };
}

describe('Autotask budget shared by two Settle processes', () => {
  it('10,000/h with 60 % used by others, share 5 %: both processes together spend ≤ 200, and each spends some', async () => {
    at.sim.limits.reset();
    at.sim.limits.addOthers(6_000);
    const key = 'shared-test-db';
    const a = new ApiBudget({ share: 0.05, refreshMs: 60_000, ledger: postgresBudgetLedger(database.db, 'start'), ledgerKey: key, peersMs: 200 });
    const b = new ApiBudget({ share: 0.05, refreshMs: 60_000, ledger: postgresBudgetLedger(database.db, 'worker'), ledgerKey: key, peersMs: 200 });
    const [pa, pb] = [hammer(a), hammer(b)];
    // Both stop when the shared budget is spent: every caller waits at the broker.
    // (Waiting alone does not say so: with a ledger every grant waits for a fresh reading of the other's use.)
    const spent = (x: ApiBudget): boolean => x.state().remaining === 0 && x.state().waiting === 4;
    await until(() => pa.granted() + pb.granted() >= 150 && spent(a) && spent(b), 120_000, 'both brokers out of budget');
    // Long enough for a second reading of the ledger on each side to let through nothing more.
    const settled = pa.granted() + pb.granted();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(pa.granted() + pb.granted()).toBe(settled);
    await Promise.all([pa.stop(), pb.stop()]);
    const served = at.sim.limits.served;
    // 5 % of the 4,000 others leave = 200, and each process's own ThresholdInformation read counts too. Two
    // grants a side may pass between ledger readings; without sharing this is ~400.
    expect(served).toBeLessThanOrEqual(205);
    expect(served).toBeGreaterThanOrEqual(150);
    expect(pa.granted()).toBeGreaterThan(0);
    expect(pb.granted()).toBeGreaterThan(0);
    expect(at.sim.limits.refused).toEqual({ hourly: 0, thread: 0 });
    const rows = await database.db.selectFrom('autotask_budget_use').select(['process_id', 'requests']).where('budget_key', '=', key).execute();
    const byProcess = new Map<string, number>();
    for (const r of rows) byProcess.set(r.process_id, (byProcess.get(r.process_id) ?? 0) + r.requests);
    expect([...byProcess.keys()].sort()).toEqual(['start', 'worker']);
    expect([...byProcess.values()].reduce((x, y) => x + y, 0)).toBe(served);
    expect(a.state().usedBySettle).toBe(served);
  }, 180_000);

  it('a process starting after the others spent most of the share counts their use as Settle’s, not as other integrations', async () => {
    at.sim.limits.reset();
    at.sim.limits.addOthers(6_000 + 880); // the other integrations, and 880 requests Settle's other process sent
    const key = 'late-start-db';
    await database.db.insertInto('autotask_budget_use').values({ budget_key: key, process_id: 'start', minute: new Date(), requests: 880 }).execute();
    // The worker starting now: 1,000 is Settle's share (25 % of the 4,000 the others leave), 880 of it spent.
    // A busy database: the ledger answers after Autotask does.
    const pg = postgresBudgetLedger(database.db, 'worker');
    const slow = { record: pg.record, peers: async (k: string, since: number) => (await new Promise((r) => setTimeout(r, 500)), pg.peers(k, since)) };
    const late = new ApiBudget({ share: 0.25, refreshMs: 60_000, ledger: slow, ledgerKey: key, peersMs: 200 });
    const api = new AutotaskApi({ globalUrl: at.baseUrl, ...at.credentials }, { budget: late, sleep: async () => {} });
    const started = Date.now();
    await api.count('Invoices', [{ op: 'exist', field: 'id' }], 'writeback');
    // Counting Settle's 880 as others' would leave it 0.25 × 3,120 = 780 < 880: nothing until the next reading.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(late.state()).toMatchObject({ usedByOthers: 6_000, allowance: 1_000 });
    late.close();
  }, 120_000);

  it('with 850 of Settle’s 1,000 spent, a fresh process still writes a payment back (its field lookups go as write-back)', async () => {
    at.sim.limits.reset();
    at.sim.limits.addOthers(6_000 + 850);
    const key = 'write-back-tier-db';
    await database.db.insertInto('autotask_budget_use').values({ budget_key: key, process_id: 'start', minute: new Date(), requests: 850 }).execute();
    const budget = new ApiBudget({ share: 0.25, refreshMs: 60_000, ledger: postgresBudgetLedger(database.db, 'worker'), ledgerKey: key, peersMs: 200 });
    const c = createAutotaskConnector({ globalUrl: at.baseUrl, ...at.credentials, api: { budget, sleep: async () => {} } });
    const invoice = [...at.sim.state.table('Invoices').values()][0]!;
    const started = Date.now();
    // 850 is past what reads of type 'other' may use (80 %): a write-back asking at that priority would wait.
    const done = await Promise.race([
      c.recordPayment({
        invoiceExternalId: String(invoice.Id ?? invoice.id),
        amount: money(1000n, 'USD'),
        paidOn: '2026-12-06',
        reference: 'pay_tier',
        idempotencyKey: 'tier-1',
      }),
      new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 20_000)),
    ]);
    budget.close();
    expect(done).not.toBe('waiting');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(at.sim.notes().filter((n) => String(n.Note).includes('ref=pay_tier'))).toHaveLength(1);
  }, 120_000);
});
