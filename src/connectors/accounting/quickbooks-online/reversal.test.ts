import { describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import { VendorError } from '../../http.ts';
import { relinkedLines, reversalJournalBody } from './reversal.ts';

const input = {
  idempotencyKey: 'refund:r1:invoice:i1:quickbooks-online:refund',
  paymentRemoteId: '16',
  invoiceNumber: 'INV-1',
  amount: money(2500n, 'USD'),
  reversedOn: '2026-03-02',
  memo: 'Settle refund',
};
const payment = { Id: '16', Line: [{ Amount: 100, LinkedTxn: [{ TxnId: '9', TxnType: 'Invoice' }] }] };

describe('QuickBooks reversal bodies', () => {
  it('the journal entry re-opens the customer on A/R against the adjustment account, with our marker', () => {
    const body = reversalJournalBody(input, '58', { accountsReceivableAccountId: '1', clearingAccountId: '4' });
    expect(body['TxnDate']).toBe('2026-03-02');
    expect(String(body['PrivateNote'])).toContain('[settle:refund:r1:invoice:i1:quickbooks-online:refund]');
    expect(body['Line']).toEqual([
      expect.objectContaining({
        Amount: 25,
        JournalEntryLineDetail: { PostingType: 'Debit', AccountRef: { value: '1' }, Entity: { Type: 'Customer', EntityRef: { value: '58' } } },
      }),
      expect.objectContaining({ Amount: 25, JournalEntryLineDetail: { PostingType: 'Credit', AccountRef: { value: '4' } } }),
    ]);
  });

  it('moves the reversed part of the payment from the invoice to the journal entry, once', () => {
    expect(relinkedLines(payment, '9', '30', input.amount)).toEqual([
      { Amount: 75, LinkedTxn: [{ TxnId: '9', TxnType: 'Invoice' }] },
      { Amount: 25, LinkedTxn: [{ TxnId: '30', TxnType: 'JournalEntry' }] },
    ]);
    const done = {
      ...payment,
      Line: [
        { Amount: 75, LinkedTxn: [{ TxnId: '9', TxnType: 'Invoice' }] },
        { Amount: 25, LinkedTxn: [{ TxnId: '30', TxnType: 'JournalEntry' }] },
      ],
    };
    expect(relinkedLines(done, '9', '30', input.amount)).toBeNull();
    expect(relinkedLines(payment, '9', '31', money(10000n, 'USD'))).toEqual([{ Amount: 100, LinkedTxn: [{ TxnId: '31', TxnType: 'JournalEntry' }] }]);
  });

  it('moves the part a payment left unapplied first (posted after its refund), then from the invoice', () => {
    const unapplied = { Id: '16', TotalAmt: 100, Line: [{ Amount: 75, LinkedTxn: [{ TxnId: '9', TxnType: 'Invoice' }] }] };
    expect(relinkedLines(unapplied, '9', '30', input.amount)).toEqual([
      { Amount: 75, LinkedTxn: [{ TxnId: '9', TxnType: 'Invoice' }] },
      { Amount: 25, LinkedTxn: [{ TxnId: '30', TxnType: 'JournalEntry' }] },
    ]);
    // Nothing applied at all: the reversal of the whole amount is the only line.
    expect(relinkedLines({ Id: '16', TotalAmt: 100, Line: [] }, '9', '31', money(10000n, 'USD'))).toEqual([
      { Amount: 100, LinkedTxn: [{ TxnId: '31', TxnType: 'JournalEntry' }] },
    ]);
    // Partly unapplied: 10 from there, 15 from the invoice.
    const partly = { Id: '16', TotalAmt: 100, Line: [{ Amount: 90, LinkedTxn: [{ TxnId: '9', TxnType: 'Invoice' }] }] };
    expect(relinkedLines(partly, '9', '30', input.amount)).toEqual([
      { Amount: 75, LinkedTxn: [{ TxnId: '9', TxnType: 'Invoice' }] },
      { Amount: 25, LinkedTxn: [{ TxnId: '30', TxnType: 'JournalEntry' }] },
    ]);
  });

  it('refuses when the payment no longer applies that much to the invoice (edited by hand)', () => {
    expect(() => relinkedLines(payment, '9', '30', money(10001n, 'USD'))).toThrow(VendorError);
    expect(() => relinkedLines(payment, '8', '30', input.amount)).toThrow(/re-apply it by hand/);
  });
});
