// The ACH discount (payments-rules.md §1.5; issue #3 "Surcharging"): where the MSP may not surcharge this
// client's credit card and its chosen alternative is `ach_discount`, a portal payment by bank account is
// charged the open amounts less the discount. The invoices are still paid in full (allocations are the
// planned amounts); the discount is the MSP's expense (ledger account ach_discounts, record-payment-outcome).
import { money, multiplyRatio, parseCurrency } from '../domain/money.ts';
import type { SavedMethod } from '../connectors/payments/types.ts';
import type { Tx } from '../db/tenant.ts';
import { audit } from './audit.ts';
import { clientSurchargeFacts, quoteForCard, surchargeProgram, type ClientSurchargeFacts, type SurchargeProgram } from './surcharge-policy.ts';

/**
 * The card the client would otherwise use, for deciding whether a surcharge would be allowed: a credit
 * card of a brand every rule covers. A debit card is never surcharged (§0.1), so "would a credit card be
 * surcharged here" is the question the portal's card quote answers for this client.
 */
const TYPICAL_CREDIT_CARD: SavedMethod = {
  processorMethodId: 'hypothetical',
  kind: 'card',
  brand: 'visa',
  last4: '0000',
  funding: 'credit',
  expMonth: null,
  expYear: null,
};

/** Discount per invoice part, floored like a surcharge (§1.5): floor(amount × bps / 10000). */
export function discountFor(program: SurchargeProgram, facts: ClientSurchargeFacts, amounts: readonly bigint[], currency: string, on: Date): bigint {
  if (program.alternative !== 'ach_discount' || program.achDiscountBps <= 0) return 0n;
  const cur = parseCurrency(currency);
  const total = amounts.reduce((s, a) => s + a, 0n);
  // The same decision the card quote makes (pay-card-with-surcharge.ts): a discount only where surcharging is refused.
  if (quoteForCard(program, facts, TYPICAL_CREDIT_CARD, money(total, cur), on).allowed) return 0n;
  return amounts.reduce((s, a) => s + multiplyRatio(money(a, cur), BigInt(program.achDiscountBps), 10_000n, 'floor').amountMinor, 0n);
}

/**
 * Applied to a planned (not yet sent) portal bank payment, in the transaction that planned it: the payment's
 * amount becomes what the processor will be asked to charge, and the discount is stored beside it.
 */
export async function grantAchDiscount(tx: Tx, tenantId: string, paymentId: string, on: Date): Promise<bigint> {
  const p = await tx
    .selectFrom('payments')
    .select(['client_id', 'currency', 'amount_minor', 'planned_allocations', 'state'])
    .where('id', '=', paymentId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  if (p.state !== 'pending') return 0n;
  const program = await surchargeProgram(tx);
  const facts = await clientSurchargeFacts(tx, p.client_id);
  const discount = discountFor(
    program,
    facts,
    p.planned_allocations.map((a) => BigInt(a.amountMinor)),
    p.currency,
    on,
  );
  // A discount that would leave nothing to charge is not a payment the processor can take; none is given.
  if (discount <= 0n || discount >= p.amount_minor) return 0n;
  await tx
    .updateTable('payments')
    .set({ amount_minor: p.amount_minor - discount, discount_minor: discount })
    .where('id', '=', paymentId)
    .execute();
  await audit(
    tx,
    tenantId,
    `client:${p.client_id}`,
    'payment.ach_discount_granted',
    { type: 'payment', id: paymentId },
    { invoices_minor: p.amount_minor, discount_minor: discount, charged_minor: p.amount_minor - discount, rate_bps: program.achDiscountBps },
  );
  return discount;
}
