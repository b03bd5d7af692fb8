// A paid payout whose webhook never reached Settle is found by the payout poll and reconciled as its webhook
// would have had it: one payouts row, one deposit posting equal to the payout. Polling again queues nothing.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { pollPayouts } from '../../src/engine/poll-payouts.ts';
import { sweep } from '../../src/engine/sweep.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 2 });
});
afterAll(async () => stack?.close());

const known = (payoutId: string) =>
  withTenant(stack.database.db, stack.tenantId, async (tx) => ({
    payout: await tx.selectFrom('payouts').select(['id', 'amount_minor']).where('processor_payout_id', '=', payoutId).executeTakeFirst(),
    deposits: await tx
      .selectFrom('postings as p')
      .innerJoin('payouts as po', 'po.id', 'p.payout_id')
      .select('p.id')
      .where('po.processor_payout_id', '=', payoutId)
      .where('p.kind', '=', 'deposit')
      .execute(),
  }));

it('the sweep keeps one payout poll scheduled a few minutes ahead per workspace', async () => {
  await sweep(stack.settle!.ctx); // what the minute cron runs
  const jobs = await eventually(
    async () => {
      const r = await sql<{ run_at: Date }>`SELECT run_at FROM graphile_worker._private_jobs WHERE key = ${`poll-payouts:${stack.tenantId}`}`.execute(
        stack.database.db,
      );
      return r.rows.length ? r.rows : null;
    },
    30_000,
    'a poll-payouts job',
  );
  expect(jobs).toHaveLength(1);
  expect(jobs[0]!.run_at.getTime()).toBeGreaterThan(Date.now() + 60_000);
});

it('a paid payout whose webhook was lost is found by the poll and reconciled once', { timeout: 120_000 }, async () => {
  const inv = (await openInvoices(stack))[0]!;
  await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
  const sim = stack.sims.stripe.sim;
  sim.setDelivery({ drop: 1000 }); // every webhook of the payout is lost
  const payout = sim.runPayouts();
  expect(payout).not.toBeNull();
  expect(payout!.status).toBe('paid');
  sim.setDelivery({ drop: 0 });
  await new Promise((r) => setTimeout(r, 1000));
  expect((await known(payout!.id)).payout).toBeUndefined(); // Settle has not heard of it

  const ctx = stack.settle!.ctx;
  expect(await pollPayouts(ctx, stack.tenantId)).toBe(1);
  const found = await eventually(
    async () => {
      const k = await known(payout!.id);
      return k.payout && k.deposits.length > 0 ? k : null;
    },
    90_000,
    'the payout reconciled and its deposit queued',
  );
  expect(found.payout!.amount_minor).toBe(BigInt(payout!.amount));
  expect(found.deposits).toHaveLength(1);

  // Known now: the next poll queues nothing, and nothing is reconciled twice.
  expect(await pollPayouts(ctx, stack.tenantId)).toBe(0);
  await new Promise((r) => setTimeout(r, 1000));
  const again = await known(payout!.id);
  expect(again.deposits).toHaveLength(1);
});
