// A client is refunded and pays the invoice again. In QuickBooks the invoice stays paid until the refund's
// reversal re-opens it, so the new payment is refused there ("more than its open balance") for as long as the
// reversal has not gone through — the soak saw such payments end `failed`. The refusal is not final while a
// reversal on that invoice is on its way: the payment waits for it and posts after it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let key: string;
beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 4 });
  key = await stack.apiKey();
}, 300_000);
afterAll(async () => stack?.close());

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const booksPostings = (paymentId: string) =>
  q((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', paymentId).where('target', '=', 'accounting').orderBy('created_at').execute());
const cents = (n: unknown): bigint => BigInt(Math.round(Number(n) * 100));

it('a payment after a full refund waits for the refund to re-open the invoice in QuickBooks, then posts', async () => {
  const invoice = (await openInvoices(stack))[0]!;
  const first = await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
  await eventually(
    async () => (await booksPostings(first.paymentId)).some((p) => p.kind === 'payment' && p.status === 'posted'),
    120_000,
    'first payment in the books',
  );

  // QuickBooks does not take journal entries for a while: the refund's reversal stays on its way.
  const qbo = stack.sims.quickbooks.sim;
  qbo.faults.add({ method: 'POST', pathPattern: '/journalentry', fault: { kind: 'status', status: 503 }, times: 100_000 });
  try {
    const res = await fetch(`${stack.settleUrl}/api/v1/payments/${first.paymentId}/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': 'refund-then-repay' },
      body: JSON.stringify({ reason: 'charged the wrong card' }),
    });
    expect(res.status).toBe(201);
    // The client pays the re-opened invoice again.
    const second = await eventually(
      async () => {
        try {
          return await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
        } catch {
          return null; // the invoice re-opens once the refund is recorded
        }
      },
      120_000,
      'the second payment',
    );
    // QuickBooks refuses it while the invoice is paid there; Settle keeps it pending, not failed.
    const refused = await eventually(
      async () => (await booksPostings(second.paymentId)).find((p) => p.kind === 'payment' && p.attempts > 0 && /open balance/.test(p.last_error ?? '')),
      120_000,
      'the second payment refused by QuickBooks once',
    );
    expect(refused.status).toBe('pending');
    qbo.faults.clear();
    // The reversal backed off while QuickBooks refused it; a person presses "retry now" on it (the API the
    // staff app calls). The payment waiting behind it follows by itself.
    const reversalId = (await booksPostings(first.paymentId)).find((p) => p.kind === 'refund')!.id;
    const retry = await fetch(`${stack.settleUrl}/api/v1/postings/${reversalId}/retry`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(retry.status).toBe(202);
    const posted = await eventually(
      async () => (await booksPostings(second.paymentId)).find((p) => p.kind === 'payment' && p.status === 'posted'),
      180_000,
      'the second payment posted after the reversal',
    );
    expect(posted.last_error).toBeNull();
    const reversal = (await booksPostings(first.paymentId)).find((p) => p.kind === 'refund')!;
    expect(reversal.status).toBe('posted');
    const qboInvoice = qbo.invoices().find((i) => i['DocNumber'] === invoice.number)!;
    expect(cents(qboInvoice['Balance'])).toBe(0n);
    const failed = await q((tx) => tx.selectFrom('postings').select('id').where('status', '=', 'failed').execute());
    expect(failed).toEqual([]);
  } finally {
    qbo.faults.clear();
  }
}, 600_000);
