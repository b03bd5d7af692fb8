// Issue #6 item 2: parallel checkouts must never charge a client twice. 300 `/pay` calls on one portal link
// at once, every intent handed out then confirmed as a client's tabs would → one charge at the Stripe
// simulator, at most one open intent, no client credit. A different selection replaces the open checkout
// (canceled at the processor first). And if the processor charged twice anyway, the second charge is
// refunded automatically and staff get an exception.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payByBankInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { charge, savedCard } from '../helpers/failed-payments.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 4, invoices: 12 });
});
afterAll(async () => stack?.close());

async function pay(token: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function confirm(intentId: string, pm = 'pm_card_visa'): Promise<{ ok: boolean; text: string }> {
  // As Stripe.js does, a request refused by the rate limit (429; the burst above can trigger it) is sent again.
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${stack.sims.stripe.baseUrl}/v1/payment_intents/${intentId}/confirm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.sims.stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payment_method: pm }).toString(),
    });
    if (res.status !== 429 || attempt >= 30) return { ok: res.ok, text: await res.text() };
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The Stripe simulator's own record of the intents Settle opened for these payments. */
function intentsFor(paymentIds: readonly string[]) {
  return [...stack.sims.stripe.sim.store.paymentIntents.values()].filter((pi) => paymentIds.includes(pi.metadata['settle_payment'] ?? ''));
}
function intentsForInvoiceClient(customer: string | null) {
  return [...stack.sims.stripe.sim.store.paymentIntents.values()].filter((pi) => pi.customer === customer);
}
const OPEN = new Set(['requires_payment_method', 'requires_confirmation', 'requires_action']);

async function clientOf(invoiceId: string) {
  return withTenant(stack.database.db, stack.tenantId, async (tx) => {
    const inv = await tx.selectFrom('invoices').select(['client_id', 'total_minor', 'status']).where('id', '=', invoiceId).executeTakeFirstOrThrow();
    const c = await tx.selectFrom('clients').select('processor_customer_id').where('id', '=', inv.client_id).executeTakeFirstOrThrow();
    const credit = await tx.selectFrom('client_credit_entries').select('amount_minor').where('client_id', '=', inv.client_id).execute();
    return { ...inv, customer: c.processor_customer_id, credit };
  });
}

