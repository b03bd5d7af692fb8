// Issue #6 item 1: a card declined in the portal's hosted fields, then a good card typed into the same
// form. Stripe returns the PaymentIntent to requires_payment_method after the decline and the client
// confirms the same intent again; Settle must end with exactly one succeeded payment, posted once to
// ConnectWise and once to QuickBooks — whatever order (and however often) the two webhooks arrive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { processInboxEvent } from '../../src/engine/process-inbox-event.ts';
import { stripeSignatureHeader } from '../../simulators/stripe/webhooks.ts';
import { eventually, openInvoices, payByBankInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 4, invoices: 8 });
});
afterAll(async () => stack?.close());

const LONG = 60_000; // generous: the machine may be busy

/** Open a checkout on the portal link, as the page's "Continue to payment" does. */
async function openCheckout(invoiceId: string, clientId: string): Promise<{ paymentId: string; intentId: string }> {
  const token = await stack.portalToken(clientId);
  const res = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ invoice_ids: [invoiceId], method: 'card' }),
  });
  const body = (await res.json()) as { payment_id: string; client_secret: string };
  expect(res.status).toBe(200);
  return { paymentId: body.payment_id, intentId: body.client_secret.split('_secret_')[0]! };
}

/** What the hosted fields do when the client presses Pay: confirm the intent with the card typed. */
async function confirm(intentId: string, paymentMethod: string): Promise<number> {
  const s = stack.sims.stripe;
  const res = await fetch(`${s.baseUrl}/v1/payment_intents/${intentId}/confirm`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ payment_method: paymentMethod }).toString(),
  });
  await res.arrayBuffer();
  return res.status;
}

async function paymentRow(id: string) {
  return withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
}

async function paymentsOn(invoiceId: string) {
  const rows = await withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('payments').select(['id', 'state', 'planned_allocations']).execute());
  return rows.filter((p) => p.planned_allocations.some((a) => a.invoiceId === invoiceId));
}

/** Posts one stored simulator event to Settle's webhook endpoint, signed as Stripe signs it. */
async function deliver(eventId: string): Promise<number> {
  const sim = stack.sims.stripe.sim;
  const event = sim.store.events.get(eventId)!;
  const endpoint = [...sim.store.webhookEndpoints.values()][0]!;
  const payload = JSON.stringify(event);
  const res = await fetch(endpoint.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignatureHeader(sim.webhooks.secrets.get(endpoint.id)!, payload) },
    body: payload,
  });
  await res.arrayBuffer();
  return res.status;
}

function intentEvents(intentId: string): { id: string; type: string }[] {
  return [...stack.sims.stripe.sim.store.events.values()]
    .filter((e) => e.type.startsWith('payment_intent.') && (e.data.object as { id?: string }).id === intentId)
    .map((e) => ({ id: e.id, type: e.type }));
}

async function expectPaidOnce(
  invoice: { id: string; number: string; remote: string },
  paymentId: string,
  intentId: string,
  declines = 1,
  failedFirst = false,
): Promise<void> {
  await eventually(
    async () => {
      const rows = await withTenant(stack.database.db, stack.tenantId, (tx) =>
        tx.selectFrom('postings').select(['target', 'status']).where('payment_id', '=', paymentId).execute(),
      );
      return rows.length === 2 && rows.every((r) => r.status === 'posted');
    },
    LONG,
    'PSA and books postings posted',
  );
  expect((await paymentRow(paymentId)).state).toBe('succeeded');
  // Exactly one Settle payment succeeded for the invoice, and it is the checkout the client retried in.
  const onInvoice = await paymentsOn(invoice.id);
  expect(onInvoice.filter((p) => p.state === 'succeeded').map((p) => p.id)).toEqual([paymentId]);
  // The processor took the money once: the declined charges and one succeeded charge, all on this one intent,
  // and no other charge for this client's customer.
  const charges = [...stack.sims.stripe.sim.store.charges.values()].filter((c) => c.payment_intent === intentId);
  expect(charges.map((c) => c.status).sort()).toEqual([...Array<string>(declines).fill('failed'), 'succeeded']);
  const customer = stack.sims.stripe.sim.store.paymentIntents.get(intentId)!.customer;
  const customersCharges = [...stack.sims.stripe.sim.store.charges.values()].filter((c) => c.customer === customer && c.status === 'succeeded');
  expect(customersCharges.filter((c) => (c.metadata as Record<string, string>)['settle_payment'] === paymentId)).toHaveLength(1);
  expect(stack.sims.connectwise.sim.paymentsFor(Number(invoice.remote))).toHaveLength(1);
  const qboInvoice = stack.sims.quickbooks.sim.invoices().find((i) => i['DocNumber'] === invoice.number);
  const qboPayments = stack.sims.quickbooks.sim
    .payments()
    .filter((p) => (p['Line'] as { LinkedTxn: { TxnId: string }[] }[]).some((l) => l.LinkedTxn.some((t) => t.TxnId === qboInvoice?.['Id'])));
  expect(qboPayments).toHaveLength(1);
  const invoiceRow = await withTenant(stack.database.db, stack.tenantId, (tx) =>
    tx.selectFrom('invoices').select('status').where('id', '=', invoice.id).executeTakeFirstOrThrow(),
  );
  expect(invoiceRow.status).toBe('paid');
  // An on-session decline the client saw is not dunning: no failure record, no "payment failed" email.
  await withTenant(stack.database.db, stack.tenantId, async (tx) => {
    expect(await tx.selectFrom('payment_failures').select('id').where('payment_id', '=', paymentId).execute()).toHaveLength(0);
    const history = await tx.selectFrom('payment_events').select(['event', 'to_state']).where('payment_id', '=', paymentId).orderBy('id').execute();
    expect(history.filter((h) => h.to_state === 'failed')).toHaveLength(failedFirst ? 1 : 0);
    expect(history.filter((h) => h.event === 'charge_succeeded')).toHaveLength(1);
  });
}

