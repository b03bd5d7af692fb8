// The email a client gets when an automatic or staff-initiated payment fails: what failed, what happens
// next (a retry date, or nothing until they act) and a link to save a new payment method. Pure composition,
// from the workspace's template when it has one (templates/).
// Stripe: never tell the customer a card was reported lost, stolen or fraudulent — say it was declined
// (payments-rules.md §3.1, `customerMessage: 'generic'`).
import { format, money, type Currency } from '../domain/money.ts';
import { composeEmail, type ComposedEmail, type EmailTemplate } from './templates/compose.ts';

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

const day = (d: Date): string => d.toISOString().slice(0, 10);

/** The e-mail from the workspace's template (`override`, from templateOf) or the default one. */
export function paymentFailedEmail(e: PaymentFailedEmail, override: EmailTemplate | null = null): ComposedEmail {
  const amount = format(money(e.amountMinor, e.currency));
  const invoices = e.invoiceNumbers.length === 1 ? `invoice ${e.invoiceNumbers[0]}` : `invoices ${e.invoiceNumbers.join(', ')}`;
  const why = e.reason ? `The payment from your ${e.method} did not go through: ${e.reason}` : `The payment from your ${e.method} was declined.`;
  const next = e.retryAt
    ? `We will try again on ${day(e.retryAt)}. If you would rather use another card or bank account, update your payment method before then:`
    : e.planRetries
      ? 'We will try this installment again on our usual retry schedule. If you would rather use another card or bank account, update your payment method:'
      : 'We will not try this payment method again. Please save a new card or bank account so that we can collect this payment:';
  return composeEmail(
    'payment_failed',
    {
      msp_name: e.mspName,
      client_name: e.clientName,
      amount,
      invoices,
      method: e.method,
      what_failed: why,
      next_step: next,
      update_link: { link: e.link, label: 'Update your payment method' },
      link_expires_on: day(e.linkExpiresAt),
    },
    override,
  );
}
