// Card-surcharge rules as data (payments-rules.md §1). Rates are integer basis points (300 = 3 %).
// A cap of null means "no fixed percentage": the merchant's cost of acceptance is the only ceiling,
// which quoteSurcharge always applies anyway (§1.7: rate = min(brand cap, cost, jurisdiction cap)).
import type { IsoDate } from './calendar-date.ts';
import { LONG_STANDING, type RuleRow } from './rule-row.ts';

/** Brands as Stripe names them in `card.brand`. */
export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'diners' | 'jcb' | 'unionpay' | 'unknown';

export interface BrandSurchargeRule extends RuleRow {
  readonly brand: CardBrand | '*';
  /** Merchant (MSP) countries the brand rule is written for: brand rules follow the acquiring country. */
  readonly countries: readonly string[];
  /** 'fixed' = lesser of capBps and cost; 'cost_only' = cost of acceptance; 'equal_treatment' = Amex: equal to, never above, the other brands' surcharge. */
  readonly capKind: 'fixed' | 'cost_only' | 'equal_treatment';
  readonly capBps: number | null;
  /** Days the MSP's notice must be on file before the first surcharge. */
  readonly noticeDays: number;
  readonly note?: string;
}

const VISA_US = 'https://in-houseadvisor.com/perspectives/alerts/visa-reduces-its-merchant-surcharge-cap-3-effective-april-15-2023-merchants';
const MC_US = 'https://www.cardpaymentoptions.com/credit-card-processing/mastercards-u-s-surcharge-rules-businesses-must-follow-these';
const MOOV = 'https://docs.moov.io/guides/accept-payments/cards/surcharges/index.md';
const CA_CAP = 'https://paya.helpjuice.com/visa-updates/updates-to-visas-surcharge-rules-in-canada-the-us-and-us-territories';
const UK_B2B = 'https://www.acceptcard.co.uk/help/surcharging-uk-b2b-vs-b2c/';
const US = ['US', 'PR'];

// The US brands' no-surcharge rules ended 2013-01-27 (card-network settlement); that start date is
// general knowledge, not from the reference, which only dates Visa's 4 % → 3 % change.
const US_SURCHARGING_START: IsoDate = '2013-01-27';

