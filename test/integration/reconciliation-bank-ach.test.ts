// Issue #11: the three-way reconciliation for bank ACH (NACHA) money, where the bank line is the bank's own
// BAI2 statement. Real PostgreSQL, the SFTP bank simulator, ConnectWise and QuickBooks Online simulators over
// HTTP. A settlement (file × effective date) → its books deposit → the statement's credit line, and a return
// → its books debit and the reversal of the returned payment → the statement's debit line. The bank's
// statement shows a different figure for each (a fee netted into the line): the report finds each as "bank
// line differs", with the statement's figure, and nothing else; the bank's corrected statement brings the
// drift to zero.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBankingDays } from '../../src/domain/rules/index.ts';
import { runAchCutoff } from '../../src/engine/ach-run-cutoff.ts';
import { pollAchBank } from '../../src/engine/ach-poll-bank.ts';
import { syncBooksCopy } from '../../src/engine/sync-books-copy.ts';
import { runReconciliation } from '../../src/engine/three-way-reconciliation.ts';
import { eventually } from '../helpers/stack.ts';
import { authorizeAccount, invoicesByClient, portalPost, q, startBankAchStack, type BankAchStack } from './bank-ach-stack.ts';

let s: BankAchStack;
beforeAll(async () => {
  s = await startBankAchStack({ companies: 2, invoices: 4 });
}, 180_000);
afterAll(async () => s?.close());

const ctx = () => s.stack.settle!.ctx;

/** Every posting Settle queued has been written (or refused): nothing in flight when the report runs. */
async function nothingPending(what: string): Promise<void> {
  await eventually(
    async () => ((await q(s)((tx) => tx.selectFrom('postings').select('id').where('status', '=', 'pending').execute())).length === 0 ? true : null),
    120_000,
    what,
  );
}

async function report() {
  await syncBooksCopy(ctx(), s.stack.tenantId);
  const run = await runReconciliation(ctx(), s.stack.tenantId, 'on_demand', 'system:test');
  const drifts = await q(s)((tx) => tx.selectFrom('reconciliation_drifts').selectAll().where('run_id', '=', run.runId).orderBy('reference').execute());
  return { run, drifts };
}

/** What the bank booked for a file (its credit, or a return's debit), replaced by another figure. */
function bankBooks(reference: string, direction: 'credit' | 'debit', amountCents: bigint): void {
  const i = s.bank.sim.ledger.findIndex((l) => l.customerReference === reference && l.direction === direction);
  expect(i).toBeGreaterThanOrEqual(0);
  s.bank.sim.ledger.splice(i, 1, { ...s.bank.sim.ledger[i]!, amountCents });
}

