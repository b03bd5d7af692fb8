// The invoice list as CSV (GET /app/invoices.csv): the same filtered, sorted set as the page, streamed.
// Rows are read in keyset batches (db/queries/invoice-list.ts eachInvoicePage) and written as the client
// reads them (a Readable from an async generator pulls the next batch only when the socket drains), so a
// million invoices never sit in memory. Money is a decimal string beside its currency code.
//
// Cells a spreadsheet would run as a formula — text starting with = + - @, a tab or a carriage return —
// get a leading apostrophe (OWASP "CSV injection"); the amounts Settle writes itself are plain numbers and
// are left as they are so that they stay numbers.
import { Readable } from 'node:stream';
import { money, parseCurrency, toDecimalString } from '../../domain/money.ts';
import type { StaffInvoiceRow } from '../../db/queries/invoice-list.ts';
import { STATUS_WORDS } from './invoices-filters.ts';

export const CSV_HEADER = [
  'Invoice',
  'Client',
  'Issued',
  'Due',
  'Status',
  'PSA status',
  'Overdue',
  'Currency',
  'Total',
  'Open balance',
  'Autopay',
  'Paid with',
] as const;

/** One text cell: formula-looking text neutralised, then quoted when it holds a comma, quote or line break. */
export function csvText(v: string | null | undefined): string {
  let s = v ?? '';
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const decimal = (minor: bigint, currency: string): string => toDecimalString(money(minor, parseCurrency(currency)));

export function csvLine(r: StaffInvoiceRow): string {
  return [
    csvText(r.number),
    csvText(r.client_name),
    r.issued_on,
    r.due_on ?? '',
    csvText(STATUS_WORDS[r.status] ?? r.status),
    csvText(r.psa_status),
    r.overdue ? 'yes' : 'no',
    r.currency,
    decimal(r.total_minor, r.currency),
    decimal(r.open_minor, r.currency),
    r.autopay ? 'yes' : 'no',
    csvText(r.paid_with?.replace('us_bank_account', 'bank account').replace(',', ' and ') ?? ''),
  ].join(',');
}

/** The CSV as a stream: header, then each batch of rows as one chunk of text, written as the client reads. */
export function csvStream(pages: AsyncIterable<readonly StaffInvoiceRow[]>): Readable {
  async function* chunks(): AsyncGenerator<string> {
    yield `${CSV_HEADER.join(',')}\r\n`;
    // A batch becomes text at once and is let go: nothing of it is held while the client reads.
    for await (const rows of pages) {
      let text = '';
      for (const r of rows) text += `${csvLine(r)}\r\n`;
      yield text;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