export const BRAND_SURCHARGE_RULES: readonly BrandSurchargeRule[] = [
  // §1.1 Visa: lesser of cost of acceptance or 4 %, lowered to 3 % from 2023-04-15; notify the acquirer ≥ 30 days before.
  {
    id: 'brand:visa:US:4pct',
    brand: 'visa',
    countries: US,
    capKind: 'fixed',
    capBps: 400,
    noticeDays: 30,
    source: VISA_US,
    ref: '§1.1',
    effectiveFrom: US_SURCHARGING_START,
    effectiveTo: '2023-04-14',
  },
  {
    id: 'brand:visa:US:3pct',
    brand: 'visa',
    countries: US,
    capKind: 'fixed',
    capBps: 300,
    noticeDays: 30,
    source: VISA_US,
    ref: '§1.1',
    effectiveFrom: '2023-04-15',
  },
  // §1.1 Mastercard: lesser of average effective discount rate or 4 %; notify Mastercard (webform) AND
  // the acquirer ≥ 30 days before (§1.1 note: sources conflict, we require both).
  {
    id: 'brand:mastercard:US',
    brand: 'mastercard',
    countries: US,
    capKind: 'fixed',
    capBps: 400,
    noticeDays: 30,
    source: MC_US,
    ref: '§1.1',
    effectiveFrom: US_SURCHARGING_START,
  },
  // §1.1 Discover: not greater than cost of acceptance; 30-day notice.
  {
    id: 'brand:discover:US',
    brand: 'discover',
    countries: US,
    capKind: 'cost_only',
    capBps: null,
    noticeDays: 30,
    source: 'https://docs.moov.io/guides/money-movement/accept-payments/card-acceptance/surcharges/',
    ref: '§1.1',
    effectiveFrom: US_SURCHARGING_START,
  },
  // §1.1 Amex: must equal (not exceed) the surcharge on other brands; no notice of its own. Equal
  // treatment means the Visa/Mastercard cap and notice bind Amex too (derived; §1.1 note "practical cap 3 %").
  {
    id: 'brand:amex:US',
    brand: 'amex',
    countries: US,
    capKind: 'equal_treatment',
    capBps: null,
    noticeDays: 0,
    source: MOOV,
    ref: '§1.1',
    effectiveFrom: US_SURCHARGING_START,
  },
  // §1.3 Canada: 2.4 % max (Visa and Mastercard) and never above cost; 30-day notice.
  {
    id: 'brand:visa:CA',
    brand: 'visa',
    countries: ['CA'],
    capKind: 'fixed',
    capBps: 240,
    noticeDays: 30,
    source: CA_CAP,
    ref: '§1.3',
    effectiveFrom: '2022-10-06',
  },
  {
    id: 'brand:mastercard:CA',
    brand: 'mastercard',
    countries: ['CA'],
    capKind: 'fixed',
    capBps: 240,
    noticeDays: 30,
    source: 'https://webjosh.com/article/businesses-can-start-credit-card-surcharges-on-oct-6-1665016514-4906',
    ref: '§1.3',
    effectiveFrom: '2022-10-06',
  },
  // §1.4 UK/EU: commercial cards may be surcharged, not above cost. The reference gives no brand-level
  // caps or notice there, so every brand is capped at cost only.
  {
    id: 'brand:any:GB-EU',
    brand: '*',
    countries: ['GB', 'EU'],
    capKind: 'cost_only',
    capBps: null,
    noticeDays: 0,
    source: UK_B2B,
    ref: '§1.4',
    effectiveFrom: '2018-01-13',
  },
];

export type JurisdictionStatus =
  | 'allowed'
  | 'prohibited'
  /** UK/EU: consumer cards banned, commercial (business) cards allowed at cost. */
  | 'consumer_cards_prohibited'
  /** The reference says "verify before enabling": we refuse until the row is confirmed. */
  | 'unverified';

export type SurchargeRequirement =
  /** NY GBL § 518: show the total credit-card price in dollars, not "+3 %". */
  | 'total_price_display'
  /** Colorado: statutory sign / online text before the transaction. */
  | 'statutory_notice_text'
  /** Oklahoma SB 677: only if a non-credit payment option is accepted. */
  | 'non_credit_option_required'
  /** Minnesota: surcharges may be subject to sales tax. */
  | 'sales_tax_may_apply'
  /** Consumer "all-in price" laws (CA SB 478, MN HF 3438, MA 940 CMR 38): B2B reach unconfirmed, §7 item 6. */
  | 'all_in_price_review';

export interface JurisdictionSurchargeRule extends RuleRow {
  readonly country: string;
  /** Subdivision code (US state, Canadian province); null = the whole country unless a region row matches. */
  readonly region: string | null;
  readonly name: string;
  readonly status: JurisdictionStatus;
  readonly capBps: number | null;
  readonly requirements: readonly SurchargeRequirement[];
  readonly note?: string;
}

const PAYJUNCTION = 'https://blog.payjunction.com/credit-card-surcharge-laws-by-state-considerations-for-merchants';
const MCC = 'https://merchantcostconsulting.com/lower-credit-card-processing-fees/credit-card-surcharge-laws-by-state';
const AGG = 'https://www.agg.com/news-insights/publications/merchant-beware-that-surcharge-may-be-illegal?CID=mvbrief_mac';

type J = Omit<JurisdictionSurchargeRule, 'id' | 'ref' | 'requirements'> & { requirements?: readonly SurchargeRequirement[]; idSuffix?: string; ref?: string };

