// Bank ACH, the way back: return files (addenda 99) and notifications of change (addenda 98) dropped by the
// bank in its SFTP outbox, read by Settle and mapped through the rules (payments-rules.md §2.4-§2.6):
// R01/R09 presented again with RETRY PYMT and the same company name, ID and amount, at most twice; R10
// revokes the mandate and is never retried; a C01 correction is applied to the account before the next entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBankingDays } from '../../src/domain/rules/index.ts';
import { runAchCutoff } from '../../src/engine/ach-run-cutoff.ts';
import { pollAchBank } from '../../src/engine/ach-poll-bank.ts';
import { authorizeAccount, COMPANY, invoicesByClient, portalPost, q, startBankAchStack, type BankAchStack } from './bank-ach-stack.ts';

let s: BankAchStack;
let clients: Awaited<ReturnType<typeof invoicesByClient>>;
/** The test's bank day; only moves forward. */
let cursor: string;
let later: { paymentId: string; invoiceId: string; trace: string; accountId: string };
beforeAll(async () => {
  s = await startBankAchStack({ companies: 3, invoices: 9 });
  clients = await invoicesByClient(s);
  cursor = s.day1;
});
afterAll(async () => s?.close());

/** Build and deliver the file for `day`'s first cut-off, let the bank take it, and return what it received. */
async function sendFile(day: string) {
  const r = await runAchCutoff(s.at(day, '09:15'), s.stack.tenantId);
  const before = s.bank.sim.received.length;
  s.bank.sim.processInbound();
  return { built: r.built, received: s.bank.sim.received.slice(before) };
}

const paymentState = (id: string) => q(s)((tx) => tx.selectFrom('payments').select(['state', 'failure_code']).where('id', '=', id).executeTakeFirstOrThrow());

