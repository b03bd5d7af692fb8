// Credit memos from the PSA, applied in the books (issue #11), end to end on real PostgreSQL with the
// ConnectWise and QuickBooks Online simulators over HTTP. Staff apply part of a credit memo to an invoice in
// ConnectWise: Settle now collects only what is left (the PSA's balance); the per-minute sweep keeps a check
// queued; the check finds the invoice reduced beyond Settle's payments, asks ConnectWise, and queues one books
// posting for the application; while the PSA's export has not brought the memo into QuickBooks the posting waits (not
// failed) with the memo's number; once it is there, the flush applies that memo to the same invoice with a
// zero Payment — never creating a memo; asking again changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startStack, eventually, type Stack } from '../helpers/stack.ts';
import { engineCtx, newCompany, newInvoice, product, pullInvoice, q, todayUtc } from '../helpers/autopay.ts';
import { money } from '../../src/domain/money.ts';
import { openBalanceMinor } from '../../src/db/queries/invoice-balance.ts';
import { checkCreditMemos } from '../../src/engine/credit-memos.ts';
import { sweep } from '../../src/engine/sweep.ts';
import { wakeBooksFlush } from '../../src/engine/wake-books-flush.ts';
import { invoicePage } from '../../src/db/queries/invoice-timeline.ts';

type Json = Record<string, any>;
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ companies: 1, invoices: 1 });
}, 300_000);
afterAll(async () => stack?.close());

const creditPostings = () => q(stack, (tx) => tx.selectFrom('postings').selectAll().where('kind', '=', 'credit_memo').execute());

describe('a credit memo applied in the PSA', () => {
  it('lowers what Settle collects and is applied in the books to the same invoice once the memo is there', { timeout: 300_000 }, async () => {
    const ctx = engineCtx(stack);
    const qbo = stack.sims.quickbooks.sim;
    const cw = stack.sims.connectwise;
    const companyId = newCompany(stack, 'Credit Co');
    const invoice = await newInvoice(stack, companyId, { lines: [product('Managed IT', '500.00')] });
    qbo.seedInvoice({ docNumber: invoice.number, customerName: 'Credit Co', amount: money(invoice.totalMinor, 'USD'), txnDate: todayUtc() });
    const memo = cw.sim.createInvoice({ companyId, type: 'CreditMemo', lines: [product('Outage credit', '-80.00')] });
    await pullInvoice(stack, memo.id);

    // Staff apply 50.00 of the memo to the invoice in ConnectWise; Settle hears of the invoice's change.
    cw.state.applyCreditMemo(invoice.cwId, memo.id, 5000n, todayUtc());
    await pullInvoice(stack, invoice.cwId);
    expect(await q(stack, (tx) => openBalanceMinor(tx, invoice.id))).toBe(invoice.totalMinor - 5000n);

    // The per-minute sweep keeps the check queued every few minutes; it runs here now (the job's own function).
    await sweep(ctx);
    const queued = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE key = ${`check-credit-memos:${stack.tenantId}`}`.execute(stack.database.db);
    expect(queued.rows[0]!.n).toBe(1);
    expect(await checkCreditMemos(ctx, stack.tenantId)).toBe(1);
    const posting = await eventually(async () => (await creditPostings())[0], 60_000, 'a credit memo posting');
    expect(posting).toMatchObject({ target: 'accounting', invoice_id: invoice.id, amount_minor: 5000n });
    const app = await q(stack, (tx) => tx.selectFrom('credit_memo_applications').selectAll().executeTakeFirstOrThrow());
    expect(app.credit_memo_number).toBe(memo.invoiceNumber);

    // The PSA's export has not created the memo in QuickBooks yet: the posting waits, it has not failed.
    const waiting = await eventually(
      async () => (await creditPostings()).find((p) => p.waiting_for === 'invoice_in_books'),
      60_000,
      'the posting waiting for the memo',
    );
    expect(waiting.status).toBe('pending');
    expect(waiting.last_error).toContain(`credit memo ${memo.invoiceNumber} is not in QuickBooks (yet)`);
    expect(qbo.payments()).toHaveLength(0);

    // The export runs; the next attempt applies the memo to the same invoice.
    qbo.seedCreditMemo({ docNumber: memo.invoiceNumber, customerName: 'Credit Co', amount: '80.00' });
    await q(stack, (tx) => tx.updateTable('postings').set({ next_attempt_at: new Date() }).where('id', '=', posting.id).execute());
    await wakeBooksFlush(stack.database.db, stack.tenantId);
    const posted = await eventually(async () => (await creditPostings()).find((p) => p.status === 'posted'), 60_000, 'the credit memo applied in QuickBooks');
    const payment = qbo.payments().find((p) => p.Id === posted.remote_id) as Json;
    expect(payment['TotalAmt']).toBe(0);
    const booksInvoice = qbo.store.list('Invoice').find((i) => i['DocNumber'] === invoice.number) as Json;
    const booksMemo = qbo.creditMemos().find((m) => m['DocNumber'] === memo.invoiceNumber) as Json;
    expect(payment['Line']).toEqual([
      { Amount: 50, LinkedTxn: [{ TxnId: booksInvoice['Id'], TxnType: 'Invoice' }] },
      { Amount: 50, LinkedTxn: [{ TxnId: booksMemo['Id'], TxnType: 'CreditMemo' }] },
    ]);
    expect(booksInvoice['Balance']).toBe(Number(invoice.totalMinor - 5000n) / 100);
    expect(booksMemo['RemainingCredit']).toBe(30);
    expect(qbo.creditMemos()).toHaveLength(1);

    // Staff see it on the invoice's page, in the books' lane of its timeline.
    const page = (await q(stack, (tx) => invoicePage(tx, invoice.id)))!;
    expect(page.timeline.find((e) => e.title === 'Credit memo applied posted to the books')).toMatchObject({ outcome: 'ok', remoteId: posted.remote_id });

    // Asking again (the invoice unchanged, or changed for another reason) finds nothing new; nothing is written twice.
    expect(await checkCreditMemos(ctx, stack.tenantId)).toBe(0);
    await q(stack, (tx) => tx.updateTable('invoices').set({ credits_checked_psa_at: null }).where('id', '=', invoice.id).execute());
    expect(await checkCreditMemos(ctx, stack.tenantId)).toBe(0);
    expect(await creditPostings()).toHaveLength(1);
    expect(qbo.payments()).toHaveLength(1);
  });
});