function j(row: J): JurisdictionSurchargeRule {
  const { idSuffix, requirements, ref, ...rest } = row;
  const key = row.region ? `${row.country}-${row.region}` : row.country;
  return { ...rest, id: `jurisdiction:${key}${idSuffix ? `:${idSuffix}` : ''}`, ref: ref ?? '§1.2', requirements: requirements ?? [] };
}

const us = (region: string, name: string, rest: Omit<J, 'country' | 'region' | 'name'>): JurisdictionSurchargeRule =>
  j({ country: 'US', region, name, ...rest });

/** EU member states (PSD2 applies to each). */
export const EU_COUNTRIES: readonly string[] = [
  'AT',
  'BE',
  'BG',
  'HR',
  'CY',
  'CZ',
  'DK',
  'EE',
  'FI',
  'FR',
  'DE',
  'GR',
  'HU',
  'IE',
  'IT',
  'LV',
  'LT',
  'LU',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SK',
  'SI',
  'ES',
  'SE',
];

export const JURISDICTION_SURCHARGE_RULES: readonly JurisdictionSurchargeRule[] = [
  // §1.2 "All other states: allowed under brand caps".
  j({
    country: 'US',
    region: null,
    name: 'United States (states without their own rule)',
    status: 'allowed',
    capBps: null,
    source: 'https://posforstripe.krossroads.com/?p=3038',
    effectiveFrom: US_SURCHARGING_START,
  }),
  us('CT', 'Connecticut', { status: 'prohibited', capBps: null, source: PAYJUNCTION, effectiveFrom: LONG_STANDING, note: 'CGS § 42-133ff' }),
  us('ME', 'Maine', {
    status: 'prohibited',
    capBps: null,
    source: PAYJUNCTION,
    effectiveFrom: LONG_STANDING,
    note: '9-A M.R.S. § 8-509; current status to verify (§7 item 3)',
  }),
  us('MA', 'Massachusetts', {
    status: 'prohibited',
    capBps: null,
    source: 'https://malegislature.gov/Bills/193/S2565.Html',
    effectiveFrom: LONG_STANDING,
    note: 'M.G.L. c.140D § 28A; 2025–26 bills not law (§7 item 3)',
  }),
  us('PR', 'Puerto Rico', {
    status: 'prohibited',
    capBps: null,
    source: 'https://payacre.com/blog/state-by-state-surcharge-laws',
    effectiveFrom: LONG_STANDING,
  }),
  j({
    country: 'PR',
    region: null,
    name: 'Puerto Rico',
    status: 'prohibited',
    capBps: null,
    source: 'https://payacre.com/blog/state-by-state-surcharge-laws',
    effectiveFrom: LONG_STANDING,
  }),
  // Oklahoma: prohibited until 2025-10-31; SB 677 allows from 2025-11-01, lesser of 2 % or actual cost.
  us('OK', 'Oklahoma', {
    idSuffix: 'prohibited',
    status: 'prohibited',
    capBps: null,
    source: 'https://production.jdsupra.com/legalnews/oklahoma-officially-legalizes-2027756',
    effectiveFrom: LONG_STANDING,
    effectiveTo: '2025-10-31',
  }),
  us('OK', 'Oklahoma', {
    idSuffix: 'sb677',
    status: 'allowed',
    capBps: 200,
    requirements: ['non_credit_option_required'],
    source: 'https://www.cross-check.com/blog/oklahomas-new-surcharge-law-what-merchants-need-to-know',
    effectiveFrom: '2025-11-01',
  }),
  // Colorado C.R.S. § 5-2-212: 2 % or the merchant discount fee at the merchant's choice; we take the
  // 2 % reading (the issue's rule) because the brand caps and cost of acceptance bind on top anyway.
  us('CO', 'Colorado', {
    status: 'allowed',
    capBps: 200,
    requirements: ['statutory_notice_text'],
    source: 'https://bassberry.com/news/colorado-surcharge-ban',
    effectiveFrom: LONG_STANDING,
  }),
  us('NY', 'New York', {
    status: 'allowed',
    capBps: null,
    requirements: ['total_price_display'],
    source: 'https://www.nysenate.gov/legislation/laws/GBS/518/',
    effectiveFrom: '2024-02-11',
    note: 'GBL § 518 as amended; cap = amount the card company charges the business',
  }),
  us('NJ', 'New Jersey', {
    status: 'allowed',
    capBps: null,
    source: 'https://lawserver.com/law/state/new-jersey/nj-laws/new_jersey_laws_56_8-156-2',
    effectiveFrom: LONG_STANDING,
    note: 'N.J.S.A. 56:8-156.1; ≤ actual cost; disclose amount before any charge',
  }),
  us('MN', 'Minnesota', {
    idSuffix: '325G051',
    status: 'allowed',
    capBps: 500,
    requirements: ['sales_tax_may_apply'],
    source:
      'https://casetext.com/statute/minnesota-statutes/trade-regulations-consumer-protection/chapter-325g-consumer-protection-solicitation-of-sales/credit-cards/section-325g051-surcharges-on-credit-cards',
    effectiveFrom: LONG_STANDING,
    effectiveTo: '2024-12-31',
  }),
  us('MN', 'Minnesota', {
    idSuffix: 'hf3438',
    status: 'allowed',
    capBps: 500,
    requirements: ['sales_tax_may_apply', 'all_in_price_review'],
    source: 'https://www.getnickel.com/surcharge-laws/minnesota',
    effectiveFrom: '2025-01-01',
    note: 'SF 3875 (2026) pending: would bar surcharges by sellers not accepting cash',
  }),
  us('CA', 'California', {
    idSuffix: 'pre-sb478',
    status: 'allowed',
    capBps: null,
    source: AGG,
    effectiveFrom: LONG_STANDING,
    effectiveTo: '2024-06-30',
    note: 'Civ. Code 1748.1 ban unconstitutional as applied (Italian Colors)',
  }),
  us('CA', 'California', {
    idSuffix: 'sb478',
    status: 'allowed',
    capBps: null,
    requirements: ['all_in_price_review'],
    source: 'https://oag.ca.gov/hiddenfees',
    effectiveFrom: '2024-07-01',
    note: 'SB 478 Honest Pricing Law: fee must be avoidable',
  }),
  us('TX', 'Texas', {
    status: 'allowed',
    capBps: null,
    source: 'https://members.tffa.com/tffa-buzz/Details/federal-court-strikes-down-anti-surcharge-law-133712',
    effectiveFrom: LONG_STANDING,
    note: '§ 604A.0021 struck (Cook v. Paxton)',
  }),
  us('FL', 'Florida', {
    status: 'allowed',
    capBps: null,
    source: AGG,
    effectiveFrom: LONG_STANDING,
    note: 'ban treated as unconstitutional; enforcement risk not zero',
  }),
  us('KS', 'Kansas', {
    status: 'allowed',
    capBps: null,
    source: 'https://www.bassberry.com/news/kansas-court-rules-no-surcharge-statute-unconstitutional/',
    effectiveFrom: LONG_STANDING,
    note: 'K.S.A. 16a-2-403 unconstitutional only as to the plaintiff',
  }),
  us('NV', 'Nevada', { status: 'allowed', capBps: null, source: MCC, effectiveFrom: LONG_STANDING, note: '≤ cost of acceptance' }),
  us('SD', 'South Dakota', { status: 'allowed', capBps: null, source: MCC, effectiveFrom: LONG_STANDING, note: '≤ cost of acceptance' }),
  // §1.3 Canada: allowed since 2022-10-06 at ≤ 2.4 %; Quebec prohibited, also for Quebec clients.
  j({
    country: 'CA',
    region: null,
    name: 'Canada',
    idSuffix: 'before-settlement',
    status: 'prohibited',
    capBps: null,
    ref: '§1.3',
    source: 'https://montreal.ctvnews.ca/small-businesses-will-soon-be-able-to-charge-new-credit-card-fees-but-not-in-quebec-1.6096912',
    effectiveFrom: LONG_STANDING,
    effectiveTo: '2022-10-05',
  }),
  j({ country: 'CA', region: null, name: 'Canada', status: 'allowed', capBps: 240, ref: '§1.3', source: CA_CAP, effectiveFrom: '2022-10-06' }),
  j({
    country: 'CA',
    region: 'QC',
    name: 'Quebec',
    status: 'prohibited',
    capBps: null,
    ref: '§1.3',
    source: 'https://techtonik.ca/en/2022/10/17/quebec-businesses-beware-no-you-may-still-not-tack-on-fees-to-pay-with-a-credit-card/',
    effectiveFrom: LONG_STANDING,
    note: 'Consumer Protection Act: price charged may not exceed price displayed',
  }),
  // §1.4 UK and EU: consumer cards banned from 2018-01-13; commercial cards at cost.
  j({
    country: 'GB',
    region: null,
    name: 'United Kingdom',
    status: 'consumer_cards_prohibited',
    capBps: null,
    ref: '§1.4',
    source: 'https://www.regulationtomorrow.com/eu/guidance-on-the-consumer-rights-payment-surcharges-regulations-2012/',
    effectiveFrom: '2018-01-13',
  }),
  ...EU_COUNTRIES.map((c) =>
    j({
      country: c,
      region: null,
      name: `${c} (EU, PSD2)`,
      status: 'consumer_cards_prohibited',
      capBps: null,
      ref: '§1.4',
      source: 'http://www.todays.co.uk/wholesaler/changes-to-creditdebit-card-surcharges-in-2018/',
      effectiveFrom: '2018-01-13',
    }),
  ),
  // §1.4 / §7 item 4: RBA proposal to end surcharging from 2026-07-01 unconfirmed — refuse until verified.
  j({
    country: 'AU',
    region: null,
    name: 'Australia',
    status: 'unverified',
    capBps: null,
    ref: '§1.4',
    source:
      'https://www.rba.gov.au/payments-and-infrastructure/review-of-retail-payments-regulation/2025-07/consultation-paper/policy-options-for-consultation.html',
    effectiveFrom: LONG_STANDING,
    note: 'verify the RBA decision before enabling AUD surcharges',
  }),
];

