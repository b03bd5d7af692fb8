// CreditMemo (Finance.xsd › CreditMemo): what the PSA's own accounting export creates in QuickBooks when the MSP
// issues a credit memo in the PSA. Settle never creates one; it applies one to an invoice the way QuickBooks
// does — a Payment with TotalAmt 0 whose lines link the Invoice and the CreditMemo for the same amount
// (transactions.ts createPayment). A credit memo lowers the customer's balance when created; applying it moves
// its RemainingCredit (and Balance) down and the invoice's Balance down by the same amount. Rules as QuickBooks:
// lines SalesItemLineDetail, DocNumber unique among credit memos, the amount not negative.
import { checkFields, faults } from './faults.ts';
import { refTo, type Entity, type QboStore } from './store.ts';
import { checkTrackingRefs } from './tracking.ts';
import { checkCurrency, checkDate, checkLength, DOC_NUMBER_MAX, lines, PRIVATE_NOTE_MAX } from './transactions.ts';

type Body = Record<string, unknown>;

export function createCreditMemo(store: QboStore, body: Body): Entity {
  checkFields('CreditMemo', body);
  checkTrackingRefs(store, body);
  const customer = store.ref('Customer', 'CustomerRef', body['CustomerRef'])!;
  checkCurrency(store, body);
  checkLength(body, 'DocNumber', DOC_NUMBER_MAX);
  checkLength(body, 'PrivateNote', PRIVATE_NOTE_MAX);
  const txnDate = checkDate(body, 'TxnDate') ?? store.today();
  const docNumber = typeof body['DocNumber'] === 'string' && body['DocNumber'] !== '' ? body['DocNumber'] : store.docNumber('CreditMemo');
  const dup = store.list('CreditMemo').find((c) => c['DocNumber'] === docNumber);
  if (dup) throw faults.duplicateDocNumber(docNumber, 'CreditMemo', dup.Id);
  const input = lines(body).filter((l) => l['DetailType'] !== 'SubTotalLineDetail');
  if (input.length === 0) throw faults.requiredParam('Line');
  let total = 0n;
  const outLines: Body[] = input.map((l, i) => {
    if (l['DetailType'] !== 'SalesItemLineDetail')
      throw faults.invalidValue('Line.DetailType', `the simulator supports SalesItemLineDetail credit memo lines, not ${String(l['DetailType'])}`);
    if (l['Amount'] === undefined) throw faults.requiredParam('Line.Amount');
    const amt = store.minor(l['Amount'], 'Line.Amount');
    total += amt;
    const detail = { ...((l['SalesItemLineDetail'] as Body | undefined) ?? {}) };
    const item = store.ref('Item', 'Line.SalesItemLineDetail.ItemRef', detail['ItemRef'], false) ?? store.get('Item', store.defaults.servicesItem);
    detail['ItemRef'] = refTo(item);
    return { Id: String(i + 1), LineNum: i + 1, Amount: store.amount(amt), DetailType: 'SalesItemLineDetail', SalesItemLineDetail: detail };
  });
  if (total < 0n) throw faults.business('Transaction amount must be positive or zero', 'TotalAmt');
  const memo = store.insert('CreditMemo', {
    ...body,
    DocNumber: docNumber,
    TxnDate: txnDate,
    CurrencyRef: store.currencyRef(),
    CustomerRef: refTo(customer, 'DisplayName'),
    LinkedTxn: [],
    Line: outLines,
    TotalAmt: store.amount(total),
    RemainingCredit: store.amount(total),
    Balance: store.amount(total),
  });
  customer['Balance'] = store.amount(store.minor(customer['Balance'] ?? 0, 'Balance') - total);
  customer['BalanceWithJobs'] = customer['Balance'];
  store.touch(customer);
  return memo;
}

/** A payment line that applies (part of) a credit memo: checked like QuickBooks, applied only after every line is. */
export function checkCreditLine(store: QboStore, customerId: string, memoId: string, amount: bigint, already: bigint): Entity {
  const memo = store.find('CreditMemo', memoId);
  if (!memo) throw faults.invalidReference('Line.LinkedTxn.TxnId', memoId);
  if ((memo['CustomerRef'] as { value: string }).value !== customerId)
    throw faults.business(`CreditMemo ${memo.Id} belongs to another customer than the payment's`, 'Line.LinkedTxn');
  const left = store.minor(memo['RemainingCredit'], 'RemainingCredit') - already;
  if (amount > left)
    throw faults.business(
      `The amount applied from CreditMemo ${String(memo['DocNumber'])} (${store.amount(amount)}) is more than its remaining credit (${store.amount(left)})`,
      'Line.Amount',
    );
  return memo;
}

export function applyCredit(store: QboStore, memoId: string, amount: bigint, paymentId: string): void {
  const memo = store.get('CreditMemo', memoId);
  const left = store.amount(store.minor(memo['RemainingCredit'], 'RemainingCredit') - amount);
  memo['RemainingCredit'] = left;
  memo['Balance'] = left;
  (memo['LinkedTxn'] as Body[]).push({ TxnId: paymentId, TxnType: 'Payment' });
  store.touch(memo);
}
