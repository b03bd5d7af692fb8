// Card-surcharge quote and refund (payments-rules.md §0.1, §1, §5.2). Pure: the caller passes the card
// facts, both parties' locations, the MSP's cost of acceptance and notice date; the rows come from
// surcharge-table.ts and every decision lists the row ids it used.
import { add, format, isPositive, money, multiplyRatio, MoneyError, subtract, type Money } from '../money.ts';
import { addDays, isoDate, type IsoDate } from './calendar-date.ts';
import { isInForce, oneInForce } from './rule-row.ts';
import {
  BRAND_SURCHARGE_RULES,
  EU_COUNTRIES,
  JURISDICTION_SURCHARGE_RULES,
  SURCHARGE_POLICY,
  type BrandSurchargeRule,
  type CardBrand,
  type JurisdictionSurchargeRule,
  type SurchargeRequirement,
} from './surcharge-table.ts';

export type CardFunding = 'credit' | 'debit' | 'prepaid' | 'unknown';
export type CardProduct = 'consumer' | 'commercial' | 'unknown';

export interface Location {
  /** ISO 3166-1 alpha-2, e.g. 'US', 'CA'. */
  readonly country: string;
  /** Subdivision code, e.g. 'CO', 'NY', 'QC'; null when unknown. */
  readonly region: string | null;
}

export interface SurchargeQuoteInput {
  readonly amount: Money;
  readonly funding: CardFunding;
  /** Stripe `card.brand`; anything unrecognised is treated as not covered by a brand rule. */
  readonly brand: CardBrand | string;
  /** Only matters where consumer cards are banned but commercial ones are not (UK, EU). Default 'unknown'. */
  readonly cardProduct?: CardProduct;
  readonly mspLocation: Location;
  readonly clientLocation: Location;
  /** The MSP's cost of acceptance for this brand/product, integer basis points. */
  readonly mspCostOfAcceptanceBps: number;
  /** Day the MSP's surcharge notice (acquirer, and Mastercard webform) was filed. */
  readonly noticeFiledOn: IsoDate | null;
  readonly clientExempt: boolean;
  readonly on: IsoDate;
}

export type SurchargeRefusal =
  | 'non_positive_amount'
  | 'exempt'
  | 'debit_or_prepaid'
  | 'funding_unknown'
  | 'prohibited_jurisdiction'
  | 'consumer_card'
  | 'unverified_jurisdiction'
  | 'unknown_jurisdiction'
  | 'brand_not_covered'
  | 'notice_period'
  | 'no_cost_of_acceptance'
  | 'rounds_to_zero';

/** What the MSP can do instead: absorb the fee, or price at the card price and discount ACH (§1.5). */
export type SurchargeAlternative = 'absorb' | 'ach_discount';

export type SurchargeQuote =
  | {
      readonly allowed: true;
      readonly surcharge: Money;
      readonly rateBps: number;
      readonly disclosure: string;
      /** Total credit-card price, present where the law requires showing it (New York). */
      readonly displayTotal?: Money;
      readonly requirements: readonly SurchargeRequirement[];
      readonly rulesApplied: readonly string[];
    }
  | {
      readonly allowed: false;
      readonly reason: SurchargeRefusal;
      readonly detail: string;
      readonly alternative: SurchargeAlternative;
      /** For 'notice_period': first day a surcharge may be added. */
      readonly allowedFrom?: IsoDate;
      readonly rulesApplied: readonly string[];
    };

const BPS = 10_000n;

function refuse(reason: SurchargeRefusal, detail: string, rulesApplied: readonly string[], extra: { allowedFrom?: IsoDate } = {}): SurchargeQuote {
  const alternative: SurchargeAlternative = reason === 'prohibited_jurisdiction' || reason === 'consumer_card' ? 'ach_discount' : 'absorb';
  return { allowed: false, reason, detail, alternative, rulesApplied, ...extra };
}

/** The jurisdiction row for a location on a day: the region's own row, else the country's. */
export function jurisdictionRule(loc: Location, on: IsoDate): JurisdictionSurchargeRule | undefined {
  const country = loc.country.trim().toUpperCase();
  const region = loc.region?.trim().toUpperCase() ?? null;
  const rows = JURISDICTION_SURCHARGE_RULES;
  const own = region ? oneInForce(rows, on, (r) => r.country === country && r.region === region) : undefined;
  return own ?? oneInForce(rows, on, (r) => r.country === country && r.region === null);
}

