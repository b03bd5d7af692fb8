// The Autotask API budget broker in a running Settle, split as an MSP may run it: `settle start` and
// `settle worker` as two child processes on one database, both polling and writing back. The Autotask
// simulator's database allows 10,000 requests an hour and other integrations have used 60 % of it. Settle
// imports, polls every minute, and writes back payments: the simulator serves it no limit 429 (hourly or
// thread), Settle's use stays within its 25 % share of what the others leave (both processes together, as
// recorded in the shared ledger), and each write-back reaches Autotask within 60 s of the payment succeeding.
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { mirrorInvoicesIntoBooks } from '../../src/cli/demo/demo-activity.ts';
import { shareBudgetsThrough } from '../../src/connectors/psa/autotask/budget.ts';
import { postgresBudgetLedger } from '../../src/engine/autotask-budget-ledger.ts';
import { eventually, openInvoices, payInPortal, type Stack } from '../helpers/stack.ts';
import { startSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import { freePort } from '../helpers/ports.ts';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../simulators/autotask/index.ts';
import { killAll, psaWorkspace, startWorkerProcess } from './psa-guard-helpers.ts';

let stack: Stack | null = null;
let at: RunningAutotaskSimulator | null = null;
let start: SettleProcess | null = null;
let worker: SettleProcess | null = null;
afterEach(async () => {
  await killAll(start, worker);
  shareBudgetsThrough(null);
  await stack?.close();
  await at?.close();
  [stack, at, start, worker] = [null, null, null, null];
});

/** Start both processes on a workspace that imported 120 invoices, and pay one invoice of each of 4 clients. */
async function payUnderBudget(opts: { settleUsed: number; paceMs: number }) {
  // Latency as the vendor adds it once half the hour is used (0.5 s; 1 s from 75 %), scaled down ×10.
  at = await startAutotaskSimulator({ seed: { companies: 4, invoices: 120 }, limits: { limit: 10_000, latencyAtHalfMs: 50, latencyAtThreeQuartersMs: 100 } });
  at.sim.limits.addOthers(6_000);
  const port = await freePort();
  const w = await psaWorkspace({ vendor: 'autotask', sim: at }, { settlePort: port });
  stack = w.stack;
  // This test process imports first, as `settle start` would: its use is Settle's too.
  shareBudgetsThrough(postgresBudgetLedger(w.db, 'test-import'));
  await mirrorInvoicesIntoBooks((await w.connectors.psa(w.tenantId))!, stack.sims.quickbooks);
  await syncPsa(w.ctx, w.tenantId);
  if (opts.settleUsed > 0) {
    // Settle's processes spent more earlier in the hour, up to `settleUsed` with this import: Autotask counted
    // it, and the ledger has it.
    const spent = await w.db.selectFrom('autotask_budget_use').select(['budget_key', 'requests']).execute();
    const earlier = opts.settleUsed - spent.reduce((n, r) => n + r.requests, 0);
    expect(earlier).toBeGreaterThan(0);
    at.sim.limits.addOthers(earlier);
    await w.db
      .insertInto('autotask_budget_use')
      .values({ budget_key: spent[0]!.budget_key, process_id: 'earlier', minute: new Date(), requests: earlier })
      .execute();
  }

  start = await startSettleProcess(stack, port);
  worker = startWorkerProcess(stack);
  const open = await openInvoices(stack);
  const byClient = new Map<string, (typeof open)[number]>();
  for (const inv of open) if (!byClient.has(inv.client_id)) byClient.set(inv.client_id, inv);
  const toPay = [...byClient.values()].slice(0, 4);
  expect(toPay.length).toBeGreaterThanOrEqual(3);

  // Watch the simulator for each write-back: the note naming the payment, and the invoice's PaidDate.
  const reached = new Map<string, number>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const inv of toPay) {
        if (reached.has(inv.remote)) continue;
        const note = at!.sim.notes().some((n) => String(n.Note).includes(`settle:payment invoice=${inv.remote} `));
        if (note && at!.sim.state.table('Invoices').get(Number(inv.remote))?.PaidDate) reached.set(inv.remote, Date.now());
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  // Payments spread out, so the polls of both processes run among them.
  const payments: { paymentId: string; remote: string }[] = [];
  for (const inv of toPay) {
    const token = await stack.portalToken(inv.client_id);
    const { paymentId } = await payInPortal(stack, token, [inv.id]);
    payments.push({ paymentId, remote: inv.remote });
    at.sim.changeInvoice(Number(open.at(-1)!.remote), { comments: `changed while paying ${inv.number}` }); // for the polls
    await new Promise((r) => setTimeout(r, opts.paceMs));
  }
  const delays = await eventually(
    async () => {
      const rows = await withTenant(w.db, w.tenantId, (tx) =>
        tx
          .selectFrom('payments')
          .select(['id', 'succeeded_at'])
          .where(
            'id',
            'in',
            payments.map((p) => p.paymentId),
          )
          .execute(),
      );
      if (rows.length !== payments.length || rows.some((r) => !r.succeeded_at)) return null;
      if (!payments.every((p) => reached.has(p.remote))) return null;
      return payments.map((p) => reached.get(p.remote)! - rows.find((r) => r.id === p.paymentId)!.succeeded_at!.getTime());
    },
    120_000,
    'every payment written back to Autotask',
  )
    .catch(async (e: unknown) => {
      // What each side was doing, for a failure on a busy machine.
      const postings = await withTenant(w.db, w.tenantId, (tx) => tx.selectFrom('postings').select(['target', 'status', 'attempts', 'last_error']).execute());
      const jobs = await sql<{ task: string; attempts: number; locked: boolean; error: string | null }>`
        SELECT task_identifier AS task, attempts, locked_at IS NOT NULL AS locked, last_error AS error FROM graphile_worker.jobs`.execute(w.db);
      const tail = (p: SettleProcess | null) => (p?.output() ?? '').split('\n').slice(-15).join('\n');
      throw new Error(
        `${(e as Error).message}\njobs ${JSON.stringify(jobs.rows)}\npostings ${JSON.stringify(postings)}\ncalls ${JSON.stringify([...at!.sim.calls.counts])}\nstart:\n${tail(start)}\nworker:\n${tail(worker)}`,
      );
    })
    .finally(() => (watching = false));
  await watcher;

  const ledger = await w.db.selectFrom('autotask_budget_use').select(['process_id', 'requests']).execute();
  const perProcess = new Map<string, number>();
  for (const r of ledger) perProcess.set(r.process_id, (perProcess.get(r.process_id) ?? 0) + r.requests);
  const settleUse = [...perProcess.values()].reduce((a, b) => a + b, 0);
  const limits = at.sim.limits;
  process.stdout.write(
    `autotask budget (Settle used ${opts.settleUsed} before): write-back delays ${delays.join(', ')} ms; Settle served ${limits.served} (ledger ${settleUse} in ${perProcess.size} processes); refused ${JSON.stringify(limits.refused)}\n`,
  );
  return { delays, perProcess, settleUse, limits };
}

describe('Autotask budget broker in settle start + settle worker', () => {
  it('10,000/h with 60 % used by others: 0 limit 429s, within the share, every write-back ≤ 60 s after its payment', async () => {
    const { delays, perProcess, settleUse, limits } = await payUnderBudget({ settleUsed: 0, paceMs: 15_000 });
    expect(limits.refused).toEqual({ hourly: 0, thread: 0 });
    expect(Math.max(...delays)).toBeLessThanOrEqual(60_000);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    // 25 % of the 4,000 requests the others leave; every request Settle sent is in the shared ledger.
    expect(limits.served).toBeLessThanOrEqual(1_000);
    expect(settleUse).toBe(limits.served);
    // The child processes spent through the ledger too (the test's own import is one more process).
    expect(perProcess.size).toBeGreaterThanOrEqual(2);
  }, 400_000);
});
