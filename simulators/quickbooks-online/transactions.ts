// Business rules of the transactions Settle writes or reads: Invoice, Payment (Deposit: deposit.ts). Each create
// validates everything first and only then changes the company, so a fault leaves no trace (QBO
// requests are atomic). Field names per Finance.xsd › Invoice / Payment / Deposit / Line / LinkedTxn.
import { checkFields, faults } from './faults.ts';
import { refTo, type Entity, type QboStore } from './store.ts';
import { checkTrackingRefs } from './tracking.ts';
import { applyCredit, checkCreditLine } from './credit-memo.ts';

type Body = Record<string, unknown>;

// Intuit's documented string limits (Finance.xsd › Transaction.DocNumber "max=21"; PaymentRefNum is
// documented as 21 characters on the Payment reference page; PrivateNote as 4000).
export const DOC_NUMBER_MAX = 21;
export const PAYMENT_REF_NUM_MAX = 21;
export const PRIVATE_NOTE_MAX = 4000;

export function checkLength(body: Body, field: string, max: number): void {
  const v = body[field];
  if (v === undefined) return;
  if (typeof v !== 'string') throw faults.invalidValue(field, `${field} must be a string`);
  if (v.length > max) throw faults.stringLength(field, max, v.length);
}

export function checkDate(body: Body, field: string): string | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) {
    throw faults.invalidValue(field, `${field} must be a date (yyyy-MM-dd), got ${JSON.stringify(v)}`);
  }
  return v;
}

export function lines(body: Body): Body[] {
  const l = body['Line'];
  if (l === undefined) return [];
  if (!Array.isArray(l)) throw faults.invalidValue('Line', 'Line must be a list');
  return l as Body[];
}

export function checkCurrency(store: QboStore, body: Body): void {
  const c = body['CurrencyRef'] as { value?: unknown } | undefined;
  if (c !== undefined && c.value !== store.homeCurrency) {
    throw faults.business(
      `currency ${String(c.value)} is not enabled for this company (home currency ${store.homeCurrency}; multicurrency is off)`,
      'CurrencyRef',
    );
  }
}

function adjustCustomerBalance(store: QboStore, customer: Entity, delta: bigint): void {
  customer['Balance'] = store.amount(store.minor(customer['Balance'] ?? 0, 'Balance') + delta);
  customer['BalanceWithJobs'] = customer['Balance'];
  store.touch(customer);
}

// ---- Invoice ------------------------------------------------------------------------------------------

export function createInvoice(store: QboStore, body: Body): Entity {
  checkFields('Invoice', body);
  checkTrackingRefs(store, body);
  const customer = store.ref('Customer', 'CustomerRef', body['CustomerRef'])!;
  checkCurrency(store, body);
  checkLength(body, 'DocNumber', DOC_NUMBER_MAX);
  checkLength(body, 'PrivateNote', PRIVATE_NOTE_MAX);
  const txnDate = checkDate(body, 'TxnDate') ?? store.today();
  const dueDate = checkDate(body, 'DueDate') ?? txnDate;
  const docNumber = typeof body['DocNumber'] === 'string' && body['DocNumber'] !== '' ? body['DocNumber'] : store.docNumber();
  const dup = store.list('Invoice').find((i) => i['DocNumber'] === docNumber);
  if (dup) throw faults.duplicateDocNumber(docNumber, 'Invoice', dup.Id);
  const input = lines(body).filter((l) => l['DetailType'] !== 'SubTotalLineDetail'); // QBO recomputes subtotals
  if (input.length === 0) throw faults.requiredParam('Line');
  let total = 0n;
  const outLines: Body[] = input.map((l, i) => {
    const detailType = l['DetailType'];
    if (detailType === undefined) throw faults.requiredParam('Line.DetailType');
    if (detailType === 'DescriptionOnly') {
      return { Id: String(i + 1), LineNum: i + 1, Description: l['Description'] ?? '', DetailType: 'DescriptionOnly', DescriptionLineDetail: {} };
    }
    if (detailType !== 'SalesItemLineDetail') {
      throw faults.invalidValue('Line.DetailType', `the simulator supports SalesItemLineDetail and DescriptionOnly invoice lines, not ${String(detailType)}`);
    }
    if (l['Amount'] === undefined) throw faults.requiredParam('Line.Amount');
    const amt = store.minor(l['Amount'], 'Line.Amount');
    total += amt;
    const detail = { ...((l['SalesItemLineDetail'] as Body | undefined) ?? {}) };
    const item = store.ref('Item', 'Line.SalesItemLineDetail.ItemRef', detail['ItemRef'], false) ?? store.get('Item', store.defaults.servicesItem);
    detail['ItemRef'] = refTo(item);
    return {
      Id: String(i + 1),
      LineNum: i + 1,
      ...(l['Description'] === undefined ? {} : { Description: l['Description'] }),
      Amount: store.amount(amt),
      DetailType: 'SalesItemLineDetail',
      SalesItemLineDetail: detail,
    };
  });
  if (total < 0n) throw faults.business('Transaction amount must be positive or zero', 'TotalAmt');
  outLines.push({ Amount: store.amount(total), DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} });
  const invoice = store.insert('Invoice', {
    ...body,
    DocNumber: docNumber,
    TxnDate: txnDate,
    DueDate: dueDate,
    CurrencyRef: store.currencyRef(),
    CustomerRef: refTo(customer, 'DisplayName'),
    LinkedTxn: [],
    Line: outLines,
    TotalAmt: store.amount(total),
    Balance: store.amount(total),
    PrintStatus: body['PrintStatus'] ?? 'NotSet',
    EmailStatus: body['EmailStatus'] ?? 'NotSet',
  });
  adjustCustomerBalance(store, customer, total);
  return invoice;
}

