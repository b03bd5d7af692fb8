// Item 5 of issue #6: direct bank ACH money reaches the books. Real PostgreSQL, the SFTP bank simulator and
// the QuickBooks simulator over HTTP. A file of debits settles → one QuickBooks Deposit for the file and its
// effective date, equal to the credit on the bank's BAI2 statement, and matched to that line; a later return
// → the bank's debit line, booked against clearing in QuickBooks and matched; a bank line Settle has nothing
// for → an exception naming the statement and line. The ledger stays balanced throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBankingDays, addDays } from '../../src/domain/rules/index.ts';
import { runAchCutoff } from '../../src/engine/ach-run-cutoff.ts';
import { pollAchBank } from '../../src/engine/ach-poll-bank.ts';
import { eventually } from '../helpers/stack.ts';
import { authorizeAccount, invoicesByClient, portalPost, q, startBankAchStack, type BankAchStack } from './bank-ach-stack.ts';

type Json = Record<string, unknown>;
let s: BankAchStack;
const payments: string[] = [];
let fileName = '';
let effective = '';
let total = 0n;
let settleDay = '';
beforeAll(async () => {
  s = await startBankAchStack({ companies: 2, invoices: 4 });
});
afterAll(async () => s?.close());

const marker = (key: string) => (e: Json) => String(e['PrivateNote'] ?? '').includes(key);
const cents = (amount: unknown): bigint => BigInt(Math.round(Number(amount) * 100));

async function ledgerBalance(account: string): Promise<bigint> {
  const rows = await q(s)((tx) => tx.selectFrom('ledger_entries').select(['direction', 'amount_minor']).where('account', '=', account).execute());
  return rows.reduce((sum, r) => sum + (r.direction === 'debit' ? r.amount_minor : -r.amount_minor), 0n);
}

async function ledgerBalanced(): Promise<void> {
  const rows = await q(s)((tx) => tx.selectFrom('ledger_entries').select(['journal_id', 'direction', 'amount_minor']).execute());
  const by = new Map<string, bigint>();
  for (const r of rows) by.set(r.journal_id, (by.get(r.journal_id) ?? 0n) + (r.direction === 'debit' ? r.amount_minor : -r.amount_minor));
  expect([...by.values()].filter((v) => v !== 0n)).toEqual([]);
}

