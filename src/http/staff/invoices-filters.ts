// The invoice list's query string: what the person asked for (search, filters, sort, page), checked, with
// an error per field in plain words, and the chips that remove one filter each. Shared by the page and the
// CSV export so both show exactly the same set.
import { INVOICE_SORTS, INVOICE_STATUSES, METHOD_KINDS, type InvoiceCursor, type InvoiceListFilter, type InvoiceSort } from '../../db/queries/invoice-list.ts';

export type Query = Record<string, string | undefined>;
export interface FieldError {
  readonly field?: string;
  readonly message: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const STATUS_WORDS: Record<string, string> = {
  open: 'Open',
  partially_paid: 'Partly paid',
  paid: 'Paid',
  void: 'Void',
  credit: 'Credit',
};
export const METHOD_WORDS: Record<string, string> = { card: 'Card', us_bank_account: 'Bank account (ACH)' };
export const SORT_WORDS: Record<InvoiceSort, string> = { issued: 'Issue date', due: 'Due date', amount: 'Amount', number: 'Invoice number' };

/** The filters' own parameters (not sort or paging), in the order their chips are shown. */
const FILTER_KEYS = ['q', 'status', 'overdue', 'client', 'from', 'to', 'autopay', 'method'] as const;

export interface ListRequest {
  /** The valid parameters as given (for the form, the chips and the links). */
  readonly given: Record<string, string>;
  readonly filter: InvoiceListFilter;
  readonly sort: InvoiceSort;
  readonly dir: 'asc' | 'desc';
  readonly after: InvoiceCursor | null;
  readonly before: InvoiceCursor | null;
  readonly errors: FieldError[];
}

const validDate = (v: string): boolean => DATE.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);

export function parseListQuery(q: Query): ListRequest {
  const given: Record<string, string> = {};
  const errors: FieldError[] = [];
  const filter: { -readonly [K in keyof InvoiceListFilter]: InvoiceListFilter[K] } = {};
  const search = q.q?.trim();
  if (search) {
    if (search.length > 100) errors.push({ field: 'q', message: 'Search for at most 100 characters: an invoice number or a part of the client name' });
    else given.q = filter.q = search;
  }
  if (q.status) {
    if ((INVOICE_STATUSES as readonly string[]).includes(q.status)) given.status = filter.status = q.status as (typeof INVOICE_STATUSES)[number];
    else errors.push({ field: 'status', message: 'Choose a status from the list' });
  }
  if (q.overdue === 'yes' || q.overdue === 'no') {
    given.overdue = q.overdue;
    filter.overdue = q.overdue === 'yes';
  } else if (q.overdue) errors.push({ field: 'overdue', message: 'Choose overdue or not overdue' });
  if (q.client) {
    if (UUID.test(q.client)) given.client = filter.clientId = q.client.toLowerCase();
    else errors.push({ field: 'q', message: 'The client in the link is not valid; search for the client by name instead' });
  }
  for (const f of ['from', 'to'] as const) {
    const v = q[f]?.trim();
    if (!v) continue;
    if (validDate(v)) given[f] = v;
    else errors.push({ field: f, message: `Enter the ${f === 'from' ? 'first' : 'last'} issue date as a date, for example 2026-03-01` });
  }
  if (given.from && given.to && given.from > given.to) errors.push({ field: 'to', message: 'The last issue date must be on or after the first' });
  if (given.from) filter.issuedFrom = given.from;
  if (given.to) filter.issuedTo = given.to;
  if (q.autopay === 'yes' || q.autopay === 'no') {
    given.autopay = q.autopay;
    filter.autopay = q.autopay === 'yes';
  } else if (q.autopay) errors.push({ field: 'autopay', message: 'Choose in autopay or not in autopay' });
  if (q.method) {
    if ((METHOD_KINDS as readonly string[]).includes(q.method)) given.method = filter.method = q.method as (typeof METHOD_KINDS)[number];
    else errors.push({ field: 'method', message: 'Choose card or bank account' });
  }
  let sort: InvoiceSort = 'issued';
  if (q.sort) {
    if ((INVOICE_SORTS as readonly string[]).includes(q.sort)) sort = q.sort as InvoiceSort;
    else errors.push({ field: 'sort', message: 'Choose what to sort by from the list' });
  }
  let dir: 'asc' | 'desc' = sort === 'number' ? 'asc' : 'desc';
  if (q.dir === 'asc' || q.dir === 'desc') dir = q.dir;
  if (sort !== 'issued') given.sort = sort;
  if (q.dir === 'asc' || q.dir === 'desc') given.dir = dir;
  return { given, filter, sort, dir, after: decodeCursor(q.after, sort, dir), before: decodeCursor(q.before, sort, dir), errors };
}

/** A cursor in a URL: base64url of [sort, dir, key, id]; one made for another sort or direction is ignored. */
export function encodeCursor(c: InvoiceCursor, sort: InvoiceSort, dir: string): string {
  return Buffer.from(JSON.stringify([sort, dir, c.key, c.id])).toString('base64url');
}

const KEY_SHAPE: Record<InvoiceSort, RegExp> = {
  issued: /^\d{4}-\d{2}-\d{2}$/,
  due: /^(\d{4}-\d{2}-\d{2}|infinity)$/,
  amount: /^-?\d{1,18}$/,
  number: /^[\s\S]{0,200}$/,
};

export function decodeCursor(v: string | undefined, sort: InvoiceSort, dir: string): InvoiceCursor | null {
  if (!v || v.length > 600) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(v, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 4) return null;
    const [s, d, key, id] = parsed as unknown[];
    if (s !== sort || d !== dir || typeof key !== 'string' || typeof id !== 'string' || !UUID.test(id) || !KEY_SHAPE[sort].test(key)) return null;
    if ((sort === 'issued' || (sort === 'due' && key !== 'infinity')) && !validDate(key)) return null;
    return { key, id };
  } catch {
    return null;
  }
}

/** The URL of the list with these parameters (empty ones left out). */
export function listHref(params: Record<string, string | undefined>, base = '/app/invoices'): string {
  const s = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1]));
  return s.size ? `${base}?${s}` : base;
}

/** One chip per filter in use; following it removes that filter and keeps the rest (and the sort). */
export function chipsOf(given: Record<string, string>, clientName: string | null): { label: string; href: string }[] {
  const label = (k: string, v: string): string => {
    switch (k) {
      case 'q':
        return `Search: ${v}`;
      case 'status':
        return `Status: ${STATUS_WORDS[v] ?? v}`;
      case 'overdue':
        return v === 'yes' ? 'Overdue' : 'Not overdue';
      case 'client':
        return `Client: ${clientName ?? 'unknown client'}`;
      case 'from':
        return `Issued from ${v}`;
      case 'to':
        return `Issued until ${v}`;
      case 'autopay':
        return v === 'yes' ? 'In autopay' : 'Not in autopay';
      case 'method':
        return `Paid by ${METHOD_WORDS[v] ?? v}`;
      default:
        return v;
    }
  };
  return FILTER_KEYS.filter((k) => given[k]).map((k) => ({
    label: label(k, given[k]!),
    href: listHref(Object.fromEntries(Object.entries(given).filter(([x]) => x !== k))),
  }));
}

/** Today's date where the workspace is (YYYY-MM-DD), for "overdue" and aging. */
export function todayIn(timeZone: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}
