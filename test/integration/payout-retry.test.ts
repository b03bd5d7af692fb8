// A payout whose reconciliation meets a failing processor (5xx) is tried again on a capped schedule — seconds,
// then at most every 5 minutes — not on graphile-worker's exponential backoff, which put one payout of the
// soak past its 15-minute drain. After several failed tries a person is told; the item clears itself once the
// payout is reconciled.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { payoutRetryDelayMs, reconcilePayoutWithRetry } from '../../src/engine/reconcile-payout-retry.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 2 });
});
afterAll(async () => stack?.close());

const stripe500 = { error: { type: 'api_error', message: 'An unknown error occurred' } };

interface Job {
  payload: { retry?: number };
  run_at: Date;
  attempts: number;
  last_error: string | null;
}
const payoutJobs = async (payoutId: string): Promise<Job[]> =>
  (
    await sql<Job>`SELECT payload, run_at, attempts, last_error FROM graphile_worker._private_jobs
      WHERE key = ${`reconcile-payout:${payoutId}`}`.execute(stack.database.db)
  ).rows;

it('the capped schedule: 15 s, doubling, never more than 5 minutes (or what the processor asks)', () => {
  expect([0, 1, 2, 3, 4, 5, 12].map((r) => payoutRetryDelayMs(r))).toEqual([15_000, 30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
  expect(payoutRetryDelayMs(0, 40_000)).toBe(40_000);
});

it(
  'a failing processor: the payout is tried again in seconds, a person is told after several tries, and it clears when reconciled',
  { timeout: 180_000 },
  async () => {
    const inv = (await openInvoices(stack))[0]!;
    await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    const sim = stack.sims.stripe.sim;
    // Every read of a payout fails until cleared.
    sim.faults.add({
      method: 'GET',
      pathPattern: '^/v1/(payouts|balance_transactions)',
      fault: { kind: 'status', status: 500, body: stripe500 },
      times: 10_000,
    });
    const payout = sim.runPayouts();
    expect(payout).not.toBeNull();

    // The worker's first try fails: the job is queued again with its retry count, seconds away — not a failure.
    const [job] = await eventually(
      async () => {
        const jobs = await payoutJobs(payout!.id);
        return jobs.some((j) => (j.payload.retry ?? 0) >= 1) ? jobs : null;
      },
      90_000,
      'the reconciliation re-queued after the processor failed',
    );
    expect(job!.attempts).toBe(0);
    expect(job!.last_error).toBeNull();
    expect(new Date(job!.run_at).getTime() - Date.now()).toBeLessThanOrEqual(payoutRetryDelayMs(job!.payload.retry ?? 1) + 1_000);

    // Later tries, still failing: a person is told what fails and that Settle keeps trying.
    const ctx = stack.settle!.ctx;
    expect(await reconcilePayoutWithRetry(ctx, stack.tenantId, payout!.id, 5)).toMatch(/try 7 in 300 s/);
    const exceptionOf = () =>
      withTenant(stack.database.db, stack.tenantId, (tx) =>
        tx
          .selectFrom('exceptions')
          .select(['status', 'title', 'detail', 'resolution'])
          .where('dedupe_key', '=', `payout-waiting:${payout!.id}`)
          .executeTakeFirst(),
      );
    expect(await exceptionOf()).toMatchObject({ status: 'open', title: expect.stringContaining(payout!.id) });
    expect((await exceptionOf())!.detail).toMatch(/failed 6 times .*tries again every 5 minutes/s);

    // The processor answers again: the next try reconciles the payout and the item clears itself.
    sim.faults.clear();
    await reconcilePayoutWithRetry(ctx, stack.tenantId, payout!.id, 6);
    const known = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('payouts').select(['amount_minor']).where('processor_payout_id', '=', payout!.id).executeTakeFirst(),
    );
    expect(known?.amount_minor).toBe(BigInt(payout!.amount));
    expect(await exceptionOf()).toMatchObject({ status: 'resolved', resolution: 'payout_reconciled' });
  },
);
