// The reconciliation's rules, case by case: each payout drift with its cause and fix, and the invoice cases
// the integration test does not inject (a refused write-back, an amount edited after export, a PSA payment
// made outside Settle that never reached the books); a deposit edited by hand with the fix a ledger can make
// (or the manual one where it cannot); bank ACH returns against the statement's debit line.
import { describe, expect, it } from 'vitest';
import { reconcileAchReturn, reconcileInvoice, reconcilePayout, type PayoutFacts, type PostingFact } from './reconciliation.ts';

const posted = (id: string, amount: bigint, extra: Partial<PostingFact> = {}): PostingFact => ({
  id,
  kind: 'payment',
  amount,
  status: 'posted',
  reflected: true,
  remoteId: `r-${id}`,
  lastError: null,
  ...extra,
});
const payout = (over: Partial<PayoutFacts> = {}): PayoutFacts => ({
  reference: 'po_1',
  currency: 'USD',
  amount: 10_000n,
  itemsNet: 10_000n,
  deposit: posted('dep', 10_000n),
  booksDeposit: { total: 10_000n, state: 'present' },
  bank: { source: 'processor', amount: 10_000n, overdue: false },
  ...over,
});
const kinds = (ds: { kind: string }[]) => ds.map((d) => d.kind);

describe('reconcilePayout', () => {
  it('agreeing payout, deposit and bank line: no drift', () => {
    expect(reconcilePayout(payout())).toEqual([]);
  });
  it('a deposit deleted or voided in the books (once the copy has seen it): Settle can post it again', () => {
    for (const state of ['deleted', 'voided', 'missing'] as const) {
      const [d] = reconcilePayout(payout({ booksDeposit: { total: 0n, state } }));
      expect(d).toMatchObject({ kind: 'deposit_removed', difference: -10_000n, fix: { action: 'repost', postingId: 'dep' } });
    }
    // Posted after the copy was read: in flight, not drift.
    expect(reconcilePayout(payout({ deposit: posted('dep', 10_000n, { reflected: false }), booksDeposit: { total: 0n, state: 'missing' } }))).toEqual([]);
  });
  it('a deposit edited by hand: found with the difference, advice only', () => {
    const [d] = reconcilePayout(payout({ booksDeposit: { total: 9_900n, state: 'present' } }));
    expect(d).toMatchObject({ kind: 'deposit_edited', difference: -100n, fix: null });
    expect(d!.cause).toContain('edited by hand');
  });
  it('the processor reports the payout failed, or the statement line differs, or is missing a week on', () => {
    expect(kinds(reconcilePayout(payout({ bank: { source: 'processor', amount: 0n, overdue: false } })))).toEqual(['bank_line_differs']);
    expect(kinds(reconcilePayout(payout({ bank: { source: 'statement', amount: 9_000n, overdue: false } })))).toEqual(['bank_line_differs']);
    expect(kinds(reconcilePayout(payout({ bank: { source: 'statement', amount: null, overdue: true } })))).toEqual(['bank_line_missing']);
    expect(reconcilePayout(payout({ bank: { source: 'statement', amount: null, overdue: false } }))).toEqual([]);
  });
  it("the processor's lines do not add up to the payout", () => {
    expect(kinds(reconcilePayout(payout({ itemsNet: 9_999n })))).toEqual(['payout_items_differ']);
  });
});

describe('reconcileInvoice', () => {
  const base = { number: '1001', currency: 'USD' as const, psaTotal: 10_000n };
  it('a write-back the PSA refused is listed with a fix', () => {
    const [d] = reconcileInvoice({
      ...base,
      psaBalance: 10_000n,
      settleNet: 10_000n,
      psaPostings: [posted('p', 10_000n, { status: 'failed', lastError: 'closed invoice' })],
      books: null,
    });
    expect(d).toMatchObject({ kind: 'psa_posting_failed', fix: { action: 'repost', postingId: 'p' } });
    expect(d!.cause).toContain('closed invoice');
  });
  it('an invoice whose amount differs between the PSA and the books', () => {
    const ds = reconcileInvoice({
      ...base,
      psaBalance: 10_000n,
      settleNet: 0n,
      psaPostings: [],
      books: { total: 12_000n, balance: 12_000n, postings: [], settleRecords: new Map(), byHand: [] },
    });
    expect(kinds(ds)).toEqual(['invoice_amount_differs']);
  });
  it('a payment recorded in the PSA outside Settle that the books do not have', () => {
    const ds = reconcileInvoice({
      ...base,
      psaBalance: 6_000n,
      settleNet: 0n,
      psaPostings: [],
      books: { total: 10_000n, balance: 10_000n, postings: [], settleRecords: new Map(), byHand: [] },
    });
    expect(ds).toMatchObject([{ kind: 'psa_payment_not_in_books', difference: -4_000n, fix: null }]);
  });
  it('the same outside payment in both (a cheque recorded in the PSA and the books): no drift', () => {
    expect(
      reconcileInvoice({
        ...base,
        psaBalance: 6_000n,
        settleNet: 0n,
        psaPostings: [],
        books: { total: 10_000n, balance: 6_000n, postings: [], settleRecords: new Map(), byHand: [{ remoteId: 'h', applied: 4_000n }] },
      }),
    ).toEqual([]);
  });
});

describe('a deposit edited by hand', () => {
  it('offers to restore it where the ledger can', () => {
    const [d, ...rest] = reconcilePayout(payout({ booksDeposit: { total: 9_900n, state: 'present' }, canRestoreDeposit: true }));
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ kind: 'deposit_edited', difference: -100n, fix: { action: 'restore_deposit', postingId: 'dep' } });
    expect(d!.advice).toMatch(/Settle can put the deposit back/);
  });
  it('says what a person does where it cannot (Xero, QuickBooks Desktop)', () => {
    const [d] = reconcilePayout(payout({ booksDeposit: { total: 9_900n, state: 'present' }, canRestoreDeposit: false }));
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
