// A refund of an invoice's payment and the next payment of the same invoice, both waiting for the PSA: the
// payment must not go first, or ConnectWise (whose balance has no room until the refund is in) refuses it for
// good — "exceeds the invoice balance", a posting failed and the PSA short of a payment the client made. The
// soak found exactly that. The payment waits for the refund, then both reach ConnectWise.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { sweep } from '../../src/engine/sweep.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let key: string;
beforeAll(async () => {
  stack = await startStack({ companies: 1, invoices: 2 });
  key = await stack.apiKey();
});
afterAll(async () => stack?.close());

const cents = (n: unknown): bigint => BigInt(Math.round(Number(n) * 100));
const psaPostings = (paymentId: string) =>
  withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('postings').select(['kind', 'status', 'last_error']).where('payment_id', '=', paymentId).where('target', '=', 'psa').execute(),
  );

it('a payment of an invoice waits for a refund on it to reach the PSA, then both are there', { timeout: 180_000 }, async () => {
  const invoice = (await openInvoices(stack))[0]!;
  const cwId = Number(invoice.remote);
  const token = await stack.portalToken(invoice.client_id);
  const first = await payInPortal(stack, token, [invoice.id]);
  await eventually(
    async () => (await psaPostings(first.paymentId)).find((p) => p.kind === 'payment' && p.status === 'posted'),
    60_000,
    'payment 1 in ConnectWise',
  );

  // ConnectWise refuses every change to a payment for now: the refund's reduction waits.
  const cw = stack.sims.connectwise.sim;
  cw.faults.add({ method: 'PATCH', pathPattern: '/payments/', fault: { kind: 'status', status: 500 }, times: 10_000 });
  const part = invoice.total_minor / 4n;
  const res = await fetch(`${stack.settleUrl}/api/v1/payments/${first.paymentId}/refunds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount_minor: part.toString(), reason: 'one seat cancelled' }),
  });
  expect(res.status).toBe(201);
  await eventually(async () => (await psaPostings(first.paymentId)).find((p) => p.kind === 'refund' && p.status === 'pending'), 60_000, 'the refund waiting');

  // The client pays what the refund reopened. Its PSA payment must wait, not fail.
  const second = await payInPortal(stack, token, [invoice.id]);
  await new Promise((r) => setTimeout(r, 5000));
  const waiting = (await psaPostings(second.paymentId)).find((p) => p.kind === 'payment');
  expect(waiting?.status).toBe('pending');
  expect(cw.paymentsFor(cwId).map((p) => cents(p.amount))).toEqual([invoice.total_minor]);

  // ConnectWise answers again (and the sweep, as every minute, re-queues what waits): the refund, then the payment.
  cw.faults.clear();
  await sweep(stack.settle!.ctx, { olderThanMs: 0 });
  await eventually(
    async () => {
      const all = [...(await psaPostings(first.paymentId)), ...(await psaPostings(second.paymentId))];
      const failed = all.find((p) => p.status === 'failed');
      if (failed) throw new Error(`a PSA posting failed: ${failed.last_error}`);
      return all.every((p) => p.status === 'posted');
    },
    120_000,
    'the refund and the second payment in ConnectWise',
  );
  expect(
    cw
      .paymentsFor(cwId)
      .map((p) => cents(p.amount))
      .sort(),
  ).toEqual([invoice.total_minor - part, part].sort());
  expect(cents(stack.sims.connectwise.state.invoices.get(cwId)!.balance)).toBe(0n);
});