interface ResolvedBrandRule {
  readonly capBps: number | null;
  readonly noticeDays: number;
  readonly ids: readonly string[];
}

/** The brand rule for the merchant's (MSP's) country; Amex equal treatment resolves to the other brands' cap. */
export function brandRule(brand: string, mspCountry: string, on: IsoDate): ResolvedBrandRule | undefined {
  const country = mspCountry.trim().toUpperCase();
  const group = EU_COUNTRIES.includes(country) ? 'EU' : country;
  const forCountry = BRAND_SURCHARGE_RULES.filter((r) => r.countries.includes(group) && isInForce(r, on));
  const row: BrandSurchargeRule | undefined = forCountry.find((r) => r.brand === brand) ?? forCountry.find((r) => r.brand === '*');
  if (!row) return undefined;
  if (row.capKind !== 'equal_treatment') return { capBps: row.capBps, noticeDays: row.noticeDays, ids: [row.id] };
  const others = forCountry.filter((r) => r.brand === 'visa' || r.brand === 'mastercard');
  const caps = others.map((r) => r.capBps).filter((c): c is number => c !== null);
  if (caps.length === 0) return undefined;
  return {
    capBps: Math.min(...caps),
    noticeDays: Math.max(row.noticeDays, ...others.map((r) => r.noticeDays)),
    ids: [row.id, ...others.map((r) => r.id)],
  };
}

export function formatBps(bps: number): string {
  return `${Math.floor(bps / 100)}.${String(bps % 100).padStart(2, '0')}%`;
}

