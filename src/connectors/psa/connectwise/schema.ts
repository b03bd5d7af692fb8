// The parts of ConnectWise payloads Settle reads, as zod schemas (2022.1 field names; see
// ../../../../../shared/specs/README.md §1). Amounts stay as the JSON numbers ConnectWise sends and
// are turned into Money only in mapping.ts, through parseDecimal.
import { z } from 'zod';

const decimal = z.union([z.number(), z.string()]);
const info = z.object({ lastUpdated: z.string() });
const ref = z.object({ id: z.number() });
const companyRef = z.object({ id: z.number(), identifier: z.string().optional(), name: z.string().optional() });
const invoiceRef = z.object({ id: z.number() }).nullable().optional();
const billableOption = z.string();

export const cwInvoice = z.object({
  id: z.number(),
  invoiceNumber: z.string(),
  type: z.string(),
  status: z.object({ id: z.number().optional(), name: z.string() }).nullable().optional(),
  company: companyRef,
  billToCompany: companyRef.nullable().optional(),
  date: z.string(),
  dueDate: z.string().nullable().optional(),
  currency: z.object({ currencyCode: z.string().optional() }).nullable().optional(),
  subtotal: decimal,
  total: decimal,
  salesTax: decimal,
  payments: decimal.optional(),
  credits: decimal.optional(),
  balance: decimal,
  _info: info,
});
export type CwInvoice = z.infer<typeof cwInvoice>;

export const cwProductItem = z.object({
  id: z.number(),
  description: z.string().nullable().optional(),
  quantity: decimal,
  price: decimal,
  billableOption,
  invoice: invoiceRef,
});
export type CwProductItem = z.infer<typeof cwProductItem>;

export const cwTimeEntry = z.object({
  id: z.number(),
  notes: z.string().nullable().optional(),
  actualHours: decimal.optional(),
  hoursBilled: decimal.nullable().optional(),
  hourlyRate: decimal.nullable().optional(),
  billableOption,
  invoice: invoiceRef,
});
export type CwTimeEntry = z.infer<typeof cwTimeEntry>;

export const cwExpenseEntry = z.object({
  id: z.number(),
  notes: z.string().nullable().optional(),
  type: z.object({ name: z.string() }).nullable().optional(),
  amount: decimal,
  invoiceAmount: decimal.nullable().optional(),
  billableOption,
  invoice: invoiceRef,
});
export type CwExpenseEntry = z.infer<typeof cwExpenseEntry>;

export const cwCompany = z.object({
  id: z.number(),
  identifier: z.string(),
  name: z.string(),
  defaultContact: ref.nullable().optional(),
  _info: info,
});
export type CwCompany = z.infer<typeof cwCompany>;

export const cwContact = z.object({
  id: z.number(),
  firstName: z.string().nullable().optional(),
  lastName: z.string().nullable().optional(),
  company: ref.nullable().optional(),
  defaultFlag: z.boolean().optional(),
  defaultBillingFlag: z.boolean().optional(),
  inactiveFlag: z.boolean().optional(),
  communicationItems: z
    .array(
      z.object({
        value: z.string(),
        defaultFlag: z.boolean().optional(),
        communicationType: z.string().optional(),
        type: z.object({ name: z.string() }).optional(),
      }),
    )
    .optional(),
});
export type CwContact = z.infer<typeof cwContact>;

export const cwPayment = z.object({
  id: z.number(),
  type: z.string().nullable().optional(),
  amount: decimal,
  paymentDate: z.string().nullable().optional(),
  appliedBy: z.string().nullable().optional(),
});
export type CwPayment = z.infer<typeof cwPayment>;

export const cwCallbackEntry = z.object({
  id: z.number(),
  url: z.string(),
  type: z.string(),
  level: z.string(),
  objectId: z.number().optional(),
  inactiveFlag: z.boolean().optional(),
});
export type CwCallbackEntry = z.infer<typeof cwCallbackEntry>;

/** The body ConnectWise POSTs to a callback URL. `Entity` is the record serialised as a string. */
export const cwCallbackPayload = z.object({
  MessageId: z.string().min(1),
  FromUrl: z.string().optional(),
  CompanyId: z.string(),
  MemberId: z.string().optional(),
  Action: z.string(),
  Type: z.string(),
  ID: z.number(),
  Entity: z
    .union([z.string(), z.record(z.unknown())])
    .nullable()
    .optional(),
  Metadata: z.object({ key_url: z.string() }),
});
export type CwCallbackPayload = z.infer<typeof cwCallbackPayload>;
