// The parts of HaloPSA payloads Settle reads, as zod schemas, with the vendor's field names
// (`InvoiceHeader`, `InvoiceDetail`, `Area`, `Users`, `InvoicePayment_List`, `Webhook`). Amounts stay as the
// JSON numbers Halo sends and become Money only in mapping.ts. Every field Halo may leave out or send as
// null is `.nullish()` (the spec marks nearly everything nullable).
import { z } from 'zod';

const decimal = z.union([z.number(), z.string()]);

export const haloLine = z.object({
  id: z.number(),
  ihid: z.number().nullish(),
  item_code: z.string().nullish(),
  item_shortdescription: z.string().nullish(),
  item_longdescription: z.string().nullish(),
  qty_order: decimal.nullish(),
  unit_price: decimal.nullish(),
  net_amount: decimal.nullish(),
  tax_amount: decimal.nullish(),
  contract_id: z.number().nullish(),
  // what else the line is billed under (contracts.ts)
  recurring_invoice_id: z.number().nullish(),
  ticket_id: z.number().nullish(),
  prepay_id: z.number().nullish(),
  calculate_price_from_assets: z.boolean().nullish(),
});
export type HaloLine = z.infer<typeof haloLine>;

export const haloInvoice = z.object({
  id: z.number(),
  invoicenumber: z.string().nullish(),
  client_id: z.number(),
  invoice_date: z.string(),
  duedate: z.string().nullish(),
  currency: z.string().nullish(),
  total: decimal,
  tax_total: decimal.nullish(),
  amountpaid: decimal.nullish(),
  amountdue: decimal.nullish(),
  paymentstatus: z.number().nullish(),
  posted: z.boolean().nullish(),
  voided: z.boolean().nullish(),
  contract_id: z.number().nullish(),
  contract_ref: z.string().nullish(),
  recurring_invoice_id: z.number().nullish(),
  last_modified: z.string(),
  lines: z.array(haloLine).nullish(),
});
export type HaloInvoice = z.infer<typeof haloInvoice>;

export const haloClient = z.object({
  id: z.number(),
  name: z.string(),
  inactive: z.boolean().nullish(),
  accountsid: z.string().nullish(),
  accountsemailaddress: z.string().nullish(),
  accountsfirstname: z.string().nullish(),
  accountslastname: z.string().nullish(),
  alastupdate: z.string().nullish(),
});
export type HaloClient = z.infer<typeof haloClient>;

export const haloUser = z.object({
  id: z.number(),
  name: z.string().nullish(),
  emailaddress: z.string().nullish(),
  client_id: z.number().nullish(),
  inactive: z.boolean().nullish(),
  ismaincontact: z.boolean().nullish(),
  ulastupdate: z.string().nullish(),
});
export type HaloUser = z.infer<typeof haloUser>;

export const haloPayment = z.object({
  id: z.number(),
  invoice_id: z.number().nullish(),
  amount: decimal.nullish(),
  date: z.string().nullish(),
  thirdpartyid: z.string().nullish(),
});
export type HaloPayment = z.infer<typeof haloPayment>;

export const haloWebhook = z.object({
  id: z.string(),
  url: z.string().nullish(),
  active: z.boolean().nullish(),
  authentication_type: z.number().nullish(),
  basic_username: z.string().nullish(),
  authentication_header: z.string().nullish(),
  events: z.array(z.object({ eventno: z.number().nullish() }).passthrough()).nullish(),
});
export type HaloWebhook = z.infer<typeof haloWebhook>;

/** The body Halo POSTs to a webhook (its standard payload as modelled; see simulators/halopsa/README.md). */
export const haloWebhookPayload = z.object({
  id: z.string().min(1),
  event: z.string().nullish(),
  eventno: z.number().nullish(),
  object_id: z.number(),
});
export type HaloWebhookPayload = z.infer<typeof haloWebhookPayload>;

export const haloToken = z.object({ access_token: z.string().min(1), expires_in: z.number().positive(), token_type: z.string().nullish() });
