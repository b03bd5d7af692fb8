// The autopay run is safe to run twice: two runs at the same moment, a third later, and the job queued twice
// through the API charge each due invoice exactly once. A charge whose answer is lost is never charged
// again: it stays `charging` until the janitor has asked Stripe, then the next run settles it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveUnknownPayments } from '../../src/engine/resolve-unknown-payments.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import {
  apiFor,
  autopayJobsIdle,
  enableAutopay,
  engineCtx,
  intentsForInvoice,
  newCompany,
  newInvoice,
  product,
  q,
  runOn,
  saveCard,
  scheduleOf,
  todayUtc,
  type Api,
} from '../helpers/autopay.ts';

let stack: Stack;
let api: Api;
const today = todayUtc();

beforeAll(async () => {
  stack = await startStack();
  api = apiFor(stack, await stack.apiKey());
  await api('PUT', '/autopay/settings', { notice_days: 0, jump_percent: null });
  await api('POST', '/autopay/rules', { name: 'Everything on the due date' });
});
afterAll(async () => stack?.close());

async function dueClient(name: string, n: number) {
  const company = newCompany(stack, name);
  const invoices = [];
  for (let i = 0; i < n; i++)
    invoices.push(await newInvoice(stack, company, { date: today, dueDate: today, lines: [product(`Service ${i}`, `${100 + i}.00`)] }));
  await saveCard(stack, api, invoices[0]!.clientId);
  await enableAutopay(api, invoices[0]!.clientId);
  return invoices;
}

describe('autopay run twice', () => {
  // Generous: on a busy machine creating six invoices and three runs takes a while; the assertions are exact.
  it('two runs at once, a third later, and the job queued twice: one charge per invoice', { timeout: 180_000 }, async () => {
    const invoices = [...(await dueClient('Twice A', 3)), ...(await dueClient('Twice B', 3))];
    const [a, b] = await Promise.all([runOn(stack, today, { concurrency: 4 }), runOn(stack, today, { concurrency: 4 })]);
    expect(a.charged + b.charged).toBe(6);
    expect(a.errors + b.errors).toBe(0);
    // The runs take turns (one tenant, one run at a time: run-autopay.ts): the second found everything charged.
    expect(Math.min(a.charged, b.charged)).toBe(0);
    await runOn(stack, today);
    expect((await api('POST', '/autopay/runs')).status).toBe(202);
    expect((await api('POST', '/autopay/runs')).status).toBe(202);
    await autopayJobsIdle(stack);
    for (const inv of invoices) {
      expect(await intentsForInvoice(stack, inv.id)).toEqual([expect.objectContaining({ amount: Number(inv.totalMinor), status: 'succeeded' })]);
      expect((await scheduleOf(stack, inv.id))!.state).toBe('charged');
    }
    const payments = await q(stack, (tx) => tx.selectFrom('payments').select('state').where('source', '=', 'autopay').execute());
    expect(payments.map((p) => p.state)).toEqual(Array(6).fill('succeeded'));
  });

  it('a lost answer: unknown, not charged again by later runs; the janitor asks Stripe and the run settles it', { timeout: 120_000 }, async () => {
    const [inv] = await dueClient('Lost Answer', 1);
    stack.sims.stripe.sim.setDelivery({ drop: 1000 }); // no webhook either: only asking can tell
    stack.sims.stripe.sim.loseResponses({ method: 'POST', pathPattern: '^/v1/payment_intents$', mode: 'drop', times: 2 });
    const first = await runOn(stack, today);
    expect(first.pending).toBe(1);
    expect((await scheduleOf(stack, inv!.id))!.state).toBe('charging');
    await runOn(stack, today);
    await runOn(stack, today);
    expect(await intentsForInvoice(stack, inv!.id)).toHaveLength(1);
    expect((await scheduleOf(stack, inv!.id))!.state).toBe('charging');

    await resolveUnknownPayments(engineCtx(stack), stack.tenantId, { askAfterMs: 0 });
    const settled = await runOn(stack, today);
    expect(settled.resumed).toBe(1);
    expect((await scheduleOf(stack, inv!.id))!.state).toBe('charged');
    expect(await intentsForInvoice(stack, inv!.id)).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    stack.sims.stripe.sim.setDelivery({ drop: 0 });
  });
});
