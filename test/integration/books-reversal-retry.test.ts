// A refund's reversal in QuickBooks refused, fixed, retried by a person: the retry is a new QuickBooks
// request (request_generation), so it posts instead of replaying the refusal for ever; and an attempt whose
// answer was lost is repeated as the same request, so it never books the journal entry twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let key: string;
beforeAll(async () => {
  stack = await startStack({ companies: 2, invoices: 4 });
  key = await stack.apiKey();
}, 300_000);
afterAll(async () => stack?.close());

type Json = Record<string, unknown>;
const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
const accountingPostings = (paymentId: string, kind: 'payment' | 'refund') =>
  q((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', paymentId).where('kind', '=', kind).where('target', '=', 'accounting').execute());
const journalsFor = (paymentId: string) => stack.sims.quickbooks.sim.journalEntries().filter((j) => String(j['PrivateNote'] ?? '').includes(paymentId));

async function paidAndPosted(): Promise<{ paymentId: string }> {
  const invoice = (await openInvoices(stack))[0]!;
  const { paymentId } = await payInPortal(stack, await stack.portalToken(invoice.client_id), [invoice.id]);
  await eventually(async () => (await accountingPostings(paymentId, 'payment')).some((p) => p.status === 'posted'), 120_000, 'payment posted to the books');
  return { paymentId };
}

async function refund(paymentId: string, amountMinor: string, idempotencyKey: string): Promise<void> {
  const res = await fetch(`${stack.settleUrl}/api/v1/payments/${paymentId}/refunds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify({ amount_minor: amountMinor, reason: 'a seat was cancelled' }),
  });
  expect(res.status).toBe(201);
}

describe('a reversal posting to QuickBooks', () => {
  it('refused once (inactive account), fixed, retried by a person: a new request, posted once, the exception closed', async () => {
    const { paymentId } = await paidAndPosted();
    // The account the reversal credits (no adjustment account set: the fee account) is made inactive.
    const credited = stack.sims.quickbooks.sim.store.get('Account', stack.sims.quickbooks.sim.accounts.merchantFees) as Json;
    credited['Active'] = false;
    try {
      await refund(paymentId, '500', 'refund-refused-once');
      const failed = await eventually(
        async () => (await accountingPostings(paymentId, 'refund')).find((p) => p.status === 'failed'),
        120_000,
        'the refused reversal failed',
      );
      expect(failed.last_error).toMatch(/inactive/);
      expect(failed.request_generation).toBe(0);
      expect(journalsFor(paymentId)).toHaveLength(0);
    } finally {
      credited['Active'] = true; // the fix, done in QuickBooks
    }
    const failed = (await accountingPostings(paymentId, 'refund'))[0]!;
    const res = await fetch(`${stack.settleUrl}/api/v1/postings/${failed.id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(202);
    const posted = await eventually(
      async () => (await accountingPostings(paymentId, 'refund')).find((p) => p.status === 'posted'),
      120_000,
      'the retried reversal posted',
    );
    expect(posted.request_generation).toBe(1);
    const journals = journalsFor(paymentId);
    expect(journals).toHaveLength(1);
    expect(posted.remote_id).toBe(journals[0]!['Id']);
    const exception = await eventually(
      () => q((tx) => tx.selectFrom('exceptions').selectAll().where('dedupe_key', '=', `posting:${failed.id}`).executeTakeFirst()),
      60_000,
      'the posting exception',
    );
    await eventually(
      async () =>
        (await q((tx) => tx.selectFrom('exceptions').select('status').where('id', '=', exception.id).executeTakeFirstOrThrow())).status === 'resolved',
      60_000,
      'the exception resolved',
    );
  }, 400_000);

  it('an attempt whose answer was lost is tried again as the same request: one journal entry', async () => {
    const { paymentId } = await paidAndPosted();
    stack.sims.quickbooks.sim.loseAnswers('/journalentry$', 1);
    await refund(paymentId, '700', 'refund-answer-lost');
    const posted = await eventually(
      async () => (await accountingPostings(paymentId, 'refund')).find((p) => p.status === 'posted'),
      120_000,
      'the reversal posted after its lost answer',
    );
    expect(posted.request_generation).toBe(0);
    const journals = journalsFor(paymentId);
    expect(journals).toHaveLength(1);
    expect(posted.remote_id).toBe(journals[0]!['Id']);
  }, 400_000);
});
