// How the simulator's records look on the wire: HaloPSA field names exactly as the vendor's schemas
// (`InvoiceHeader`, `InvoiceDetail`, `Area`, `Users`, `InvoicePayment_List`, `Webhook`), money as JSON
// numbers, date-times as Halo writes them — UTC without an offset (e.g. "2024-05-01T12:34:56.789"; an
// assumption, see README).
import type { Client, HaloState, Invoice, Line, Payment, User, Webhook } from './store.ts';

export const haloDateTime = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '');
const dayTime = (day: string | null): string | null => (day ? `${day}T00:00:00` : null);
const num = (cents: number): number => cents / 100;

/** 0 unpaid, 1 partially paid, 2 paid (the numbering is an assumption; see README). */
export function paymentStatus(state: HaloState, inv: Invoice): number {
  const paid = state.paidCents(inv);
  if (paid <= 0) return 0;
  return state.dueCents(inv) <= 0 ? 2 : 1;
}

export function lineJson(l: Line): Record<string, unknown> {
  return {
    id: l.id,
    ihid: l.ihid,
    item_code: l.item_code,
    item_shortdescription: l.item_shortdescription,
    item_longdescription: l.item_longdescription,
    qty_order: Number(l.qty_order),
    unit_price: Number(l.unit_price),
    net_amount: num(l.netCents),
    tax_amount: num(l.taxCents),
    tax_rate: Number(l.tax_rate),
    tax_code: l.tax_code,
    nominal_code: l.nominal_code,
    contract_id: l.contract_id,
    recurring_invoice_id: l.recurring_invoice_id,
    ticket_id: l.ticket_id,
    prepay_id: l.prepay_id,
    calculate_price_from_assets: l.calculate_price_from_assets,
    net_total: num(l.netCents),
    total_price: num(l.netCents + l.taxCents),
  };
}

export function paymentJson(state: HaloState, p: Payment): Record<string, unknown> {
  const inv = state.invoices.get(p.invoice_id);
  return {
    id: p.id,
    invoice_id: p.invoice_id,
    date: haloDateTime(p.dateMs),
    amount: num(p.amountCents),
    method: p.method,
    status: p.status,
    intent_id: p.intent_id,
    thirdpartyid: p.thirdpartyid,
    client_id: p.client_id,
    client_name: state.clients.get(p.client_id)?.name ?? '',
    invoice_invoicenumber: inv?.invoicenumber ?? '',
  };
}

export function invoiceJson(state: HaloState, inv: Invoice, opts: { lines: boolean; payments: boolean }): Record<string, unknown> {
  const client = state.clients.get(inv.client_id);
  const out: Record<string, unknown> = {
    id: inv.id,
    invoicenumber: inv.invoicenumber,
    thirdpartyinvoicenumber: '',
    client_id: inv.client_id,
    client_name: client?.name ?? '',
    invoice_date: dayTime(inv.invoiceDate),
    duedate: dayTime(inv.dueDate),
    currency: inv.currency,
    posted: inv.posted,
    dateposted: inv.posted ? haloDateTime(inv.createdMs) : null,
    voided: inv.voided,
    contract_id: inv.contract_id,
    contract_ref: inv.contract_ref,
    recurring_invoice_id: inv.recurring_invoice_id,
    is_recurring_invoice: false,
    total: num(state.totalCents(inv)),
    tax_total: num(state.taxCents(inv)),
    amountpaid: num(state.paidCents(inv)),
    amountdue: num(state.dueCents(inv)),
    paymentstatus: paymentStatus(state, inv),
    datepaid: inv.datepaidMs === null ? null : haloDateTime(inv.datepaidMs),
    last_modified: haloDateTime(inv.updatedMs),
    date_created: haloDateTime(inv.createdMs),
  };
  if (opts.lines) out.lines = inv.lines.map(lineJson);
  if (opts.payments) out.payments = [...state.payments.values()].filter((p) => p.invoice_id === inv.id).map((p) => paymentJson(state, p));
  return out;
}

export function clientJson(c: Client): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    inactive: c.inactive,
    accountsid: c.accountsid,
    accountsemailaddress: c.accountsemailaddress,
    accountsfirstname: c.accountsfirstname,
    accountslastname: c.accountslastname,
    currencyisocode: c.currencyisocode,
    alastupdate: haloDateTime(c.updatedMs),
  };
}

export function userJson(state: HaloState, u: User): Record<string, unknown> {
  return {
    id: u.id,
    name: `${u.firstname} ${u.surname}`.trim(),
    firstname: u.firstname,
    surname: u.surname,
    emailaddress: u.emailaddress,
    client_id: u.client_id,
    client_name: state.clients.get(u.client_id)?.name ?? '',
    inactive: u.inactive,
    ismaincontact: u.ismaincontact,
    ulastupdate: haloDateTime(u.updatedMs),
  };
}

/** Secrets are write-only: a webhook read back never shows its password or header value (assumption). */
export function webhookJson(w: Webhook): Record<string, unknown> {
  return {
    id: w.id,
    name: w.name,
    url: w.url,
    type: 0,
    content_type: 'application/json',
    method: 0,
    authentication_type: w.authentication_type,
    basic_username: w.basic_username,
    authentication_header: w.authentication_header ? `${w.authentication_header.split(':')[0]}: ********` : '',
    active: w.active,
    events: w.eventnos.map((n) => ({ eventno: n })),
  };
}
