// The soak found Stripe payouts Settle never heard of: their reconcile-payout jobs were queued in
// `accounting:<workspace>` behind the books flush, and a flush can hold that queue for minutes (a QuickBooks
// request never answered takes 120 s before it is retried). A payout is the processor's news and needs no
// books: it is reconciled while the flush still waits for QuickBooks, and its deposit follows the flush.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 1, invoices: 2 });
});
afterAll(async () => stack?.close());

const flushRunning = async (): Promise<boolean> =>
  (
    await sql<{ n: number }>`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'flush-accounting' AND locked_at IS NOT NULL`.execute(
      stack.database.db,
    )
  ).rows[0]!.n > 0;

it('a payout is reconciled while the books flush waits for an unanswered QuickBooks request', { timeout: 400_000 }, async () => {
  const invoice = (await openInvoices(stack))[0]!;
  // The next write to QuickBooks (the flush's, for this payment) is never answered.
  const qbo = stack.sims.quickbooks.sim;
  const writesBefore = qbo.calls.total('POST');
  qbo.faults.add({ method: 'POST', fault: { kind: 'timeout' }, times: 1 });
  const { paymentId } = await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
  await eventually(async () => qbo.calls.total('POST') > writesBefore && (await flushRunning()), 60_000, 'the books flush waiting for QuickBooks');

  const payout = stack.sims.stripe.sim.runPayouts()!;
  const reconciled = await eventually(
    () =>
      withTenant(stack.database.db, stack.tenantId, (tx) =>
        tx.selectFrom('payouts').select(['id', 'amount_minor']).where('processor_payout_id', '=', payout.id).executeTakeFirst(),
      ),
    100_000,
    'the payout reconciled',
  );
  // …while the flush was still held up (before the fix the payout waited for it, in the same queue).
  expect(await flushRunning()).toBe(true);
  expect(reconciled.amount_minor).toBe(BigInt(payout.amount));

  // Once QuickBooks answers again, the payment and the deposit reach the books.
  const deposit = await eventually(
    async () => stack.sims.quickbooks.sim.deposits().find((d) => String(d['PrivateNote']).includes(payout.id)),
    300_000,
    'the deposit in QuickBooks',
  );
  expect(Math.round(Number(deposit['TotalAmt']) * 100)).toBe(payout.amount);
  const postings = await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('postings').select(['target', 'status']).where('payment_id', '=', paymentId).execute(),
  );
  expect(postings.filter((p) => p.target === 'accounting')).toEqual([{ target: 'accounting', status: 'posted' }]);
});
