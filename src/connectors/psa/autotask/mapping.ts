// Pure Autotask → Settle translation. Records arrive as the REST API writes them (first letter lowered:
// `invoiceTotal`, `companyID`). Amounts are JSON doubles read through parseDecimal's exact text route; line
// amounts with more decimals than the currency has are rounded half-up to the cent (Autotask keeps four).
import { z } from 'zod';
import { divideRounded, money, parseDecimal, subtract, toDecimalString, zero, type Currency, type Money } from '../../../domain/money.ts';
import { storableRecord } from '../../storable-text.ts';
import type { PsaClient, PsaInvoice, PsaInvoiceLine } from '../types.ts';
import { billingItemContract, NO_LOOKUP, type ContractLookup } from './contracts.ts';

const when = z.string().nullable().optional();
const int = z.number().int();

export const atInvoice = z.object({
  id: int,
  invoiceNumber: z.string().nullable(),
  companyID: int,
  createDateTime: when,
  invoiceDateTime: z.string(),
  dueDate: when,
  invoiceTotal: z.number(),
  totalTaxValue: z.number().nullable().optional(),
  paidDate: when,
  isVoided: z.boolean().nullable().optional(),
  voidedDate: when,
  webServiceDate: when,
});
export type AtInvoice = z.infer<typeof atInvoice>;

export const atBillingItem = z.object({
  id: int,
  invoiceID: int.nullable(),
  billingItemType: int.nullable().optional(),
  itemName: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  quantity: z.number().nullable().optional(),
  extendedPrice: z.number().nullable().optional(),
  contractID: int.nullable().optional(),
  projectID: int.nullable().optional(),
  ticketID: int.nullable().optional(),
});
export type AtBillingItem = z.infer<typeof atBillingItem>;

export const atCompany = z.object({
  id: int,
  companyName: z.string(),
  companyNumber: z.string().nullable().optional(),
  isActive: z.boolean().nullable().optional(),
  createDate: when,
  lastTrackedModifiedDateTime: when,
  lastActivityDate: when,
});
export type AtCompany = z.infer<typeof atCompany>;

export const atContact = z.object({
  id: int,
  companyID: int,
  firstName: z.string().nullable().optional(),
  lastName: z.string().nullable().optional(),
  emailAddress: z.string().nullable().optional(),
  isActive: z.union([z.number(), z.boolean()]).nullable().optional(),
  primaryContact: z.boolean().nullable().optional(),
  lastModifiedDate: when,
});
export type AtContact = z.infer<typeof atContact>;

export const atNote = z.object({
  id: int,
  companyID: int,
  name: z.string().nullable().optional(),
  note: z.string().nullable().optional(),
  lastModifiedDate: when,
});
export type AtNote = z.infer<typeof atNote>;

const iso = (s: string | null | undefined): string | null => {
  if (!s) return null;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`); // Autotask omits the zone on some dates: UTC
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
};

/** The latest of the change stamps an invoice has (Autotask keeps no last-modified on invoices). */
export function invoiceStamp(inv: AtInvoice, extra: readonly (string | null | undefined)[] = []): string {
  const stamps = [inv.createDateTime, inv.voidedDate, inv.paidDate, inv.webServiceDate, inv.invoiceDateTime, ...extra]
    .map(iso)
    .filter((s): s is string => s !== null);
  return stamps.sort().at(-1) ?? new Date(0).toISOString();
}

/** A JSON double as money, rounded half-up to the currency's minor unit (never through float arithmetic). */
export function roundedAmount(n: number, currency: Currency): Money {
  const text = String(n);
  if (/e/i.test(text)) throw new Error(`amount ${text} is out of range`);
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a decimal amount`);
  const digits = toDecimalString(zero(currency)).split('.')[1]?.length ?? 0;
  const frac = m[3] ?? '';
  if (frac.length <= digits) return parseDecimal(text, currency);
  const scaled = BigInt(m[2]! + frac);
  const minor = divideRounded(scaled, 10n ** BigInt(frac.length - digits), 'half-up');
  return money(m[1] ? -minor : minor, currency);
}

