// Pure ConnectWise → Settle translation. Exhaustive over the vendor's invoice types and billable
// options (STYLE.md habit 2); amounts go through parseDecimal, extended line amounts are exact
// decimal products rounded half-up to the cent.
import { divideRounded, money, parseCurrency, parseDecimal, toDecimalString, type Currency, type Money } from '../../../domain/money.ts';
import type { PsaChangeNotice, PsaClient, PsaInvoice, PsaInvoiceLine, PsaInvoiceType } from '../types.ts';
import { connectWiseCatalogue, type ConnectWiseInvoiceType } from './catalogue.ts';
import { storableRecord } from '../../storable-text.ts';
import type { ContractRef } from '../../../domain/contracts.ts';
import { invoiceContract, lineContract } from './contracts.ts';
import type { CwCallbackPayload, CwCompany, CwContact, CwExpenseEntry, CwInvoice, CwProductItem, CwTimeEntry } from './schema.ts';

export class ConnectWiseMappingError extends Error {
  override readonly name = 'ConnectWiseMappingError';
}

function isInvoiceType(t: string): t is ConnectWiseInvoiceType {
  return (connectWiseCatalogue.invoiceTypes as readonly string[]).includes(t);
}

export function mapInvoiceType(vendorType: string): PsaInvoiceType {
  if (!isInvoiceType(vendorType)) throw new ConnectWiseMappingError(`unknown ConnectWise invoice type "${vendorType}"`);
  switch (vendorType) {
    case 'Standard':
      return 'standard';
    case 'Agreement':
      return 'agreement';
    case 'CreditMemo':
      return 'credit_memo';
    case 'DownPayment':
      return 'down_payment';
    case 'Miscellaneous':
      return 'miscellaneous';
    case 'Progress':
      return 'progress';
    default: {
      const _: never = vendorType;
      throw new ConnectWiseMappingError(`unhandled invoice type ${String(_)}`);
    }
  }
}

const BILLABLE_OPTIONS = ['Billable', 'DoNotBill', 'NoCharge', 'NoDefault'] as const;
type BillableOption = (typeof BILLABLE_OPTIONS)[number];

/** How a line's billable option affects what the client is charged: in full, nothing, or not on the invoice. */
export function billedAs(option: string): 'charged' | 'free' | 'excluded' {
  if (!(BILLABLE_OPTIONS as readonly string[]).includes(option)) throw new ConnectWiseMappingError(`unknown billableOption "${option}"`);
  const o = option as BillableOption;
  switch (o) {
    case 'Billable':
    // NoDefault defers to the work type's default, which is billable unless the MSP changed it;
    // the invoice's own totals stay authoritative either way.
    case 'NoDefault':
      return 'charged';
    case 'NoCharge':
      return 'free'; // shown on the invoice at zero
    case 'DoNotBill':
      return 'excluded';
    default: {
      const _: never = o;
      throw new ConnectWiseMappingError(`unhandled billableOption ${String(_)}`);
    }
  }
}

/** Decimal text of a JSON number or string, refusing exponent forms (never a float on the way). */
export function decimalText(value: number | string): string {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new ConnectWiseMappingError(`"${text}" is not a plain decimal`);
  return text;
}

/** quantity × unit price, exact, rounded half-up to the currency's minor unit. */
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

const lineAmount = (how: 'charged' | 'free' | 'excluded', amount: () => Money, currency: Currency): Money =>
  how === 'charged' ? amount() : money(0n, currency);

export function mapProductLine(p: CwProductItem, currency: Currency): PsaInvoiceLine | null {
  const how = billedAs(p.billableOption);
  if (how === 'excluded') return null;
  return {
    externalId: `product:${p.id}`,
    kind: 'product',
    description: p.description ?? '',
    quantity: decimalText(p.quantity),
    amount: lineAmount(how, () => extendedAmount(p.quantity, p.price, currency), currency),
    ...withContract(lineContract(p)),
  };
}

export function mapTimeLine(t: CwTimeEntry, currency: Currency): PsaInvoiceLine | null {
  const how = billedAs(t.billableOption);
  if (how === 'excluded') return null;
  const hours = t.hoursBilled ?? t.actualHours ?? 0;
  return {
    externalId: `time:${t.id}`,
    kind: 'time',
    description: (t.notes ?? '').split('\n')[0] ?? '',
    quantity: decimalText(hours),
    amount: lineAmount(how, () => extendedAmount(hours, t.hourlyRate ?? 0, currency), currency),
    ...withContract(lineContract(t)),
  };
}

