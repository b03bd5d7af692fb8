// A credit memo applied in the PSA, applied in Xero books (issue #11), end to end on real PostgreSQL with the
// ConnectWise and Xero simulators over HTTP: Settle collects only what is left; the books posting waits (not
// failed) with the memo's number while the PSA's export has not brought the credit note into Xero; once it is
// there, the flush allocates that credit note to the same invoice (PUT /CreditNotes/{id}/Allocations) — never
// creating one; asking again writes nothing twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, eventually, type Stack } from '../helpers/stack.ts';
import { engineCtx, newCompany, newInvoice, product, pullInvoice, q, todayUtc } from '../helpers/autopay.ts';
import { useXeroBooks } from '../helpers/xero-books.ts';
import { openBalanceMinor } from '../../src/db/queries/invoice-balance.ts';
import { checkCreditMemos } from '../../src/engine/credit-memos.ts';
import { wakeBooksFlush } from '../../src/engine/wake-books-flush.ts';
import type { RunningXeroSimulator } from '../../simulators/xero/index.ts';

let stack: Stack;
let xero: RunningXeroSimulator;
beforeAll(async () => {
  stack = await startStack({ companies: 1, invoices: 1 });
  xero = await useXeroBooks(stack);
}, 300_000);
afterAll(async () => {
  await stack?.close();
  await xero?.close();
});

const creditPostings = () => q(stack, (tx) => tx.selectFrom('postings').selectAll().where('kind', '=', 'credit_memo').execute());

describe('a credit memo applied in the PSA, with Xero books', () => {
  it('waits for the credit note, then allocates it to the same invoice in Xero once', { timeout: 300_000 }, async () => {
    const ctx = engineCtx(stack);
    const cw = stack.sims.connectwise;
    const companyId = newCompany(stack, 'Credit Co');
    const invoice = await newInvoice(stack, companyId, { lines: [product('Managed IT', '500.00')] });
    xero.sim.seedInvoice({ number: invoice.number, contactName: 'Credit Co', amount: (Number(invoice.totalMinor) / 100).toFixed(2), date: todayUtc() });
    const memo = cw.sim.createInvoice({ companyId, type: 'CreditMemo', lines: [product('Outage credit', '-80.00')] });
    await pullInvoice(stack, memo.id);
    cw.state.applyCreditMemo(invoice.cwId, memo.id, 5000n, todayUtc());
    await pullInvoice(stack, invoice.cwId);
    expect(await q(stack, (tx) => openBalanceMinor(tx, invoice.id))).toBe(invoice.totalMinor - 5000n);

    expect(await checkCreditMemos(ctx, stack.tenantId)).toBe(1);
    const posting = await eventually(async () => (await creditPostings())[0], 60_000, 'a credit memo posting');
    const waiting = await eventually(
      async () => (await creditPostings()).find((p) => p.waiting_for === 'invoice_in_books'),
      60_000,
      'the posting waiting for the credit note',
    );
    expect(waiting.status).toBe('pending');
    expect(waiting.last_error).toContain(`credit note ${memo.invoiceNumber} is not in Xero (yet)`);

    // The export runs; the next attempt allocates the note to the same invoice.
    xero.sim.seedCreditNote({ number: memo.invoiceNumber, contactName: 'Credit Co', amount: '80.00' });
    await q(stack, (tx) => tx.updateTable('postings').set({ next_attempt_at: new Date() }).where('id', '=', posting.id).execute());
    await wakeBooksFlush(stack.database.db, stack.tenantId);
    const posted = await eventually(async () => (await creditPostings()).find((p) => p.status === 'posted'), 60_000, 'the credit note allocated in Xero');
    const note = xero.sim.creditNote(memo.invoiceNumber)!;
    expect(note.allocations).toEqual([
      expect.objectContaining({ AllocationID: posted.remote_id, amountCents: 5000, InvoiceID: xero.sim.invoice(invoice.number)!.InvoiceID }),
    ]);
    const inv = xero.sim.invoice(invoice.number)!;
    expect(BigInt(inv.totalCents - inv.paidCents - inv.creditedCents)).toBe(invoice.totalMinor - 5000n);
    expect(xero.sim.store.creditNotes).toHaveLength(1); // never created one
    expect(xero.sim.livePayments()).toHaveLength(0);

    // Asking again finds nothing new; nothing is written twice.
    expect(await checkCreditMemos(ctx, stack.tenantId)).toBe(0);
    expect(await creditPostings()).toHaveLength(1);
    expect(note.allocations).toHaveLength(1);
  });
});
