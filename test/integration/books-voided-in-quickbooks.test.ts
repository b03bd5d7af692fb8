// Issue #7: a bookkeeper voids or deletes in QuickBooks a payment Settle posted. QuickBooks allows both
// (while the payment is not in a deposit), and afterwards the books no longer show money Settle knows was
// received. Settle's books check (check-books-records, about hourly via the sweep; run at once here) notices:
// the posting goes back to failed, audited, with an exception saying what happened and the way out; a
// person's retry through the API posts the payment again (the voided record no longer counts as the earlier
// posting) and the exception closes by itself. A deleted payment is told about the same way, and so is a
// payout's deposit deleted in QuickBooks (its payments go back to Undeposited Funds; the retry deposits them again).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { enqueue } from '../../src/engine/enqueue.ts';
import { booksCheckJobKey } from '../../src/engine/check-books-records.ts';
import { deleteRecord } from '../../simulators/quickbooks-online/lifecycle.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 3 });
});
afterAll(async () => stack?.close());

const db = () => stack.database.db;

async function postedPaymentPosting(paymentId: string) {
  return eventually(
    async () => {
      const p = await withTenant(db(), stack.tenantId, (tx) =>
        tx
          .selectFrom('postings')
          .selectAll()
          .where('payment_id', '=', paymentId)
          .where('target', '=', 'accounting')
          .where('kind', '=', 'payment')
          .executeTakeFirst(),
      );
      return p?.status === 'posted' && p.remote_id ? p : null;
    },
    90_000,
    'the payment posted to QuickBooks',
  );
}

async function runBooksCheck(): Promise<void> {
  await enqueue(
    db(),
    'check-books-records',
    { tenantId: stack.tenantId },
    { queueName: `accounting:${stack.tenantId}`, jobKey: booksCheckJobKey(stack.tenantId), runAt: new Date() },
  );
}

const exceptionFor = (postingId: string) =>
  withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('exceptions').selectAll().where('dedupe_key', '=', `posting:${postingId}`).executeTakeFirst());

