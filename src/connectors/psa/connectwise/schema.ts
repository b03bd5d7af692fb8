// The parts of ConnectWise payloads Settle reads, as zod schemas (2022.1 field names; see
// ../../../../../shared/specs/README.md §1). Amounts stay as the JSON numbers ConnectWise sends and
// are turned into Money only in mapping.ts, through parseDecimal.
// Every field that is not required is `.nullish()`: ConnectWise leaves out a field that has no value,
// while its generated types mark numbers, flags and references as nullable — so "missing" and "null"
// must both read as "no value" (mapping.test.ts checks both).
import { z } from 'zod';

const decimal = z.union([z.number(), z.string()]);
const info = z.object({ lastUpdated: z.string() });
const ref = z.object({ id: z.number() });
const companyRef = z.object({ id: z.number(), identifier: z.string().nullish(), name: z.string().nullish() });
const invoiceRef = z.object({ id: z.number() }).nullish();
const billableOption = z.string();
// The contract a line or invoice is billed under (contracts.ts): agreement (with its type's name), project, ticket.
const agreementRef = z.object({ id: z.number(), name: z.string().nullish(), type: z.string().nullish() }).nullish();
const projectRef = z.object({ id: z.number(), name: z.string().nullish() }).nullish();
const ticketRef = z.object({ id: z.number(), summary: z.string().nullish() }).nullish();
const contractRefs = { agreement: agreementRef, project: projectRef, ticket: ticketRef };

export const cwInvoice = z.object({
  id: z.number(),
  invoiceNumber: z.string(),
  type: z.string(),
  status: z.object({ id: z.number().nullish(), name: z.string().nullish() }).nullish(),
  company: companyRef,
  billToCompany: companyRef.nullish(),
  date: z.string(),
  dueDate: z.string().nullish(),
  currency: z.object({ currencyCode: z.string().nullish() }).nullish(),
  subtotal: decimal,
  total: decimal,
  salesTax: decimal,
  payments: decimal.nullish(),
  credits: decimal.nullish(),
  balance: decimal,
  applyToType: z.string().nullish(),
  applyToId: z.number().nullish(),
  ...contractRefs,
  _info: info,
});
export type CwInvoice = z.infer<typeof cwInvoice>;

export const cwProductItem = z.object({
  id: z.number(),
  description: z.string().nullish(),
  quantity: decimal,
  price: decimal,
  billableOption,
  invoice: invoiceRef,
  ...contractRefs,
});
export type CwProductItem = z.infer<typeof cwProductItem>;

export const cwTimeEntry = z.object({
  id: z.number(),
  notes: z.string().nullish(),
  actualHours: decimal.nullish(),
  hoursBilled: decimal.nullish(),
  hourlyRate: decimal.nullish(),
  billableOption,
  invoice: invoiceRef,
  agreement: agreementRef,
  chargeToType: z.string().nullish(),
  chargeToId: z.number().nullish(),
});
export type CwTimeEntry = z.infer<typeof cwTimeEntry>;

export const cwExpenseEntry = z.object({
  id: z.number(),
  notes: z.string().nullish(),
  type: z.object({ name: z.string().nullish() }).nullish(),
  amount: decimal,
  invoiceAmount: decimal.nullish(),
  billableOption,
  invoice: invoiceRef,
  agreement: agreementRef,
  chargeToType: z.string().nullish(),
  chargeToId: z.number().nullish(),
});
export type CwExpenseEntry = z.infer<typeof cwExpenseEntry>;

export const cwCompany = z.object({
  id: z.number(),
  identifier: z.string(),
  name: z.string(),
  defaultContact: ref.nullish(),
  _info: info,
});
export type CwCompany = z.infer<typeof cwCompany>;

export const cwContact = z.object({
  id: z.number(),
  firstName: z.string().nullish(),
  lastName: z.string().nullish(),
  company: ref.nullish(),
  defaultFlag: z.boolean().nullish(),
  defaultBillingFlag: z.boolean().nullish(),
  inactiveFlag: z.boolean().nullish(),
  communicationItems: z
    .array(
      z.object({
        value: z.string().nullish(),
        defaultFlag: z.boolean().nullish(),
        communicationType: z.string().nullish(),
        type: z.object({ name: z.string().nullish() }).nullish(),
      }),
    )
    .nullish(),
});
export type CwContact = z.infer<typeof cwContact>;

export const cwPayment = z.object({
  id: z.number(),
  type: z.string().nullish(),
  /** The credit memo this row applies (ConnectWise sets it when staff apply a credit); null for money. */
  credit: z.object({ id: z.number(), identifier: z.string().nullish() }).nullish(),
  amount: decimal,
  paymentDate: z.string().nullish(),
  appliedBy: z.string().nullish(),
});
export type CwPayment = z.infer<typeof cwPayment>;

export const cwCallbackEntry = z.object({
  id: z.number(),
  url: z.string(),
  type: z.string(),
  level: z.string(),
  objectId: z.number().nullish(),
  inactiveFlag: z.boolean().nullish(),
});
export type CwCallbackEntry = z.infer<typeof cwCallbackEntry>;

/** The body ConnectWise POSTs to a callback URL. `Entity` is the record serialised as a string. */
export const cwCallbackPayload = z.object({
  MessageId: z.string().min(1),
  FromUrl: z.string().nullish(),
  CompanyId: z.string(),
  MemberId: z.string().nullish(),
  Action: z.string(),
  Type: z.string(),
  ID: z.number(),
  Entity: z
    .union([z.string(), z.record(z.unknown())])
    .nullable()
    .nullish(),
  Metadata: z.object({ key_url: z.string() }),
});
export type CwCallbackPayload = z.infer<typeof cwCallbackPayload>;
