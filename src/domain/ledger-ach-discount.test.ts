// The ACH discount journal (payments-rules.md §1.5): balanced for any amounts, A/R credited in full.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LedgerError, accountBalance, journal } from './ledger.ts';
import { money } from './money.ts';

const usd = (n: bigint) => money(n, 'USD');
const amountArb = fc.bigInt({ min: 0n, max: 10n ** 12n });

describe('journal.paymentReceivedWithDiscount', () => {
  it('balances and books received to clearing, the discount as expense and the full amount off A/R', () => {
    fc.assert(
      fc.property(amountArb, amountArb, amountArb, (received, discount, extra) => {
        const unapplied = extra > received + discount ? received + discount : extra;
        const j = journal.paymentReceivedWithDiscount({ received: usd(received), discount: usd(discount), unapplied: usd(unapplied), memo: 'p' });
        const debits = j.filter((e) => e.direction === 'debit').reduce((s, e) => s + e.amount.amountMinor, 0n);
        const credits = j.filter((e) => e.direction === 'credit').reduce((s, e) => s + e.amount.amountMinor, 0n);
        expect(debits).toBe(credits);
        expect(accountBalance(j, 'processor_clearing', 'USD').amountMinor).toBe(received);
        expect(accountBalance(j, 'ach_discounts', 'USD').amountMinor).toBe(discount);
        expect(accountBalance(j, 'accounts_receivable', 'USD').amountMinor).toBe(-(received + discount - unapplied));
        expect(accountBalance(j, 'client_credit', 'USD').amountMinor).toBe(-unapplied);
      }),
    );
  });

  it('refuses a negative discount and an unapplied part larger than the payment plus discount', () => {
    expect(() => journal.paymentReceivedWithDiscount({ received: usd(100n), discount: usd(-1n), memo: 'p' })).toThrow(LedgerError);
    expect(() => journal.paymentReceivedWithDiscount({ received: usd(100n), discount: usd(1n), unapplied: usd(102n), memo: 'p' })).toThrow(LedgerError);
  });
});
