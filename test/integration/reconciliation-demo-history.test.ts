// No false positives on a real history: the demo's three months (refunds, an ACH return, declines recovered,
// a payment waiting for its invoice in the books, weekly payouts), told through the engine against the
// simulators, reconciles to zero drift over Settle's copy of the books once the postings have settled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, eventually, type Stack } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { buildDemoHistory } from '../../src/cli/demo/demo-history.ts';
import { syncBooksCopy } from '../../src/engine/sync-books-copy.ts';
import { runReconciliation } from '../../src/engine/three-way-reconciliation.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 25, invoices: 170, achSettleDelayMs: 1500 });
  await buildDemoHistory(stack.settle!.ctx, stack.tenantId, stack.sims);
}, 400_000);
afterAll(async () => {
  await stack?.close();
});

describe('the demo history, reconciled', () => {
  it('has zero drift once nothing is in flight', async () => {
    const q = stack.database.db;
    // Everything Settle had to post is posted (the one payment waiting for its invoice in the books excepted).
    await eventually(
      async () => {
        const n = await withTenant(q, stack.tenantId, (tx) =>
          tx
            .selectFrom('postings')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('status', '=', 'pending')
            .where('waiting_for', 'is', null)
            .executeTakeFirstOrThrow(),
        );
        return Number(n.n) === 0;
      },
      300_000,
      'no posting in flight',
    );
    await syncBooksCopy(stack.settle!.ctx, stack.tenantId);
    const run = await runReconciliation(stack.settle!.ctx, stack.tenantId, 'on_demand', 'system:test');
    const drifts = await withTenant(q, stack.tenantId, (tx) =>
      tx.selectFrom('reconciliation_drifts').select(['kind', 'reference', 'cause']).where('run_id', '=', run.runId).execute(),
    );
    expect(drifts).toEqual([]);
    expect(run.invoicesChecked).toBeGreaterThan(100);
    expect(run.payoutsChecked).toBeGreaterThan(5);
  }, 600_000);
});