describe('three-way reconciliation of bank ACH money against the bank statement', () => {
  let fileName = '';
  let effective = '';
  let settleDay = '';
  let total = 0n;
  const payments: string[] = [];

  it('a settlement whose statement credit differs is found as such, with the statement figure, and nothing else', async () => {
    const clients = await invoicesByClient(s);
    for (const [i, c] of clients.slice(0, 2).entries()) {
      const acct = await authorizeAccount(s, c.clientId, { holderKind: 'business', accountNumber: `6666000${i}22` });
      const pay = await portalPost(s, c.clientId, 'pay-by-bank', { bank_account_id: acct.bank_account_id, invoices: [{ invoice_id: c.invoices[0]!.id }] });
      expect(pay.status).toBe(201);
      payments.push(pay.body['payment_id'] as string);
    }
    await runAchCutoff(s.at(s.day1, '09:15'), s.stack.tenantId);
    s.bank.sim.processInbound();
    const entries = await q(s)((tx) =>
      tx
        .selectFrom('ach_entries as e')
        .innerJoin('ach_files as f', 'f.id', 'e.file_id')
        .select(['e.amount_minor', 'e.effective_date', 'f.file_name'])
        .where('e.payment_id', 'in', payments)
        .execute(),
    );
    fileName = entries[0]!.file_name;
    effective = entries[0]!.effective_date!;
    total = entries.reduce((sum, e) => sum + e.amount_minor, 0n);
    // The bank's credit is 1.50 short of the file's debits (a fee it netted into the line).
    bankBooks(fileName, 'credit', total - 150n);
    s.bank.sim.writeStatement(effective);
    settleDay = addBankingDays(effective, 4);
    await pollAchBank(s.at(settleDay, '07:00'), s.stack.tenantId);
    const payout = await q(s)((tx) =>
      tx.selectFrom('payouts').selectAll().where('processor_payout_id', '=', `${fileName}:${effective}`).executeTakeFirstOrThrow(),
    );
    expect(payout.status).toBe('awaiting_statement'); // the matcher pairs equal amounts only
    await nothingPending('the payments and the settlement deposit written');

    const { run, drifts } = await report();
    expect(drifts.map((d) => [d.kind, d.reference, d.psa_minor, d.books_minor, d.bank_minor, d.difference_minor])).toEqual([
      ['bank_line_differs', `${fileName}:${effective}`, total, total, total - 150n, -150n],
    ]);
    expect(drifts[0]!.cause).toContain('the bank statement shows');
    expect(drifts[0]!.fix).toBeNull();
    expect(run.payoutsChecked).toBe(1);
  }, 400_000);

  it("a return whose statement debit differs is found against the return's reversal; the corrected statements bring drift to zero", async () => {
    const returned = await q(s)((tx) =>
      tx.selectFrom('ach_entries').select(['trace_number', 'amount_minor']).where('payment_id', '=', payments[0]!).executeTakeFirstOrThrow(),
    );
    const returnDay = addBankingDays(settleDay, 3);
    s.bank.sim.returnEntries([{ traceNumber: returned.trace_number!, code: 'R29' }], returnDay);
    // The bank takes back the debit and a 0.25 return fee in one line.
    bankBooks(fileName, 'debit', returned.amount_minor + 25n);
    s.bank.sim.writeStatement(returnDay);
    await pollAchBank(s.at(addBankingDays(returnDay, 1), '07:00'), s.stack.tenantId);
    const reference = `return:${fileName}:${returned.trace_number}`;
    await nothingPending("the return's reversal and the bank debit written");

    const { drifts } = await report();
    const byRef = (a: readonly unknown[], b: readonly unknown[]) => (String(a[1]) < String(b[1]) ? -1 : 1);
    const found = drifts.map((d) => [d.kind, d.reference, d.psa_minor, d.settle_minor, d.books_minor, d.bank_minor, d.difference_minor]).sort(byRef);
    expect(found).toEqual(
      [
        ['bank_line_differs', `${fileName}:${effective}`, total, total, total, total - 150n, -150n],
        // what the return took back, the books reversal of the payment, the books' bank debit, the statement line
        ['bank_line_differs', reference, returned.amount_minor, returned.amount_minor, returned.amount_minor, returned.amount_minor + 25n, -25n],
      ].sort(byRef),
    );
    expect(drifts.find((d) => d.reference === reference)!.cause).toMatch(/bank statement shows a debit of .* but the return took back/);

    // The bank corrects its statements (the fees booked as lines of their own): each line matches, zero drift.
    bankBooks(fileName, 'credit', total);
    bankBooks(fileName, 'debit', returned.amount_minor);
    s.bank.sim.writeStatement(effective);
    s.bank.sim.writeStatement(returnDay);
    await pollAchBank(s.at(addBankingDays(returnDay, 2), '07:00'), s.stack.tenantId);
    const matched = await q(s)((tx) => tx.selectFrom('payouts').select(['processor_payout_id', 'status']).where('processor', '=', 'bank-ach').execute());
    expect(matched.every((p) => p.status === 'matched')).toBe(true);
    await nothingPending('nothing left to write');
    const after = await report();
    expect(after.drifts.map((d) => `${d.kind} ${d.reference}: ${d.cause}`)).toEqual([]);
    expect(after.run.zeroDrift).toBe(true);
    expect(after.run.payoutsChecked).toBe(2);
  }, 400_000);
});
