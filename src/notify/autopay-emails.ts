// The emails of autopay: the pre-debit notice (amount, date, method and the invoice lines behind the amount),
// its corrected versions when the PSA changes the invoice after a notice, and the "no debit after all" note.
// Pure composition; the engine queues them with queueEmail in the transaction that decided to send them.
import { format, money, type Currency } from '../domain/money.ts';
import type { NoticeChange } from '../domain/autopay.ts';

export interface NoticeLine {
  readonly description: string;
  readonly quantity: string;
  readonly amountMinor: bigint;
}

export interface PreDebitNotice {
  readonly mspName: string;
  readonly clientName: string;
  readonly invoiceNumber: string;
  readonly currency: Currency;
  /** What will be debited. */
  readonly amountMinor: bigint;
  readonly totalMinor: bigint;
  readonly chargeOn: string; // YYYY-MM-DD
  readonly method: string; // "Visa ending 4242"
  readonly lines: readonly NoticeLine[];
  readonly change: Exclude<NoticeChange, 'none'>;
  readonly previousAmountMinor: bigint | null;
}

export interface ComposedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function preDebitNotice(n: PreDebitNotice): ComposedEmail {
  const m = (minor: bigint): string => format(money(minor, n.currency));
  const amount = m(n.amountMinor);
  const updated = n.change !== 'first';
  const subject = updated
    ? `Updated automatic payment: ${amount} for invoice ${n.invoiceNumber} on ${n.chargeOn}${n.previousAmountMinor !== null && n.previousAmountMinor !== n.amountMinor ? ` (was ${m(n.previousAmountMinor)})` : ''}`
    : `Upcoming automatic payment: ${amount} for invoice ${n.invoiceNumber} on ${n.chargeOn}`;
  const why: Record<typeof n.change, string> = {
    first: '',
    increased: `Invoice ${n.invoiceNumber} was changed after our earlier notice, and the amount went up. This notice replaces the earlier one; the payment moves to the date below so that you have full notice of the new amount.`,
    decreased: `Invoice ${n.invoiceNumber} was changed after our earlier notice, and the amount went down. This notice replaces the earlier one; the date is unchanged.`,
    content_changed: `Invoice ${n.invoiceNumber} was changed after our earlier notice (its lines, not the amount). This notice replaces the earlier one.`,
  };
  const lineText = n.lines.map((l) => `  ${l.description} × ${l.quantity}: ${m(l.amountMinor)}`).join('\n');
  const partial = n.amountMinor !== n.totalMinor ? `\nInvoice total ${m(n.totalMinor)}; ${amount} is what is still open on it.` : '';
  const text = [
    `Hello ${n.clientName},`,
    '',
    ...(updated ? [why[n.change], ''] : []),
    `On ${n.chargeOn} (or the next day we run payments), ${n.mspName} will debit ${amount} from your ${n.method} for invoice ${n.invoiceNumber}.`,
    '',
    'The invoice:',
    lineText || '  (no lines)',
    `Total: ${m(n.totalMinor)}${partial}`,
    '',
    `If anything here is not right, reply to this email before ${n.chargeOn} and we will hold the payment.`,
    '',
    n.mspName,
  ].join('\n');
  const rows = n.lines
    .map((l) => `<tr><td>${esc(l.description)}</td><td>${esc(l.quantity)}</td><td style="text-align:right">${esc(m(l.amountMinor))}</td></tr>`)
    .join('');
  const html = [
    `<p>Hello ${esc(n.clientName)},</p>`,
    updated ? `<p>${esc(why[n.change])}</p>` : '',
    `<p>On <strong>${esc(n.chargeOn)}</strong> ${esc(n.mspName)} will debit <strong>${esc(amount)}</strong> from your ${esc(n.method)} for invoice ${esc(n.invoiceNumber)}.</p>`,
    `<table><thead><tr><th>Item</th><th>Qty</th><th>Amount</th></tr></thead><tbody>${rows}</tbody>`,
    `<tfoot><tr><td colspan="2">Total</td><td style="text-align:right">${esc(m(n.totalMinor))}</td></tr></tfoot></table>`,
    partial ? `<p>${esc(partial.trim())}</p>` : '',
    `<p>If anything here is not right, reply before ${esc(n.chargeOn)} and we will hold the payment.</p>`,
  ].join('\n');
  return { subject, text, html };
}

export type CancelReason = 'invoice_voided' | 'invoice_credit' | 'nothing_owed' | 'client_autopay_off' | 'no_rule' | 'rejected_by_staff';

const CANCEL_TEXT: Record<CancelReason, string> = {
  invoice_voided: 'the invoice was voided',
  invoice_credit: 'the invoice became a credit',
  nothing_owed: 'nothing is owed on it any more',
  client_autopay_off: 'automatic payment was turned off for your account',
  no_rule: 'the invoice is no longer collected automatically',
  rejected_by_staff: 'we decided not to collect it automatically; we will be in touch about it',
};

export function autopayCancelled(n: {
  mspName: string;
  clientName: string;
  invoiceNumber: string;
  currency: Currency;
  amountMinor: bigint;
  reason: CancelReason;
}): ComposedEmail {
  const amount = format(money(n.amountMinor, n.currency));
  const subject = `No automatic payment will be taken for invoice ${n.invoiceNumber}`;
  const text = [
    `Hello ${n.clientName},`,
    '',
    `We told you that ${n.mspName} would debit ${amount} for invoice ${n.invoiceNumber}. That payment will not be taken: ${CANCEL_TEXT[n.reason]}.`,
    '',
    n.mspName,
  ].join('\n');
  return { subject, text, html: `<p>Hello ${esc(n.clientName)},</p><p>${esc(text.split('\n')[2]!)}</p>` };
}
