// Idempotency keys for every outbound effect, derived from our own identities so that a retry after a
// crash sends the same key (ARCHITECTURE.md "Connectors": `payment:<id>:qbo:payment`). Vendors that
// honour keys get them as headers (Stripe/Xero `Idempotency-Key`, QBO `requestid`); the others get them
// written into the record for check-before-write. Same inputs → same key, always.
//
// Two properties matter and are tested:
// - no two different inputs give the same key: each part is percent-encoded, so an id containing ':'
//   (PSA line ids look like "product:123") cannot impersonate the separator;
// - every key fits in 255 characters, Stripe's limit for Idempotency-Key; longer ones keep a readable
//   prefix and end in a 64-bit FNV-1a digest of the whole key.

export const MAX_KEY_LENGTH = 255;

export class IdempotencyKeyError extends Error {
  override readonly name = 'IdempotencyKeyError';
}

const VENDOR = /^[a-z0-9][a-z0-9-]*$/;

function id(label: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new IdempotencyKeyError(`${label} must be a non-empty string`);
  // encodeURIComponent escapes ':' and '%' and leaves only ASCII, so parts cannot collide or smuggle a separator.
  return encodeURIComponent(value);
}

function vendorPart(vendor: string): string {
  // Vendor ids are the connectors' own names ('connectwise', 'quickbooks-online', …), unique across roles.
  if (!VENDOR.test(vendor)) throw new IdempotencyKeyError(`vendor "${vendor}" must be a lower-case connector id`);
  return vendor;
}

function counter(label: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 1) throw new IdempotencyKeyError(`${label} must be a whole number ≥ 1, got ${n}`);
  return String(n);
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = (1n << 64n) - 1n;

/** FNV-1a 64 over the key's characters (all ASCII after encoding), as 16 hex digits. */
export function fnv1a64(text: string): string {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * FNV_PRIME) & MASK;
  }
  return h.toString(16).padStart(16, '0');
}

function finish(key: string): string {
  if (key.length <= MAX_KEY_LENGTH) return key;
  const digest = fnv1a64(key);
  return `${key.slice(0, MAX_KEY_LENGTH - digest.length - 1)}#${digest}`;
}

export const keys = {
  /** Record our payment on the PSA invoice (ConnectWise, Autotask, HaloPSA). */
  psaPayment: (paymentId: string, vendor: string): string => finish(`payment:${id('paymentId', paymentId)}:${vendorPart(vendor)}:payment`),

  /** Post our payment to the books against the same invoice. */
  booksPayment: (paymentId: string, vendor: string): string => finish(`payment:${id('paymentId', paymentId)}:${vendorPart(vendor)}:payment`),

  /** Post a processor payout to the books as one deposit (§5.3). */
  booksDeposit: (payoutId: string, vendor: string): string => finish(`payout:${id('payoutId', payoutId)}:${vendorPart(vendor)}:deposit`),

  /** Post a refund to the books. */
  booksRefund: (refundId: string, vendor: string): string => finish(`refund:${id('refundId', refundId)}:${vendorPart(vendor)}:refund`),

  /**
   * An off-session charge of one invoice version. A new PSA version (amount follows the PSA) or a new
   * retry attempt is a new key; a crash-retry of the same attempt is the same key, so the processor
   * returns the first charge instead of making a second one.
   */
  charge: (invoiceId: string, version: number, attempt: number): string =>
    finish(`invoice:${id('invoiceId', invoiceId)}:v${counter('version', version)}:charge:${counter('attempt', attempt)}`),

  /** One installment of a payment plan (several charges per invoice version). */
  installmentCharge: (planId: string, installment: number, attempt: number): string =>
    finish(`plan:${id('planId', planId)}:installment:${counter('installment', installment)}:charge:${counter('attempt', attempt)}`),

  /** The processor payment behind one client-portal checkout session. */
  portalPayment: (sessionId: string): string => finish(`portal:${id('sessionId', sessionId)}:payment`),

  /** The processor customer for one of the MSP's clients. */
  customer: (clientId: string, vendor: string): string => finish(`client:${id('clientId', clientId)}:${vendorPart(vendor)}:customer`),

  /** A refund we ask the processor for. */
  refund: (paymentId: string, refundId: string): string =>
    // Five segments, so it can never equal a four-segment `payment:<id>:<vendor>:payment` key.
    finish(`payment:${id('paymentId', paymentId)}:refund:${id('refundId', refundId)}:request`),
} as const;
