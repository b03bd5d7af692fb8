// The payout side's new cases (issue #11): a deposit edited by hand with the fix a ledger can make (or the
// manual one where it cannot), and bank ACH returns compared against the statement's debit line.
import { describe, expect, it } from 'vitest';
import { reconcileAchReturn, reconcilePayout, type PayoutFacts, type PostingFact } from './reconciliation.ts';

const posted = (id: string, amount: bigint, over: Partial<PostingFact> = {}): PostingFact => ({
  id,
  kind: 'payment',
  amount,
  status: 'posted',
  reflected: true,
  remoteId: `r-${id}`,
  lastError: null,
  ...over,
});

const payout = (over: Partial<PayoutFacts> = {}): PayoutFacts => ({
  reference: 'po_1',
  currency: 'USD',
  amount: 10_000n,
  itemsNet: 10_000n,
  deposit: posted('dep', 10_000n),
  booksDeposit: { total: 9_900n, state: 'present' },
  bank: { source: 'processor', amount: 10_000n, overdue: false },
  ...over,
});

describe('a deposit edited by hand', () => {
  it('offers to restore it where the ledger can', () => {
    const [d, ...rest] = reconcilePayout(payout({ canRestoreDeposit: true }));
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ kind: 'deposit_edited', difference: -100n, fix: { action: 'restore_deposit', postingId: 'dep' } });
    expect(d!.advice).toMatch(/Settle can put the deposit back/);
  });
  it('says what a person does where it cannot (Xero, QuickBooks Desktop)', () => {
    const [d] = reconcilePayout(payout({ canRestoreDeposit: false }));
    expect(d).toMatchObject({ kind: 'deposit_edited', fix: null });
    expect(d!.advice).toMatch(/Restore the deposit in the books to the payout/);
    expect(d!.advice).toMatch(/delete it there and run the report again/);
  });
  it('a bank ACH settlement whose statement line differs is found as such, with the statement figure', () => {
    const [d, ...rest] = reconcilePayout(
      payout({ booksDeposit: { total: 10_000n, state: 'present' }, bank: { source: 'statement', amount: 9_000n, overdue: true } }),
    );
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ kind: 'bank_line_differs', difference: -1_000n, fix: null });
    expect(d!.cause).toMatch(/bank statement shows 9000 for payout po_1, not 10000/);
  });
});

describe('a bank ACH return', () => {
  const base = {
    reference: 'return:ACH1.txt:091000010000001',
    currency: 'USD' as const,
    amount: 5_000n,
    reversals: [posted('rev', 5_000n, { kind: 'reversal' })],
    withdrawal: posted('w', 5_000n),
    bank: { amount: 5_000n as bigint | null, overdue: false },
  };
  it('equal three ways: no drift', () => expect(reconcileAchReturn(base)).toEqual([]));
  it("the bank's debit the books refused: found, with a repost fix", () => {
    const drifts = reconcileAchReturn({ ...base, withdrawal: posted('w', 5_000n, { status: 'failed', lastError: 'no clearing account' }) });
    expect(drifts).toEqual([expect.objectContaining({ kind: 'bank_debit_not_in_books', difference: 5_000n, fix: { action: 'repost', postingId: 'w' } })]);
    expect(drifts[0]!.cause).toMatch(/no clearing account/);
  });
  it("the return's reversal the books refused: found, with a repost fix", () => {
    const drifts = reconcileAchReturn({ ...base, reversals: [posted('rev', 5_000n, { kind: 'reversal', status: 'failed' })] });
    expect(drifts.map((d) => [d.kind, d.fix?.postingId])).toEqual([['bank_debit_not_in_books', 'rev']]);
  });
  it('the statement debit differs from the return', () => {
    const drifts = reconcileAchReturn({ ...base, bank: { amount: 5_025n, overdue: false } });
    expect(drifts).toEqual([expect.objectContaining({ kind: 'bank_line_differs', difference: -25n, fix: null })]);
  });
  it('no statement debit a week on', () => {
    expect(reconcileAchReturn({ ...base, bank: { amount: null, overdue: true } }).map((d) => d.kind)).toEqual(['bank_line_missing']);
    expect(reconcileAchReturn({ ...base, bank: { amount: null, overdue: false } })).toEqual([]);
  });
});