describe('portal: a declined card, then a good card in the same form', () => {
  it('records the success that follows the decline: one payment, one charge, one ConnectWise payment, one QuickBooks Payment', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId, intentId } = await openCheckout(invoice.id, invoice.client_id);
    expect(await confirm(intentId, 'pm_card_chargeDeclined')).toBe(402);
    // The decline reaches Settle (webhook) and leaves the checkout open — not failed.
    await eventually(async () => (await paymentRow(paymentId)).failure_code === 'generic_decline', LONG, 'decline recorded');
    const declined = await paymentRow(paymentId);
    expect(declined.state).toBe('pending');
    // A crash after acting on the decline but before the inbox row was marked processed: the job runs again.
    const failedEvent = intentEvents(intentId).find((e) => e.type === 'payment_intent.payment_failed')!;
    const inbox = await eventually(
      async () => {
        const row = await withTenant(stack.database.db, stack.tenantId, (tx) =>
          tx.selectFrom('inbox_events').select(['id', 'processed_at']).where('vendor_event_id', '=', failedEvent.id).executeTakeFirst(),
        );
        return row?.processed_at ? row : null;
      },
      LONG,
      'the decline event processed',
    );
    const inboxId = inbox.id;
    await withTenant(stack.database.db, stack.tenantId, (tx) => tx.updateTable('inbox_events').set({ processed_at: null }).where('id', '=', inboxId).execute());
    expect(await processInboxEvent(stack.settle!.ctx, stack.tenantId, String(inboxId))).toBe('already recorded');
    expect(await confirm(intentId, 'pm_card_visa')).toBe(200);
    await expectPaidOnce(invoice, paymentId, intentId);
    const after = await paymentRow(paymentId);
    expect(after.failure_code).toBeNull();
    const history = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('payment_events').select(['event', 'from_state', 'to_state']).where('payment_id', '=', paymentId).orderBy('id').execute(),
    );
    expect(history.map((h) => `${h.from_state ?? ''}-${h.event}->${h.to_state}`)).toEqual([
      '-created->pending',
      'pending-attempt_declined->pending',
      'pending-charge_succeeded->succeeded',
    ]);
  });

  it('out of order and duplicated webhooks: succeeded before payment_failed, each twice, still one success', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId, intentId } = await openCheckout(invoice.id, invoice.client_id);
    const sim = stack.sims.stripe.sim;
    await sim.webhooks.idle();
    // Hold back the simulator's own deliveries; this test delivers the two events itself, in the worst order.
    sim.setDelivery({ drop: 1_000 });
    try {
      expect(await confirm(intentId, 'pm_card_chargeDeclinedInsufficientFunds')).toBe(402);
      expect(await confirm(intentId, 'pm_card_visa')).toBe(200);
    } finally {
      sim.setDelivery({ drop: 0 });
    }
    const events = intentEvents(intentId);
    const failed = events.find((e) => e.type === 'payment_intent.payment_failed')!;
    const succeeded = events.find((e) => e.type === 'payment_intent.succeeded')!;
    expect(failed && succeeded).toBeTruthy();
    for (const id of [succeeded.id, failed.id, succeeded.id, failed.id]) expect(await deliver(id)).toBe(200);
    await expectPaidOnce(invoice, paymentId, intentId);
    // The late decline changed nothing, and was stored and processed like every inbound event.
    await eventually(
      async () => {
        const rows = await withTenant(stack.database.db, stack.tenantId, (tx) =>
          tx.selectFrom('inbox_events').select(['vendor_event_id', 'processed_at']).where('vendor_event_id', 'in', [failed.id, succeeded.id]).execute(),
        );
        return rows.length === 2 && rows.every((r) => r.processed_at !== null);
      },
      LONG,
      'both events processed once',
    );
    expect((await paymentRow(paymentId)).state).toBe('succeeded');
  });

  it('a bank debit that fails after the client left is final, even when its failure arrives before its processing event', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const sim = stack.sims.stripe.sim;
    await sim.webhooks.idle();
    sim.setDelivery({ drop: 1_000 });
    let paymentId: string;
    let intentId: string;
    try {
      ({ paymentId, intentId } = await payByBankInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]));
      sim.settleAch({ paymentIntent: intentId, outcome: 'failed' });
    } finally {
      sim.setDelivery({ drop: 0 });
    }
    const events = intentEvents(intentId);
    const failed = events.find((e) => e.type === 'payment_intent.payment_failed')!;
    const processing = events.find((e) => e.type === 'payment_intent.processing')!;
    for (const id of [failed.id, processing.id, failed.id]) expect(await deliver(id)).toBe(200);
    await eventually(async () => (await paymentRow(paymentId)).state === 'failed', LONG, 'the bank debit failed');
    await eventually(
      async () => {
        const rows = await withTenant(stack.database.db, stack.tenantId, (tx) =>
          tx.selectFrom('inbox_events').select('processed_at').where('vendor_event_id', 'in', [failed.id, processing.id]).execute(),
        );
        return rows.length === 2 && rows.every((r) => r.processed_at !== null);
      },
      LONG,
      'both events processed',
    );
    expect((await paymentRow(paymentId)).state).toBe('failed');
    // The client has left: the failure is handled (client told, staff exception), once.
    await eventually(
      async () =>
        (
          await withTenant(stack.database.db, stack.tenantId, (tx) =>
            tx.selectFrom('payment_failures').select('id').where('payment_id', '=', paymentId).execute(),
          )
        ).length === 1,
      LONG,
      'the failure handled',
    );
  });

  it('a success of the same intent after Settle recorded the payment failed is recorded, never dropped', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const token = await stack.portalToken(invoice.client_id);
    const s = stack.sims.stripe;
    // The card review (server-side confirm): the declined card fails this payment, final for Settle.
    const pmRes = await fetch(`${s.baseUrl}/v1/payment_methods`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.publishableKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ type: 'card', 'card[number]': '4000000000000002', 'card[exp_month]': '12', 'card[exp_year]': '2040', 'card[cvc]': '123' }),
    });
    const pm = ((await pmRes.json()) as { id: string }).id;
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${stack.settleUrl}/portal/${token}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };
    const q = await post('/quote', { invoices: [{ invoice_id: invoice.id }], payment_method: pm });
    expect(q.status).toBe(200);
    const paid = await post('/pay-card', { quote_id: q.body.quote_id, accepted_total_minor: q.body.total_minor });
    expect(paid.status).toBe(402);
    const paymentId = paid.body.payment_id!;
    expect((await paymentRow(paymentId)).state).toBe('failed');
    // Someone confirms that same intent again at the processor (the money is taken after all).
    const intentId = (await paymentRow(paymentId)).processor_payment_id!;
    expect(await confirm(intentId, 'pm_card_visa')).toBe(200);
    await expectPaidOnce(invoice, paymentId, intentId, 1, true);
    const audit = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('audit_log').select('detail').where('action', '=', 'payment.succeeded_after_failure').where('subject_id', '=', paymentId).execute(),
    );
    expect(audit).toHaveLength(1);
  });

  it('in order, duplicated, and a second decline before the success: still one success, nothing failed', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const { paymentId, intentId } = await openCheckout(invoice.id, invoice.client_id);
    const sim = stack.sims.stripe.sim;
    await sim.webhooks.idle();
    sim.setDelivery({ drop: 1_000 });
    try {
      expect(await confirm(intentId, 'pm_card_chargeDeclined')).toBe(402);
      expect(await confirm(intentId, 'pm_card_chargeDeclinedExpiredCard')).toBe(402);
      expect(await confirm(intentId, 'pm_card_visa')).toBe(200);
    } finally {
      sim.setDelivery({ drop: 0 });
    }
    const events = intentEvents(intentId).filter((e) => e.type !== 'payment_intent.created');
    expect(events.map((e) => e.type)).toEqual(['payment_intent.payment_failed', 'payment_intent.payment_failed', 'payment_intent.succeeded']);
    for (const e of [...events, ...events]) expect(await deliver(e.id)).toBe(200);
    await expectPaidOnce(invoice, paymentId, intentId, 2);
  });
});
