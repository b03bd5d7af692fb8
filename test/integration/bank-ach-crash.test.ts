// Settle is killed (SIGKILL) after a NACHA file reached the bank's SFTP server and before it was recorded
// as sent, then started again: the bank ends up with the file once and each debit once. The file keeps its
// name and identity (date + File ID Modifier) from the moment it was built, and delivery looks for it at
// the bank before uploading.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, type Stack } from '../helpers/stack.ts';
import { startSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import { authorizeAccount, invoicesByClient, portalPost, q, startBankAchStack, type BankAchStack } from './bank-ach-stack.ts';
import { freePort } from '../helpers/ports.ts';

let s: BankAchStack | null = null;
let running: SettleProcess | null = null;
afterEach(async () => {
  running?.child.kill('SIGKILL');
  await running?.exited;
  running = null;
  await s?.close();
  s = null;
});

async function sendNow(stack: Stack): Promise<void> {
  const r = await fetch(`${stack.settleUrl}/api/v1/ach/run`, { method: 'POST', headers: { authorization: `Bearer ${await stack.apiKey()}` } });
  expect(r.status).toBe(202);
}

describe('SIGKILL between "file at the bank" and "file recorded as sent"', () => {
  it('after a restart the file is recorded as sent without a second upload; the bank debits once', async () => {
    const port = await freePort();
    s = await startBankAchStack({ settle: false, settlePort: port, companies: 2, invoices: 4 });
    running = await startSettleProcess(s.stack, port, { SETTLE_CRASH_AT: 'after-ach-file-delivered' });

    const [a] = await invoicesByClient(s);
    const acct = await authorizeAccount(s, a!.clientId, { holderKind: 'business', accountNumber: '246813579' });
    const pay = await portalPost(s, a!.clientId, 'pay-by-bank', { bank_account_id: acct.bank_account_id, invoices: [{ invoice_id: a!.invoices[0]!.id }] });
    expect(pay.status).toBe(201);
    await sendNow(s.stack);

    const how = await Promise.race([running.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    expect(how, running.output()).toBe('SIGKILL');
    expect(running.output()).toContain('SETTLE_CRASH_AT=after-ach-file-delivered');
    const [file] = await q(s)((tx) => tx.selectFrom('ach_files').select(['file_name', 'status']).execute());
    expect(file!.status).toBe('built'); // the crash came before the record
    expect(s.bank.sim.waiting()).toEqual([file!.file_name]); // but the bank has it

    running = await startSettleProcess(s.stack, port);
    await sendNow(s.stack);
    const sent = await eventually(
      () =>
        q(s!)((tx) =>
          tx.selectFrom('ach_files').select(['status', 'delivery']).where('file_name', '=', file!.file_name).where('status', '=', 'sent').executeTakeFirst(),
        ),
      20_000,
      'the file recorded as sent',
    );
    expect(sent.delivery).toBe('already_at_bank');
    expect(await q(s)((tx) => tx.selectFrom('ach_files').select('id').execute())).toHaveLength(1);
    expect(s.bank.sim.deliveries.filter((d) => d.path.endsWith(file!.file_name))).toHaveLength(1);
    s.bank.sim.processInbound();
    expect(s.bank.sim.received).toHaveLength(1);
    const entries = await q(s)((tx) => tx.selectFrom('ach_entries').select(['status', 'file_id']).execute());
    expect(entries).toEqual([{ status: 'sent', file_id: expect.any(String) }]);
    // Two Settle child processes start and one is killed: on a busy machine that alone can pass 30 s.
  }, 180_000);
});
