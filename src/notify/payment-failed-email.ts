// The email a client gets when an automatic or staff-initiated payment fails: what failed, what happens
// next (a retry date, or nothing until they act) and a link to save a new payment method. Pure composition.
// Stripe: never tell the customer a card was reported lost, stolen or fraudulent — say it was declined
// (payments-rules.md §3.1, `customerMessage: 'generic'`).
import { format, money, type Currency } from '../domain/money.ts';

export interface PaymentFailedEmail {
  readonly mspName: string;
  readonly clientName: string;
  readonly invoiceNumbers: readonly string[];
  readonly currency: Currency;
  readonly amountMinor: bigint;
  /** "Visa ending 9995", "bank account ending 6789". */
  readonly method: string;
  /** What the client may be told about the reason; null = a generic "declined". */
  readonly reason: string | null;
  readonly retryAt: Date | null;
  /** An installment part is charged again by its plan, on the workspace's retry schedule. */
  readonly planRetries?: boolean;
  readonly link: string;
  readonly linkExpiresAt: Date;
}

export interface ComposedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const day = (d: Date): string => d.toISOString().slice(0, 10);

export function paymentFailedEmail(e: PaymentFailedEmail): ComposedEmail {
  const amount = format(money(e.amountMinor, e.currency));
  const invoices = e.invoiceNumbers.length === 1 ? `invoice ${e.invoiceNumbers[0]}` : `invoices ${e.invoiceNumbers.join(', ')}`;
  const subject = `Payment of ${amount} for ${invoices} did not go through`;
  const why = e.reason ? `The payment from your ${e.method} did not go through: ${e.reason}` : `The payment from your ${e.method} was declined.`;
  const next = e.retryAt
    ? `We will try again on ${day(e.retryAt)}. If you would rather use another card or bank account, update your payment method before then:`
    : e.planRetries
      ? 'We will try this installment again on our usual retry schedule. If you would rather use another card or bank account, update your payment method:'
      : 'We will not try this payment method again. Please save a new card or bank account so that we can collect this payment:';
  const text = [
    `Hello ${e.clientName},`,
    '',
    `${e.mspName} tried to collect ${amount} for ${invoices}.`,
    why,
    '',
    next,
    e.link,
    `(This link is valid until ${day(e.linkExpiresAt)}. Card and bank details are entered in our payment processor's secure form.)`,
    '',
    `Thank you,`,
    e.mspName,
  ].join('\n');
  const html = `<p>Hello ${esc(e.clientName)},</p>
<p>${esc(e.mspName)} tried to collect <strong>${esc(amount)}</strong> for ${esc(invoices)}.<br>${esc(why)}</p>
<p>${esc(next)}</p>
<p><a href="${esc(e.link)}">Update your payment method</a></p>
<p style="color:#666">This link is valid until ${esc(day(e.linkExpiresAt))}. Card and bank details are entered in our payment processor's secure form.</p>
<p>Thank you,<br>${esc(e.mspName)}</p>`;
  return { subject, text, html };
}
