// Pure HaloPSA → Settle translation. Amounts go through parseDecimal (exact, never floats); a line's
// amount is Halo's `net_amount` (its extended amount before tax), or — when Halo leaves it out — the exact
// product `qty_order × unit_price` rounded half-up to the minor unit. Quantities stay decimal text.
import { divideRounded, money, parseCurrency, parseDecimal, subtract, toDecimalString, type Currency, type Money } from '../../../domain/money.ts';
import { storableRecord } from '../../storable-text.ts';
import type { PsaClient, PsaInvoice, PsaInvoiceLine, PsaInvoiceType } from '../types.ts';
import { isoInstant } from './api.ts';
import { haloLineContract } from './contracts.ts';
import type { HaloClient, HaloInvoice, HaloLine, HaloUser } from './schema.ts';

export class HaloMappingError extends Error {
  override readonly name = 'HaloMappingError';
}

/** Decimal text of a JSON number or string, refusing exponent forms. */
export function decimalText(value: number | string): string {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new HaloMappingError(`"${text}" is not a plain decimal`);
  return text;
}

/** a × b exact, rounded half-up to the currency's minor unit. */
export function extendedAmount(quantity: number | string, unitPrice: number | string, currency: Currency): Money {
  const scaledOf = (text: string): [bigint, number] => {
    const [whole = '0', frac = ''] = text.replace('-', '').split('.');
    const n = BigInt(whole + frac);
    return [text.startsWith('-') ? -n : n, frac.length];
  };
  const [q, qs] = scaledOf(decimalText(quantity));
  const [p, ps] = scaledOf(decimalText(unitPrice));
  const digits = toDecimalString(money(1n, currency)).split('.')[1]?.length ?? 0;
  const scale = qs + ps;
  const minor = scale <= digits ? q * p * 10n ** BigInt(digits - scale) : divideRounded(q * p, 10n ** BigInt(scale - digits), 'half-up');
  return money(minor, currency);
}

export function invoiceCurrency(inv: HaloInvoice, fallback: Currency): Currency {
  const code = inv.currency?.trim();
  return code && /^[A-Za-z]{3}$/.test(code) ? parseCurrency(code.toUpperCase()) : fallback;
}

/**
 * Halo has no invoice "type" field like ConnectWise's: a negative total is a credit note, an invoice raised
 * from a recurring invoice or a contract is the MSP's agreement billing, anything else is standard.
 */
export function invoiceType(inv: HaloInvoice, total: Money): PsaInvoiceType {
  if (total.amountMinor < 0n) return 'credit_memo';
  if ((inv.recurring_invoice_id ?? 0) > 0 || (inv.contract_id ?? 0) > 0) return 'agreement';
  return 'standard';
}

/** Halo's paymentstatus (0 unpaid, 1 partially paid, 2 paid — numbering: verify), as text for display. */
export function statusText(inv: HaloInvoice): string {
  if (inv.voided) return 'Void';
  if (inv.posted === false) return 'Not posted';
  switch (inv.paymentstatus ?? 0) {
    case 0:
      return 'Unpaid';
    case 1:
      return 'Partially Paid';
    case 2:
      return 'Paid';
    default:
      return `Payment status ${inv.paymentstatus}`;
  }
}

export function mapLine(l: HaloLine, currency: Currency, inv: Pick<HaloInvoice, 'contract_id' | 'contract_ref' | 'recurring_invoice_id'> = {}): PsaInvoiceLine {
  const contract = haloLineContract(l, inv);
  const qty = l.qty_order ?? 1;
  const amount = l.net_amount !== undefined && l.net_amount !== null ? parseDecimal(l.net_amount, currency) : extendedAmount(qty, l.unit_price ?? 0, currency);
  return {
    externalId: `line:${l.id}`,
    kind: 'product',
    description: l.item_shortdescription || l.item_longdescription || l.item_code || '',
    quantity: decimalText(qty),
    amount,
    ...(contract ? { contract } : {}),
  };
}

function storable<T extends { textRepairs?: readonly string[] }>(record: T): T {
  const { record: clean, repairs } = storableRecord(record);
  return repairs.length > 0 ? { ...clean, textRepairs: repairs } : record;
}

export function mapInvoice(inv: HaloInvoice, fallbackCurrency: Currency): PsaInvoice {
  const currency = invoiceCurrency(inv, fallbackCurrency);
  const total = parseDecimal(inv.total, currency);
  const tax = parseDecimal(inv.tax_total ?? 0, currency);
  const due = inv.voided ? money(0n, currency) : parseDecimal(inv.amountdue ?? inv.total, currency);
  if (!inv.lines) throw new HaloMappingError('invoice came without its lines (includelines)');
  return storable<PsaInvoice>({
    externalId: String(inv.id),
    number: inv.invoicenumber || String(inv.id),
    type: invoiceType(inv, total),
    status: statusText(inv),
    clientExternalId: String(inv.client_id),
    issuedOn: inv.invoice_date.slice(0, 10),
    dueOn: inv.duedate ? inv.duedate.slice(0, 10) : null,
    currency,
    subtotal: subtract(total, tax),
    tax,
    total,
    balance: due,
    lines: inv.lines.map((l) => mapLine(l, currency, inv)),
    updatedAt: isoInstant(inv.last_modified),
  });
}

/**
 * The client as Settle sees it. Halo keeps an accounts contact on the client itself (`accountsemailaddress`,
 * `accountsfirstname`/`accountslastname`); without one, bills go to the client's main contact (a user).
 * `users` are the client's users Settle read (its contacts, and any of them changed since the cursor).
 */
export function mapClient(c: HaloClient, users: readonly HaloUser[]): PsaClient {
  const accounts = c.accountsemailaddress?.trim();
  const active = users.filter((u) => u.client_id === c.id && !u.inactive && u.emailaddress);
  const main = active.find((u) => u.ismaincontact) ?? active[0] ?? null;
  const accountsName = [c.accountsfirstname, c.accountslastname].filter(Boolean).join(' ');
  // The client as Settle sees it changed when its contacts did: the latest stamp of the client and of the
  // users read with it, so the engine's cursor moves past a contact's change and it is not fetched again.
  const stamps = [c.alastupdate, ...users.filter((u) => u.client_id === c.id).map((u) => u.ulastupdate)].filter((s): s is string => !!s).map(isoInstant);
  const updatedAt = stamps.reduce((m, s) => (s > m ? s : m), new Date(0).toISOString());
  return storable<PsaClient>({
    externalId: String(c.id),
    identifier: c.accountsid || String(c.id),
    name: c.name,
    billingEmail: accounts || main?.emailaddress || null,
    billingContactName: accounts ? accountsName || null : main?.name || null,
    updatedAt,
  });
}
