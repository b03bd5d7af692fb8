// Which properties a query may filter (WHERE) or sort (ORDERBY) on, per entity. Intuit's API reference
// marks each attribute "filterable" / "sortable"; every other property — PrivateNote, Line, LinkedTxn,
// DepositToAccountRef, … — is refused with `QueryValidationError: property 'X' is not queryable` (4001),
// even though it is returned by SELECT *. (docs: developer.intuit.com … /api/accounting/all-entities/<entity>,
// "Attributes"; the Payment list is the one issue #7 quotes: Id, CustomerRef, TxnDate, TotalAmt,
// PaymentRefNum, MetaData times.) Where the reference is unclear for a field, it is left out: the simulator
// must refuse at least what QuickBooks refuses. The same list governs ORDERBY.
import type { EntityName } from './store.ts';

const META = ['Id', 'MetaData.CreateTime', 'MetaData.LastUpdatedTime'] as const;

export const FILTERABLE: Readonly<Record<EntityName, ReadonlySet<string>>> = {
  Invoice: new Set([...META, 'DocNumber', 'TxnDate', 'DueDate', 'CustomerRef', 'TotalAmt', 'Balance']),
  CreditMemo: new Set([...META, 'DocNumber', 'TxnDate', 'CustomerRef', 'TotalAmt', 'Balance']),
  Payment: new Set([...META, 'CustomerRef', 'TxnDate', 'TotalAmt', 'PaymentRefNum']),
  Deposit: new Set([...META, 'TxnDate', 'TotalAmt']),
  JournalEntry: new Set([...META, 'DocNumber', 'TxnDate']),
  Purchase: new Set([...META, 'DocNumber', 'TxnDate']),
  Customer: new Set([...META, 'DisplayName', 'GivenName', 'MiddleName', 'FamilyName', 'CompanyName', 'FullyQualifiedName', 'Active', 'Balance', 'Job']),
  Vendor: new Set([...META, 'DisplayName', 'GivenName', 'MiddleName', 'FamilyName', 'CompanyName', 'Active', 'Balance']),
  Account: new Set([
    ...META,
    'Name',
    'SubAccount',
    'ParentRef',
    'Description',
    'Active',
    'Classification',
    'FullyQualifiedName',
    'AccountType',
    'AccountSubType',
    'CurrentBalance',
    'CurrentBalanceWithSubAccounts',
  ]),
  Item: new Set([...META, 'Name', 'Active', 'Type', 'FullyQualifiedName']),
  CompanyInfo: new Set([...META]),
  Preferences: new Set([...META]),
  // Class: the XSD marks Name sortable and Active filterable; Intuit's reference lists Name, SubClass,
  // Active and FullyQualifiedName as filterable. Department: the same.
  Class: new Set([...META, 'Name', 'SubClass', 'Active', 'FullyQualifiedName']),
  Department: new Set([...META, 'Name', 'SubDepartment', 'Active', 'FullyQualifiedName']),
};

export function isFilterable(entity: EntityName, field: string): boolean {
  return FILTERABLE[entity].has(field);
}
