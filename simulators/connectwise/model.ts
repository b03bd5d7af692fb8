// Record shapes as ConnectWise Manage serves them (REST 3.0, API version 2022.1). Field names follow
// the generated 2022.1 types (see ../../../shared/specs/README.md §1); amounts are JSON decimal
// numbers, dates are ISO 8601 UTC with second precision ("2024-05-01T12:34:56Z").

export interface Info {
  lastUpdated: string;
  updatedBy: string;
  dateEntered?: string;
  enteredBy?: string;
}

export interface CompanyRef {
  id: number;
  identifier: string;
  name: string;
}

export interface CwCompany {
  id: number;
  identifier: string;
  name: string;
  status: { id: number; name: string };
  accountNumber: string | null;
  billingTerms: { id: number; name: string } | null;
  defaultContact: { id: number; name: string } | null;
  deletedFlag: boolean;
  _info: Info;
}

export interface CommunicationItem {
  id: number;
  type: { id: number; name: string };
  value: string;
  defaultFlag: boolean;
  communicationType: 'Email' | 'Phone' | 'Fax';
}

export interface CwContact {
  id: number;
  firstName: string;
  lastName: string;
  company: CompanyRef;
  defaultFlag: boolean;
  defaultBillingFlag: boolean;
  inactiveFlag: boolean;
  communicationItems: CommunicationItem[];
  _info: Info;
}

export const INVOICE_TYPES = ['Agreement', 'CreditMemo', 'DownPayment', 'Miscellaneous', 'Progress', 'Standard'] as const;
export type CwInvoiceType = (typeof INVOICE_TYPES)[number];

export interface CurrencyRef {
  id: number;
  symbol: string;
  currencyCode: string;
  decimalSeparator: string;
  numberOfDecimals: number;
  thousandsSeparator: string;
  negativeParenthesesFlag: boolean;
  displaySymbolFlag: boolean;
  currencyIdentifier: string;
  displayIdFlag: boolean;
  rightAlign: boolean;
  name: string;
}

export interface CwInvoice {
  id: number;
  invoiceNumber: string;
  type: CwInvoiceType;
  status: { id: number; name: string };
  company: CompanyRef;
  billToCompany: CompanyRef;
  applyToType: 'All' | 'Agreement' | 'Project' | 'ProjectPhase' | 'SalesOrder' | 'Ticket';
  applyToId: number | null;
  billingTerms: { id: number; name: string };
  reference: string | null;
  customerPO: string | null;
  date: string;
  dueDate: string;
  currency: CurrencyRef;
  taxableFlag: boolean;
  serviceTotal: number;
  expenseTotal: number;
  productTotal: number;
  subtotal: number;
  total: number;
  salesTax: number;
  payments: number;
  credits: number;
  balance: number;
  _info: Info;
}

export type BillableOption = 'Billable' | 'DoNotBill' | 'NoCharge' | 'NoDefault';

export interface InvoiceRef {
  id: number;
  identifier: string;
}

/** 2022.1 `AgreementReference`: the agreement's id, name and its agreement type's name. */
export interface AgreementRef {
  id: number;
  name: string;
  type: string;
}

export interface CwProductItem {
  id: number;
  catalogItem: { id: number; identifier: string };
  description: string;
  quantity: number;
  price: number;
  cost: number;
  discount: number;
  billableOption: BillableOption;
  taxableFlag: boolean;
  company: CompanyRef;
  invoice: InvoiceRef | null;
  /** The agreement, project or service ticket the product is sold under (absent when none). */
  agreement?: AgreementRef | null;
  project?: { id: number; name: string } | null;
  ticket?: { id: number; summary: string } | null;
  _info: Info;
}