export function quoteSurcharge(input: SurchargeQuoteInput): SurchargeQuote {
  const cost = input.mspCostOfAcceptanceBps;
  if (!Number.isSafeInteger(cost) || cost < 0) {
    throw new RangeError(`mspCostOfAcceptanceBps must be a whole number of basis points ≥ 0, got ${cost}`);
  }
  isoDate(input.on); // rule rows compare dates as text: reject anything that is not YYYY-MM-DD
  if (input.noticeFiledOn !== null) isoDate(input.noticeFiledOn);
  const policy = SURCHARGE_POLICY;
  if (!isPositive(input.amount)) return refuse('non_positive_amount', 'only a positive charge can carry a surcharge', []);
  if (input.clientExempt) return refuse('exempt', 'the MSP exempted this client from surcharges', []);

  // §0.1 / §1.6: credit only; 'unknown' funding is treated as not surchargeable.
  if (input.funding !== 'credit') {
    const reason = input.funding === 'unknown' ? 'funding_unknown' : 'debit_or_prepaid';
    return refuse(reason, `card funding is ${input.funding}; only credit cards may be surcharged`, [policy.creditOnly.id]);
  }
  const applied: string[] = [policy.creditOnly.id, policy.strictestJurisdiction.id];

  // §1.2 (derived): evaluate the MSP's and the client's jurisdictions; the strictest wins.
  const caps: number[] = [];
  const requirements = new Set<SurchargeRequirement>();
  for (const [who, loc] of [
    ['MSP', input.mspLocation],
    ['client', input.clientLocation],
  ] as const) {
    const rule = jurisdictionRule(loc, input.on);
    const where = loc.region ? `${loc.country}-${loc.region}` : loc.country;
    if (!rule) return refuse('unknown_jurisdiction', `no surcharge rule on file for the ${who}'s location ${where}`, applied);
    applied.push(rule.id);
    switch (rule.status) {
      case 'allowed':
        break;
      case 'prohibited':
        return refuse('prohibited_jurisdiction', `${rule.name} (${who}) prohibits card surcharges`, applied);
      case 'consumer_cards_prohibited':
        if (input.cardProduct !== 'commercial') {
          return refuse('consumer_card', `${rule.name} (${who}) bans surcharges on consumer cards; only commercial cards may be surcharged`, applied);
        }
        break;
      case 'unverified':
        return refuse('unverified_jurisdiction', `${rule.name} (${who}): ${rule.note ?? 'rule not verified'}`, applied);
      default: {
        const _: never = rule.status;
        throw new Error(`unhandled jurisdiction status ${String(_)}`);
      }
    }
    if (rule.capBps !== null) caps.push(rule.capBps);
    for (const r of rule.requirements) requirements.add(r);
  }

  const brand = brandRule(input.brand, input.mspLocation.country, input.on);
  if (!brand) {
    return refuse('brand_not_covered', `no surcharge rule for ${input.brand} cards accepted in ${input.mspLocation.country}`, applied);
  }
  applied.push(...brand.ids);
  if (brand.capBps !== null) caps.push(brand.capBps);

  // §1.1 / §1.7: surcharging starts only once the 30-day notice has run (notice day + 30 is the first day).
  if (brand.noticeDays > 0) {
    if (input.noticeFiledOn === null) {
      return refuse('notice_period', `no surcharge notice on file; ${brand.noticeDays} days' notice is required`, applied);
    }
    const allowedFrom = addDays(input.noticeFiledOn, brand.noticeDays);
    if (input.on < allowedFrom) {
      return refuse('notice_period', `notice filed ${input.noticeFiledOn}; surcharging may start ${allowedFrom}`, applied, { allowedFrom });
    }
  }

  applied.push(policy.costOfAcceptance.id);
  caps.push(cost);
  const rateBps = Math.min(...caps);
  if (rateBps <= 0) return refuse('no_cost_of_acceptance', 'the MSP has no cost of acceptance to pass on', applied);

  applied.push(policy.floorRounding.id);
  const surcharge = multiplyRatio(input.amount, BigInt(rateBps), BPS, 'floor');
  if (!isPositive(surcharge)) return refuse('rounds_to_zero', `${formatBps(rateBps)} of ${format(input.amount)} is less than one cent`, applied);

  const total = add(input.amount, surcharge);
  const nyStyle = requirements.has('total_price_display');
  // §0.2: disclose before payment, as its own line with the amount; §1.1: not greater than the cost of acceptance.
  const disclosure = nyStyle
    ? `Credit card price: ${format(total)} (includes a ${format(surcharge)} credit card surcharge). ` +
      `Pay by bank transfer (ACH) or debit card to pay ${format(input.amount)}.`
    : `A credit card surcharge of ${formatBps(rateBps)} (${format(surcharge)}) applies to this payment. ` +
      `It is not greater than our cost of accepting credit cards. No surcharge applies to bank transfer (ACH) or debit card payments.`;

  return {
    allowed: true,
    surcharge,
    rateBps,
    disclosure,
    ...(nyStyle ? { displayTotal: total } : {}),
    requirements: [...requirements],
    rulesApplied: applied,
  };
}

/**
 * The surcharge to give back with a refund of `refundAmount` (of the pre-surcharge amount), in
 * proportion (§1.7), rounded down (§5.2). Pass what was already refunded so successive partial refunds
 * add up: the refund that completes the original amount returns exactly the rest of the surcharge.
 */
export function refundSurcharge(
  original: Money,
  surcharge: Money,
  refundAmount: Money,
  previouslyRefunded: { readonly amount: Money; readonly surcharge: Money } | null = null,
): Money {
  const before = previouslyRefunded?.amount ?? money(0n, original.currency);
  const surchargeBefore = previouslyRefunded?.surcharge ?? money(0n, surcharge.currency);
  for (const m of [surcharge, refundAmount, before, surchargeBefore]) {
    if (m.currency !== original.currency) throw new MoneyError(`cannot combine ${original.currency} with ${m.currency}`);
  }
  if (!isPositive(original)) throw new MoneyError('the original amount must be positive');
  if (refundAmount.amountMinor < 0n || surcharge.amountMinor < 0n) throw new MoneyError('refund and surcharge must not be negative');
  const cumulative = add(before, refundAmount);
  if (cumulative.amountMinor > original.amountMinor) {
    throw new MoneyError(`refunds (${format(cumulative)}) would exceed the original ${format(original)}`);
  }
  const owedSoFar = multiplyRatio(surcharge, cumulative.amountMinor, original.amountMinor, 'floor');
  const due = subtract(owedSoFar, surchargeBefore);
  return due.amountMinor < 0n ? money(0n, original.currency) : due;
}
