// Which queued items one qbXML document carries. Every payment, reversal and credit-memo application needs its
// invoice's TxnID and customer first (InvoiceQuery by RefNumber); asked one by one, that was an InvoiceQuery
// before every ReceivePaymentAdd — 2 messages per payment. So the look-ups of a document share ONE InvoiceQuery
// with many RefNumber elements (qbxml130.xsd › InvoiceQuery's RefNumber*), and a document is given to look-ups
// only when fewer than BATCH items are ready to write: a 1,000-payment backlog is one InvoiceQuery per LOOKUPS
// payments and one ReceivePaymentAdd each — about 1.01 messages per payment.
import type { WorkItem } from './work-steps.ts';
import { nextStep } from './work-steps.ts';
import { invoiceQueryByRefNumbers } from './qbxml/requests.ts';

/** Items per request document that write (or read the books copy): the desktop's pace. */
export const BATCH = 10;
/** Invoice numbers one shared InvoiceQuery asks for. */
export const LOOKUPS = 100;

export interface DocumentPlan {
  /** Items whose next step is the invoice look-up, answered together by one InvoiceQueryRs. */
  readonly lookups: readonly WorkItem[];
  /** Items with a step of their own (check, add, credit, read). */
  readonly others: readonly WorkItem[];
}

/** `items`: the oldest queued items (up to BATCH + LOOKUPS), in queue order. */
export function planDocument(items: readonly WorkItem[]): DocumentPlan {
  const ready = items.filter((i) => nextStep(i) !== 'lookup');
  if (ready.length >= BATCH) return { lookups: [], others: ready.slice(0, BATCH) };
  return { lookups: items.filter((i) => nextStep(i) === 'lookup').slice(0, LOOKUPS), others: ready };
}

/** The shared look-up's requestID: one per document, so every look-up item in flight on the ticket finds it. */
export const lookupRequestID = (first: WorkItem) => `${first.id}.lookup`;
export const isSharedLookup = (requestID: string | undefined) => requestID?.endsWith('.lookup') ?? false;

export function sharedLookupRequest(lookups: readonly WorkItem[]): string {
  const numbers = [...new Set(lookups.map((i) => String(i.intent['invoiceNumber'])))];
  return invoiceQueryByRefNumbers(lookupRequestID(lookups[0]!), numbers);
}
