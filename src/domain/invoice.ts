// Invoices as Settle sees them: the PSA is the source of truth for what is billed (ARCHITECTURE.md
// "Data model": changes are versions), Settle is the source of truth for what has been collected.
// The status shown to the MSP is derived from both, never copied from the PSA's own status text.
import { add, money, type Currency, type Money } from './money.ts';

export type InvoiceStatus = 'open' | 'partially_paid' | 'paid' | 'void' | 'credit';

export interface InvoiceTotals {
  readonly invoiceId: string;
  readonly total: Money;
  readonly voided: boolean;
}

/** A collected amount applied to an invoice (allocation.ts output, for payments that count as collected). */
export interface AppliedAmount {
  readonly invoiceId: string;
  readonly amount: Money;
}

function appliedTo(invoice: InvoiceTotals, allocations: readonly AppliedAmount[]): Money {
  return allocations.filter((a) => a.invoiceId === invoice.invoiceId).reduce((s, a) => add(s, a.amount), money(0n, invoice.total.currency));
}

/**
 * What the client still owes. A void invoice owes nothing, so money already applied to it shows as a
 * negative balance: the client is owed that back (credit or refund).
 */
export function openBalance(invoice: InvoiceTotals, allocations: readonly AppliedAmount[]): Money {
  const owed = invoice.voided ? money(0n, invoice.total.currency) : invoice.total;
  return money(owed.amountMinor - appliedTo(invoice, allocations).amountMinor, owed.currency);
}

/**
 * - `void`: the PSA voided it (whatever was applied must be credited back).
 * - `credit`: a credit memo (negative total), or more applied than the total, which happens when the
 *   PSA lowers an invoice that was already paid: the amount follows the PSA, and the difference is
 *   the client's.
 * - a zero-total invoice owes nothing and is `paid`.
 */
export function invoiceStatus(invoice: InvoiceTotals, allocations: readonly AppliedAmount[]): InvoiceStatus {
  if (invoice.voided) return 'void';
  const total = invoice.total.amountMinor;
  const applied = appliedTo(invoice, allocations).amountMinor;
  if (total < 0n || applied > total) return 'credit';
  if (applied === total) return 'paid';
  return applied === 0n ? 'open' : 'partially_paid';
}

// ---- versions -------------------------------------------------------------------------------

export interface InvoiceLineVersion {
  readonly externalId: string;
  readonly description: string;
  readonly quantity: string; // decimal text as the PSA sent it
  readonly amount: Money;
}

/**
 * The fields of an invoice that make a new version. Left out on purpose: the PSA's balance and
 * status text (they change when *we* record a payment in the PSA, so an echo of our own write-back
 * would look like a new version), and updated-at stamps (the PSA bumps them on unrelated edits).
 * The PSA status survives only as `voided`.
 */
export interface InvoiceVersion {
  readonly number: string;
  readonly currency: Currency;
  readonly total: Money;
  readonly dueOn: string | null; // YYYY-MM-DD
  readonly voided: boolean;
  readonly lines: readonly InvoiceLineVersion[];
}

/** "1.50" and "1.5", "002" and "2" are the same quantity; PSAs format them differently per endpoint. */
export function normalizeQuantity(q: string): string {
  const m = /^(-)?0*(\d*?)(?:\.(\d*?)0*)?$/.exec(q.trim());
  if (!m) return q.trim();
  const whole = m[2] === '' ? '0' : (m[2] ?? '0');
  const frac = m[3] ?? '';
  const text = frac === '' ? whole : `${whole}.${frac}`;
  return m[1] && text !== '0' ? `-${text}` : text;
}

interface CanonicalLine {
  readonly externalId: string;
  readonly description: string;
  readonly quantity: string;
  readonly amount: string;
}

const moneyText = (m: Money): string => `${m.amountMinor} ${m.currency}`;

function canonicalLine(l: InvoiceLineVersion): CanonicalLine {
  return {
    externalId: l.externalId,
    description: l.description.trim(),
    quantity: normalizeQuantity(l.quantity),
    amount: moneyText(l.amount),
  };
}

