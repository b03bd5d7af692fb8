// The emails of autopay: the pre-debit notice (amount, date, method and the invoice lines behind the amount),
// its corrected versions when the PSA changes the invoice after a notice, and the "no debit after all" note.
// Composed from the workspace's template when it has one (templates/); the engine queues them with queueEmail in the transaction that decided to send them.
import { format, money, type Currency } from '../domain/money.ts';
import type { NoticeChange } from '../domain/autopay.ts';
import { composeEmail, type ComposedEmail, type EmailTemplate } from './templates/compose.ts';
import { escapeHtml } from './templates/syntax.ts';

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

const esc = escapeHtml;

/** The notice from the workspace's template (`override`, from templateOf) or the default one. */
export function preDebitNotice(n: PreDebitNotice, override: EmailTemplate | null = null): ComposedEmail {
  const m = (minor: bigint): string => format(money(minor, n.currency));
  const amount = m(n.amountMinor);
  const updated = n.change !== 'first';
  const why: Record<typeof n.change, string> = {
    first: '',
    increased: `Invoice ${n.invoiceNumber} was changed after our earlier notice, and the amount went up. This notice replaces the earlier one; the payment moves to the date below so that you have full notice of the new amount.`,
    decreased: `Invoice ${n.invoiceNumber} was changed after our earlier notice, and the amount went down. This notice replaces the earlier one; the date is unchanged.`,
    content_changed: `Invoice ${n.invoiceNumber} was changed after our earlier notice (its lines, not the amount). This notice replaces the earlier one.`,
  };
  const lineText = n.lines.map((l) => `  ${l.description} × ${l.quantity}: ${m(l.amountMinor)}`).join('\n');
  const rows = n.lines.map((l) => `<tr><td>${esc(l.description)}</td><td>${esc(l.quantity)}</td><td align="right">${esc(m(l.amountMinor))}</td></tr>`).join('');
  return composeEmail(
    'autopay_notice',
    {
      msp_name: n.mspName,
      client_name: n.clientName,
      notice_word: updated ? 'Updated' : 'Upcoming',
      invoice_number: n.invoiceNumber,
      amount,
      was_amount: updated && n.previousAmountMinor !== null && n.previousAmountMinor !== n.amountMinor ? `(was ${m(n.previousAmountMinor)})` : '',
      charge_on: n.chargeOn,
      method: n.method,
      invoice_lines: {
        text: lineText || '  (no lines)',
        html: `<table><thead><tr><th>Item</th><th>Qty</th><th>Amount</th></tr></thead><tbody>${rows}</tbody></table>`,
      },
      total: m(n.totalMinor),
      change_note: why[n.change],
      open_note: n.amountMinor !== n.totalMinor ? `Invoice total ${m(n.totalMinor)}; ${amount} is what is still open on it.` : '',
    },
    override,
  );
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

export function autopayCancelled(
  n: {
    mspName: string;
    clientName: string;
    invoiceNumber: string;
    currency: Currency;
    amountMinor: bigint;
    reason: CancelReason;
  },
  override: EmailTemplate | null = null,
): ComposedEmail {
  return composeEmail(
    'autopay_cancelled',
    {
      msp_name: n.mspName,
      client_name: n.clientName,
      invoice_number: n.invoiceNumber,
      amount: format(money(n.amountMinor, n.currency)),
      reason: CANCEL_TEXT[n.reason],
    },
    override,
  );
}
