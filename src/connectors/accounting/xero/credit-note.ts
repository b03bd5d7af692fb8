// Applying, in Xero, a credit note the PSA's own accounting export created, to the invoice the PSA applied it to
// (AccountingConnector.applyCreditMemo). Settle never creates a credit note. Xero records the application as an
// Allocation on the credit note (PUT /CreditNotes/{CreditNoteID}/Allocations: Invoice {InvoiceID}, Amount,
// Date); the invoice's AmountDue and the note's RemainingCredit go down together and no money moves, so no
// payout ever picks it up.
//
// Never twice: the write carries `Idempotency-Key` (Xero replays the first answer), and since an Allocation has
// no Reference to carry our marker, check-before-write reads the note's Allocations first: one to this invoice
// for this amount on this date is ours. (Two identical applications of one note to one invoice on one day in the
// PSA would read as one; the PSA's exports do not split a memo that way.)
import { toVendorNumber } from '../../../domain/money.ts';
import type { ApplyCreditMemoInput, PostResult } from '../types.ts';
import type { Json } from './api.ts';
import type { XeroConnector } from './connector.ts';
import { idempotencyKeyFor, itemErrors, moneyOf, xeroDateMs } from './mapping.ts';

const quoted = (s: string): string => `"${s.replace(/"/g, '\\"')}"`;
const contactOf = (r: Json): string => String((r['Contact'] as Json | undefined)?.['ContactID'] ?? '');

export async function applyXeroCreditNote(books: XeroConnector, input: ApplyCreditMemoInput): Promise<PostResult> {
  const number = input.creditMemoNumber;
  const invoiceNumber = input.invoiceNumber;
  if (input.amount.amountMinor <= 0n) return { ok: false, retryable: false, error: `the amount applied from credit note ${number} must be more than zero` };
  const res = await books.api.call({
    method: 'GET',
    path: '/CreditNotes',
    params: { where: `CreditNoteNumber==${quoted(number)} AND Type=="ACCRECCREDIT"` },
  });
  const notes = ((res['CreditNotes'] as Json[] | undefined) ?? []).filter((n) => n['Status'] !== 'DELETED' && n['Status'] !== 'VOIDED');
  const waitMemo = (why: string): PostResult => ({ ok: false, retryable: true, error: why, waitingForCreditMemo: number });
  if (notes.length === 0) return waitMemo(`credit note ${number} is not in Xero (yet)`);
  if (notes.length > 1) return { ok: false, retryable: false, error: `${notes.length} credit notes are numbered ${number} in Xero` };
  const note = notes[0]!;
  const day = Date.parse(`${input.appliedOn}T00:00:00Z`);
  const earlier = ((note['Allocations'] as Json[] | undefined) ?? []).find(
    (a) =>
      String((a['Invoice'] as Json | undefined)?.['InvoiceNumber'] ?? '') === invoiceNumber &&
      moneyOf(a['Amount'], input.amount.currency).amountMinor === input.amount.amountMinor &&
      xeroDateMs(a['Date']) === day,
  );
  if (earlier) return { ok: true, remoteId: String(earlier['AllocationID']) };
  if (note['Status'] === 'DRAFT' || note['Status'] === 'SUBMITTED')
    return waitMemo(`credit note ${number} is not approved in Xero yet (${String(note['Status'])})`);
  if (note['Status'] !== 'AUTHORISED')
    return {
      ok: false,
      retryable: false,
      error: `credit note ${number} is ${String(note['Status'])} in Xero: it has no credit left to apply to invoice ${invoiceNumber}`,
    };

  const inv = (
    ((await books.api.call({ method: 'GET', path: '/Invoices', params: { InvoiceNumbers: invoiceNumber, Statuses: 'DRAFT,SUBMITTED,AUTHORISED,PAID' } }))[
      'Invoices'
    ] as Json[] | undefined) ?? []
  ).filter((i) => i['Type'] === 'ACCREC' && i['InvoiceNumber'] === invoiceNumber);
  const waitInvoice = (why: string): PostResult => ({ ok: false, retryable: true, error: why, waitingForInvoice: invoiceNumber });
  if (inv.length === 0) return waitInvoice(`invoice ${invoiceNumber} is not in Xero (yet)`);
  const invoice = inv[0]!;
  if (invoice['Status'] === 'DRAFT' || invoice['Status'] === 'SUBMITTED')
    return waitInvoice(`invoice ${invoiceNumber} is not approved in Xero yet (${String(invoice['Status'])})`);
  if (contactOf(invoice) !== contactOf(note))
    return {
      ok: false,
      retryable: false,
      error: `credit note ${number} and invoice ${invoiceNumber} belong to different contacts in Xero; correct the one exported wrongly, then retry`,
    };
  const currency = input.amount.currency;
  if (moneyOf(note['RemainingCredit'], currency).amountMinor < input.amount.amountMinor)
    return {
      ok: false,
      retryable: false,
      error: `credit note ${number} has ${String(note['RemainingCredit'])} of credit left in Xero, less than the ${toVendorNumber(input.amount)} applied in the PSA (allocated elsewhere by hand?); free it in Xero, then retry`,
    };
  if (moneyOf(invoice['AmountDue'], currency).amountMinor < input.amount.amountMinor)
    return {
      ok: false,
      retryable: false,
      error: `invoice ${invoiceNumber} owes ${String(invoice['AmountDue'])} in Xero, less than the ${toVendorNumber(input.amount)} credit applied in the PSA; check the payments on it in Xero, then retry`,
    };
  const written = await books.api.call({
    method: 'PUT',
    path: `/CreditNotes/${encodeURIComponent(String(note['CreditNoteID']))}/Allocations`,
    params: { summarizeErrors: 'false' },
    body: { Allocations: [{ Invoice: { InvoiceID: invoice['InvoiceID'] }, Amount: toVendorNumber(input.amount), Date: input.appliedOn }] },
    idempotencyKey: idempotencyKeyFor([input.idempotencyKey], input.requestGeneration ?? 0),
  });
  const row = ((written['Allocations'] as Json[] | undefined) ?? [])[0];
  const err = itemErrors(row);
  if (err !== null) return { ok: false, retryable: !row, error: `Xero refused to apply credit note ${number} to invoice ${invoiceNumber}: ${err}` };
  return { ok: true, remoteId: String(row!['AllocationID']) };
}

/** Credit-note numbers per `where` look-up (URL length). */
const NUMBERS_PER_QUERY = 25;

/**
 * Which of these sales credit notes are in Xero and approved — AUTHORISED, or PAID (all its credit used: the
 * application then fails at once with that reason, rather than waiting): what an application waiting for its
 * note needs (AccountingConnector.creditMemosInBooks). One GET per 25 numbers.
 */
export async function xeroCreditNotesInBooks(books: XeroConnector, numbers: readonly string[]): Promise<ReadonlySet<string>> {
  const found = new Set<string>();
  const unique = [...new Set(numbers)];
  for (let i = 0; i < unique.length; i += NUMBERS_PER_QUERY) {
    const part = unique.slice(i, i + NUMBERS_PER_QUERY);
    const res = await books.api.call({
      method: 'GET',
      path: '/CreditNotes',
      params: { where: part.map((n) => `CreditNoteNumber==${quoted(n)}`).join(' OR ') },
    });
    for (const n of (res['CreditNotes'] as Json[] | undefined) ?? [])
      if (n['Type'] === 'ACCRECCREDIT' && (n['Status'] === 'AUTHORISED' || n['Status'] === 'PAID')) found.add(String(n['CreditNoteNumber']));
  }
  return found;
}