describe('bank ACH money in the books, matched to the bank statement (BAI2)', () => {
  it('a file of debits settles: one QuickBooks Deposit for the file and effective date, equal to the statement credit, matched', async () => {
    const clients = await invoicesByClient(s);
    for (const [i, c] of clients.slice(0, 2).entries()) {
      const acct = await authorizeAccount(s, c.clientId, { holderKind: 'business', accountNumber: `7777000${i}22` });
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
        .select(['e.payment_id', 'e.amount_minor', 'e.effective_date', 'e.trace_number', 'f.file_name'])
        .where('e.payment_id', 'in', payments)
        .execute(),
    );
    expect(entries).toHaveLength(2);
    fileName = entries[0]!.file_name;
    effective = entries[0]!.effective_date!;
    total = entries.reduce((sum, e) => sum + e.amount_minor, 0n);

    // The bank credited the file's debits on their effective date; its statement for that day says so.
    const statement = s.bank.sim.writeStatement(effective);
    settleDay = addBankingDays(effective, 4);
    await pollAchBank(s.at(settleDay, '07:00'), s.stack.tenantId);

    const states = await q(s)((tx) => tx.selectFrom('payments').select('state').where('id', 'in', payments).execute());
    expect(states.map((p) => p.state)).toEqual(['succeeded', 'succeeded']);
    const payout = await q(s)((tx) => tx.selectFrom('payouts').selectAll().where('processor', '=', 'bank-ach').executeTakeFirstOrThrow());
    expect(payout).toMatchObject({ processor_payout_id: `${fileName}:${effective}`, amount_minor: total, arrival_date: effective, status: 'matched' });
    const line = await q(s)((tx) =>
      tx
        .selectFrom('bank_statement_lines as l')
        .innerJoin('ach_inbound_files as f', 'f.id', 'l.inbound_file_id')
        .select(['l.payout_id', 'l.amount_minor', 'l.direction', 'l.type_code', 'l.customer_reference', 'f.remote_name', 'f.kind'])
        .executeTakeFirstOrThrow(),
    );
    expect(line).toMatchObject({
      payout_id: payout.id,
      amount_minor: total,
      direction: 'credit',
      customer_reference: fileName,
      remote_name: statement,
      kind: 'statement',
    });

    // One QuickBooks Deposit for the file and date, equal to the bank's credit.
    const deposit = await eventually(
      async () => s.stack.sims.quickbooks.sim.deposits().find(marker(`payout:${payout.id}:`)) ?? null,
      60_000,
      'the settlement deposit in QuickBooks',
    );
    expect(cents(deposit['TotalAmt'])).toBe(total);
    expect(deposit['TxnDate']).toBe(effective);
    expect(s.stack.sims.quickbooks.sim.deposits().filter(marker(`payout:${payout.id}:`))).toHaveLength(1);
    // Nothing left in Undeposited Funds: each payment is linked (or on the clearing line until it is in the books).
    await eventually(
      async () =>
        (await q(s)((tx) => tx.selectFrom('postings').select(['status']).where('payout_id', '=', payout.id).executeTakeFirstOrThrow())).status === 'posted' ||
        null,
      60_000,
      'the deposit posting recorded as posted',
    );
    expect(await ledgerBalance('bank')).toBe(total);
    expect(await ledgerBalance('processor_clearing')).toBe(0n);
    await ledgerBalanced();

    // Reading again — and the same statement sent again under another name — changes nothing: no second
    // deposit, no second line.
    s.bank.sim.dropRaw('BAI_resent.bai', s.bank.sim.fs.get(`${s.bank.outboundDir}/${statement}`)!.data);
    const again = await pollAchBank(s.at(addBankingDays(settleDay, 1), '07:00'), s.stack.tenantId);
    expect(again.processed).toEqual([{ name: 'BAI_resent.bai', outcome: 'statement:0' }]);
    expect(await q(s)((tx) => tx.selectFrom('payouts').select('id').where('processor', '=', 'bank-ach').execute())).toHaveLength(1);
    expect(await q(s)((tx) => tx.selectFrom('bank_statement_lines').select('id').execute())).toHaveLength(1);
  });

  it('a later return is its own bank debit line: booked against clearing in QuickBooks and matched', async () => {
    const returned = await q(s)((tx) =>
      tx.selectFrom('ach_entries').select(['trace_number', 'amount_minor', 'payment_id']).where('payment_id', '=', payments[0]!).executeTakeFirstOrThrow(),
    );
    const returnDay = addBankingDays(settleDay, 3);
    // R29 on a corporate account after settlement: the bank takes the money back that day.
    s.bank.sim.returnEntries([{ traceNumber: returned.trace_number!, code: 'R29' }], returnDay);
    s.bank.sim.writeStatement(returnDay);
    await pollAchBank(s.at(addBankingDays(returnDay, 1), '07:00'), s.stack.tenantId);

    expect((await q(s)((tx) => tx.selectFrom('payments').select('state').where('id', '=', payments[0]!).executeTakeFirstOrThrow())).state).toBe('returned');
    const debit = await q(s)((tx) =>
      tx.selectFrom('payouts').selectAll().where('processor', '=', 'bank-ach').where('amount_minor', '<', 0n).executeTakeFirstOrThrow(),
    );
    expect(debit).toMatchObject({
      processor_payout_id: `return:${fileName}:${returned.trace_number}`,
      amount_minor: -returned.amount_minor,
      status: 'matched',
    });
    const line = await q(s)((tx) => tx.selectFrom('bank_statement_lines').selectAll().where('direction', '=', 'debit').executeTakeFirstOrThrow());
    expect(line).toMatchObject({ payout_id: debit.id, amount_minor: returned.amount_minor, type_code: '455', customer_reference: fileName });

    // In QuickBooks: a journal entry, Dr the clearing (payout-adjustment) account / Cr the bank.
    const entry = await eventually(
      async () => s.stack.sims.quickbooks.sim.journalEntries().find(marker(`payout:${debit.id}:`)) ?? null,
      60_000,
      'the return debit in QuickBooks',
    );
    // Dated the day Settle learned of the return (the return file's day), here the bank day after its debit.
    expect(entry['TxnDate']).toBe(addBankingDays(returnDay, 1));
    const lines = entry['Line'] as Json[];
    const side = (t: string) => lines.find((l) => (l['JournalEntryLineDetail'] as Json)['PostingType'] === t)!;
    expect(cents(side('Debit')['Amount'])).toBe(returned.amount_minor);
    expect(cents(side('Credit')['Amount'])).toBe(returned.amount_minor);
    const bankAccount = ((s.stack.sims.quickbooks.sim.deposits()[0]!['DepositToAccountRef'] as Json)['value'] as string) ?? '';
    expect(((side('Credit')['JournalEntryLineDetail'] as Json)['AccountRef'] as Json)['value']).toBe(bankAccount);
    // The return's reversal credited that same clearing account: the pair nets to zero there.
    const reversal = await eventually(
      async () =>
        s.stack.sims.quickbooks.sim
          .journalEntries()
          .find((j) => j !== entry && String(j['PrivateNote'] ?? '').includes(payments[0]!) && !marker(`payout:${debit.id}:`)(j)) ?? null,
      60_000,
      'the reversal of the returned payment in QuickBooks',
    ).catch(() => null);
    if (reversal) {
      const credited = (reversal['Line'] as Json[]).find((l) => (l['JournalEntryLineDetail'] as Json)['PostingType'] === 'Credit')!;
      expect(((credited['JournalEntryLineDetail'] as Json)['AccountRef'] as Json)['value']).toBe(
        ((side('Debit')['JournalEntryLineDetail'] as Json)['AccountRef'] as Json)['value'],
      );
    }
    // Staff see both bank lines, matched, with their books postings (GET /api/v1/ach/settlements).
    const api = await fetch(`${s.stack.settleUrl}/api/v1/ach/settlements`, { headers: { authorization: `Bearer ${await s.stack.apiKey()}` } });
    expect(api.status).toBe(200);
    const rows = ((await api.json()) as { data: Json[] }).data;
    expect(rows.map((r) => [r['kind'], r['amount_minor'], r['status'], (r['books'] as Json)['kind'], (r['statement'] as Json)['type_code']]).sort()).toEqual(
      [
        ['return', (-returned.amount_minor).toString(), 'matched', 'bank_withdrawal', '455'],
        ['settlement', total.toString(), 'matched', 'deposit', '165'],
      ].sort(),
    );
    expect(await ledgerBalance('bank')).toBe(total - returned.amount_minor);
    expect(await ledgerBalance('processor_clearing')).toBe(0n);
    await ledgerBalanced();
  });

  it('a bank line Settle booked nothing for becomes an exception naming the statement and line once a week has passed', async () => {
    const day = addBankingDays(settleDay, 6);
    s.bank.sim.ledger.push({
      on: day,
      direction: 'credit',
      typeCode: '169',
      amountCents: 4321n,
      bankReference: 'B-ODD',
      customerReference: 'NOT_SETTLE.ach',
      text: 'SOMEONE ELSE',
    });
    const statement = s.bank.sim.writeStatement(day);
    await pollAchBank(s.at(addBankingDays(day, 1), '07:00'), s.stack.tenantId);
    const none = await q(s)((tx) => tx.selectFrom('exceptions').select('id').where('kind', '=', 'bank_line_unmatched').execute());
    expect(none).toEqual([]); // not yet: its settlement may still be on its way
    await pollAchBank(s.at(addDays(day, 8), '07:00'), s.stack.tenantId);
    const ex = await q(s)((tx) => tx.selectFrom('exceptions').selectAll().where('kind', '=', 'bank_line_unmatched').executeTakeFirstOrThrow());
    expect(ex.status).toBe('open');
    expect(ex.detail).toContain(statement);
    expect(ex.detail).toMatch(/line \d+/);
    expect(ex.title).toContain('43.21');
  });

  it('a settlement the bank has not reported a week on becomes an exception, which closes itself when the statement shows it', async () => {
    const clients = await invoicesByClient(s);
    // A client that still owes an invoice, paying from a newly authorized account.
    const client = clients.find((c) => c.invoices.length > 0)!;
    const invoice = client.invoices[0]!;
    const account = await authorizeAccount(s, client.clientId, { holderKind: 'business', accountNumber: '8888000133' });
    const pay = await portalPost(s, client.clientId, 'pay-by-bank', { bank_account_id: account.bank_account_id, invoices: [{ invoice_id: invoice.id }] });
    expect(pay.status).toBe(201);
    const day = addBankingDays(settleDay, 12);
    await runAchCutoff(s.at(day, '09:15'), s.stack.tenantId);
    s.bank.sim.processInbound();
    const entry = await q(s)((tx) =>
      tx
        .selectFrom('ach_entries as e')
        .innerJoin('ach_files as f', 'f.id', 'e.file_id')
        .select(['e.effective_date', 'e.amount_minor', 'f.file_name'])
        .where('e.payment_id', '=', pay.body['payment_id'] as string)
        .executeTakeFirstOrThrow(),
    );
    // Settled and deposited, but no statement for its day arrives.
    await pollAchBank(s.at(addBankingDays(entry.effective_date!, 4), '07:00'), s.stack.tenantId);
    const payout = await q(s)((tx) =>
      tx.selectFrom('payouts').selectAll().where('processor_payout_id', '=', `${entry.file_name}:${entry.effective_date}`).executeTakeFirstOrThrow(),
    );
    expect(payout.status).toBe('awaiting_statement');
    await pollAchBank(s.at(addDays(entry.effective_date!, 9), '07:00'), s.stack.tenantId);
    const ex = await q(s)((tx) => tx.selectFrom('exceptions').selectAll().where('kind', '=', 'bank_ach_unmatched').executeTakeFirstOrThrow());
    expect(ex.status).toBe('open');
    expect(ex.title).toContain(payout.processor_payout_id);
    // The bank delivers the missing statement: matched, and the exception closes itself.
    s.bank.sim.writeStatement(entry.effective_date!);
    await pollAchBank(s.at(addDays(entry.effective_date!, 10), '07:00'), s.stack.tenantId);
    expect((await q(s)((tx) => tx.selectFrom('payouts').select('status').where('id', '=', payout.id).executeTakeFirstOrThrow())).status).toBe('matched');
    expect((await q(s)((tx) => tx.selectFrom('exceptions').select('status').where('id', '=', ex.id).executeTakeFirstOrThrow())).status).toBe('resolved');
    await ledgerBalanced();
  });
});
