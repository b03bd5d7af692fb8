// Money paid out: Vendor (IntuitNamesTypes.xsd › Vendor) and Purchase (Finance.xsd › Purchase — an expense,
// check or credit-card charge; a processor's fees can be booked this way). Rules modelled (Intuit's API
// reference; messages ours):
//   - a vendor's DisplayName is unique among customers and vendors (6240), as for customers;
//   - a Purchase names AccountRef — the account paid from: Bank for Cash/Check, Credit Card for CreditCard —
//     and PaymentType (Cash | Check | CreditCard; Finance.xsd › PaymentTypeEnum); EntityRef, when given, is
//     a Vendor or a Customer; lines are AccountBasedExpenseLineDetail with an AccountRef, amounts ≥ 0;
//     TotalAmt is computed from the lines (a client value is ignored).
// ItemBasedExpenseLineDetail, tax and billable-expense tracking are not modelled (refused, 2170).
import { checkFields, faults } from './faults.ts';
import { refTo, type Entity, type QboStore } from './store.ts';
import { checkTrackingRefs } from './tracking.ts';
import { checkCurrency, checkDate, checkLength, lines, DOC_NUMBER_MAX, PRIVATE_NOTE_MAX } from './transactions.ts';

type Body = Record<string, unknown>;

/** A DisplayName already used by a customer or vendor (QuickBooks keeps one name list). */
export function nameTaken(store: QboStore, displayName: string, exceptId?: string): Entity | undefined {
  const lower = displayName.toLowerCase();
  return [...store.list('Customer'), ...store.list('Vendor')].find((e) => e.Id !== exceptId && String(e['DisplayName']).toLowerCase() === lower);
}

export function createVendor(store: QboStore, body: Body): Entity {
  checkFields('Vendor', body);
  const parts = ['Title', 'GivenName', 'MiddleName', 'FamilyName', 'Suffix'].map((k) => body[k]).filter((v) => typeof v === 'string');
  const displayName = (body['DisplayName'] ?? body['CompanyName'] ?? (parts.length ? parts.join(' ') : undefined)) as string | undefined;
  if (typeof displayName !== 'string' || displayName === '') throw faults.requiredParam('DisplayName');
  if (displayName.length > 500) throw faults.stringLength('DisplayName', 500, displayName.length);
  const dup = nameTaken(store, displayName);
  if (dup) throw faults.duplicateName(displayName, dup.Id);
  return store.insert('Vendor', {
    ...body,
    DisplayName: displayName,
    PrintOnCheckName: body['PrintOnCheckName'] ?? displayName,
    Active: body['Active'] ?? true,
    Vendor1099: body['Vendor1099'] ?? false,
    Balance: 0,
    CurrencyRef: store.currencyRef(),
  });
}

const PAYMENT_TYPES: Readonly<Record<string, readonly string[]>> = { Cash: ['Bank'], Check: ['Bank'], CreditCard: ['Credit Card'] };

export function createPurchase(store: QboStore, body: Body): Entity {
  checkFields('Purchase', body);
  checkTrackingRefs(store, body);
  checkCurrency(store, body);
  checkLength(body, 'DocNumber', DOC_NUMBER_MAX);
  checkLength(body, 'PrivateNote', PRIVATE_NOTE_MAX);
  const paymentType = body['PaymentType'];
  if (paymentType === undefined) throw faults.requiredParam('PaymentType');
  const accountTypes = PAYMENT_TYPES[String(paymentType)];
  if (!accountTypes) throw faults.invalidValue('PaymentType', `PaymentType is Cash, Check or CreditCard, not ${JSON.stringify(paymentType)}`);
  const account = store.ref('Account', 'AccountRef', body['AccountRef'])!;
  if (!accountTypes.includes(String(account['AccountType']))) {
    throw faults.business(
      `a ${String(paymentType)} purchase is paid from a ${accountTypes.join(' or ')} account, not ${String(account['AccountType'])}`,
      'AccountRef',
    );
  }
  const entityRef = body['EntityRef'] as { value?: unknown; type?: unknown } | undefined;
  let payee: Entity | undefined;
  const kind = entityRef?.type === 'Customer' ? 'Customer' : 'Vendor';
  if (entityRef !== undefined) {
    if (entityRef.type !== undefined && entityRef.type !== 'Customer' && entityRef.type !== 'Vendor') {
      throw faults.invalidValue('EntityRef.type', 'the simulator models Vendor and Customer payees');
    }
    payee = store.ref(kind, 'EntityRef', entityRef);
  }
  const txnDate = checkDate(body, 'TxnDate') ?? store.today();
  const input = lines(body);
  if (input.length === 0) throw faults.requiredParam('Line');
  let total = 0n;
  const outLines = input.map((l, i) => {
    checkFields('Line', l, 'Purchase');
    if (l['DetailType'] !== 'AccountBasedExpenseLineDetail') {
      throw faults.invalidValue('Line.DetailType', `the simulator models AccountBasedExpenseLineDetail purchase lines, not ${String(l['DetailType'])}`);
    }
    if (l['Amount'] === undefined) throw faults.requiredParam('Line.Amount');
    const amt = store.minor(l['Amount'], 'Line.Amount');
    if (amt < 0n) throw faults.business('a purchase line amount cannot be negative', 'Line.Amount');
    total += amt;
    const detail = (l['AccountBasedExpenseLineDetail'] as Body | undefined) ?? {};
    const expense = store.ref('Account', 'Line.AccountBasedExpenseLineDetail.AccountRef', detail['AccountRef'])!;
    return {
      Id: String(i + 1),
      ...(l['Description'] === undefined ? {} : { Description: l['Description'] }),
      Amount: store.amount(amt),
      DetailType: 'AccountBasedExpenseLineDetail',
      AccountBasedExpenseLineDetail: { ...detail, AccountRef: refTo(expense), BillableStatus: detail['BillableStatus'] ?? 'NotBillable' },
    };
  });
  return store.insert('Purchase', {
    ...body,
    AccountRef: refTo(account),
    PaymentType: paymentType,
    ...(payee ? { EntityRef: { ...refTo(payee, 'DisplayName'), type: kind } } : {}),
    Credit: body['Credit'] ?? false,
    TxnDate: txnDate,
    CurrencyRef: store.currencyRef(),
    Line: outLines,
    TotalAmt: store.amount(total),
  });
}