/** Cross-cutting rules quoteSurcharge reports in `rulesApplied`. */
export const SURCHARGE_POLICY = {
  creditOnly: {
    id: 'surcharge:credit-only',
    source: 'https://stripe.dev/stripe-android/payments-core/com.stripe.android.model/-payment-method/-card/funding.html',
    ref: '§0.1, §1.6',
    effectiveFrom: LONG_STANDING,
  },
  strictestJurisdiction: {
    id: 'surcharge:strictest-of-msp-and-client',
    source:
      'https://theyeeld.com/2025/08/26/oklahoma-to-permit-credit-card-surcharging-effective-november-1-2025-expanding-options-for-both-oklahoma-merchants-and-merchants-serving-oklahoma-customers',
    ref: '§1.2 (derived), §7 item 5',
    effectiveFrom: LONG_STANDING,
  },
  costOfAcceptance: { id: 'surcharge:cost-of-acceptance', source: 'https://merchantnotices.com/surcharge/', ref: '§1.7', effectiveFrom: LONG_STANDING },
  floorRounding: {
    id: 'surcharge:floor-rounding',
    source: 'reference/payments-rules.md#52-rounding-policy',
    ref: '§5.2 (derived)',
    effectiveFrom: LONG_STANDING,
  },
  proportionalRefund: { id: 'surcharge:proportional-refund', source: MOOV, ref: '§1.7', effectiveFrom: LONG_STANDING },
} as const satisfies Record<string, RuleRow>;