describe('bank ACH returns and notifications of change', () => {
  it('R01 is presented again with RETRY PYMT, same company and amount, at most twice; the third return fails the payment', async () => {
    const a = clients[0]!;
    const acct = await authorizeAccount(s, a.clientId, { holderKind: 'business', accountNumber: '4444333322' });
    const invoice = a.invoices[0]!;
    const pay = await portalPost(s, a.clientId, 'pay-by-bank', { bank_account_id: acct.bank_account_id, invoices: [{ invoice_id: invoice.id }] });
    const paymentId = pay.body['payment_id'] as string;

    let day = cursor;
    const first = await sendFile(day);
    expect(first.received).toHaveLength(1);
    const original = first.received[0]!;
    expect(original.companyEntryDescription).toBe('INVOICES');

    const presentments = [original];
    for (const [i, code] of (['R01', 'R09'] as const).entries()) {
      s.bank.sim.returnEntries([{ traceNumber: presentments.at(-1)!.traceNumber, code }]);
      const returnedOn = addBankingDays(day, 2);
      const polled = await pollAchBank(s.at(returnedOn, '07:00'), s.stack.tenantId);
      expect(polled.processed.some((p) => p.outcome === 'reinitiated:1')).toBe(true);
      expect((await paymentState(paymentId)).state).toBe('processing');
      const retry = await q(s)((tx) =>
        tx.selectFrom('ach_entries').selectAll().where('payment_id', '=', paymentId).where('status', '=', 'pending').executeTakeFirstOrThrow(),
      );
      // §3.3 suggestion as data: +3 banking days after the first return, +7 after the second.
      expect(retry.not_before).toBe(addBankingDays(returnedOn, i === 0 ? 3 : 7));
      // Not before its day …
      expect((await runAchCutoff(s.at(addBankingDays(returnedOn, 1), '09:15'), s.stack.tenantId)).built).toBeNull();
      // … then in the first file of that day.
      day = retry.not_before;
      const sent = await sendFile(day);
      expect(sent.received).toHaveLength(1);
      const again = sent.received[0]!;
      expect(again).toMatchObject({
        companyEntryDescription: 'RETRY PYMT',
        companyName: original.companyName,
        companyId: original.companyId,
        amountCents: original.amountCents,
        accountNumber: original.accountNumber,
      });
      presentments.push(again);
    }
    expect(presentments.map((p) => p.amountCents)).toEqual([invoice.total_minor, invoice.total_minor, invoice.total_minor]);

    s.bank.sim.returnEntries([{ traceNumber: presentments.at(-1)!.traceNumber, code: 'R01' }]);
    const last = await pollAchBank(s.at(addBankingDays(day, 2), '07:00'), s.stack.tenantId);
    expect(last.processed.some((p) => p.outcome === 'payment_failed:1')).toBe(true);
    expect(await paymentState(paymentId)).toEqual({ state: 'failed', failure_code: 'R01' });
    const notice = await q(s)((tx) =>
      tx.selectFrom('ach_entry_notices').select(['outcome', 'detail']).where('outcome', '=', 'payment_failed').executeTakeFirstOrThrow(),
    );
    expect(notice.detail['reason']).toBe('limit_reached');
    expect(await q(s)((tx) => tx.selectFrom('ach_entries').select('id').where('payment_id', '=', paymentId).execute())).toHaveLength(3);
    expect((await sendFile(addBankingDays(day, 10))).built).toBeNull();
    const inv = await q(s)((tx) => tx.selectFrom('invoices').select('status').where('id', '=', invoice.id).executeTakeFirstOrThrow());
    expect(inv.status).toBe('open');
    // The client heard about each return, once each.
    const emails = await q(s)((tx) =>
      tx.selectFrom('notifications').select(['subject', 'body_text']).where('kind', '=', 'ach_returned').where('client_id', '=', a.clientId).execute(),
    );
    expect(emails).toHaveLength(3);
    expect(emails.filter((e) => /present the debit to your bank again/.test(e.body_text))).toHaveLength(2);
    cursor = addBankingDays(day, 12); // the next cases happen later
  });

  it('the same return file read again (under another name) changes nothing', async () => {
    const files = s.bank.sim.outbox().filter((n) => n.startsWith('RET_'));
    const content = s.bank.sim.fs.get(`${s.bank.outboundDir}/${files[0]}`)!.data;
    s.bank.sim.dropRaw('RET_again.ach', content);
    const before = await q(s)((tx) => tx.selectFrom('ach_entries').select('id').execute());
    const r = await pollAchBank(s.at(cursor, '07:00'), s.stack.tenantId);
    expect(r.processed).toEqual([{ name: 'RET_again.ach', outcome: 'already applied:1' }]);
    expect(await q(s)((tx) => tx.selectFrom('ach_entries').select('id').execute())).toHaveLength(before.length);
  });

  it('R10 revokes the mandate: the payment fails, a debit still waiting for that account is cancelled, and no new debit is accepted', async () => {
    const b = clients[1]!;
    const acct = await authorizeAccount(s, b.clientId, { holderKind: 'personal', accountNumber: '123123123', holderName: 'Sam Person' });
    // Validate the WEB account first (its prenote passes quietly).
    await sendFile(cursor);
    const validatedOn = addBankingDays(cursor, 5);
    await pollAchBank(s.at(validatedOn, '07:00'), s.stack.tenantId);
    const first = await portalPost(s, b.clientId, 'pay-by-bank', { bank_account_id: acct.bank_account_id, invoices: [{ invoice_id: b.invoices[0]!.id }] });
    const sent = await sendFile(validatedOn);
    expect(sent.received).toHaveLength(1);
    const second = await portalPost(s, b.clientId, 'pay-by-bank', { bank_account_id: acct.bank_account_id, invoices: [{ invoice_id: b.invoices[1]!.id }] });
    expect(second.status).toBe(201);

    s.bank.sim.returnEntries([{ traceNumber: sent.received[0]!.traceNumber, code: 'R10' }]);
    const r = await pollAchBank(s.at(addBankingDays(validatedOn, 3), '07:00'), s.stack.tenantId);
    expect(r.processed.some((p) => p.outcome === 'payment_failed:1')).toBe(true);
    expect(await paymentState(first.body['payment_id'] as string)).toEqual({ state: 'failed', failure_code: 'R10' });
    expect(await paymentState(second.body['payment_id'] as string)).toMatchObject({ state: 'failed', failure_code: 'R10' });
    const account = await q(s)((tx) =>
      tx
        .selectFrom('ach_bank_accounts as a')
        .innerJoin('ach_mandates as m', 'm.bank_account_id', 'a.id')
        .select(['a.status', 'm.revoked_at', 'm.revoked_reason'])
        .where('a.id', '=', acct.bank_account_id)
        .executeTakeFirstOrThrow(),
    );
    expect(account.status).toBe('revoked');
    expect(account.revoked_at).not.toBeNull();
    expect(account.revoked_reason).toMatch(/^R10/);
    // Never retried: nothing for this account in any later file.
    expect(
      await q(s)((tx) =>
        tx.selectFrom('ach_entries').select('id').where('bank_account_id', '=', acct.bank_account_id).where('status', '=', 'pending').execute(),
      ),
    ).toHaveLength(0);
    const again = await portalPost(s, b.clientId, 'pay-by-bank', { bank_account_id: acct.bank_account_id, invoices: [{ invoice_id: b.invoices[1]!.id }] });
    expect(again.status).toBe(409);
    expect((again.body['error'] as { message: string }).message).toMatch(/revoked/);
    const audit = await q(s)((tx) => tx.selectFrom('audit_log').select('action').where('action', '=', 'ach_mandate.revoked').execute());
    expect(audit).toHaveLength(1);
    cursor = addBankingDays(validatedOn, 5);
  });

  it('a C01 notification of change corrects the stored account number before the next entry', async () => {
    const c = clients[2]!;
    const acct = await authorizeAccount(s, c.clientId, { holderKind: 'business', accountNumber: '11112222' });
    await portalPost(s, c.clientId, 'pay-by-bank', { bank_account_id: acct.bank_account_id, invoices: [{ invoice_id: c.invoices[0]!.id }] });
    const sent = await sendFile(cursor);
    expect(sent.received[0]!.accountNumber).toBe('11112222');
    s.bank.sim.notifyChange([{ traceNumber: sent.received[0]!.traceNumber, code: 'C01', correctedData: '99998888'.padEnd(29) }]);
    const noticeDay = addBankingDays(cursor, 2);
    const r = await pollAchBank(s.at(noticeDay, '07:00'), s.stack.tenantId);
    expect(r.processed.some((p) => p.outcome === 'noc_applied:1')).toBe(true);
    const row = await q(s)((tx) => tx.selectFrom('ach_bank_accounts').selectAll().where('id', '=', acct.bank_account_id).executeTakeFirstOrThrow());
    expect(row.account_last4).toBe('8888');
    expect(row.account_sealed).not.toContain('99998888');
    expect(s.box.open(row.account_sealed, `data:${s.stack.tenantId}:ach-account`)).toBe('99998888');
    const audit = await q(s)((tx) => tx.selectFrom('audit_log').select('detail').where('action', '=', 'ach_bank_account.corrected').executeTakeFirstOrThrow());
    expect(audit.detail).toMatchObject({ code: 'C01', fields: ['accountNumber'], last4_before: '2222', last4_after: '8888' });
    expect(JSON.stringify(audit.detail)).not.toContain('99998888');
    // The NOC is not a return: the debit itself still settles.
    expect(
      (await paymentState((await q(s)((tx) => tx.selectFrom('payments').select('id').where('client_id', '=', c.clientId).executeTakeFirstOrThrow())).id)).state,
    ).toBe('processing');

    const second = await portalPost(s, c.clientId, 'pay-by-bank', { bank_account_id: acct.bank_account_id, invoices: [{ invoice_id: c.invoices[1]!.id }] });
    cursor = addBankingDays(noticeDay, 1);
    const next = await sendFile(cursor);
    expect(next.received).toHaveLength(1);
    expect(next.received[0]).toMatchObject({ accountNumber: '99998888', companyName: COMPANY.companyName });
    later = {
      paymentId: second.body['payment_id'] as string,
      invoiceId: c.invoices[1]!.id,
      trace: next.received[0]!.traceNumber,
      accountId: acct.bank_account_id,
    };
  });

  it('a return after the payment succeeded reverses it through the payment lifecycle: invoice owed again, mandate revoked, staff exception', async () => {
    const settledDay = addBankingDays(cursor, 5);
    await pollAchBank(s.at(settledDay, '07:00'), s.stack.tenantId);
    expect((await paymentState(later.paymentId)).state).toBe('succeeded');
    expect((await q(s)((tx) => tx.selectFrom('invoices').select('status').where('id', '=', later.invoiceId).executeTakeFirstOrThrow())).status).toBe('paid');

    // A business account's "not authorized" (R29) after the debit settled: late, but the bank has returned
    // it, and the money is gone (consumer accounts: R07/R10 up to 60 days, §2.4).
    s.bank.sim.returnEntries([{ traceNumber: later.trace, code: 'R29' }]);
    const r = await pollAchBank(s.at(addBankingDays(settledDay, 10), '07:00'), s.stack.tenantId);
    expect(r.processed.some((p) => p.outcome === 'returned_after_success:1')).toBe(true);
    expect((await paymentState(later.paymentId)).state).toBe('returned');
    const account = await q(s)((tx) => tx.selectFrom('ach_bank_accounts').select('status').where('id', '=', later.accountId).executeTakeFirstOrThrow());
    expect(account.status).toBe('revoked');
    const audit = await q(s)((tx) =>
      tx.selectFrom('audit_log').select('action').where('subject_id', '=', later.paymentId).where('action', '=', 'payment.returned').execute(),
    );
    expect(audit).toHaveLength(1);
    const open = await q(s)((tx) => tx.selectFrom('exceptions').select(['kind', 'status']).where('status', '=', 'open').execute());
    expect(open.map((e) => e.kind)).toEqual(expect.arrayContaining(['payment_returned', 'ach_mandate_revoked']));
    // Read again: nothing more happens.
    s.bank.sim.dropRaw(
      'RET_after_again.ach',
      s.bank.sim.fs.get(
        `${s.bank.outboundDir}/${s.bank.sim
          .outbox()
          .filter((n) => n.startsWith('RET_') && n !== 'RET_again.ach')
          .at(-1)}`,
      )!.data,
    );
    const again = await pollAchBank(s.at(addBankingDays(settledDay, 11), '07:00'), s.stack.tenantId);
    expect(again.processed).toEqual([{ name: 'RET_after_again.ach', outcome: 'already applied:1' }]);
  });

  it('a file from the bank that does not parse is kept, not acted on, and shown to staff', async () => {
    s.bank.sim.dropRaw('RET_broken.ach', '101 garbage\n');
    const r = await pollAchBank(s.at(addBankingDays(cursor, 20), '07:00'), s.stack.tenantId);
    expect(r.processed[0]!.outcome).toMatch(/^unreadable/);
    const stored = await q(s)((tx) =>
      tx.selectFrom('ach_inbound_files').select(['processed_at', 'last_error']).where('remote_name', '=', 'RET_broken.ach').executeTakeFirstOrThrow(),
    );
    expect(stored.last_error).toMatch(/unreadable/);
    const ex = await q(s)((tx) => tx.selectFrom('exceptions').select('title').where('kind', '=', 'ach_bank_file_unreadable').execute());
    expect(ex).toHaveLength(1);
  });
});
