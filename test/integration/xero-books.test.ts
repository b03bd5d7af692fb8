// Settle on Xero books, end to end through the simulators over HTTP and a real PostgreSQL: each payment
// lands against its invoice in the clearing account, a payout is one BankTransfer equal to the bank line with
// its fee as a SPEND, a refund and a lost dispute are reversed (the invoice owes again), Xero's 429 and a
// used-up day are waited out with nothing lost, a revoked connection becomes an exception naming the fix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { useXeroBooks } from '../helpers/xero-books.ts';
import type { RunningXeroSimulator } from '../../simulators/xero/index.ts';
import { xeroLimiterFor } from '../../src/connectors/accounting/xero/limiter.ts';

let stack: Stack;
let xero: RunningXeroSimulator;
let key: string;
beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 8 });
  xero = await useXeroBooks(stack);
  key = await stack.apiKey();
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await xero?.close();
});

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const booksPostings = (id: string) =>
  q((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', id).where('target', '=', 'accounting').execute());
const posted = (id: string, kind: string, n: number) =>
  eventually(
    async () => {
      const rows = (await booksPostings(id)).filter((r) => r.kind === kind);
      return rows.length === n && rows.every((r) => r.status === 'posted') ? rows : null;
    },
    40_000,
    `${n} ${kind} postings to Xero posted`,
  );
const xeroInvoice = (n: string) => xero.sim.invoice(n)!;

async function refund(paymentId: string, amountMinor: bigint) {
  const res = await fetch(`${stack.settleUrl}/api/v1/payments/${paymentId}/refunds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount_minor: amountMinor.toString(), reason: 'seat cancelled' }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

describe('Xero books', () => {
  it('payment per invoice into clearing; payout = one transfer equal to the bank line, fee as SPEND; partial refund reversed', async () => {
    const [a, b] = await openInvoices(stack);
    const pa = await payInPortal(stack, await stack.portalToken(a!.client_id), [a!.id]);
    await posted(pa.paymentId, 'payment', 1);
    expect(xeroInvoice(a!.number).Status).toBe('PAID');
    expect(BigInt(xero.sim.balanceCents('091'))).toBe(a!.total_minor);
    const pb = await payInPortal(stack, await stack.portalToken(b!.client_id), [b!.id]);
    await posted(pb.paymentId, 'payment', 1);

    const payout = stack.sims.stripe.sim.runPayouts()!;
    const transfer = await eventually(async () => xero.sim.store.transfers.find((t) => t.Reference.includes(payout.id)), 40_000, 'the payout’s BankTransfer');
    expect(transfer.amountCents).toBe(payout.amount);
    const spend = xero.sim.store.bankTransactions.find((t) => t.Type === 'SPEND' && t.Reference.includes(payout.id))!;
    expect(spend.totalCents).toBeGreaterThan(0);
    expect(xero.sim.balanceCents('091')).toBe(0); // clearing nets to zero per payout
    expect(xero.sim.balanceCents('090')).toBe(payout.amount);

    const part = a!.total_minor / 4n;
    await refund(pa.paymentId, part);
    await posted(pa.paymentId, 'refund', 1);
    expect(BigInt(xeroInvoice(a!.number).totalCents - xeroInvoice(a!.number).paidCents)).toBe(part);
    expect(
      xero.sim
        .livePayments()
        .filter((p) => p.InvoiceID === xeroInvoice(a!.number).InvoiceID)
        .map((p) => BigInt(p.amountCents)),
    ).toEqual([a!.total_minor - part]);
    expect(xero.sim.api.stats.replayed).toBeGreaterThanOrEqual(0);
  });

  it('a lost dispute: the payment is taken out of Xero and the invoice owes again', async () => {
    const inv = (await openInvoices(stack))[0]!;
    const p = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    await posted(p.paymentId, 'payment', 1);
    const dispute = stack.sims.stripe.sim.createDispute({ paymentIntent: p.intentId, reason: 'fraudulent' });
    await eventually(
      async () => (await q((tx) => tx.selectFrom('payments').select('state').where('id', '=', p.paymentId).executeTakeFirst()))?.state === 'disputed',
      20_000,
      'disputed',
    );
    stack.sims.stripe.sim.resolveDispute({ dispute: dispute.id, outcome: 'lost' });
    await eventually(
      async () => (await booksPostings(p.paymentId)).some((r) => r.kind !== 'payment' && r.status === 'posted'),
      40_000,
      'the dispute’s reversal posted to Xero',
    );
    expect(xeroInvoice(inv.number).paidCents).toBe(0);
    expect(xeroInvoice(inv.number).Status).toBe('AUTHORISED');
  });

  it('429 over Xero’s minute limit is waited out; nothing lost, nothing twice', async () => {
    const invs = (await openInvoices(stack)).slice(0, 2);
    xero.sim.faults.add({
      method: 'PUT',
      pathPattern: '/Payments',
      times: 2,
      fault: { kind: 'status', status: 429, headers: { 'retry-after': '1', 'x-rate-limit-problem': 'minute' } },
    });
    const pays = [];
    for (const i of invs) pays.push(await payInPortal(stack, await stack.portalToken(i.client_id), [i.id]));
    for (const p of pays) await posted(p.paymentId, 'payment', 1);
    for (const i of invs) expect(xero.sim.livePayments().filter((p) => p.InvoiceID === xeroInvoice(i.number).InvoiceID)).toHaveLength(1);
  });

  it('Xero’s day used up: the posting waits with the reason, nothing is lost; once the day moves on it is posted once', async () => {
    const inv = (await openInvoices(stack))[0]!;
    xero.sim.limits.configure({ perDay: 0 });
    const p = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    const waiting = await eventually(
      async () => (await booksPostings(p.paymentId)).find((r) => r.kind === 'payment' && /daily limit/.test(r.last_error ?? '')),
      40_000,
      'the posting waiting on the daily limit',
    );
    expect(waiting.status).not.toBe('posted');
    expect(xero.sim.livePayments().filter((x) => x.InvoiceID === xeroInvoice(inv.number).InvoiceID)).toHaveLength(0);
    // The day moves on (Xero's window and what Settle learned from it), and a person retries at once.
    xero.sim.limits.configure({ perDay: 5000 });
    xero.sim.limits.reset();
    xeroLimiterFor(xero.tenantId).dayExhaustedUntil = 0;
    const res = await fetch(`${stack.settleUrl}/api/v1/postings/${waiting.id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(202);
    await posted(p.paymentId, 'payment', 1);
    expect(xero.sim.livePayments().filter((x) => x.InvoiceID === xeroInvoice(inv.number).InvoiceID)).toHaveLength(1);
  });

  it('webhooks: Xero’s intent-to-receive check passes, a bad or missing signature is refused (401), a new invoice’s event is accepted', async () => {
    xero.sim.webhooks.configure(`${stack.settleUrl}/webhooks/${stack.slug}/xero`, xero.sim.webhooks.key);
    expect(await xero.sim.webhooks.intentToReceive()).toBe('OK');
    const forged = await xero.sim.webhooks.send([], true);
    expect(forged!.status).toBe(401);
    const unsigned = await fetch(`${stack.settleUrl}/webhooks/${stack.slug}/xero`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"events":[]}',
    });
    expect(unsigned.status).toBe(401);
    xero.sim.seedInvoice({ number: 'X-LATE-1', contactName: 'Acme', amount: '12.00' });
    await eventually(async () => xero.sim.webhooks.deliveries.at(-1)?.status === 200, 20_000, 'the invoice event accepted');
    expect(JSON.parse(xero.sim.webhooks.deliveries.at(-1)!.body).events[0].eventCategory).toBe('INVOICE');
  });

  it('a revoked connection: the posting becomes an exception telling a person to reconnect Xero', async () => {
    const inv = (await openInvoices(stack))[0]!;
    xero.sim.identity.revokeAll();
    const p = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    const ex = await eventually(
      async () =>
        (await q((tx) => tx.selectFrom('exceptions').select(['title', 'detail', 'status']).where('payment_id', '=', p.paymentId).execute())).find((e) =>
          /reconnect Xero/.test(`${e.title} ${e.detail}`),
        ),
      40_000,
      'an exception naming the fix',
    );
    expect(ex.status).toBe('open');
    expect(xero.sim.livePayments().filter((x) => x.InvoiceID === xeroInvoice(inv.number).InvoiceID)).toHaveLength(0);
  });
});
