// What a refund would do, stated before staff confirm it (UI.md: money-moving actions confirm with the exact
// effect). Read-only: the same plan applyReversal makes under its locks (planReversalOf), computed without
// them, so the sentence on the confirmation page is what requestRefund then does — the surcharge given back
// in proportion, the client's unapplied credit first, each invoice owing its part again, the PSA payment
// reduced (or removed) and the books' payment re-applied to a reversing journal entry.
import { format, money, parseCurrency, type Money } from '../domain/money.ts';
import { ReversalError } from '../domain/reversal.ts';
import type { Tx } from '../db/tenant.ts';
import { planReversalOf } from './apply-reversal.ts';
import { vendorName } from './posting-exceptions.ts';

export interface RefundEffect {
  readonly amount: Money;
  /** The card or bank account the money goes back to, e.g. "Visa ·4242". */
  readonly method: string;
  readonly surcharge: Money;
  readonly fromCredit: Money;
  readonly invoices: readonly {
    readonly invoiceId: string;
    readonly number: string;
    /** What the invoice owes again. */
    readonly reopened: Money;
    /** The PSA's payment on this invoice after the refund (null: no PSA posting for it). */
    readonly psa: { readonly vendor: string; readonly after: Money } | null;
    readonly books: { readonly vendor: string } | null;
  }[];
  /** The whole effect in one sentence per system, in the order they happen. */
  readonly sentences: readonly string[];
}

export type RefundPreview =
  | { readonly ok: true; readonly refundable: Money; readonly effect: RefundEffect }
  | { readonly ok: false; readonly refundable: Money; readonly problem: string };

const REFUNDABLE = new Set(['succeeded', 'partially_refunded']);

/** "Visa ·4242", "bank account ·6789" — how a method reads on a page. */
export function methodLabel(p: { method_kind: string | null; method_brand: string | null; method_last4: string | null }): string {
  const last4 = p.method_last4 ? ` ·${p.method_last4}` : '';
  if (p.method_kind === 'us_bank_account') return `bank account${last4}`;
  if (p.method_kind === 'card') {
    const brand = p.method_brand ? p.method_brand[0]!.toUpperCase() + p.method_brand.slice(1) : 'card';
    return `${brand}${last4}`;
  }
  return p.method_kind ? `${p.method_kind}${last4}` : 'the original method';
}

