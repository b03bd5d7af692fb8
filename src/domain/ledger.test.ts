import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LedgerError, accountBalance, assertBalanced, journal, surchargeShare, type Journal, type LedgerEntry } from './ledger.ts';
import { MoneyError, money, type Money } from './money.ts';

const usd = (n: bigint | number): Money => money(n, 'USD');
const bal = (entries: Journal, account: Parameters<typeof accountBalance>[1]) => accountBalance(entries, account, 'USD').amountMinor;

const amountArb = fc.bigInt({ min: 0n, max: 10n ** 12n });
const signedArb = fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n });
/** gross ≥ surcharge + unapplied, all ≥ 0 */
const chargeArb = fc.tuple(amountArb, amountArb, amountArb).map(([a, b, c]) => ({ gross: a + b + c, surcharge: b, unapplied: c }));

const debits = (j: Journal) => j.filter((e) => e.direction === 'debit').reduce((s, e) => s + e.amount.amountMinor, 0n);
const credits = (j: Journal) => j.filter((e) => e.direction === 'credit').reduce((s, e) => s + e.amount.amountMinor, 0n);
const expectBalanced = (j: Journal) => {
  expect(debits(j)).toBe(credits(j));
  for (const e of j) expect(e.amount.amountMinor > 0n).toBe(true); // zero lines are dropped
};

describe('assertBalanced', () => {
  const e = (account: LedgerEntry['account'], direction: LedgerEntry['direction'], amount: Money): LedgerEntry => ({
    account,
    direction,
    amount,
    memo: 't',
  });

  it('accepts balanced journals and the empty journal', () => {
    expect(() => assertBalanced([])).not.toThrow();
    expect(() => assertBalanced([e('bank', 'debit', usd(5)), e('processor_clearing', 'credit', usd(5))])).not.toThrow();
  });

  it('rejects unbalanced, negative, cross-currency and unknown-account journals', () => {
    expect(() => assertBalanced([e('bank', 'debit', usd(5)), e('processor_clearing', 'credit', usd(4))])).toThrow(LedgerError);
    expect(() => assertBalanced([e('bank', 'debit', usd(-5)), e('processor_clearing', 'credit', usd(-5))])).toThrow(/negative/);
    // Balanced in total minor units, but not per currency.
    expect(() => assertBalanced([e('bank', 'debit', usd(5)), e('processor_clearing', 'credit', money(5, 'CAD'))])).toThrow(/USD/);
    expect(() =>
      assertBalanced([{ account: 'petty_cash' as LedgerEntry['account'], direction: 'debit', amount: usd(1), memo: '' }, e('bank', 'credit', usd(1))]),
    ).toThrow(/unknown ledger account/);
  });
});

describe('builders balance for any amounts', () => {
  it('paymentReceived', () => {
    fc.assert(
      fc.property(chargeArb, ({ gross, surcharge, unapplied }) => {
        const j = journal.paymentReceived({ gross: usd(gross), surcharge: usd(surcharge), unapplied: usd(unapplied), memo: 'p' });
        expectBalanced(j);
        expect(bal(j, 'processor_clearing')).toBe(gross);
        expect(bal(j, 'surcharge_income')).toBe(-surcharge);
        expect(bal(j, 'client_credit')).toBe(-unapplied);
        expect(bal(j, 'accounts_receivable')).toBe(-(gross - surcharge - unapplied));
      }),
    );
  });

  it('processorFee and payout, either sign', () => {
    fc.assert(
      fc.property(signedArb, (n) => {
        const fee = journal.processorFee({ fee: usd(n), memo: 'f' });
        const payout = journal.payout({ amount: usd(n), memo: 'o' });
        expectBalanced(fee);
        expectBalanced(payout);
        expect(bal(fee, 'processing_fees')).toBe(n);
        expect(bal(payout, 'bank')).toBe(n);
        expect(bal(payout, 'processor_clearing')).toBe(-n);
      }),
    );
  });

  it('refund, achReturn, disputes, credits', () => {
    fc.assert(
      fc.property(chargeArb, fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 10_000n }), (c, permille, fee) => {
        const original = { gross: usd(c.gross), surcharge: usd(c.surcharge) };
        const part = usd((c.gross * permille) / 1000n);
        const journals = [
          journal.refund({ amount: part, original, memo: 'r' }),
          journal.refund({ amount: part, against: 'client_credit', memo: 'r' }),
          journal.achReturn({ amount: part, original, returnFee: usd(fee), memo: 'a' }),
          journal.disputeOpened({ amount: part, fee: usd(fee), memo: 'd' }),
          journal.disputeWon({ amount: part, feeReturned: usd(fee), memo: 'w' }),
          journal.disputeLost({ amount: part, treatment: 'reopen_invoice', original, memo: 'l' }),
          journal.disputeLost({ amount: part, treatment: 'write_off', memo: 'l' }),
          journal.overpaymentToCredit({ amount: part, memo: 'o' }),
          journal.creditApplied({ amount: part, memo: 'c' }),
        ];
        journals.forEach(expectBalanced);
      }),
    );
  });
});

