// The simulated company file treats a journal entry's Accounts Receivable line as QuickBooks does: an open
// transaction of the customer it names, which a ReceivePayment may apply to (AppliedToTxnAdd with the entry's
// TxnID) up to what is still open on it — more is refused (3180), another customer's entry is no reference
// (3140). Every request built here is Settle's own builder output, valid against qbxmlops130.xsd.
import { describe, expect, it } from 'vitest';
import { CompanyFile } from '../../../simulators/quickbooks-desktop/store.ts';
import { handleQbxml } from '../../../simulators/quickbooks-desktop/qbxml.ts';
import { journalEntryAdd, receivePaymentAdd } from '../../../src/connectors/accounting/quickbooks-desktop/qbxml/requests.ts';
import { qbxmlDocument } from '../../../src/connectors/accounting/quickbooks-desktop/qbxml/xml.ts';
import { money } from '../../../src/domain/money.ts';
import { validateQbxml } from './xsd-validate.ts';

const usd = (minor: bigint) => money(minor, 'USD');
const sent: string[] = [];
function send(company: CompanyFile, rq: string): string {
  const doc = qbxmlDocument([rq], 'stopOnError');
  sent.push(doc);
  return handleQbxml(company, doc, { inUse: 0 });
}
const pay = (company: CompanyFile, key: string, customer: string, txnId: string, minor: bigint) =>
  send(
    company,
    receivePaymentAdd('1', {
      idempotencyKey: key,
      customer: { listId: customer },
      txnDate: '2026-12-07',
      refNumber: key,
      totalAmount: usd(minor),
      memo: 'payment',
      applied: [{ txnId, paymentAmount: usd(minor) }],
    }),
  );

describe('a journal entry’s A/R line as an open transaction (simulated QuickBooks Desktop)', () => {
  it('takes payments up to its open amount, refuses more, and refuses another customer', async () => {
    const c = new CompanyFile();
    const inv = c.addInvoice({ refNumber: 'R-1', customer: 'Acme Dental', amountCents: 10_000n });
    const other = c.addCustomer('Birch Legal');
    const je = send(
      c,
      journalEntryAdd('1', {
        idempotencyKey: 'rev-1',
        txnDate: '2026-12-07',
        refNumber: 'S1',
        debits: [{ account: { fullName: 'Accounts Receivable' }, amount: usd(2_500n), memo: 'refund', entity: { listId: inv.customerListId } }],
        credits: [{ account: { fullName: 'Payments Clearing' }, amount: usd(2_500n), memo: 'refund' }],
      }),
    );
    const jeId = /<TxnID>([^<]+)<\/TxnID>/.exec(je)![1]!;
    expect(c.openOnJournal(jeId)).toBe(2_500n);

    expect(pay(c, 'p-other', other.listId, jeId, 100n)).toMatch(/statusCode="3140"/);
    expect(pay(c, 'p-much', inv.customerListId, jeId, 2_600n)).toMatch(/statusCode="3180"[^>]*more than its open balance \(25\.00\)/);
    expect(pay(c, 'p-part', inv.customerListId, jeId, 1_000n)).toMatch(/statusCode="0"[^>]*>.*<TxnType>JournalEntry<\/TxnType>/);
    expect(c.openOnJournal(jeId)).toBe(1_500n);
    expect(pay(c, 'p-more', inv.customerListId, jeId, 1_600n)).toMatch(/statusCode="3180"/);
    expect(pay(c, 'p-rest', inv.customerListId, jeId, 1_500n)).toMatch(/statusCode="0"/);
    expect(c.openOnJournal(jeId)).toBe(0n);
    expect(inv.balance).toBe(10_000n); // the invoice is not touched by payments to the entry
    expect((await validateQbxml(sent)).errors).toEqual([]);
  });
});