const KIND: Readonly<Record<number, PsaInvoiceLine['kind']>> = { 1: 'time', 2: 'expense', 3: 'product', 5: 'product', 7: 'product' };

export function mapLine(b: AtBillingItem, currency: Currency, contracts: ContractLookup = NO_LOOKUP): PsaInvoiceLine {
  const contract = billingItemContract(b, contracts);
  const amount = roundedAmount(b.extendedPrice ?? 0, currency);
  const name = b.itemName?.trim() || '';
  const desc = b.description?.trim() || '';
  return {
    externalId: `billing:${b.id}`,
    kind: KIND[b.billingItemType ?? 0] ?? 'other',
    description: desc && name && desc !== name ? `${name} — ${desc}` : desc || name || `Billing item ${b.id}`,
    quantity: b.quantity === null || b.quantity === undefined ? '1' : String(b.quantity),
    amount,
    ...(contract ? { contract } : {}),
  };
}

/**
 * Autotask invoices carry no balance, only InvoiceTotal and PaidDate. What Settle can know: a PaidDate means
 * paid in full; otherwise the total less the payments Settle itself recorded on the invoice (its payment notes,
 * notes.ts). Payments taken elsewhere reach Settle through the books; Settle's own allocations do the rest.
 */
export function mapInvoice(
  inv: AtInvoice,
  lines: readonly PsaInvoiceLine[],
  currency: Currency,
  settlePaid: Money,
  noteStamps: readonly (string | null)[] = [],
): PsaInvoice {
  const total = parseDecimal(inv.invoiceTotal, currency);
  const tax = inv.totalTaxValue === null || inv.totalTaxValue === undefined ? zero(currency) : parseDecimal(inv.totalTaxValue, currency);
  const voided = inv.isVoided === true;
  const paid = iso(inv.paidDate) !== null;
  const owed = subtract(total, settlePaid);
  const balance = voided || paid || owed.amountMinor < 0n ? zero(currency) : owed;
  const issued = iso(inv.invoiceDateTime);
  if (!issued) throw new Error(`invoiceDateTime "${inv.invoiceDateTime}" is not a date`);
  const { record, repairs } = storableRecord({
    externalId: String(inv.id),
    number: inv.invoiceNumber?.trim() || String(inv.id),
    type: total.amountMinor < 0n ? ('credit_memo' as const) : ('standard' as const),
    status: voided ? 'Voided' : paid ? 'Paid' : 'Open',
    clientExternalId: String(inv.companyID),
    issuedOn: issued.slice(0, 10),
    dueOn: iso(inv.dueDate)?.slice(0, 10) ?? null,
    currency,
    subtotal: subtract(total, tax),
    tax,
    total,
    balance,
    lines: [...lines],
    updatedAt: invoiceStamp(inv, noteStamps),
  });
  return repairs.length > 0 ? { ...record, textRepairs: repairs } : record;
}

export function mapClient(c: AtCompany, contacts: readonly AtContact[]): PsaClient {
  const active = contacts.filter((k) => k.isActive === 1 || k.isActive === true);
  const billing = active.find((k) => k.primaryContact === true && k.emailAddress) ?? active.find((k) => k.emailAddress) ?? null;
  const stamps = [c.lastTrackedModifiedDateTime, c.createDate, ...contacts.map((k) => k.lastModifiedDate)].map(iso).filter((s): s is string => s !== null);
  const { record, repairs } = storableRecord({
    externalId: String(c.id),
    identifier: c.companyNumber?.trim() || String(c.id),
    name: c.companyName,
    billingEmail: billing?.emailAddress?.trim() || null,
    billingContactName: billing ? [billing.firstName, billing.lastName].filter(Boolean).join(' ') || null : null,
    updatedAt: stamps.sort().at(-1) ?? new Date(0).toISOString(),
  });
  return repairs.length > 0 ? { ...record, textRepairs: repairs } : record;
}
