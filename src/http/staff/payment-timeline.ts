// One payment's story in time order, from the rows paymentDetail reads: each attempt at the processor, each
// state change, the allocations, each posting to the PSA and the books (with the vendor's id), refunds,
// the payout it went out in, the receipts e-mailed and what staff did. Pure, so the page and a test agree.
import type { PaymentDetail, TimelineEvent } from '../../db/queries/payments.ts';
import { format, money, parseCurrency } from '../../domain/money.ts';
import { vendorName } from '../../engine/posting-exceptions.ts';

const KIND_WORDS: Record<string, string> = {
  payment: 'Payment',
  refund: 'Refund (payment reduced)',
  payment_reversal: 'Reversal',
  deposit: 'Deposit',
  bank_withdrawal: 'Bank debit',
  credit_memo: 'Credit memo applied',
};

const who = (actor: string): string =>
  actor.startsWith('user:')
    ? 'staff'
    : actor.startsWith('api_key:')
      ? 'an API key'
      : actor.startsWith('vendor:')
        ? 'the processor'
        : actor.replace(/^\w+:/, '');

export function paymentTimeline(d: PaymentDetail): TimelineEvent[] {
  const p = d.payment;
  const currency = parseCurrency(p.currency);
  const m = (n: bigint): string => format(money(n, currency));
  const processor = vendorName(p.processor);
  const out: TimelineEvent[] = [
    { at: p.created_at, source: 'Settle', title: `Payment of ${m(p.amount_minor)} started (${p.source})`, detail: null, tone: null, remoteId: null },
  ];
  for (const a of d.attempts) {
    const ok = a.outcome === 'succeeded' || a.outcome === 'processing';
    out.push({
      at: a.created_at,
      source: processor,
      title: `Attempt ${a.attempt_no}: ${a.outcome.replace(/_/g, ' ')}`,
      detail: [a.decline_code, a.message].filter(Boolean).join(' — ') || null,
      tone: ok ? 'ok' : a.outcome === 'sending' ? 'warn' : 'bad',
      remoteId: a.processor_payment_id,
    });
  }
  for (const e of d.events) {
    out.push({
      at: e.created_at,
      source: 'Settle',
      title: `State ${e.from_state ? `${e.from_state.replace(/_/g, ' ')} → ` : ''}${e.to_state.replace(/_/g, ' ')}`,
      detail: e.event.replace(/_/g, ' '),
      tone: /fail|return|disput|charged_back/.test(e.to_state) ? 'bad' : null,
      remoteId: null,
    });
  }
  for (const a of d.allocations) {
    out.push({
      at: a.created_at,
      source: 'Settle',
      title: `Applied ${m(a.amount_minor)} to invoice #${a.number}`,
      detail: a.reversed_minor > 0n ? `${m(a.reversed_minor)} of it taken back since` : null,
      tone: null,
      remoteId: null,
    });
  }
  for (const po of d.postings) {
    const where = `${vendorName(po.vendor)} (${po.target === 'psa' ? 'PSA' : 'books'})`;
    const what = `${KIND_WORDS[po.kind] ?? po.kind} of ${m(po.amount_minor)}${po.invoice_number ? ` for invoice #${po.invoice_number}` : ''}`;
    const state =
      po.status === 'posted' ? 'posted' : po.status === 'failed' ? 'failed' : po.waiting_for === 'invoice_in_books' ? 'waiting for the invoice' : 'pending';
    out.push({
      at: po.posted_at ?? po.created_at,
      source: where,
      title: `${what}: ${state}`,
      detail: po.status === 'posted' ? null : po.last_error,
      tone: po.status === 'posted' ? 'ok' : po.status === 'failed' ? 'bad' : 'warn',
      remoteId: po.remote_id,
    });
  }
  for (const r of d.refunds) {
    out.push({
      at: r.created_at,
      source: r.source === 'settle' ? 'Settle' : processor,
      title: `Refund of ${m(r.amount_minor)} ${r.source === 'settle' ? `asked for by ${who(r.requested_by)}` : `made at ${processor}`}`,
      detail: r.reason,
      tone: null,
      remoteId: null,
    });
    if (r.status !== 'pending')
      out.push({
        at: r.succeeded_at ?? r.updated_at,
        source: processor,
        title: `Refund of ${m(r.amount_minor)} ${r.status}`,
        detail:
          r.status === 'failed'
            ? r.failure_message
            : r.surcharge_minor > 0n
              ? `includes ${m(r.surcharge_minor)} of surcharge`
              : r.plan_fee_minor > 0n
                ? `includes ${m(r.plan_fee_minor)} of installment plan fee`
                : null,
        tone: r.status === 'succeeded' ? 'ok' : 'bad',
        remoteId: r.processor_refund_id,
      });
  }
  for (const i of d.payoutItems) {
    out.push({
      at: i.created_at,
      source: processor,
      title: `In payout ${i.processor_payout_id} (arrives ${i.arrival_date})`,
      detail: i.fee_minor !== 0n ? `fee ${m(i.fee_minor)}` : null,
      tone: null,
      remoteId: i.processor_payout_id,
    });
  }
  for (const e of d.emails) {
    out.push({
      at: e.sent_at ?? e.created_at,
      source: 'E-mail',
      title: `Receipt to ${e.to_email}: ${e.status}`,
      detail: e.status === 'sent' ? null : e.last_error,
      tone: e.status === 'sent' ? 'ok' : e.status === 'failed' ? 'bad' : 'warn',
      remoteId: null,
    });
  }
  for (const a of d.audits) {
    if (a.action.startsWith('refund.')) continue; // shown with the refund itself
    out.push({ at: a.created_at, source: 'Settle', title: `${a.action.replace(/[._]/g, ' ')} by ${who(a.actor)}`, detail: null, tone: null, remoteId: null });
  }
  return out.sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
}
