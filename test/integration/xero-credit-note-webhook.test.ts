// Issue #11: a Xero credit-note webhook wakes the credit memo application that waits for that credit note.
// Real PostgreSQL, the ConnectWise and Xero simulators over HTTP, and the simulator's signed webhook
// (x-xero-signature) to Settle's own webhook URL. While the note is not in Xero the look-up leaves the posting
// waiting even though its invoice is there (before: it woke it, to wait again); when the PSA's export brings
// the note over, Xero's CREDITNOTE event — not the few-minute poll, which is pushed out of the test's reach —
// makes it due and the flush allocates the note.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, eventually, type Stack } from '../helpers/stack.ts';
import { engineCtx, newCompany, newInvoice, product, pullInvoice, q, todayUtc } from '../helpers/autopay.ts';
import { useXeroBooks } from '../helpers/xero-books.ts';
import { checkCreditMemos } from '../../src/engine/credit-memos.ts';
import { invoiceWatchJobKey, watchBooksInvoices } from '../../src/engine/watch-books-invoices.ts';
import type { RunningXeroSimulator } from '../../simulators/xero/index.ts';

let stack: Stack;
let xero: RunningXeroSimulator;
beforeAll(async () => {
  stack = await startStack({ companies: 1, invoices: 1 });
  xero = await useXeroBooks(stack);
  xero.sim.webhooks.configure(`${stack.settleUrl}/webhooks/${stack.slug}/xero`, xero.sim.webhooks.key);
  // Xero sends no event before its intent-to-receive check passes.
  expect(await xero.sim.webhooks.intentToReceive()).toBe('OK');
}, 300_000);
afterAll(async () => {
  await stack?.close();
  await xero?.close();
});

const creditPosting = async () => (await q(stack, (tx) => tx.selectFrom('postings').selectAll().where('kind', '=', 'credit_memo').execute()))[0];
const HOUR = 3_600_000;

describe('a Xero credit-note webhook', () => {
  it('wakes the application waiting for that credit note; the look-up alone leaves it waiting while the note is missing', { timeout: 300_000 }, async () => {
    const ctx = engineCtx(stack);
    const cw = stack.sims.connectwise;
    const companyId = newCompany(stack, 'Webhook Credit Co');
    const invoice = await newInvoice(stack, companyId, { lines: [product('Managed IT', '300.00')] });
    xero.sim.seedInvoice({ number: invoice.number, contactName: 'Webhook Credit Co', amount: (Number(invoice.totalMinor) / 100).toFixed(2), date: todayUtc() });
    const memo = cw.sim.createInvoice({ companyId, type: 'CreditMemo', lines: [product('Outage credit', '-40.00')] });
    await pullInvoice(stack, memo.id);
    cw.state.applyCreditMemo(invoice.cwId, memo.id, 4000n, todayUtc());
    await pullInvoice(stack, invoice.cwId);
    expect(await checkCreditMemos(ctx, stack.tenantId)).toBe(1);
    const waiting = await eventually(
      async () => {
        const p = await creditPosting();
        return p?.waiting_for === 'invoice_in_books' ? p : undefined;
      },
      60_000,
      'the posting waiting for the credit note',
    );
    expect(waiting.last_error).toContain(`credit note ${memo.invoiceNumber} is not in Xero (yet)`);

    // The invoice is in Xero, the credit note is not: the look-up does not wake it.
    expect(await watchBooksInvoices(ctx, stack.tenantId)).toBe('0 of 1 waiting postings have their invoice now');
    // Push polling out of reach: the next attempt an hour away, the queued look-up removed.
    const later = new Date(Date.now() + HOUR);
    await q(stack, (tx) => tx.updateTable('postings').set({ next_attempt_at: later }).where('id', '=', waiting.id).execute());
    await sql`SELECT graphile_worker.remove_job(${invoiceWatchJobKey(stack.tenantId)})`.execute(stack.database.db);

    // Another credit note reaching Xero is an event too, but not the awaited one: the posting keeps waiting.
    xero.sim.seedCreditNote({ number: `${memo.invoiceNumber}-OTHER`, contactName: 'Webhook Credit Co', amount: '5.00' });
    await eventually(async () => xero.sim.webhooks.deliveries.at(-1)?.status === 200, 20_000, 'the unrelated CREDITNOTE event accepted');

    // The PSA's export brings the note over: Xero's CREDITNOTE event reaches Settle, signed, and the posting posts.
    xero.sim.seedCreditNote({ number: memo.invoiceNumber, contactName: 'Webhook Credit Co', amount: '40.00' });
    const posted = await eventually(
      async () => {
        const p = await creditPosting();
        return p?.status === 'posted' ? p : undefined;
      },
      60_000,
      'the credit note allocated in Xero after its webhook',
    );
    const last = xero.sim.webhooks.deliveries.at(-1)!;
    expect(last.status).toBe(200);
    expect(JSON.parse(last.body).events[0]).toMatchObject({ eventCategory: 'CREDITNOTE', resourceId: xero.sim.creditNote(memo.invoiceNumber)!.CreditNoteID });
    const note = xero.sim.creditNote(memo.invoiceNumber)!;
    expect(note.allocations).toEqual([expect.objectContaining({ AllocationID: posted.remote_id, amountCents: 4000 })]);
    expect(xero.sim.creditNote(`${memo.invoiceNumber}-OTHER`)!.allocations).toHaveLength(0);
  });
});
