// Xero books with direct bank ACH (NACHA files to the bank over SFTP), end to end through the simulators and a
// real PostgreSQL: a file of debits settles → each payment against its invoice in Xero's clearing account and
// one BankTransfer clearing → bank equal to the bank statement's credit; a return after settlement (R29) → the
// payment is taken out of Xero (the invoice owes again) and the bank's debit is a transfer bank → clearing of
// the same amount, so clearing nets to zero. Nothing is written twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBankingDays } from '../../src/domain/rules/index.ts';
import { runAchCutoff } from '../../src/engine/ach-run-cutoff.ts';
import { pollAchBank } from '../../src/engine/ach-poll-bank.ts';
import { eventually } from '../helpers/stack.ts';
import { useXeroBooks } from '../helpers/xero-books.ts';
import type { RunningXeroSimulator } from '../../simulators/xero/index.ts';
import { authorizeAccount, invoicesByClient, portalPost, q, startBankAchStack, type BankAchStack } from './bank-ach-stack.ts';

let s: BankAchStack;
let xero: RunningXeroSimulator;
beforeAll(async () => {
  s = await startBankAchStack({ companies: 2, invoices: 4 });
  xero = await useXeroBooks(s.stack);
}, 120_000);
afterAll(async () => {
  await s?.close();
  await xero?.close();
});

const postedFor = (paymentId: string, kind: string) =>
  eventually(
    async () =>
      (await q(s)((tx) => tx.selectFrom('postings').selectAll().where('payment_id', '=', paymentId).where('target', '=', 'accounting').execute())).find(
        (r) => r.kind === kind && r.status === 'posted',
      ) ?? null,
    60_000,
    `the ${kind} posted to Xero`,
  );

describe('bank ACH (NACHA) money in Xero', () => {
  it('settles as payments into clearing and one transfer equal to the statement credit; a later return is reversed and its debit booked', async () => {
    const clients = await invoicesByClient(s);
    const paid: { paymentId: string; number: string; amount: bigint }[] = [];
    for (const [i, c] of clients.slice(0, 2).entries()) {
      const acct = await authorizeAccount(s, c.clientId, { holderKind: 'business', accountNumber: `8888000${i}33` });
      const inv = c.invoices[0]!;
      const pay = await portalPost(s, c.clientId, 'pay-by-bank', { bank_account_id: acct.bank_account_id, invoices: [{ invoice_id: inv.id }] });
      expect(pay.status).toBe(201);
      paid.push({ paymentId: pay.body['payment_id'] as string, number: inv.number, amount: inv.total_minor });
    }
    await runAchCutoff(s.at(s.day1, '09:15'), s.stack.tenantId);
    s.bank.sim.processInbound();
    const entries = await q(s)((tx) =>
      tx
        .selectFrom('ach_entries')
        .select(['payment_id', 'amount_minor', 'effective_date', 'trace_number'])
        .where(
          'payment_id',
          'in',
          paid.map((p) => p.paymentId),
        )
        .execute(),
    );
    const effective = entries[0]!.effective_date!;
    const total = entries.reduce((n, e) => n + e.amount_minor, 0n);
    s.bank.sim.writeStatement(effective);
    const settleDay = addBankingDays(effective, 4);
    await pollAchBank(s.at(settleDay, '07:00'), s.stack.tenantId);

    for (const p of paid) await postedFor(p.paymentId, 'payment');
    for (const p of paid) expect(xero.sim.livePayments().filter((x) => x.InvoiceID === xero.sim.invoice(p.number)!.InvoiceID)).toHaveLength(1);
    const payout = await q(s)((tx) => tx.selectFrom('payouts').selectAll().where('processor', '=', 'bank-ach').executeTakeFirstOrThrow());
    const transfer = await eventually(
      async () => xero.sim.store.transfers.find((t) => t.FromAccountID === xero.sim.accountId('091') && t.amountCents === Number(total)) ?? null,
      60_000,
      'the settlement transfer clearing → bank',
    );
    expect(transfer.ToAccountID).toBe(xero.sim.accountId('090'));
    expect(BigInt(xero.sim.balanceCents('090'))).toBe(total); // equal to the bank's credit
    expect(xero.sim.balanceCents('091')).toBe(0);
    expect(payout.amount_minor).toBe(total);

    // R29 after settlement: the bank takes the first debit back.
    const returned = entries.find((e) => e.payment_id === paid[0]!.paymentId)!;
    const returnDay = addBankingDays(settleDay, 3);
    s.bank.sim.returnEntries([{ traceNumber: returned.trace_number!, code: 'R29' }], returnDay);
    s.bank.sim.writeStatement(returnDay);
    await pollAchBank(s.at(addBankingDays(returnDay, 1), '07:00'), s.stack.tenantId);
    await postedFor(paid[0]!.paymentId, 'payment_reversal');
    const inv = xero.sim.invoice(paid[0]!.number)!;
    expect(xero.sim.livePayments().filter((x) => x.InvoiceID === inv.InvoiceID)).toHaveLength(0);
    expect(BigInt(inv.totalCents - inv.paidCents)).toBe(paid[0]!.amount);
    await eventually(
      async () =>
        xero.sim.store.transfers.find((t) => t.FromAccountID === xero.sim.accountId('090') && t.amountCents === Number(returned.amount_minor)) ?? null,
      60_000,
      'the return debit as a transfer bank → clearing',
    );
    expect(BigInt(xero.sim.balanceCents('090'))).toBe(total - returned.amount_minor); // the bank's two lines
    expect(xero.sim.balanceCents('091')).toBe(0); // the reversal and the debit net to zero in clearing
    expect(xero.sim.store.transfers).toHaveLength(2);
  });
});
