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
    await until(() => pa.granted() + pb.granted() >= 150 && a.state().waiting === 4 && b.state().waiting === 4, 120_000, 'both brokers out of budget');
    // Long enough for a second reading of the ledger on each side to let through nothing more.
    const settled = pa.granted() + pb.granted();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(pa.granted() + pb.granted()).toBe(settled);
    await Promise.all([pa.stop(), pb.stop()]);
    const served = at.sim.limits.served;
    // 5 % of the 4,000 others leave = 200, and each process's own ThresholdInformation read counts too. Two
    // grants a side may pass between ledger readings; without sharing this is ~400.
    expect(served).toBeLessThanOrEqual(210);
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
});
