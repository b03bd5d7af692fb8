// A refund the processor made before a debit was disputed, whose event reaches Settle after the dispute's:
// Settle has already taken the whole payment back (an ACH dispute is a return), so nothing is left for the
// refund to reverse. The soak saw that event fail for ever ("more than the invoices were paid would be taken
// back"), holding up the inbox. It is recorded, booked nowhere, and a person is told — once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stripeSignatureHeader } from '../../simulators/stripe/webhooks.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payByBankInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 1, invoices: 2 });
}, 300_000);
afterAll(async () => stack?.close());

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);

async function deliver(eventId: string): Promise<number> {
  const sim = stack.sims.stripe.sim;
  const payload = JSON.stringify(sim.store.events.get(eventId)!);
  const endpoint = [...sim.store.webhookEndpoints.values()][0]!;
  const res = await fetch(endpoint.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignatureHeader(sim.webhooks.secrets.get(endpoint.id)!, payload) },
    body: payload,
  });
  await res.arrayBuffer();
  return res.status;
}

it('a refund whose event arrives after the debit was returned becomes an exception, not an endless retry', async () => {
  const invoice = (await openInvoices(stack))[0]!;
  const sim = stack.sims.stripe.sim;
  const { paymentId, intentId } = await payByBankInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
  await eventually(
    async () => (await q((tx) => tx.selectFrom('payments').select('state').where('id', '=', paymentId).executeTakeFirstOrThrow())).state === 'processing',
    60_000,
    'the debit processing',
  );
  // From here every webhook is held back: the debit settles, the MSP refunds 1.00 in Stripe's dashboard,
  // then the account holder disputes the debit.
  await sim.webhooks.idle();
  const before = new Set(sim.store.events.keys());
  sim.setDelivery({ drop: 1_000 });
  try {
    sim.settleAch({ paymentIntent: intentId, outcome: 'succeeded' });
    const res = await fetch(`${stack.sims.stripe.baseUrl}/v1/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.sims.stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payment_intent: intentId, amount: '100' }),
    });
    expect(res.status).toBe(200);
    sim.createDispute({ paymentIntent: intentId, reason: 'debit_not_authorized' });
  } finally {
    sim.setDelivery({ drop: 0 });
  }
  // Settle hears of the success and the dispute first, of the refund last.
  const held = [...sim.store.events.values()].filter((e) => !before.has(e.id));
  const isRefund = (t: string) => t.startsWith('refund.') || t === 'charge.refunded';
  for (const e of held.filter((x) => !isRefund(x.type))) expect(await deliver(e.id)).toBe(200);
  // Events are processed side by side: the refund's is sent once the return is recorded, so it is last for sure.
  await eventually(
    async () => (await q((tx) => tx.selectFrom('payments').select('state').where('id', '=', paymentId).executeTakeFirstOrThrow())).state === 'returned',
    60_000,
    'the dispute recorded as a return',
  );
  for (const e of held.filter((x) => isRefund(x.type))) expect(await deliver(e.id)).toBe(200);

  await eventually(
    async () => {
      const rows = await q((tx) =>
        tx
          .selectFrom('inbox_events')
          .select('processed_at')
          .where(
            'vendor_event_id',
            'in',
            held.map((e) => e.id),
          )
          .execute(),
      );
      return rows.length > 0 && rows.every((r) => r.processed_at !== null);
    },
    60_000,
    'every held event processed',
  );
  const p = await q((tx) => tx.selectFrom('payments').select(['state']).where('id', '=', paymentId).executeTakeFirstOrThrow());
  expect(p.state).toBe('returned');
  const refunds = await q((tx) => tx.selectFrom('refunds').select(['status', 'amount_minor', 'failure_message']).where('payment_id', '=', paymentId).execute());
  expect(refunds).toHaveLength(1);
  expect(refunds[0]).toMatchObject({ status: 'succeeded', amount_minor: 100n });
  const open = await q((tx) =>
    tx
      .selectFrom('exceptions')
      .select(['kind', 'status', 'detail'])
      .where('payment_id', '=', paymentId)
      .where('kind', '=', 'refund_of_reversed_payment')
      .execute(),
  );
  expect(open).toHaveLength(1);
  expect(open[0]!.status).toBe('open');
  expect(open[0]!.detail).toMatch(/already recorded as returned/);
  // Nothing booked twice: the refund wrote no journal of its own.
  const refundJournals = await q((tx) =>
    tx.selectFrom('ledger_entries').select('id').where('payment_id', '=', paymentId).where('journal_kind', '=', 'refund').execute(),
  );
  expect(refundJournals).toEqual([]);
}, 300_000);
