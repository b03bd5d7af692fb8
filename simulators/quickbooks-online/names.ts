// List entities: Customer (IntuitNamesTypes.xsd › Customer), Account and Item (Finance.xsd).
import { checkFields, faults } from './faults.ts';
import { nameTaken } from './purchase.ts';
import { refTo, type Entity, type QboStore } from './store.ts';

type Body = Record<string, unknown>;

// Finance.xsd › simpleType AccountTypeEnum (the values the simulator's rules look at, plus the rest
// accepted as-is); AccountClassificationEnum follows from the type.
const CLASSIFICATION: Record<string, string> = {
  Bank: 'Asset',
  'Other Current Asset': 'Asset',
  'Fixed Asset': 'Asset',
  'Other Asset': 'Asset',
  'Accounts Receivable': 'Asset',
  Equity: 'Equity',
  Expense: 'Expense',
  'Other Expense': 'Expense',
  'Cost of Goods Sold': 'Expense',
  'Accounts Payable': 'Liability',
  'Credit Card': 'Liability',
  'Long Term Liability': 'Liability',
  'Other Current Liability': 'Liability',
  Income: 'Revenue',
  'Other Income': 'Revenue',
};

export function createCustomer(store: QboStore, body: Body): Entity {
  checkFields('Customer', body);
  const parts = ['Title', 'GivenName', 'MiddleName', 'FamilyName', 'Suffix'].map((k) => body[k]).filter((v) => typeof v === 'string');
  const displayName = (body['DisplayName'] ?? body['CompanyName'] ?? (parts.length ? parts.join(' ') : undefined)) as string | undefined;
  if (!displayName) throw faults.requiredParam('DisplayName');
  if (displayName.length > 500) throw faults.stringLength('DisplayName', 500, displayName.length);
  const dup = nameTaken(store, displayName);
  if (dup) throw faults.duplicateName(displayName, dup.Id);
  const parent = store.ref('Customer', 'ParentRef', body['ParentRef'], false);
  return store.insert('Customer', {
    ...body,
    DisplayName: displayName,
    FullyQualifiedName: parent ? `${String(parent['FullyQualifiedName'])}:${displayName}` : displayName,
    PrintOnCheckName: body['PrintOnCheckName'] ?? displayName,
    Active: body['Active'] ?? true,
    Job: Boolean(parent),
    BillWithParent: body['BillWithParent'] ?? false,
    Taxable: body['Taxable'] ?? false,
    Balance: 0,
    BalanceWithJobs: 0,
    CurrencyRef: store.currencyRef(),
    PreferredDeliveryMethod: body['PreferredDeliveryMethod'] ?? 'Email',
    ...(parent ? { ParentRef: refTo(parent, 'DisplayName'), Level: 1 } : {}),
  });
}

export function createAccount(store: QboStore, body: Body): Entity {
  checkFields('Account', body);
  const name = body['Name'];
  if (typeof name !== 'string' || name === '') throw faults.requiredParam('Name');
  if (name.length > 100) throw faults.stringLength('Name', 100, name.length);
  const type = body['AccountType'];
  if (typeof type !== 'string') throw faults.requiredParam('AccountType');
  const classification = CLASSIFICATION[type];
  if (!classification) throw faults.invalidValue('AccountType', `${type} is not a valid AccountType`);
  const dup = store.list('Account').find((a) => String(a['Name']).toLowerCase() === name.toLowerCase());
  if (dup) throw faults.duplicateName(name, dup.Id);
  return store.insert('Account', {
    ...body,
    FullyQualifiedName: name,
    SubAccount: false,
    Active: body['Active'] ?? true,
    Classification: classification,
    CurrentBalance: 0,
    CurrentBalanceWithSubAccounts: 0,
    CurrencyRef: store.currencyRef(),
  });
}

export function createItem(store: QboStore, body: Body): Entity {
  checkFields('Item', body);
  const name = body['Name'];
  if (typeof name !== 'string' || name === '') throw faults.requiredParam('Name');
  const type = (body['Type'] as string | undefined) ?? 'Service';
  if (!['Service', 'NonInventory', 'Inventory', 'Category', 'Group'].includes(type)) {
    throw faults.invalidValue('Type', `${type} is not a valid ItemTypeEnum value`);
  }
  const dup = store.list('Item').find((i) => String(i['Name']).toLowerCase() === name.toLowerCase());
  if (dup) throw faults.duplicateName(name, dup.Id);
  // Service and non-inventory items must name an income account.
  const income = store.ref('Account', 'IncomeAccountRef', body['IncomeAccountRef'], false) ?? store.get('Account', store.defaults.servicesIncome);
  return store.insert('Item', {
    ...body,
    Type: type,
    FullyQualifiedName: name,
    Active: body['Active'] ?? true,
    IncomeAccountRef: refTo(income),
  });
}