/** Everything still refundable on the payment: paid, less refunded, less refunds still pending. */
export async function refundableOf(tx: Tx, p: { id: string; amount_minor: bigint; refunded_minor: bigint }): Promise<bigint> {
  const pending = await tx
    .selectFrom('refunds')
    .select((eb) => eb.fn.sum<bigint>('amount_minor').as('n'))
    .where('payment_id', '=', p.id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return p.amount_minor - p.refunded_minor - BigInt(pending?.n ?? 0);
}

export async function previewRefund(tx: Tx, paymentId: string, amountMinor: bigint | undefined): Promise<RefundPreview | null> {
  const p = await tx.selectFrom('payments').selectAll().where('id', '=', paymentId).executeTakeFirst();
  if (!p) return null;
  const currency = parseCurrency(p.currency);
  const m = (n: bigint): Money => money(n, currency);
  const refundable = m(await refundableOf(tx, p));
  if (!REFUNDABLE.has(p.state)) {
    const why = p.state === 'disputed' ? 'it is under dispute; the dispute decides where the money goes' : `it is ${p.state.replace(/_/g, ' ')}`;
    return { ok: false, refundable, problem: `This payment cannot be refunded: ${why}.` };
  }
  if (!p.processor_payment_id) return { ok: false, refundable, problem: `This payment has no charge at ${vendorName(p.processor)} to refund.` };
  const amount = amountMinor ?? refundable.amountMinor;
  if (refundable.amountMinor <= 0n) return { ok: false, refundable, problem: 'Nothing is left to refund on this payment.' };
  if (amount <= 0n) return { ok: false, refundable, problem: 'Enter an amount of more than zero.' };
  if (amount > refundable.amountMinor)
    return { ok: false, refundable, problem: `Enter at most ${format(refundable)}: that is all that is still refundable on this payment.` };

  let planned;
  try {
    planned = await planReversalOf(tx, p, { amountMinor: amount, order: 'credit_first' }, false);
  } catch (e) {
    if (e instanceof ReversalError) return { ok: false, refundable, problem: e.message };
    throw e;
  }
  const { plan } = planned;
  const numbers = new Map(
    plan.invoices.length === 0
      ? []
      : (
          await tx
            .selectFrom('invoices')
            .select(['id', 'number'])
            .where(
              'id',
              'in',
              plan.invoices.map((i) => i.invoiceId),
            )
            .execute()
        ).map((i) => [i.id, i.number] as const),
  );
  const originals =
    plan.invoices.length === 0
      ? []
      : await tx
          .selectFrom('postings')
          .select(['id', 'target', 'vendor', 'invoice_id', 'amount_minor'])
          .where('payment_id', '=', p.id)
          .where('kind', '=', 'payment')
          .execute();
  const reversedBy = new Map<string, bigint>();
  if (originals.length > 0) {
    const rows = await tx
      .selectFrom('postings')
      .select(['reverses_posting_id', (eb) => eb.fn.sum<bigint>('amount_minor').as('n')])
      .where(
        'reverses_posting_id',
        'in',
        originals.map((o) => o.id),
      )
      .groupBy('reverses_posting_id')
      .execute();
    for (const r of rows) reversedBy.set(r.reverses_posting_id!, BigInt(r.n));
  }
  const invoices = plan.invoices.map((part) => {
    const psa = originals.find((o) => o.invoice_id === part.invoiceId && o.target === 'psa');
    const books = originals.find((o) => o.invoice_id === part.invoiceId && o.target === 'accounting');
    const after = psa ? psa.amount_minor - (reversedBy.get(psa.id) ?? 0n) - part.amountMinor : 0n;
    return {
      invoiceId: part.invoiceId,
      number: numbers.get(part.invoiceId) ?? '?',
      reopened: m(part.amountMinor),
      psa: psa ? { vendor: vendorName(psa.vendor), after: m(after < 0n ? 0n : after) } : null,
      books: books ? { vendor: vendorName(books.vendor) } : null,
    };
  });
  const method = methodLabel(p);
  const sentences: string[] = [`Refund ${format(m(amount))} to ${method} through ${vendorName(p.processor)}.`];
  if (plan.surchargeMinor > 0n) sentences.push(`${format(m(plan.surchargeMinor))} of it is card surcharge given back.`);
  if (plan.planFeeMinor > 0n) sentences.push(`${format(m(plan.planFeeMinor))} of it is installment plan fee given back.`);
  if (plan.fromCreditMinor > 0n) sentences.push(`${format(m(plan.fromCreditMinor))} comes out of the client's unapplied credit from this payment.`);
  for (const i of invoices) {
    sentences.push(`Invoice #${i.number} owes ${format(i.reopened)} again.`);
    if (i.psa)
      sentences.push(
        i.psa.after.amountMinor === 0n
          ? `The payment on invoice #${i.number} in ${i.psa.vendor} is removed.`
          : `The payment on invoice #${i.number} in ${i.psa.vendor} becomes ${format(i.psa.after)}.`,
      );
    else sentences.push(`Nothing is written to the PSA for invoice #${i.number}: this payment was not posted there.`);
    if (i.books)
      sentences.push(
        `${i.books.vendor} gets a reversing journal entry of ${format(i.reopened)}, and its payment is re-applied so invoice #${i.number} owes that part again.`,
      );
  }
  return {
    ok: true,
    refundable,
    effect: { amount: m(amount), method, surcharge: m(plan.surchargeMinor), fromCredit: m(plan.fromCreditMinor), invoices, sentences },
  };
}
