// A refund whose ConnectWise write-back is still pending when the safety-net sweep runs (every minute, and at
// every start — after a crash, say) must stay a reversal: the payment Settle recorded is reduced. Found by the
// crash soak: the sweep re-queued every pending PSA posting under the payment task with the same job key, which
// replaced the reversal's job, so the refunded amount was POSTed as a new ConnectWise payment (a second payment
// where the invoice had room, "400 payment object is invalid: exceeds the invoice balance" where it had none)
// and ConnectWise kept the full amount of a refunded payment.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { sweep } from '../../src/engine/sweep.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let key: string;
beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 4 });
  key = await stack.apiKey();
});
afterAll(async () => stack?.close());

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const cents = (n: unknown): bigint => BigInt(Math.round(Number(n) * 100));
const postings = (id: string) => q((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', id).where('target', '=', 'psa').execute());

async function refund(paymentId: string, amountMinor: bigint): Promise<void> {
  const res = await fetch(`${stack.settleUrl}/api/v1/payments/${paymentId}/refunds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount_minor: amountMinor.toString(), reason: 'one seat cancelled' }),
  });
  expect(res.status).toBe(201);
}

async function paidAndPosted(): Promise<{ paymentId: string; total: bigint; cwId: number }> {
  const invoice = (await openInvoices(stack))[0]!;
  const { paymentId } = await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
  await eventually(async () => (await postings(paymentId)).find((p) => p.kind === 'payment' && p.status === 'posted'), 30_000, 'the PSA payment posted');
  return { paymentId, total: invoice.total_minor, cwId: Number(invoice.remote) };
}

async function reversalPosted(paymentId: string) {
  return eventually(
    async () => {
      const r = (await postings(paymentId)).find((p) => p.kind === 'refund');
      if (r?.status === 'failed') throw new Error(`the reversal posting failed: ${r.last_error}`);
      return r?.status === 'posted' ? r : null;
    },
    60_000,
    'the refund reflected in ConnectWise',
  );
}

describe('lost answers from ConnectWise (the soak injects them)', () => {
  it('a payment whose POST answer is lost, then a refund with another lost POST armed: one ConnectWise payment, found once and then reduced', async () => {
    // The soak's fault: the next POST …/payments is done by ConnectWise but its answer never arrives.
    stack.sims.connectwise.sim.lostAnswers.add({ method: 'POST', pathPattern: '/payments', fault: { kind: 'drop' }, times: 1 });
    const { paymentId, total, cwId } = await paidAndPosted();
    expect(stack.sims.connectwise.sim.paymentsFor(cwId).map((p) => cents(p.amount))).toEqual([total]);
    // A second lost answer armed for the refund's write-back: a reversal must not POST at all.
    stack.sims.connectwise.sim.lostAnswers.add({ method: 'POST', pathPattern: '/payments', fault: { kind: 'drop' }, times: 1 });
    const part = total / 3n;
    await refund(paymentId, part);
    await reversalPosted(paymentId);
    expect(stack.sims.connectwise.sim.paymentsFor(cwId).map((p) => cents(p.amount))).toEqual([total - part]);
    stack.sims.connectwise.sim.lostAnswers.clear();
  });
});

describe('a pending PSA reversal and the sweep', () => {
  it('re-queued by the sweep, a refund still reduces the ConnectWise payment: no new payment, nothing failed', async () => {
    const { paymentId, total, cwId } = await paidAndPosted();
    const part = total / 5n;
    // ConnectWise refuses the reduction for now, so the reversal waits as a pending posting…
    stack.sims.connectwise.sim.faults.add({ method: 'PATCH', pathPattern: '/payments/', fault: { kind: 'status', status: 500 }, times: 10_000 });
    await refund(paymentId, part);
    await eventually(
      async () => {
        const r = (await postings(paymentId)).find((p) => p.kind === 'refund');
        return r && r.status === 'pending' && r.attempts > 0 && r.next_attempt_at < new Date() ? r : null;
      },
      60_000,
      'the reversal waiting after a refused attempt',
    );
    // …when the sweep runs (as at every start of Settle), and then ConnectWise answers again.
    await sweep(stack.settle!.ctx, { olderThanMs: 0 });
    stack.sims.connectwise.sim.faults.clear();

    await reversalPosted(paymentId);
    expect(stack.sims.connectwise.sim.paymentsFor(cwId).map((p) => cents(p.amount))).toEqual([total - part]);
    expect(cents(stack.sims.connectwise.state.invoices.get(cwId)!.balance)).toBe(part);
  });

  it('a reversal already queued under the payment task (by an older sweep) is carried out as a reversal', async () => {
    const { paymentId, total, cwId } = await paidAndPosted();
    const part = total / 4n;
    stack.sims.connectwise.sim.faults.add({ method: 'PATCH', pathPattern: '/payments/', fault: { kind: 'status', status: 500 }, times: 10_000 });
    await refund(paymentId, part);
    const r = await eventually(async () => (await postings(paymentId)).find((p) => p.kind === 'refund' && p.attempts > 0), 60_000, 'the reversal refused once');
    // The job as a sweep before this fix left it: the reversal posting under the payment task and key.
    await sql`SELECT graphile_worker.add_job('post-psa-payment', json_build_object('tenantId', ${stack.tenantId}::text, 'postingId', ${r.id}::text),
                queue_name => ${`psa:${stack.tenantId}`}, job_key => ${`psa-posting:${r.id}`})`.execute(stack.database.db);
    stack.sims.connectwise.sim.faults.clear();

    await reversalPosted(paymentId);
    expect(stack.sims.connectwise.sim.paymentsFor(cwId).map((p) => cents(p.amount))).toEqual([total - part]);
  });
});
