// A payment refunded before it reached the books, whose invoice another payment then paid and posted first.
// The soak found this cycle: QuickBooks refused the first payment ("more than its open balance (0)": the
// second one had taken the balance), and its refund's reversal waited for that payment to be in the books —
// so neither ever went, and the exception shown was a stale one. Now a payment posts only what is still its
// own to the invoice; the refunded part stays unapplied on it until the reversal moves it to its journal entry.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let key: string;
beforeAll(async () => {
  stack = await startStack({ companies: 1, invoices: 2 });
  key = await stack.apiKey();
}, 300_000);
afterAll(async () => stack?.close());

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const booksPostings = (paymentId: string) =>
  q((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', paymentId).where('target', '=', 'accounting').orderBy('created_at').execute());
const cents = (n: unknown): bigint => BigInt(Math.round(Number(n) * 100));

it('a payment refunded before it reached QuickBooks posts after another payment took its invoice, and its refund follows', async () => {
  const invoice = (await openInvoices(stack))[0]!;
  const qbo = stack.sims.quickbooks.sim;
  // QuickBooks takes no payment for a while: the first one stays on its way.
  qbo.faults.add({ method: 'POST', pathPattern: '/(payment|batch)', fault: { kind: 'status', status: 503 }, times: 100_000 });
  let first: { paymentId: string };
  try {
    first = await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
    const held = await eventually(
      async () => (await booksPostings(first.paymentId)).find((p) => p.kind === 'payment' && p.attempts > 0),
      120_000,
      'the first payment tried and refused',
    );
    // Its retry backed off far (as after many 503s): the next payment on the invoice will reach the books first.
    await q((tx) =>
      tx
        .updateTable('postings')
        .set({ next_attempt_at: new Date(Date.now() + 3_600_000) })
        .where('id', '=', held.id)
        .execute(),
    );
    // Staff refund the first payment in full; the invoice re-opens.
    const res = await fetch(`${stack.settleUrl}/api/v1/payments/${first.paymentId}/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': 'refund-before-books' },
      body: JSON.stringify({ reason: 'paid with the wrong card' }),
    });
    expect(res.status).toBe(201);
    await eventually(async () => (await booksPostings(first.paymentId)).some((p) => p.kind === 'refund'), 60_000, 'the refund recorded');
  } finally {
    qbo.faults.clear();
  }
  // The client pays the invoice again; this payment reaches QuickBooks first and takes the invoice's balance there.
  const second = await eventually(
    async () => {
      try {
        return await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
      } catch {
        return null;
      }
    },
    60_000,
    'the second payment',
  );
  await eventually(
    async () => (await booksPostings(second.paymentId)).some((p) => p.kind === 'payment' && p.status === 'posted'),
    120_000,
    'the second payment in the books',
  );

  // A person presses "retry now" on the first payment's posting (the staff app's door).
  const held = (await booksPostings(first.paymentId)).find((p) => p.kind === 'payment')!;
  const retry = await fetch(`${stack.settleUrl}/api/v1/postings/${held.id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
  expect(retry.status).toBe(202);
  await eventually(
    async () => (await booksPostings(first.paymentId)).every((p) => p.status === 'posted'),
    120_000,
    'the first payment and its refund in the books',
  );

  // In QuickBooks: the invoice is paid once (by the second payment); the first payment's whole amount is on
  // the refund's journal entry, nothing left unapplied; no posting failed.
  const qboInvoice = qbo.invoices().find((i) => i['DocNumber'] === invoice.number)!;
  expect(cents(qboInvoice['Balance'])).toBe(0n);
  const firstRemote = (await booksPostings(first.paymentId)).find((p) => p.kind === 'payment')!.remote_id!;
  const firstInBooks = qbo.payments().find((p) => p.Id === firstRemote)!;
  expect(cents(firstInBooks['UnappliedAmt'])).toBe(0n);
  const lines = firstInBooks['Line'] as Array<{ Amount: number; LinkedTxn: Array<{ TxnType: string }> }>;
  expect(lines.map((l) => l.LinkedTxn[0]!.TxnType)).toEqual(['JournalEntry']);
  expect(cents(lines[0]!.Amount)).toBe(BigInt(invoice.total_minor));
  const failed = await q((tx) => tx.selectFrom('postings').select('id').where('status', '=', 'failed').execute());
  expect(failed).toEqual([]);
}, 600_000);
