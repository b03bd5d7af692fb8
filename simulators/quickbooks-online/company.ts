// The company itself: CompanyInfo (read at `GET /companyinfo/{realmId}`, Id "1") and Preferences (read at
// `GET /preferences`, no id), both also answered by `SELECT * FROM CompanyInfo | Preferences`. Field names
// per Finance.xsd › CompanyInfo / Preferences / SalesFormsPrefs / CurrencyPrefs / CompanyAccountingPrefs.
// The values describe a small US company with custom transaction numbers off (so QuickBooks numbers
// invoices itself: store.docNumber) and multicurrency off (transactions.ts › checkCurrency).
import { faults } from './faults.ts';
import type { Entity, QboStore } from './store.ts';

/** Intuit reads CompanyInfo by the realm id in the path; the record's own Id is "1". */
export const COMPANY_INFO_ID = '1';
export const PREFERENCES_ID = '1';

export function seedCompany(store: QboStore, companyName = 'Settle Simulated MSP LLC'): void {
  const address = { Id: '1', Line1: '100 Main Street', City: 'Mountain View', CountrySubDivisionCode: 'CA', PostalCode: '94043', Country: 'US' };
  store.insert(
    'CompanyInfo',
    {
      CompanyName: companyName,
      LegalName: companyName,
      CompanyAddr: address,
      LegalAddr: address,
      CustomerCommunicationAddr: address,
      Email: { Address: 'books@msp.example' },
      CompanyStartDate: store.today(),
      FiscalYearStartMonth: 'January',
      Country: store.homeCurrency === 'USD' ? 'US' : store.homeCurrency.slice(0, 2),
      SupportedLanguages: 'en',
      DefaultTimeZone: 'America/Los_Angeles',
      NameValue: [
        { Name: 'NeoEnabled', Value: 'true' },
        { Name: 'IsQbdtMigrated', Value: 'false' },
      ],
    },
    COMPANY_INFO_ID,
  );
  store.insert(
    'Preferences',
    {
      AccountingInfoPrefs: { TrackDepartments: false, ClassTrackingPerTxn: false, ClassTrackingPerTxnLine: false, CustomerTerminology: 'Customers' },
      SalesFormsPrefs: {
        CustomTxnNumbers: false,
        AllowDeposit: false,
        AllowDiscount: false,
        AllowEstimates: true,
        ETransactionEnabledStatus: 'NotApplicable',
        AutoApplyCredit: true,
        AutoApplyPayments: true,
        DefaultDeliveryMethod: 'None',
      },
      VendorAndPurchasesPrefs: { TrackingByCustomer: false, BillableExpenseTracking: false },
      CurrencyPrefs: { MultiCurrencyEnabled: false, HomeCurrency: { value: store.homeCurrency } },
    },
    PREFERENCES_ID,
  );
}

/** `GET /companyinfo/{id}`: the id is the realm id (or the record's own "1"). */
export function readCompanyInfo(store: QboStore, id: string): Entity {
  if (id !== store.realmId && id !== COMPANY_INFO_ID) throw faults.objectNotFound('CompanyInfo', id);
  return store.get('CompanyInfo', COMPANY_INFO_ID);
}

export function readPreferences(store: QboStore): Entity {
  return store.get('Preferences', PREFERENCES_ID);
}