function lineKey(l: CanonicalLine): string {
  return JSON.stringify([l.externalId, l.description, l.quantity, l.amount]);
}

/**
 * The canonical text of a version; the caller hashes it (sha256) and stores the digest. Keys are
 * written in a fixed order and lines sorted by id, because PSAs page lines in no promised order, so
 * an unchanged re-delivery always produces the same text. `v` names this layout: changing which
 * fields count bumps it, and every stored invoice then gets one new version, on purpose.
 */
export function contentHash(version: InvoiceVersion): string {
  const lines = version.lines.map(canonicalLine).sort((a, b) => (lineKey(a) < lineKey(b) ? -1 : lineKey(a) > lineKey(b) ? 1 : 0));
  return JSON.stringify({
    v: 1,
    number: version.number.trim(),
    currency: version.currency,
    total: moneyText(version.total),
    dueOn: version.dueOn,
    voided: version.voided,
    lines: lines.map((l) => [l.externalId, l.description, l.quantity, l.amount]),
  });
}

export type InvoiceChange =
  | { readonly field: 'number'; readonly before: string; readonly after: string }
  | { readonly field: 'currency'; readonly before: Currency; readonly after: Currency }
  | { readonly field: 'total'; readonly before: Money; readonly after: Money }
  | { readonly field: 'dueOn'; readonly before: string | null; readonly after: string | null }
  | { readonly field: 'voided'; readonly before: boolean; readonly after: boolean }
  | {
      readonly field: 'lines';
      readonly added: readonly string[];
      readonly removed: readonly string[];
      readonly changed: readonly string[];
    };

/**
 * What changed from `a` to `b`, compared on the same canonical form as `contentHash` (so a re-delivery
 * with the same hash never shows changes). The engine uses a `total` change to re-derive open balances
 * and to stop any charge prepared for the old amount (the amount follows the PSA).
 */
export function diffVersions(a: InvoiceVersion, b: InvoiceVersion): InvoiceChange[] {
  const changes: InvoiceChange[] = [];
  if (a.number.trim() !== b.number.trim()) changes.push({ field: 'number', before: a.number, after: b.number });
  if (a.currency !== b.currency) changes.push({ field: 'currency', before: a.currency, after: b.currency });
  if (moneyText(a.total) !== moneyText(b.total)) changes.push({ field: 'total', before: a.total, after: b.total });
  if (a.dueOn !== b.dueOn) changes.push({ field: 'dueOn', before: a.dueOn, after: b.dueOn });
  if (a.voided !== b.voided) changes.push({ field: 'voided', before: a.voided, after: b.voided });
  const lines = diffLines(a.lines, b.lines);
  if (lines.added.length + lines.removed.length + lines.changed.length > 0) changes.push({ field: 'lines', ...lines });
  return changes;
}

function groupLines(lines: readonly InvoiceLineVersion[]): Map<string, string> {
  const groups = new Map<string, string[]>();
  for (const l of lines.map(canonicalLine)) {
    const g = groups.get(l.externalId) ?? [];
    g.push(lineKey(l));
    groups.set(l.externalId, g);
  }
  // A PSA may repeat an id (e.g. two time entries folded into one product id); compare the bag.
  return new Map([...groups].map(([id, keys]) => [id, keys.sort().join('\n')]));
}

function diffLines(a: readonly InvoiceLineVersion[], b: readonly InvoiceLineVersion[]) {
  const before = groupLines(a);
  const after = groupLines(b);
  const added = [...after.keys()].filter((id) => !before.has(id)).sort();
  const removed = [...before.keys()].filter((id) => !after.has(id)).sort();
  const changed = [...after.keys()].filter((id) => before.has(id) && before.get(id) !== after.get(id)).sort();
  return { added, removed, changed };
}

/** True when the amount owed may have moved: the total, or whether the invoice is owed at all. */
export function changesAmountOwed(changes: readonly InvoiceChange[]): boolean {
  return changes.some((c) => c.field === 'total' || c.field === 'voided' || c.field === 'currency');
}