describe('cycles', () => {
  it('payment, fee and payout leave processor_clearing at zero and the net in the bank', () => {
    fc.assert(
      fc.property(chargeArb, fc.bigInt({ min: 0n, max: 10n ** 6n }), ({ gross, surcharge, unapplied }, fee) => {
        const all = [
          ...journal.paymentReceived({ gross: usd(gross), surcharge: usd(surcharge), unapplied: usd(unapplied), memo: 'p' }),
          ...journal.processorFee({ fee: usd(fee), memo: 'f' }),
          ...journal.payout({ amount: usd(gross - fee), memo: 'o' }),
        ];
        assertBalanced(all);
        expect(bal(all, 'processor_clearing')).toBe(0n);
        expect(bal(all, 'bank')).toBe(gross - fee);
        expect(bal(all, 'processing_fees')).toBe(fee);
      }),
    );
  });

  it('partial refunds adding up to the charge reverse exactly the surcharge and the invoice part', () => {
    fc.assert(
      fc.property(chargeArb, fc.array(fc.bigInt({ min: 1n, max: 100n }), { minLength: 1, maxLength: 8 }), ({ gross, surcharge }, weights) => {
        fc.pre(gross > 0n);
        const wsum = weights.reduce((s, w) => s + w, 0n);
        const parts = weights.map((w) => (gross * w) / wsum);
        parts[parts.length - 1]! += gross - parts.reduce((s, p) => s + p, 0n);
        const all: LedgerEntry[] = [...journal.paymentReceived({ gross: usd(gross), surcharge: usd(surcharge), memo: 'p' })];
        let before = 0n;
        for (const p of parts) {
          const original = { gross: usd(gross), surcharge: usd(surcharge), reversedBefore: usd(before) };
          all.push(...journal.refund({ amount: usd(p), original, memo: 'r' }));
          before += p;
        }
        expect(bal(all, 'surcharge_income')).toBe(0n);
        expect(bal(all, 'accounts_receivable')).toBe(0n);
        expect(bal(all, 'processor_clearing')).toBe(0n);
      }),
    );
  });

  it('an installment-plan fee is income of its own, and partial refunds give back exactly all of it', () => {
    fc.assert(
      fc.property(chargeArb, fc.array(fc.bigInt({ min: 1n, max: 100n }), { minLength: 1, maxLength: 8 }), ({ gross, surcharge: planFee }, weights) => {
        fc.pre(gross > 0n);
        const received = journal.paymentReceived({ gross: usd(gross), planFee: usd(planFee), memo: 'p' });
        expect(bal(received, 'installment_fee_income')).toBe(-planFee);
        expect(bal(received, 'surcharge_income')).toBe(0n);
        expect(bal(received, 'accounts_receivable')).toBe(-(gross - planFee));
        const all: LedgerEntry[] = [...received];
        const wsum = weights.reduce((s, w) => s + w, 0n);
        const parts = weights.map((w) => (gross * w) / wsum);
        parts[parts.length - 1]! += gross - parts.reduce((s, p) => s + p, 0n);
        let before = 0n;
        for (const p of parts) {
          const original = { gross: usd(gross), surcharge: usd(0), planFee: usd(planFee), reversedBefore: usd(before) };
          all.push(...journal.refund({ amount: usd(p), original, memo: 'r' }));
          before += p;
        }
        assertBalanced(all);
        expect(bal(all, 'installment_fee_income')).toBe(0n);
        expect(bal(all, 'accounts_receivable')).toBe(0n);
        expect(bal(all, 'processor_clearing')).toBe(0n);
      }),
    );
  });

  it('a won dispute restores clearing; a lost one reopens the invoice or books a loss', () => {
    const opened = journal.disputeOpened({ amount: usd(10_000), fee: usd(1_500), memo: 'd' });
    const won = [...opened, ...journal.disputeWon({ amount: usd(10_000), memo: 'w' })];
    expect(bal(won, 'processor_clearing')).toBe(-1_500n); // fee kept by the processor
    expect(bal(won, 'disputed_funds')).toBe(0n);
    const reopened = [...opened, ...journal.disputeLost({ amount: usd(10_000), treatment: 'reopen_invoice', memo: 'l' })];
    expect(bal(reopened, 'accounts_receivable')).toBe(10_000n);
    expect(bal(reopened, 'disputed_funds')).toBe(0n);
    const written = [...opened, ...journal.disputeLost({ amount: usd(10_000), treatment: 'write_off', memo: 'l' })];
    expect(bal(written, 'dispute_losses')).toBe(10_000n);
    expect(bal(written, 'processing_fees')).toBe(1_500n);
  });

  it('an overpayment credited then applied to the next invoice clears the client credit', () => {
    const all = [
      ...journal.paymentReceived({ gross: usd(12_000), unapplied: usd(2_000), memo: 'p' }),
      ...journal.creditApplied({ amount: usd(2_000), memo: 'c' }),
    ];
    expect(bal(all, 'client_credit')).toBe(0n);
    expect(bal(all, 'accounts_receivable')).toBe(-12_000n);
  });
});

