// The receipt a client gets when a payment succeeds: each invoice paid, the card surcharge as its own line
// with its amount (payments-rules.md §0.2: "a separate line item with the dollar amount on the receipt"),
// an installment plan's fee likewise, any part kept as credit, and the total charged. Queued in the same transaction as the success, in the
// words of the workspace's template when it has one (templates/).
import { format, money, parseCurrency } from '../domain/money.ts';
import { formatBps } from '../domain/rules/surcharge.ts';
import type { Tx } from '../db/tenant.ts';
import { queueEmail } from './queue-email.ts';
import { composeEmail, templateOf } from './templates/compose.ts';
import { escapeHtml } from './templates/syntax.ts';

const esc = escapeHtml;

export interface ReceiptLine {
  readonly label: string;
  readonly amount: string;
}

/** The lines of a receipt, in order; also used by tests and the portal to show the same breakdown. */
export async function receiptLines(
  tx: Tx,
  paymentId: string,
): Promise<{ lines: ReceiptLine[]; total: string; clientId: string; email: string | null; method: string }> {
  const p = await tx.selectFrom('payments').selectAll().where('id', '=', paymentId).executeTakeFirstOrThrow();
  const currency = parseCurrency(p.currency);
  const m = (n: bigint): string => format(money(n, currency));
  const allocations = await tx
    .selectFrom('allocations as a')
    .innerJoin('invoices as i', 'i.id', 'a.invoice_id')
    .select(['i.number', 'a.amount_minor'])
    .where('a.payment_id', '=', paymentId)
    .orderBy('i.number')
    .execute();
  const lines: ReceiptLine[] = allocations.map((a) => ({ label: `Invoice ${a.number}`, amount: m(a.amount_minor) }));
  const allocated = allocations.reduce((s, a) => s + a.amount_minor, 0n);
  const credit = p.amount_minor - p.surcharge_minor - p.plan_fee_minor + p.discount_minor - allocated;
  if (credit > 0n) lines.push({ label: 'Kept as credit on your account (applied to your next invoice)', amount: m(credit) });
  if (p.surcharge_minor > 0n) {
    const quote = await tx.selectFrom('surcharge_quotes').select(['rate_bps']).where('payment_id', '=', paymentId).executeTakeFirst();
    lines.push({ label: `Credit card surcharge${quote ? ` (${formatBps(quote.rate_bps)})` : ''}`, amount: m(p.surcharge_minor) });
  }
  // The fee of an installment plan the client chose (charged with part 1): money beyond the invoice.
  if (p.plan_fee_minor > 0n) lines.push({ label: 'Installment plan fee', amount: m(p.plan_fee_minor) });
  // §1.5: the invoices are paid in full; the discount for paying by bank is its own (negative) line.
  if (p.discount_minor > 0n) lines.push({ label: 'Discount for paying by bank (ACH)', amount: `-${m(p.discount_minor)}` });
  const client = await tx.selectFrom('clients').select(['billing_email']).where('id', '=', p.client_id).executeTakeFirstOrThrow();
  const method =
    p.method_kind === 'us_bank_account'
      ? `bank account ${p.method_last4 ?? ''}`.trim()
      : p.method_kind === 'card'
        ? `${p.method_brand ?? 'card'} ${p.method_last4 ?? ''}`.trim()
        : (p.method_kind ?? 'payment');
  return { lines, total: m(p.amount_minor), clientId: p.client_id, email: client.billing_email, method };
}

/**
 * Queue the receipt: once per payment when it succeeds; a resend from the staff app passes its own key
 * (one per press of the button, so a double submit still sends one). Returns the outbox row, or null when
 * there is no address (or the key was queued already).
 */
export async function queuePaymentReceipt(tx: Tx, tenantId: string, paymentId: string, idempotencyKey?: string): Promise<string | null> {
  const r = await receiptLines(tx, paymentId);
  if (!r.email) return null; // no billing address in the PSA: nothing to send to
  const tenant = await tx.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirstOrThrow();
  const client = await tx.selectFrom('clients').select('name').where('id', '=', r.clientId).executeTakeFirstOrThrow();
  const width = Math.max(...r.lines.map((l) => l.label.length), 'Total charged'.length) + 2;
  const row = (label: string, amount: string): string => `${label.padEnd(width)}${amount}`;
  const cells = (label: string, amount: string): string => `<tr><td>${esc(label)}</td><td align="right">${esc(amount)}</td></tr>`;
  const email = composeEmail(
    'payment_receipt',
    {
      msp_name: tenant.name,
      client_name: client.name,
      total: r.total,
      receipt_lines: {
        text: [...r.lines.map((l) => row(l.label, l.amount)), row('Total charged', r.total)].join('\n'),
        html: `<table>${r.lines.map((l) => cells(l.label, l.amount)).join('')}${cells('Total charged', r.total)}</table>`,
      },
      paid_with: r.method,
      reference: paymentId,
    },
    await templateOf(tx, 'payment_receipt'),
  );
  return queueEmail(tx, tenantId, {
    kind: 'payment_receipt',
    clientId: r.clientId,
    to: r.email,
    ...email,
    idempotencyKey: idempotencyKey ?? `receipt:payment:${paymentId}`,
  });
}