// ---- Payment ------------------------------------------------------------------------------------------

export function createPayment(store: QboStore, body: Body): Entity {
  checkFields('Payment', body);
  checkTrackingRefs(store, body); // Payment: DepartmentRef only (no ClassRef in the XSD)
  const customer = store.ref('Customer', 'CustomerRef', body['CustomerRef'])!;
  checkCurrency(store, body);
  if (body['TotalAmt'] === undefined) throw faults.requiredParam('TotalAmt');
  const total = store.minor(body['TotalAmt'], 'TotalAmt');
  if (total < 0n) throw faults.business('Payment amount must not be negative', 'TotalAmt');
  checkLength(body, 'PaymentRefNum', PAYMENT_REF_NUM_MAX);
  checkLength(body, 'PrivateNote', PRIVATE_NOTE_MAX);
  const txnDate = checkDate(body, 'TxnDate') ?? store.today();
  // DepositToAccountRef absent ⇒ Undeposited Funds (Finance.xsd › Payment.DepositToAccountRef notes).
  const depositTo = store.ref('Account', 'DepositToAccountRef', body['DepositToAccountRef'], false) ?? store.get('Account', store.defaults.undepositedFunds);
  if (!['Bank', 'Other Current Asset'].includes(String(depositTo['AccountType']))) {
    throw faults.business(
      `a payment can only be deposited to a bank or other current asset account, not ${String(depositTo['AccountType'])}`,
      'DepositToAccountRef',
    );
  }
  // Validate every application before touching any invoice.
  const applied = new Map<string, bigint>();
  let appliedTotal = 0n;
  // Credit memos applied with the payment (credit-memo.ts): their lines offset invoice lines of the same payment.
  const credited = new Map<string, bigint>();
  let creditTotal = 0n;
  const outLines = lines(body).map((l) => {
    checkFields('Line', l, 'Payment');
    if (l['Amount'] === undefined) throw faults.requiredParam('Line.Amount');
    const amt = store.minor(l['Amount'], 'Line.Amount');
    if (amt <= 0n) throw faults.business('an applied amount must be more than zero', 'Line.Amount');
    const linked = (l['LinkedTxn'] as Body[] | undefined) ?? [];
    if (linked.length !== 1) throw faults.requiredParam('Line.LinkedTxn');
    const link = linked[0]!;
    if (link['TxnType'] === 'CreditMemo') {
      const memo = checkCreditLine(store, customer.Id, String(link['TxnId']), amt, credited.get(String(link['TxnId'])) ?? 0n);
      credited.set(memo.Id, (credited.get(memo.Id) ?? 0n) + amt);
      creditTotal += amt;
      return { Amount: store.amount(amt), LinkedTxn: [{ TxnId: memo.Id, TxnType: 'CreditMemo' }] };
    }
    if (link['TxnType'] !== 'Invoice') {
      throw faults.invalidValue('Line.LinkedTxn.TxnType', `the simulator applies payments to Invoice only, not ${String(link['TxnType'])}`);
    }
    const invoice = store.find('Invoice', String(link['TxnId']));
    if (!invoice) throw faults.invalidReference('Line.LinkedTxn.TxnId', String(link['TxnId']));
    if ((invoice['CustomerRef'] as { value: string }).value !== customer.Id) {
      throw faults.business(`Invoice ${invoice.Id} belongs to another customer than the payment's`, 'Line.LinkedTxn');
    }
    const already = applied.get(invoice.Id) ?? 0n;
    const open = store.minor(invoice['Balance'], 'Balance') - already;
    if (amt > open) {
      throw faults.business(
        `The amount applied to Invoice ${String(invoice['DocNumber'])} (${store.amount(amt)}) is more than its open balance (${store.amount(open)})`,
        'Line.Amount',
      );
    }
    applied.set(invoice.Id, already + amt);
    appliedTotal += amt;
    return { Amount: store.amount(amt), LinkedTxn: [{ TxnId: invoice.Id, TxnType: 'Invoice' }] };
  });
  if (creditTotal > appliedTotal) {
    throw faults.business(
      `The credit applied (${store.amount(creditTotal)}) is more than the invoices it is applied to (${store.amount(appliedTotal)})`,
      'Line.Amount',
    );
  }
  if (appliedTotal - creditTotal > total) {
    throw faults.business(
      `The amounts applied (${store.amount(appliedTotal - creditTotal)}) are more than the payment total (${store.amount(total)})`,
      'TotalAmt',
    );
  }
  const payment = store.insert('Payment', {
    ...body,
    CustomerRef: refTo(customer, 'DisplayName'),
    DepositToAccountRef: { value: depositTo.Id },
    TotalAmt: store.amount(total),
    UnappliedAmt: store.amount(total - (appliedTotal - creditTotal)),
    ProcessPayment: false,
    TxnDate: txnDate,
    CurrencyRef: store.currencyRef(),
    LinkedTxn: [],
    Line: outLines,
  });
  for (const [invoiceId, amt] of applied) {
    const invoice = store.get('Invoice', invoiceId);
    invoice['Balance'] = store.amount(store.minor(invoice['Balance'], 'Balance') - amt);
    (invoice['LinkedTxn'] as Body[]).push({ TxnId: payment.Id, TxnType: 'Payment' });
    store.touch(invoice);
  }
  for (const [memoId, amt] of credited) applyCredit(store, memoId, amt, payment.Id);
  adjustCustomerBalance(store, customer, -total);
  return payment;
}

export function depositOf(payment: Entity): string | undefined {
  const t = (payment['LinkedTxn'] as Body[]).find((x) => x['TxnType'] === 'Deposit');
  return t ? String(t['TxnId']) : undefined;
}
