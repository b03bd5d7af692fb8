// What one item of a PUT /Payments?summarizeErrors=false answer means for Settle. The payment names its
// invoice by InvoiceNumber, unlooked-up, so Xero's refusal is how Settle learns the invoice is not ready:
// "Invoice could not be found" — not exported to Xero yet (wait for it); "Payments can only be made against
// Authorised documents" — a draft or awaiting-approval invoice (wait for the approval), or one already paid
// or voided in Xero (a person must look). Xero's words do not tell these apart, so only then is the invoice
// read (settleNotAuthorised), once, for the few refused: the common path stays at one call per 50 payments.
import type { PostResult } from '../types.ts';
import type { Json } from './api.ts';
import { itemErrors } from './mapping.ts';

export type PaymentAnswer =
  | { readonly kind: 'done'; readonly result: PostResult }
  /** Refused as "not an Authorised document": the invoice's status decides (settleNotAuthorised). */
  | { readonly kind: 'not_authorised'; readonly error: string };

const NOT_FOUND = /Invoice could not be found/i;
const NOT_AUTHORISED = /can only be made against Authorised documents/i;

export function paymentAnswer(row: Json | undefined, invoiceNumber: string): PaymentAnswer {
  const err = itemErrors(row);
  if (err === null) return { kind: 'done', result: { ok: true, remoteId: String(row!['PaymentID']) } };
  const refused = `Xero refused the payment for invoice ${invoiceNumber}: ${err}`;
  if (!row) return { kind: 'done', result: { ok: false, retryable: true, error: refused } };
  if (NOT_FOUND.test(err)) {
    return { kind: 'done', result: { ok: false, retryable: true, error: `invoice ${invoiceNumber} is not in Xero (yet)`, waitingForInvoice: invoiceNumber } };
  }
  if (NOT_AUTHORISED.test(err)) return { kind: 'not_authorised', error: refused };
  return { kind: 'done', result: { ok: false, retryable: false, error: refused } };
}

/** The result for a payment Xero refused as "not Authorised", from its invoice as Xero now has it (or none). */
export function settleNotAuthorised(invoice: Json | undefined, invoiceNumber: string, error: string): PostResult {
  const waiting = (why: string): PostResult => ({ ok: false, retryable: true, error: why, waitingForInvoice: invoiceNumber });
  const status = invoice ? String(invoice['Status']) : 'VOIDED';
  // The PSA's export approves a draft later; a voided or deleted one may be re-exported under the same number.
  if (status === 'DRAFT' || status === 'SUBMITTED') return waiting(`invoice ${invoiceNumber} is not approved in Xero yet (${status})`);
  if (status === 'VOIDED' || status === 'DELETED') return waiting(`invoice ${invoiceNumber} is not in Xero (yet): it is ${status}`);
  // AUTHORISED again (approved between the two calls): send again. PAID: someone recorded it by hand.
  if (status === 'AUTHORISED') return { ok: false, retryable: true, error: `${error} (approved since; sending again)` };
  return {
    ok: false,
    retryable: false,
    error: `${error} — invoice ${invoiceNumber} is already ${status} in Xero; remove the payment entered there by hand, then retry`,
  };
}