export function mapExpenseLine(e: CwExpenseEntry, currency: Currency): PsaInvoiceLine | null {
  const how = billedAs(e.billableOption);
  if (how === 'excluded') return null;
  return {
    externalId: `expense:${e.id}`,
    kind: 'expense',
    description: e.notes || e.type?.name || 'Expense',
    quantity: '1',
    // invoiceAmount is what ConnectWise bills for the expense (it can differ from what was spent).
    amount: lineAmount(how, () => parseDecimal(e.invoiceAmount ?? e.amount, currency), currency),
    ...withContract(lineContract(e)),
  };
}

const withContract = (c: ContractRef | undefined): { contract?: ContractRef } => (c ? { contract: c } : {});

/** Lines that name no contract of their own are billed under the invoice's (an agreement or project invoice). */
function withInvoiceContract(lines: readonly PsaInvoiceLine[], c: ContractRef | undefined): readonly PsaInvoiceLine[] {
  return c && lines.some((l) => !l.contract) ? lines.map((l) => (l.contract ? l : { ...l, contract: c })) : lines;
}

export function invoiceCurrency(inv: CwInvoice, fallback: Currency): Currency {
  const code = inv.currency?.currencyCode;
  return code ? parseCurrency(code) : fallback;
}

/** Every text field made storable (NUL removed, unpaired surrogates replaced), with a note per field changed. */
function storable<T extends { textRepairs?: readonly string[] }>(record: T): T {
  const { record: clean, repairs } = storableRecord(record);
  return repairs.length > 0 ? { ...clean, textRepairs: repairs } : record;
}

export function mapInvoice(inv: CwInvoice, lines: readonly PsaInvoiceLine[], fallbackCurrency: Currency): PsaInvoice {
  const currency = invoiceCurrency(inv, fallbackCurrency);
  return storable<PsaInvoice>({
    externalId: String(inv.id),
    number: inv.invoiceNumber,
    type: mapInvoiceType(inv.type),
    status: inv.status?.name ?? '',
    clientExternalId: String((inv.billToCompany ?? inv.company).id),
    issuedOn: inv.date.slice(0, 10),
    dueOn: inv.dueDate ? inv.dueDate.slice(0, 10) : null,
    currency,
    subtotal: parseDecimal(inv.subtotal, currency),
    tax: parseDecimal(inv.salesTax, currency),
    total: parseDecimal(inv.total, currency),
    balance: parseDecimal(inv.balance, currency),
    lines: withInvoiceContract(lines, invoiceContract(inv)),
    updatedAt: inv._info.lastUpdated,
  });
}

function emailOf(c: CwContact): string | null {
  const emails = (c.communicationItems ?? []).filter((i) => i.value && (i.communicationType === 'Email' || i.type?.name === 'Email'));
  return (emails.find((i) => i.defaultFlag) ?? emails[0])?.value ?? null;
}

/**
 * The client as Settle sees it. Bills go to the company's default billing contact
 * (Contact.defaultBillingFlag); without one, to the company's default contact.
 */
export function mapClient(company: CwCompany, contacts: readonly CwContact[]): PsaClient {
  const active = contacts.filter((c) => c.company?.id === company.id && !c.inactiveFlag);
  const billing =
    active.find((c) => c.defaultBillingFlag) ??
    active.find((c) => company.defaultContact && c.id === company.defaultContact.id) ??
    active.find((c) => c.defaultFlag) ??
    null;
  const name = billing ? [billing.firstName, billing.lastName].filter(Boolean).join(' ') : '';
  return storable<PsaClient>({
    externalId: String(company.id),
    identifier: company.identifier,
    name: company.name,
    billingEmail: billing ? emailOf(billing) : null,
    billingContactName: name || null,
    updatedAt: company._info.lastUpdated,
  });
}

export function mapChangeNotice(p: CwCallbackPayload): PsaChangeNotice {
  const action = p.Action.toLowerCase();
  if (action !== 'added' && action !== 'updated' && action !== 'deleted') {
    throw new ConnectWiseMappingError(`unknown callback Action "${p.Action}"`);
  }
  const type = p.Type.toLowerCase();
  return {
    eventId: p.MessageId,
    entity: type === 'invoice' ? 'invoice' : type === 'company' ? 'company' : 'other',
    externalId: String(p.ID),
    action,
  };
}
