// The events an MSP can subscribe to, with stable names. Each is written by a trigger on the row it
// describes (migrations/0047_webhooks_out.sql), in the transaction of the change: this list is what the API,
// the staff page and docs/webhooks.md offer, and what a subscription's event types are checked against.
export const EVENT_TYPES = [
  'invoice.imported',
  'invoice.changed',
  'invoice.paid',
  'invoice.voided',
  'payment.succeeded',
  'payment.failed',
  'payment.refunded',
  'payment.returned',
  'payout.reconciled',
  'posting.failed',
  'posting.resolved',
  'exception.opened',
  'exception.resolved',
  'autopay.approval_needed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_ABOUT: Readonly<Record<EventType, string>> = {
  'invoice.imported': 'A new invoice came in from the PSA',
  'invoice.changed': 'An invoice changed in the PSA (a new version: lines, total or due date)',
  'invoice.paid': 'An invoice is paid in full',
  'invoice.voided': 'An invoice was voided in the PSA',
  'payment.succeeded': 'A payment succeeded (card or ACH)',
  'payment.failed': 'A payment failed (declined or returned before settling)',
  'payment.refunded': 'A refund of a payment went through (each partial refund is one event)',
  'payment.returned': 'A bank ACH debit was returned after it settled',
  'payout.reconciled': 'A processor payout was matched to its payments and fees',
  'posting.failed': 'Writing a payment to the PSA or the books gave up and needs a person',
  'posting.resolved': 'A failed posting was written after all',
  'exception.opened': 'Something needs a person (it appears under Needs attention)',
  'exception.resolved': 'A needs-attention item was resolved or dismissed',
  'autopay.approval_needed': 'An autopay charge waits for staff approval',
};

export const isEventType = (t: string): t is EventType => (EVENT_TYPES as readonly string[]).includes(t);
