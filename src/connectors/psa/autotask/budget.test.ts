// The API budget broker against the simulator: a 10,000/h database with 60 % already used by other
// integrations. Settle's polls stop at its share, the simulator serves it no limit 429 (hourly or thread),
// and a payment write-back queued behind hundreds of polls goes first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../../../simulators/autotask/index.ts';
import { money } from '../../../domain/money.ts';
import { ApiBudget, BudgetClosed } from './budget.ts';
import { createAutotaskConnector } from './connector.ts';

async function until(what: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Autotask API budget broker', () => {
  let at: RunningAutotaskSimulator;
  beforeAll(async () => {
    // 20 ms a call, as the vendor's added latency at ≥ 50 % use would (scaled down to keep the test short).
    at = await startAutotaskSimulator({ seed: { companies: 3, invoices: 10 }, limits: { limit: 10_000, latencyAtHalfMs: 20, latencyAtThreeQuartersMs: 40 } });
    at.sim.limits.addOthers(6_000);
  });
  afterAll(async () => at.close());

  it('keeps Settle within 25 % of what others leave, with 0 limit 429s, and a write-back behind polls waits ≤ 60 s', async () => {
    const budget = new ApiBudget({ share: 0.25, refreshMs: 1_000 });
    const c = createAutotaskConnector({ globalUrl: at.baseUrl, ...at.credentials, api: { budget, sleep: async () => {} } });
    let polls = 0;
    let stopped = 0;
    // Six sweepers, each wanting far more than Settle may spend, all on the Invoices endpoint.
    const sweepers = Array.from({ length: 6 }, async () => {
      try {
        for (;;) {
          await c.api.count('Invoices', [{ op: 'exist', field: 'id' }], 'sweep');
          polls++;
        }
      } catch (e) {
        if (!(e instanceof BudgetClosed)) throw e;
        stopped++;
      }
    });
    await until(() => polls >= 100);
    const started = Date.now();
    const paid = await c.recordPayment({
      invoiceExternalId: '501',
      amount: money(1000n, 'USD'),
      paidOn: '2026-12-06',
      reference: 'pay_budget',
      idempotencyKey: 'b1',
    });
    const writeBackMs = Date.now() - started;
    expect(paid.alreadyRecorded).toBe(false);
    expect(writeBackMs).toBeLessThanOrEqual(60_000);
    // The sweepers run into the sweep tier (60 % of the allowance) and wait there.
    await until(() => budget.state().waiting >= 6, 120_000);
    const s = budget.state();
    expect(s).toMatchObject({ limit: 10_000, share: 0.25, timeframeMinutes: 60 });
    expect(s.usedByOthers).toBeGreaterThanOrEqual(6_000);
    expect(s.allowance).toBeLessThanOrEqual(1_000);
    expect(s.usedBySettle).toBeLessThanOrEqual(s.allowance);
    // A poll of recent changes still gets through: the tiers above the sweep keep budget for it.
    expect(await c.getInvoice('502')).not.toBeNull();
    budget.close();
    await Promise.all(sweepers);
    expect(stopped).toBe(6);
    expect(at.sim.limits.refused).toEqual({ hourly: 0, thread: 0 });
    expect(at.sim.limits.served).toBeLessThanOrEqual(1_000);
    expect(at.sim.limits.served).toBeGreaterThan(500);
    process.stdout.write(`budget: ${polls} polls, Settle served ${at.sim.limits.served}, write-back took ${writeBackMs} ms\n`);
  });
});

