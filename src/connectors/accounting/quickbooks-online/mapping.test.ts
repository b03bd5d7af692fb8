import { describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import {
  batchRequestIdFor,
  carriesMarker,
  depositBody,
  faultKind,
  paymentBody,
  paymentRequestKey,
  paymentRefNum,
  privateNote,
  queryLiteral,
  readFault,
  requestIdFor,
  toBooksInvoice,
} from './mapping.ts';

const usd = (c: number) => money(c, 'USD');

describe('requestid', () => {
  it('uses a short safe key as is, hashes long or unsafe keys to at most 50 characters, deterministically', () => {
    expect(requestIdFor('payment:42:qbo:payment')).toBe('payment:42:qbo:payment');
    const long = `payment:${'x'.repeat(60)}:qbo:payment`;
    expect(requestIdFor(long)).toHaveLength(50);
    expect(requestIdFor(long)).toBe(requestIdFor(long));
    expect(requestIdFor(long)).not.toBe(requestIdFor(`${long}!`));
    expect(requestIdFor('a key with spaces')).toMatch(/^h-[0-9a-f]{48}$/);
  });
  it('derives a batch requestid of at most 36 characters from the keys in order', () => {
    const a = batchRequestIdFor(['k1', 'k2']);
    expect(a.length).toBeLessThanOrEqual(36);
    expect(batchRequestIdFor(['k1', 'k2'])).toBe(a);
    expect(batchRequestIdFor(['k2', 'k1'])).not.toBe(a);
  });
});

describe('query literals and references', () => {
  it('backslash-escapes quotes and backslashes', () => {
    expect(queryLiteral("O'Brien")).toBe("'O\\'Brien'");
    expect(queryLiteral('a\\b')).toBe("'a\\\\b'");
  });
  it('keeps PaymentRefNum within 21 characters, keeping the distinctive end', () => {
    expect(paymentRefNum('pi_123')).toBe('pi_123');
    expect(paymentRefNum('pi_3PqRsTuVwXyZ0123456789')).toBe('PqRsTuVwXyZ0123456789'.slice(-21));
    expect(paymentRefNum('x'.repeat(40))).toHaveLength(21);
  });
  it('puts the marker in PrivateNote within 4000 characters and finds it again', () => {
    const note = privateNote('m'.repeat(5000), 'payment:1');
    expect(note.length).toBeLessThanOrEqual(4000);
    expect(carriesMarker({ PrivateNote: note }, 'payment:1')).toBe(true);
    expect(carriesMarker({ PrivateNote: note }, 'payment:11')).toBe(false);
  });
});

describe('faults', () => {
  it('reads both the service and the gateway envelopes', () => {
    expect(readFault({ Fault: { Error: [{ Message: 'Stale Object Error', Detail: 'x', code: '5010' }], type: 'ValidationFault' } })).toEqual({
      type: 'ValidationFault',
      code: '5010',
      message: 'Stale Object Error: x',
    });
    expect(
      readFault({ fault: { error: [{ message: 'message=AuthenticationFailed', detail: 'Token expired', code: '3200' }], type: 'AUTHENTICATION' } }),
    ).toMatchObject({
      code: '3200',
      type: 'AUTHENTICATION',
    });
    expect(readFault({ QueryResponse: {} })).toBeNull();
  });
  it('classifies by code first, then by fault type, then by status', () => {
    expect(faultKind({ type: 'ValidationFault', code: '5010', message: null }, 400)).toBe('conflict');
    expect(faultKind({ type: 'ValidationFault', code: '610', message: null }, 400)).toBe('not_found');
    expect(faultKind({ type: 'ValidationFault', code: '6000', message: null }, 400)).toBe('invalid');
    expect(faultKind({ type: 'SERVICE', code: '003001', message: null }, 429)).toBe('rate_limited');
    expect(faultKind({ type: 'SystemFault', code: '10000', message: null }, 500)).toBe('server');
    expect(faultKind({ type: 'AUTHENTICATION', code: '3200', message: null }, 401)).toBe('auth');
    expect(faultKind({ type: 'SomethingNew', code: '9999', message: null }, 503)).toBe('server');
    expect(faultKind({ type: null, code: null, message: null }, null)).toBe('invalid');
  });
});

describe('entities', () => {
  const invoice = toBooksInvoice(
    { Id: '130', DocNumber: '1001', CustomerRef: { value: '7' }, TotalAmt: 1250.5, Balance: 250.5, CurrencyRef: { value: 'USD' } },
    'USD',
  );

  it('maps an invoice with exact minor units', () => {
    expect(invoice).toEqual({ remoteId: '130', number: '1001', customerRemoteId: '7', total: usd(125050), balance: usd(25050) });
  });

  it('builds a Payment applied to the invoice, with our marker', () => {
    const body = paymentBody(
      { idempotencyKey: 'payment:9', invoiceNumber: '1001', amount: usd(25050), paidOn: '2025-01-31', reference: 'pi_9', memo: 'Card' },
      invoice,
      {},
    );
    expect(body).toEqual({
      CustomerRef: { value: '7' },
      TotalAmt: 250.5,
      TxnDate: '2025-01-31',
      PaymentRefNum: 'pi_9',
      PrivateNote: 'Card [settle:payment:9]',
      Line: [{ Amount: 250.5, LinkedTxn: [{ TxnId: '130', TxnType: 'Invoice' }] }],
    });
    expect(() =>
      paymentBody({ idempotencyKey: 'k', invoiceNumber: '1001', amount: money(1, 'CAD'), paidOn: '2025-01-31', reference: 'r', memo: '' }, invoice, {}),
    ).toThrow(/CAD/);
  });

  it('applies only what a reversal made before the books left of it; the rest stays unapplied', () => {
    const base = { idempotencyKey: 'payment:9', invoiceNumber: '1001', amount: usd(25050), paidOn: '2025-01-31', reference: 'pi_9', memo: 'Card' };
    expect(paymentBody({ ...base, appliedAmount: usd(20050) }, invoice, {})).toMatchObject({
      TotalAmt: 250.5,
      Line: [{ Amount: 200.5, LinkedTxn: [{ TxnId: '130', TxnType: 'Invoice' }] }],
    });
    // Refunded in full before it reached the books: the whole payment is unapplied until its reversal.
    expect(paymentBody({ ...base, appliedAmount: usd(0) }, invoice, {})).toMatchObject({ TotalAmt: 250.5, Line: [] });
    expect(() => paymentBody({ ...base, appliedAmount: usd(25051) }, invoice, {})).toThrow(/between 0 and/);
    expect(() => paymentBody({ ...base, appliedAmount: usd(-1) }, invoice, {})).toThrow(/between 0 and/);
    // A payment applied differently is a new request to QuickBooks (its requestid replays the first answer).
    expect(paymentRequestKey({ ...base, appliedAmount: usd(20050) })).not.toBe(paymentRequestKey(base));
    expect(paymentRequestKey({ ...base, appliedAmount: usd(25050) })).toBe(paymentRequestKey(base));
  });

  it('builds a Deposit whose lines add up to the payout', () => {
    const { body, expectedTotal } = depositBody(
      {
        idempotencyKey: 'payout:1',
        payoutId: 'po_1',
        depositedOn: '2025-02-01',
        payments: [
          { paymentRemoteId: '200', amount: usd(10000) },
          { paymentRemoteId: '201', amount: usd(5033) },
        ],
        fees: usd(467),
        adjustments: usd(0),
        memo: '',
      },
      { bankAccountId: '35', feeExpenseAccountId: '60', adjustmentAccountId: '61' },
    );
    expect(expectedTotal).toEqual(usd(14566));
    const lines = body['Line'] as Record<string, unknown>[];
    expect(lines).toHaveLength(3); // no adjustments line when zero
    expect(lines[2]).toMatchObject({ Amount: -4.67, DetailType: 'DepositLineDetail', DepositLineDetail: { AccountRef: { value: '60' } } });
    expect(body['DepositToAccountRef']).toEqual({ value: '35' });
    expect(() =>
      depositBody(
        {
          idempotencyKey: 'k',
          payoutId: 'p',
          depositedOn: '2025-02-01',
          payments: [{ paymentRemoteId: '1', amount: usd(1) }],
          fees: usd(-1),
          adjustments: usd(0),
          memo: '',
        },
        { bankAccountId: '35', feeExpenseAccountId: '60', adjustmentAccountId: '60' },
      ),
    ).toThrow(/positive/);
  });
});
