// Every request builder's output is valid qbXML 13.0 (qbxmlops130.xsd, via xmllint-wasm), a deliberately
// invalid request is rejected by the same check, and responses are read with their per-message status.
import { describe, expect, it } from 'vitest';
import { money } from '../../../../domain/money.ts';
import { validateQbxml } from '../../../../../test/conformance/quickbooks-desktop/xsd-validate.ts';
import * as Rq from './requests.ts';
import { externalGuidFor, qbxmlDocument, settleMarker } from './xml.ts';
import { parseQbxmlResponse, statusKind } from './responses.ts';

const usd = (minor: bigint) => money(minor, 'USD');

const requests: Record<string, string> = {
  invoiceByRef: Rq.invoiceQueryByRefNumbers('1', ['1042', '1043']),
  invoiceModifiedStart: Rq.invoiceQueryModified('2', { from: '2026-12-01T00:00:00', maxReturned: 100 }),
  invoiceModifiedContinue: Rq.invoiceQueryModified('3', {
    from: '2026-12-01T00:00:00',
    to: '2026-12-06T23:59:59',
    maxReturned: 100,
    page: { iterator: 'Continue', iteratorID: '{a1b2c3}' },
  }),
  customerById: Rq.customerQuery('4', { listIds: ['80000001-1234567890'] }),
  customerModified: Rq.customerQuery('5', { fromModified: '2026-12-01T00:00:00', maxReturned: 50, page: { iterator: 'Start' } }),
  payment: Rq.receivePaymentAdd('6', {
    idempotencyKey: 'payment:pi_3Nf0abc',
    customer: { listId: '80000001-1234567890' },
    txnDate: '2026-12-06',
    refNumber: 'pi_3Nf0abcdefghijklmnopqrstu',
    totalAmount: usd(123456n),
    paymentMethod: { fullName: 'Credit Card' },
    memo: 'Card payment for invoice 1042 & co <Settle>',
    applied: [{ txnId: '1A2-1234567890', paymentAmount: usd(123456n) }],
  }),
  deposit: Rq.depositAdd('7', {
    idempotencyKey: 'deposit:po_1',
    txnDate: '2026-12-07',
    depositTo: { fullName: 'Checking' },
    memo: 'Stripe payout po_1',
    paymentTxnIds: ['1A2-1', '1A3-1'],
    otherLines: [{ account: { fullName: 'Merchant Fees' }, amount: usd(-3210n), memo: 'Processing fees' }],
  }),
  reversal: Rq.journalEntryAdd('8', {
    idempotencyKey: 'reversal:re_1',
    txnDate: '2026-12-08',
    refNumber: 'REV-re_1234567',
    debits: [{ account: { fullName: 'Accounts Receivable' }, amount: usd(5000n), memo: 'Refund of invoice 1042', entity: { listId: '80000001-1' } }],
    credits: [{ account: { fullName: 'Undeposited Funds' }, amount: usd(5000n), memo: 'Refund of invoice 1042' }],
  }),
  paymentCheck: Rq.receivePaymentCheckQuery('9', { customer: { listId: '80000001-1' }, txnDate: '2026-12-06', refNumber: 'pi_3Nf0abc' }),
  depositCheck: Rq.depositCheckQuery('10', { depositTo: { fullName: 'Checking' }, txnDate: '2026-12-07' }),
  journalCheck: Rq.journalEntryCheckQuery('11', { txnDate: '2026-12-08', refNumber: 'REV-re_1234567' }),
  accounts: Rq.accountQuery('12'),
  creditMemoByRef: Rq.creditMemoQueryByRefNumber('13', 'CM-2001'),
  creditApplied: Rq.receivePaymentAdd('14', {
    idempotencyKey: 'credit-memo:cm_2001:1042',
    customer: { listId: '80000001-1234567890' },
    txnDate: '2026-12-06',
    refNumber: 'CM-2001',
    totalAmount: usd(0n),
    memo: 'Credit memo CM-2001 applied to invoice 1042',
    applied: [{ txnId: '1A2-1234567890', credit: { creditTxnId: '1B7-1234567890', amount: usd(2500n) } }],
  }),
  invoicesFirstRead: Rq.modifiedQuery('15', 'Invoice', { maxReturned: 100, page: { iterator: 'Start' } }),
  paymentsModified: Rq.modifiedQuery('16', 'ReceivePayment', { from: '2026-12-01T00:00:00+00:00', maxReturned: 100, page: { iterator: 'Start' } }),
  depositsContinue: Rq.modifiedQuery('17', 'Deposit', {
    from: '2026-12-01T00:00:00+00:00',
    maxReturned: 100,
    page: { iterator: 'Continue', iteratorID: '{7F3A-11}' },
  }),
};