describe('Autotask API budget broker, on its own', () => {
  const reading = (used: number) => async () => ({ limit: 1_000, timeframeMinutes: 60, used });

  it('allows its share of what the others leave, and grants a waiting write-back before earlier sweeps', async () => {
    const b = new ApiBudget({ share: 0.25 });
    b.setReader(reading(600));
    const order: string[] = [];
    const gates: (() => void)[] = [];
    const hold = (name: string, priority: 'sweep' | 'writeback') =>
      b.run('invoices', priority, async () => {
        order.push(name);
        await new Promise<void>((r) => gates.push(r));
      });
    const first = [hold('s1', 'sweep'), hold('s2', 'sweep'), hold('s3', 'sweep')];
    await until(() => order.length === 3);
    const later = [hold('s4', 'sweep'), hold('s5', 'sweep'), hold('w1', 'writeback')];
    await until(() => b.state().waiting === 3);
    expect(b.state()).toMatchObject({ limit: 1_000, usedByOthers: 599, allowance: 100, inFlight: 3 });
    gates.shift()!();
    await until(() => order.length === 4);
    expect(order[3]).toBe('w1'); // the write-back, queued last, goes first
    while (gates.length > 0 || order.length < 6) {
      gates.shift()?.();
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all([...first, ...later]);
    expect(order.slice(4).sort()).toEqual(['s4', 's5']);
  });

  it('does not count as its own a call Autotask had not counted yet when it answered the reading', async () => {
    let clock = 1_000_000;
    let counted = 0; // what Autotask has counted of Settle's calls: each reading, never the call still on its way
    const b = new ApiBudget({ share: 0.25, refreshMs: 1_000, now: () => clock });
    b.setReader(async () => ({ limit: 1_000, timeframeMinutes: 60, used: 599 + ++counted })); // others: 599
    let release: (() => void) | null = null;
    const held = b.run('invoices', 'sweep', () => new Promise<void>((r) => (release = r)));
    await until(() => release !== null && b.state().inFlight === 1); // granted, and the first reading is done
    expect(b.state().usedByOthers).toBe(599);
    clock += 1_000; // the reading is stale: the next call reads again while the first is still in flight
    await b.run('companies', 'recent', async () => null);
    await until(() => b.state().checkedAt === new Date(1_001_000).toISOString());
    // Autotask answered 601 (two readings): the call in flight is not in it, so others' use is still 599 —
    // not 598, which would let Settle spend past its share by the calls in flight.
    expect(b.state().usedByOthers).toBe(599);
    release!();
    await held;
    b.close();
  });

  it('writes pay links after payment write-backs: a link waits where a write-back still goes, and goes before a poll', async () => {
    const b = new ApiBudget({ share: 0.25 });
    b.setReader(reading(600)); // allowance 100
    // Spend 95: a link may use 95 % of the allowance, a write-back all of it.
    for (let i = 0; i < 95; i++) await b.run('invoices', 'writeback', async () => null);
    const link = b.run('invoices', 'link', async () => 'link');
    await until(() => b.state().waiting === 1);
    expect(await b.run('invoices', 'writeback', async () => 'payment')).toBe('payment');
    expect(b.state().waiting).toBe(1); // the link still waits
    b.close();
    await expect(link).rejects.toBeInstanceOf(BudgetClosed);

    // Below the tiers, when three requests hold the endpoint: a waiting link is granted before an earlier poll.
    const c = new ApiBudget({ share: 0.25 });
    c.setReader(reading(0));
    const order: string[] = [];
    const gates: (() => void)[] = [];
    const hold = (name: string, priority: 'recent' | 'link') =>
      c.run('invoices', priority, async () => {
        order.push(name);
        await new Promise<void>((r) => gates.push(r));
      });
    const first = [hold('r1', 'recent'), hold('r2', 'recent'), hold('r3', 'recent')];
    await until(() => order.length === 3);
    const later = [hold('r4', 'recent'), hold('l1', 'link')];
    await until(() => c.state().waiting === 2);
    gates.shift()!();
    await until(() => order.length === 4);
    expect(order[3]).toBe('l1');
    while (gates.length > 0 || order.length < 5) {
      gates.shift()?.();
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all([...first, ...later]);
  });

  it('hands a refusal of the credentials to whatever waits, instead of waiting for ever', async () => {
    const b = new ApiBudget();
    const { VendorError } = await import('../../http.ts');
    b.setReader(async () => {
      throw new VendorError('autotask', 'auth', 'GET /V1.0/ThresholdInformation answered 401', 401);
    });
    await expect(b.run('invoices', 'recent', async () => 'never')).rejects.toMatchObject({ kind: 'auth', status: 401 });
  });
});