describe('one open checkout per client and invoice', () => {
  it('300 parallel /pay calls on one link: one intent handed out, one charge, no client credit', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const token = await stack.portalToken(invoice.client_id);
    const answers = await Promise.all(Array.from({ length: 300 }, () => pay(token, { invoice_ids: [invoice.id], method: 'card' })));
    const ok = answers.filter((a) => a.status === 200);
    // Every answer is the one checkout, or a clear "being paid right now" refusal; never a server error.
    expect(answers.filter((a) => a.status !== 200 && a.status !== 409).map((a) => a.body)).toEqual([]);
    expect(ok.length).toBeGreaterThan(0);
    const paymentIds = [...new Set(ok.map((a) => String(a.body['payment_id'])))];
    const secrets = [...new Set(ok.map((a) => String(a.body['client_secret'])))];
    expect(paymentIds).toHaveLength(1);
    expect(secrets).toHaveLength(1);
    const { customer } = await clientOf(invoice.id);
    const open = intentsForInvoiceClient(customer).filter((pi) => OPEN.has(pi.status));
    expect(open).toHaveLength(1);

    // Every tab that got an answer presses Pay: the one intent is charged once; the others are refused by Stripe.
    const results = await Promise.all(ok.slice(0, 20).map((a) => confirm(String(a.body['client_secret']).split('_secret_')[0]!)));
    expect(results.filter((r) => r.ok).length).toBeGreaterThanOrEqual(1);
    await eventually(async () => (await clientOf(invoice.id)).status === 'paid', 90_000, 'invoice paid');
    const charged = intentsForInvoiceClient(customer).filter((pi) => pi.status === 'succeeded');
    expect(charged).toHaveLength(1);
    expect(charged[0]!.amount).toBe(Number(invoice.total_minor));
    expect([...stack.sims.stripe.sim.store.charges.values()].filter((c) => c.customer === customer && c.status === 'succeeded')).toHaveLength(1);
    expect((await clientOf(invoice.id)).credit).toEqual([]);
    // Paid: a further /pay is refused, and no new intent is opened.
    const again = await pay(token, { invoice_ids: [invoice.id], method: 'card' });
    expect(again.status).toBe(409);
    expect(intentsForInvoiceClient(customer).filter((pi) => OPEN.has(pi.status))).toHaveLength(0);
  }, 180_000);

  it('a different selection replaces the open checkout: the old intent is canceled before the new one is handed out', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const token = await stack.portalToken(invoice.client_id);
    const first = await pay(token, { invoice_ids: [invoice.id], method: 'card' });
    expect(first.status).toBe(200);
    const half = (invoice.total_minor / 2n).toString();
    const second = await pay(token, {
      invoices: [{ invoice_id: invoice.id, amount: `${half.slice(0, -2) || '0'}.${half.slice(-2).padStart(2, '0')}` }],
      method: 'card',
    });
    expect(second.status).toBe(200);
    expect(second.body['payment_id']).not.toBe(first.body['payment_id']);
    const [oldPi] = intentsFor([String(first.body['payment_id'])]);
    expect(oldPi!.status).toBe('canceled');
    // The tab still holding the old checkout cannot pay with it.
    expect((await confirm(oldPi!.id)).ok).toBe(false);
    const { customer } = await clientOf(invoice.id);
    expect(
      intentsForInvoiceClient(customer)
        .filter((pi) => OPEN.has(pi.status))
        .map((pi) => pi.metadata['settle_payment']),
    ).toEqual([second.body['payment_id']]);
    const states = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('portal_checkouts').select(['payment_id', 'status']).where('invoice_id', '=', invoice.id).execute(),
    );
    expect(states.filter((s) => s.status === 'open').map((s) => s.payment_id)).toEqual([second.body['payment_id']]);
    // The database itself refuses a second open checkout on the invoice (here for another payment of the client).
    const other = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx
        .selectFrom('payments')
        .select('id')
        .where('id', 'not in', [String(first.body['payment_id']), String(second.body['payment_id'])])
        .executeTakeFirstOrThrow(),
    );
    await expect(
      withTenant(stack.database.db, stack.tenantId, (tx) =>
        tx
          .insertInto('portal_checkouts')
          .values({
            tenant_id: stack.tenantId,
            client_id: invoice.client_id,
            payment_id: other.id,
            invoice_id: invoice.id,
            amount_minor: 100n,
            method_kinds: ['card'],
          })
          .execute(),
      ),
    ).rejects.toThrow(/portal_checkouts_one_open_per_invoice/);
  }, 180_000);

  it('a staff charge of the card on file cancels the client\u2019s open portal checkout first; the client cannot pay it any more', async () => {
    const invoice = (await openInvoices(stack))[0]!;
    const token = await stack.portalToken(invoice.client_id);
    const portal = await pay(token, { invoice_ids: [invoice.id], method: 'card' });
    expect(portal.status).toBe(200);
    const card = await savedCard(stack, invoice.client_id, 'pm_card_visa');
    const staff = await charge(stack, await stack.apiKey(), card, [invoice.id]);
    expect(staff.outcome).toBe('succeeded');
    const [portalPi] = intentsFor([String(portal.body['payment_id'])]);
    expect(portalPi!.status).toBe('canceled');
    expect((await confirm(portalPi!.id)).ok).toBe(false);
    const { customer, status, credit } = await clientOf(invoice.id);
    expect(status).toBe('paid');
    const succeeded = intentsForInvoiceClient(customer).filter((pi) => pi.status === 'succeeded' && pi.metadata['settle_payment'] === staff.paymentId);
    expect(succeeded).toHaveLength(1);
    expect(intentsForInvoiceClient(customer).filter((pi) => OPEN.has(pi.status))).toHaveLength(0);
    expect(credit).toEqual([]);
    // The replaced checkout is not shown to the client as a payment.
    const html = await (await fetch(`${stack.settleUrl}/portal/${token}`)).text();
    expect(html).not.toMatch(/pill bad">failed/);
  }, 180_000);

  it('after a bank payment the page says it is submitted and does not offer the invoice while the debit clears', async () => {
    const all = await openInvoices(stack);
    const invoice = all.find((i) => all.some((o) => o.client_id === i.client_id && o.id !== i.id))!;
    const token = await stack.portalToken(invoice.client_id);
    const { paymentId } = await payByBankInPortal(stack, token, [invoice.id]);
    // The return page, possibly before the processor's webhook: Settle asks, and the debit is processing.
    const html = await (await fetch(`${stack.settleUrl}/portal/${token}?paid=${paymentId}`)).text();
    expect(html).toContain('Submitted');
    expect(html).toContain(invoice.number);
    expect(html).toContain(paymentId);
    expect(html).toMatch(/Bank account \(ACH\)/);
    expect(html).not.toContain(`value="${invoice.id}"`);
    expect(html).toMatch(/still open below/);
    // Paying it again on the same link is refused while the debit may still settle.
    expect((await pay(token, { invoice_ids: [invoice.id], method: 'card' })).status).toBe(409);
  }, 180_000);

  it('if the processor charged twice anyway, the second charge is refunded automatically and staff get an exception', async () => {
    const invoice = (await openInvoices(stack)).at(-1)!;
    const token = await stack.portalToken(invoice.client_id);
    const first = await pay(token, { invoice_ids: [invoice.id], method: 'card' });
    expect(first.status).toBe(200);
    // Simulate the guard failing (e.g. an intent opened before this release): forget the open checkout.
    await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx
        .updateTable('portal_checkouts')
        .set({ status: 'closed', close_reason: 'test: guard bypassed' })
        .where('payment_id', '=', String(first.body['payment_id']))
        .execute(),
    );
    // … and make it older than the hour a portal payment without an open checkout counts as in flight.
    await withTenant(stack.database.db, stack.tenantId, (tx) =>
      sql`UPDATE payments SET created_at = now() - interval '2 hours' WHERE id = ${String(first.body['payment_id'])}`.execute(tx),
    );
    const second = await pay(token, { invoice_ids: [invoice.id], method: 'card' });
    expect(second.status).toBe(200);
    const ids = [String(first.body['payment_id']), String(second.body['payment_id'])];
    for (const pi of intentsFor(ids)) expect((await confirm(pi.id)).ok).toBe(true);

    const decision = await eventually(
      () =>
        withTenant(stack.database.db, stack.tenantId, (tx) =>
          tx
            .selectFrom('credit_refunds')
            .selectAll()
            .where('idempotency_key', 'like', 'duplicate-charge:%')
            .where('status', '=', 'refunded')
            .executeTakeFirst(),
        ),
      90_000,
      'automatic refund of the second charge',
    );
    expect(ids).toContain(decision.source_payment_id);
    expect(decision.amount_minor).toBe(invoice.total_minor);
    const refunds = [...stack.sims.stripe.sim.store.refunds.values()].filter((r) => r.status === 'succeeded');
    expect(refunds.map((r) => r.amount)).toContain(Number(invoice.total_minor));
    const exception = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx
        .selectFrom('exceptions')
        .selectAll()
        .where('kind', '=', 'duplicate_charge')
        .where('payment_id', '=', decision.source_payment_id)
        .executeTakeFirstOrThrow(),
    );
    expect(exception.title).toMatch(/charged twice/i);
    // Closed by itself once the processor confirmed the refund; it stays in the list as resolved.
    expect(exception.resolution).toBe('refunded automatically');
    // None of the duplicate is left as spendable credit.
    const { credit } = await clientOf(invoice.id);
    const creditLeft = await withTenant(stack.database.db, stack.tenantId, async (tx) => {
      const { creditBalance } = await import('../../src/engine/client-credit.ts');
      return creditBalance(tx, invoice.client_id);
    });
    expect(credit.length).toBeGreaterThan(0); // recorded (the money did come in) …
    expect([...creditLeft.values()].reduce((s, n) => s + n, 0n)).toBe(0n); // … and all of it refunded
  }, 180_000);
});