export interface CwTimeEntry {
  id: number;
  company: CompanyRef;
  chargeToId: number | null;
  chargeToType: 'ServiceTicket' | 'ProjectTicket' | 'ChargeCode' | 'Activity';
  member: { id: number; identifier: string; name: string };
  timeStart: string;
  timeEnd: string;
  actualHours: number;
  hoursBilled: number;
  billableOption: BillableOption;
  notes: string;
  hourlyRate: number;
  invoice: InvoiceRef | null;
  agreement?: AgreementRef | null;
  _info: Info;
}

export interface CwExpenseEntry {
  id: number;
  company: CompanyRef;
  chargeToId: number | null;
  chargeToType: 'ServiceTicket' | 'ProjectTicket' | 'ChargeCode' | 'Activity';
  type: { id: number; name: string };
  member: { id: number; identifier: string; name: string };
  amount: number;
  billableOption: BillableOption;
  date: string;
  notes: string;
  invoiceAmount: number;
  invoice: InvoiceRef | null;
  agreement?: AgreementRef | null;
  _info: Info;
}

/** 2022.1 `Payment` (the 2026 path list calls it InvoicePayment). There is no free-text field. */
export interface CwPayment {
  id: number;
  type: string | null;
  invoice: InvoiceRef;
  credit: InvoiceRef | null;
  amount: number;
  paymentDate: string;
  appliedBy: string;
  _info: Info;
}

export interface CwCallbackEntry {
  id: number;
  description: string;
  url: string;
  objectId: number;
  type: string;
  level: string;
  memberId: number;
  payloadVersion: string | null;
  inactiveFlag: boolean;
  isSoapCallbackFlag: boolean;
  isSelfSuppressedFlag: boolean;
  _info: Info;
}

/** 2022.1 `CompanySite` (`/company/companies/{parentId}/sites`): a client's addresses. */
export interface CwCompanySite {
  id: number;
  name: string;
  addressLine1: string | null;
  addressLine2: string | null;
  city: string | null;
  stateReference: { id: number; identifier: string; name: string } | null;
  zip: string | null;
  country: { id: number; identifier: string; name: string } | null;
  phoneNumber: string | null;
  primaryAddressFlag: boolean;
  defaultShippingFlag: boolean;
  defaultBillingFlag: boolean;
  defaultMailingFlag: boolean;
  inactiveFlag: boolean;
  company: CompanyRef;
  _info: Info;
}

/** 2022.1 `Agreement` (`/finance/agreements`), the fields a billing integration reads. */
export interface CwAgreement {
  id: number;
  name: string;
  type: { id: number; name: string };
  company: CompanyRef;
  contact: { id: number; name: string } | null;
  site: { id: number; name: string } | null;
  agreementStatus: 'Active' | 'Cancelled' | 'Expired' | 'Inactive';
  startDate: string;
  endDate: string | null;
  noEndingDateFlag: boolean;
  cancelledFlag: boolean;
  billAmount: number;
  billingCycle: { id: number; name: string };
  billToCompany: CompanyRef;
  applicationUnits: 'Amount' | 'Hours' | 'Incidents' | null;
  taxable: boolean;
  currency: CurrencyRef;
  _info: Info;
}

/** 2022.1 `Info` (`/system/info`): the site's version, which clients read to check a connection. */
export interface CwSystemInfo {
  version: string;
  isCloud: boolean;
  serverTimeZone: string;
  licenseBits: { name: string; activeFlag: boolean }[];
  cloudRegion: string;
}

/** ConnectWise error body: `code`, `message`, and `errors[]` of ValidationError. */
export interface CwError {
  code: string;
  message: string;
  errors?: { code: string; message: string; resource: string; field: string }[];
}

/** ISO 8601 UTC with second precision, as ConnectWise prints timestamps. */
export function cwTimestamp(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * A copy of a body without the properties whose value is null: ConnectWise leaves out a field that
 * has no value (its generated types mark strings as never null), so clients must read a missing field
 * as "no value" (README.md: assumptions). Used for a callback's `Entity`; API responses drop nulls the
 * same way while they are serialised (routes.ts).
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
  return out;
}