describe('examples and guards', () => {
  it('books a $103.00 card payment with a $3.00 surcharge', () => {
    const j = journal.paymentReceived({ gross: usd(10_300), surcharge: usd(300), memo: 'INV-1' });
    expect(j.map((e) => [e.account, e.direction, e.amount.amountMinor, e.memo])).toEqual([
      ['processor_clearing', 'debit', 10_300n, 'INV-1'],
      ['accounts_receivable', 'credit', 10_000n, 'INV-1'],
      ['surcharge_income', 'credit', 300n, 'INV-1'],
    ]);
  });

  it('splits a partial refund proportionally, flooring the surcharge part', () => {
    // refund $50.00 of $103.00 (3.00 surcharge): floor(5000·300/10300) = floor(145.63) = 145;
    // the remaining $53.00 then carries the rest of the surcharge, 300 − 145 = 155.
    expect(surchargeShare(usd(5_000), { gross: usd(10_300), surcharge: usd(300) }).amountMinor).toBe(145n);
    expect(surchargeShare(usd(5_300), { gross: usd(10_300), surcharge: usd(300), reversedBefore: usd(5_000) }).amountMinor).toBe(155n);
  });

  it('a negative fee (fee given back) swaps sides instead of posting a negative amount', () => {
    const j = journal.processorFee({ fee: usd(-30), memo: 'f' });
    expect(j.map((e) => [e.account, e.direction, e.amount.amountMinor])).toEqual([
      ['processor_clearing', 'debit', 30n],
      ['processing_fees', 'credit', 30n],
    ]);
  });

  it('refuses impossible inputs', () => {
    expect(() => journal.paymentReceived({ gross: usd(100), surcharge: usd(80), unapplied: usd(30), memo: '' })).toThrow(LedgerError);
    expect(() => journal.paymentReceived({ gross: usd(-1), memo: '' })).toThrow(LedgerError);
    expect(() => journal.paymentReceived({ gross: usd(100), surcharge: money(3, 'CAD'), memo: '' })).toThrow(MoneyError);
    expect(() => journal.refund({ amount: usd(60), original: { gross: usd(100), surcharge: usd(0), reversedBefore: usd(50) }, memo: '' })).toThrow(/exceeds/);
    expect(() => journal.refund({ amount: usd(-1), memo: '' })).toThrow(LedgerError);
    expect(() => journal.disputeOpened({ amount: usd(1), fee: usd(-1), memo: '' })).toThrow(LedgerError);
    expect(() => journal.overpaymentToCredit({ amount: usd(-1), memo: '' })).toThrow(LedgerError);
  });
});