describe('qbXML 13.0 requests', () => {
  it('are each valid against qbxmlops130.xsd, alone and together in one document', async () => {
    const docs = [...Object.values(requests).map((r) => qbxmlDocument([r])), qbxmlDocument(Object.values(requests), 'continueOnError')];
    const result = await validateQbxml(docs);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  }, 60_000);

  it('a deliberately invalid request is rejected by the same check (order, unknown element, bad amount, bad GUID)', async () => {
    const outOfOrder = requests['payment']!.replace(/(<TxnDate>[^<]*<\/TxnDate>)(<RefNumber>[^<]*<\/RefNumber>)/, '$2$1');
    const floatAmount = requests['deposit']!.replace('<Amount>-32.10</Amount>', '<Amount>-32.1000001</Amount>');
    const badGuid = requests['reversal']!.replace(/<ExternalGUID>[^<]*<\/ExternalGUID>/, '<ExternalGUID>reversal:re_1</ExternalGUID>');
    for (const bad of [outOfOrder, floatAmount, badGuid, '<Bogus requestID="1"/>']) {
      expect(bad).not.toBe('');
      const result = await validateQbxml([qbxmlDocument([bad])]);
      expect(result.valid).toBe(false);
      expect(result.errors.length).toBeGreaterThan(0);
    }
    // and the envelope needs onError
    const noOnError = qbxmlDocument([requests['invoiceByRef']!]).replace(' onError="stopOnError"', '');
    expect((await validateQbxml([noOnError])).valid).toBe(false);
  }, 120_000);

  it('carries our key: ExternalGUID derived from it, the marker in the memo, the reference cut to 20 keeping its end', () => {
    const p = requests['payment']!;
    expect(p).toContain(`<ExternalGUID>${externalGuidFor('payment:pi_3Nf0abc')}</ExternalGUID>`);
    expect(externalGuidFor('payment:pi_3Nf0abc')).toMatch(/^\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}$/);
    expect(p).toContain(settleMarker('payment:pi_3Nf0abc'));
    expect(p).toContain('<RefNumber>bcdefghijklmnopqrstu</RefNumber>');
    expect(p).toContain('&amp; co &lt;Settle&gt;');
    expect(p).toContain('<TotalAmount>1234.56</TotalAmount>');
    expect(p).toMatch(/<AppliedToTxnAdd><TxnID>1A2-1234567890<\/TxnID><PaymentAmount>1234.56<\/PaymentAmount><\/AppliedToTxnAdd>/);
    expect(requests['deposit']).toContain('<Amount>-32.10</Amount>');
    // QuickBooks Desktop ignores a journal entry's own Memo: the marker is on each line
    expect(requests['reversal']!.match(/\[settle:reversal:re_1\]/g)).toHaveLength(2);
  });
});

describe('qbXML responses', () => {
  it('reads each message with its own status, iterator and records (values kept as written)', () => {
    const xml = `<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>
      <InvoiceQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK" retCount="1" iteratorRemainingCount="3" iteratorID="{abc}">
        <InvoiceRet><TxnID>1A2-1</TxnID><RefNumber>0042</RefNumber><CustomerRef><ListID>80000001-1</ListID><FullName>Acme</FullName></CustomerRef>
        <Subtotal>100.10</Subtotal><BalanceRemaining>100.10</BalanceRemaining></InvoiceRet>
      </InvoiceQueryRs>
      <ReceivePaymentAddRs requestID="2" statusCode="3120" statusSeverity="Error" statusMessage="Object &quot;1A2-9&quot; specified in the request cannot be found." />
      <CustomerQueryRs requestID="3" statusCode="1" statusSeverity="Info" statusMessage="A query request did not find a matching object in QuickBooks" />
      <DepositAddRs requestID="4" statusCode="3175" statusSeverity="Error" statusMessage="in use" />
    </QBXMLMsgsRs></QBXML>`;
    const rs = parseQbxmlResponse(xml);
    const inv = rs.find((r) => r.type === 'InvoiceQueryRs')!;
    expect(inv).toMatchObject({ requestID: '1', statusCode: 0, iteratorRemainingCount: 3, iteratorID: '{abc}', retCount: 1 });
    expect(inv.rets[0]!['RefNumber']).toBe('0042');
    expect(inv.rets[0]!['Subtotal']).toBe('100.10');
    expect(statusKind(inv)).toBe('ok');
    const pay = rs.find((r) => r.type === 'ReceivePaymentAddRs')!;
    expect(statusKind(pay)).toBe('refused');
    expect(pay.statusMessage).toContain('"1A2-9"');
    expect(statusKind(rs.find((r) => r.type === 'CustomerQueryRs')!)).toBe('empty');
    expect(statusKind(rs.find((r) => r.type === 'DepositAddRs')!)).toBe('retry');
  });

  it('says clearly when the text is not a qbXML response', () => {
    expect(() => parseQbxmlResponse('<html>oops</html>')).toThrow(/QBXMLMsgsRs is missing/);
  });
});
