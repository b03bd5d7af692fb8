// The MSP's surcharge program and a client's surcharge facts, read from the store and handed to the pure
// rules engine (domain/rules/surcharge.ts quoteSurcharge: payments-rules.md §0.1, §1). Nothing here
// decides a rate: it only gathers the inputs the rules need and stores what the client was shown.
import { money, parseCurrency, type Money } from '../domain/money.ts';
import { quoteSurcharge, type CardFunding, type Location, type SurchargeQuote } from '../domain/rules/surcharge.ts';
import type { SavedMethod } from '../connectors/payments/types.ts';
import type { Tx } from '../db/tenant.ts';
import { today } from './context.ts';

export interface SurchargeProgram {
  readonly enabled: boolean;
  readonly mspLocation: Location;
  readonly costOfAcceptanceBps: number;
  readonly noticeFiledOn: string | null;
  readonly alternative: 'absorb' | 'ach_discount';
  readonly achDiscountBps: number;
}

const OFF: SurchargeProgram = {
  enabled: false,
  mspLocation: { country: 'US', region: null },
  costOfAcceptanceBps: 0,
  noticeFiledOn: null,
  alternative: 'absorb',
  achDiscountBps: 0,
};

export async function surchargeProgram(tx: Tx): Promise<SurchargeProgram> {
  const s = await tx.selectFrom('surcharge_settings').selectAll().executeTakeFirst();
  if (!s) return OFF;
  return {
    enabled: s.enabled,
    mspLocation: { country: s.msp_country, region: s.msp_region },
    costOfAcceptanceBps: s.cost_of_acceptance_bps,
    noticeFiledOn: s.notice_filed_on,
    alternative: s.alternative,
    achDiscountBps: s.ach_discount_bps,
  };
}

export interface ClientSurchargeFacts {
  /** Country '' when the MSP has not recorded it: no jurisdiction matches, so nothing is surcharged. */
  readonly location: Location;
  readonly exempt: boolean;
}

export async function clientSurchargeFacts(tx: Tx, clientId: string): Promise<ClientSurchargeFacts> {
  const c = await tx.selectFrom('clients').select(['country', 'region']).where('id', '=', clientId).executeTakeFirstOrThrow();
  const exemption = await tx.selectFrom('surcharge_exemptions').select('client_id').where('client_id', '=', clientId).executeTakeFirst();
  return { location: { country: c.country ?? '', region: c.region }, exempt: exemption !== undefined };
}

/** The quote for one card: the program off means no surcharge (the MSP absorbs the cost, as before). */
export function quoteForCard(program: SurchargeProgram, client: ClientSurchargeFacts, method: SavedMethod, amount: Money, on: Date): SurchargeQuote {
  if (!program.enabled) {
    return { allowed: false, reason: 'exempt', detail: 'this MSP does not surcharge card payments', alternative: 'absorb', rulesApplied: [] };
  }
  // Bank debits are never surcharged (§0.1 credit cards only); treat them as "not credit".
  const funding: CardFunding = method.kind === 'card' ? (method.funding ?? 'unknown') : 'debit';
  const quote = quoteSurcharge({
    amount,
    funding,
    brand: method.brand ?? 'unknown',
    mspLocation: program.mspLocation,
    clientLocation: client.location,
    mspCostOfAcceptanceBps: program.costOfAcceptanceBps,
    noticeFiledOn: program.noticeFiledOn,
    clientExempt: client.exempt,
    on: today(on),
  });
  // §1.5: where surcharging is refused, the MSP's own choice of alternative applies.
  return quote.allowed ? quote : { ...quote, alternative: program.alternative };
}

/** §1.5 ACH discount: what paying by bank would save, at the MSP's discount rate, floored like a surcharge. */
export function achDiscount(program: SurchargeProgram, amount: Money): Money {
  if (program.alternative !== 'ach_discount' || program.achDiscountBps <= 0) return money(0n, amount.currency);
  return money((amount.amountMinor * BigInt(program.achDiscountBps)) / 10_000n, parseCurrency(amount.currency));
}