describe('a payment Settle posted, voided or deleted in QuickBooks', () => {
  it('voided: the books check fails the posting with an exception; a retry posts it again and closes the exception', async () => {
    const [inv] = await openInvoices(stack);
    const { paymentId } = await payInPortal(stack, await stack.portalToken(inv!.client_id), [inv!.id]);
    const posting = await postedPaymentPosting(paymentId);
    const qbo = stack.sims.quickbooks.sim;
    qbo.voidPayment(posting.remote_id!);

    await runBooksCheck();
    const failed = await eventually(
      async () => {
        const p = await withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('postings').selectAll().where('id', '=', posting.id).executeTakeFirstOrThrow());
        return p.status === 'failed' ? p : null;
      },
      90_000,
      'the posting failed by the books check',
    );
    expect(failed.last_error).toBe(`the Payment Settle posted (QuickBooks id ${posting.remote_id}) was voided in QuickBooks`);
    const told = await exceptionFor(posting.id);
    expect(told).toMatchObject({ status: 'open', kind: 'books_record_gone', payment_id: paymentId });
    expect(told!.title).toBe(`The payment for invoice #${inv!.number} was voided in QuickBooks`);
    expect(told!.detail).toContain(`POST /api/v1/postings/${posting.id}/retry`);
    const audited = await withTenant(db(), stack.tenantId, (tx) =>
      tx.selectFrom('audit_log').select(['actor', 'detail']).where('action', '=', 'posting.gone_in_books').where('subject_id', '=', posting.id).execute(),
    );
    expect(audited).toHaveLength(1);
    expect(audited[0]!.actor).toBe('system:books-check');

    // Checking again changes nothing more (the posting is failed now, not posted).
    await runBooksCheck();

    const key = await stack.apiKey();
    const res = await fetch(`${stack.settleUrl}/api/v1/postings/${posting.id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(202);
    const reposted = await eventually(
      async () => {
        const p = await withTenant(db(), stack.tenantId, (tx) => tx.selectFrom('postings').selectAll().where('id', '=', posting.id).executeTakeFirstOrThrow());
        return p.status === 'posted' && p.remote_id !== posting.remote_id ? p : null;
      },
      90_000,
      'the payment posted again',
    );
    const again = qbo.payments().find((p) => p.Id === reposted.remote_id)!;
    expect(Math.round(Number(again['TotalAmt']) * 100)).toBe(Number(posting.amount_minor));
    expect(String(again['PrivateNote'])).toContain(`[settle:${posting.idempotency_key}]`);
    expect((await exceptionFor(posting.id))!.status).toBe('resolved');
  }, 300_000);

  it('deleted: told the same way; a person may dismiss it when the money was recorded another way', async () => {
    const invs = await openInvoices(stack);
    const inv = invs[invs.length - 1]!;
    const { paymentId } = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    const posting = await postedPaymentPosting(paymentId);
    stack.sims.quickbooks.sim.deletePayment(posting.remote_id!);
    await runBooksCheck();
    const told = await eventually(
      async () => {
        const e = await exceptionFor(posting.id);
        return e?.status === 'open' && e.kind === 'books_record_gone' ? e : null;
      },
      90_000,
      'the exception about the deleted payment',
    );
    expect(told.title).toBe(`The payment for invoice #${inv.number} was deleted in QuickBooks`);
    const key = await stack.apiKey();
    const res = await fetch(`${stack.settleUrl}/api/v1/exceptions/${told.id}/dismiss`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'recorded by hand in QuickBooks' }),
    });
    expect(res.status).toBeLessThan(300);
    expect((await exceptionFor(posting.id))!.status).toBe('resolved');
  }, 300_000);

  it('a payout deposit deleted in QuickBooks: the deposit posting fails with an exception; a retry posts the deposit again', async () => {
    const invs = await openInvoices(stack);
    const inv = invs[0]!;
    const { paymentId } = await payInPortal(stack, await stack.portalToken(inv.client_id), [inv.id]);
    await postedPaymentPosting(paymentId);
    const payout = stack.sims.stripe.sim.runPayouts();
    expect(payout).not.toBeNull();
    const depositPosting = await eventually(
      async () => {
        const p = await withTenant(db(), stack.tenantId, (tx) =>
          tx.selectFrom('postings').selectAll().where('kind', '=', 'deposit').where('status', '=', 'posted').orderBy('created_at', 'desc').executeTakeFirst(),
        );
        return p?.remote_id ? p : null;
      },
      90_000,
      'the payout deposit posted',
    );
    const qbo = stack.sims.quickbooks.sim;
    const before = qbo.store.get('Deposit', depositPosting.remote_id!);
    deleteRecord(qbo.store, 'Deposit', { Id: before.Id, SyncToken: before.SyncToken });
    await runBooksCheck();
    const told = await eventually(
      async () => {
        const e = await exceptionFor(depositPosting.id);
        return e?.status === 'open' ? e : null;
      },
      90_000,
      'the exception about the deleted deposit',
    );
    expect(told).toMatchObject({ kind: 'books_record_gone', title: 'The payout deposit was deleted in QuickBooks' });
    const key = await stack.apiKey();
    const res = await fetch(`${stack.settleUrl}/api/v1/postings/${depositPosting.id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(202);
    const reposted = await eventually(
      async () => {
        const p = await withTenant(db(), stack.tenantId, (tx) =>
          tx.selectFrom('postings').selectAll().where('id', '=', depositPosting.id).executeTakeFirstOrThrow(),
        );
        return p.status === 'posted' && p.remote_id !== depositPosting.remote_id ? p : null;
      },
      90_000,
      'the deposit posted again',
    );
    const again = qbo.store.get('Deposit', reposted.remote_id!);
    expect(again['TotalAmt']).toBe(before['TotalAmt']);
    expect((await exceptionFor(depositPosting.id))!.status).toBe('resolved');
  }, 300_000);
});
