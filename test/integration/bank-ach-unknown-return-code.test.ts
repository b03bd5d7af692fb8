// Item 8 of issue #6: a return file from the bank with one return code that is not a Nacha code (R97, as
// some banks send: fixtures returns/return-PPD-custom-reason-code.ach) must not keep the other returns in
// the same file from being applied. The unknown one is applied as a return too (the money came back), never
// presented again, and shown to staff as an exception naming the file, line, trace and code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBankingDays } from '../../src/domain/rules/index.ts';
import { runAchCutoff } from '../../src/engine/ach-run-cutoff.ts';
import { pollAchBank } from '../../src/engine/ach-poll-bank.ts';
import { authorizeAccount, invoicesByClient, portalPost, q, startBankAchStack, type BankAchStack } from './bank-ach-stack.ts';

let s: BankAchStack;
beforeAll(async () => {
  s = await startBankAchStack({ companies: 2, invoices: 4 });
});
afterAll(async () => s?.close());

describe('a bank return file with a non-standard return code', () => {
  it('applies every other return in the file; the unknown one is a return too, and an exception that says where it is and what to do', async () => {
    const [a, b] = await invoicesByClient(s);
    const payments: string[] = [];
    for (const [i, c] of [a!, b!].entries()) {
      const acct = await authorizeAccount(s, c.clientId, { holderKind: 'business', accountNumber: `5555000${i}11` });
      const pay = await portalPost(s, c.clientId, 'pay-by-bank', { bank_account_id: acct.bank_account_id, invoices: [{ invoice_id: c.invoices[0]!.id }] });
      expect(pay.status).toBe(201);
      payments.push(pay.body['payment_id'] as string);
    }
    await runAchCutoff(s.at(s.day1, '09:15'), s.stack.tenantId);
    const before = s.bank.sim.received.length;
    s.bank.sim.processInbound();
    const sent = s.bank.sim.received.slice(before);
    expect(sent).toHaveLength(2);
    const traceOf = async (paymentId: string) =>
      (await q(s)((tx) => tx.selectFrom('ach_entries').select('trace_number').where('payment_id', '=', paymentId).executeTakeFirstOrThrow())).trace_number!;
    const traceA = await traceOf(payments[0]!);
    const traceB = await traceOf(payments[1]!);

    // One file: A returned R03 (a Nacha code), B returned R97 (this bank's own, undocumented to Settle).
    const fileName = s.bank.sim.returnEntries([
      { traceNumber: traceA, code: 'R03' },
      { traceNumber: traceB, code: 'R97' },
    ]);
    const r = await pollAchBank(s.at(addBankingDays(s.day1, 2), '07:00'), s.stack.tenantId);
    expect(r.processed).toContainEqual({ name: fileName, outcome: 'payment_failed:2' });

    const state = (id: string) => q(s)((tx) => tx.selectFrom('payments').select(['state', 'failure_code']).where('id', '=', id).executeTakeFirstOrThrow());
    // The known return did what R03 asks: payment failed, account disabled.
    expect(await state(payments[0]!)).toEqual({ state: 'failed', failure_code: 'R03' });
    // The unknown one: returned (the bank sent the money back), not presented again.
    expect(await state(payments[1]!)).toEqual({ state: 'failed', failure_code: 'R97' });
    const entries = await q(s)((tx) => tx.selectFrom('ach_entries').select(['payment_id', 'status']).where('payment_id', 'in', payments).execute());
    expect(entries.map((e) => e.status).sort()).toEqual(['returned', 'returned']);

    // The file counts as read: nothing left to retry, no "unreadable file" exception.
    const inbound = await q(s)((tx) =>
      tx.selectFrom('ach_inbound_files').select(['processed_at', 'last_error']).where('remote_name', '=', fileName).executeTakeFirstOrThrow(),
    );
    expect(inbound.processed_at).not.toBeNull();
    expect(inbound.last_error).toBeNull();
    const notices = await q(s)((tx) => tx.selectFrom('ach_entry_notices').select(['code', 'addenda_line', 'outcome']).orderBy('addenda_line').execute());
    expect(notices.map((n) => [n.code, n.outcome])).toEqual([
      ['R03', 'payment_failed'],
      ['R97', 'payment_failed'],
    ]);
    const r97Line = notices[1]!.addenda_line;

    const exceptions = await q(s)((tx) => tx.selectFrom('exceptions').selectAll().where('status', '=', 'open').execute());
    expect(exceptions.filter((e) => e.kind === 'ach_bank_file_unreadable')).toEqual([]);
    const unknown = exceptions.filter((e) => e.kind === 'ach_return_unknown_code');
    expect(unknown).toHaveLength(1);
    const ex = unknown[0]!;
    expect(ex.payment_id).toBe(payments[1]);
    expect(ex.title).toContain('R97');
    // Names the file, the line, the trace and the code, and says what to do.
    expect(ex.detail).toContain(fileName);
    expect(ex.detail).toContain(`line ${r97Line}`);
    expect(ex.detail).toContain(traceB);
    expect(ex.detail).toContain('"R97"');
    expect(ex.detail).toMatch(/Ask the bank what the code means/);
    expect(ex.data).toMatchObject({ file: fileName, line: r97Line, original_trace: traceB, code: 'R97' });
    // The known return has its ordinary exception, for its own payment.
    expect(exceptions.find((e) => e.kind === 'ach_return' && e.payment_id === payments[0])).toBeDefined();

    // Read again (the bank re-sends it under another name): nothing changes, no second exception.
    s.bank.sim.dropRaw('RET_again.ach', s.bank.sim.fs.get(`${s.bank.outboundDir}/${fileName}`)!.data);
    const again = await pollAchBank(s.at(addBankingDays(s.day1, 3), '07:00'), s.stack.tenantId);
    expect(again.processed).toEqual([{ name: 'RET_again.ach', outcome: 'already applied:2' }]);
    expect(await q(s)((tx) => tx.selectFrom('exceptions').select('id').where('kind', '=', 'ach_return_unknown_code').execute())).toHaveLength(1);
  });
});
