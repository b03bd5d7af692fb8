// What the surcharge settings page says about the law, from the same rule tables the engine quotes with
// (domain/rules/surcharge-table.ts), so the page cannot drift from what Settle does: the card brands' caps
// for the MSP's country, the places that ban or cap surcharges, and a worked example per brand computed by
// quoteSurcharge itself for the program as saved.
import { format, money, type Currency } from '../../domain/money.ts';
import { brandRule, formatBps, jurisdictionRule, quoteSurcharge } from '../../domain/rules/surcharge.ts';
import { EU_COUNTRIES, JURISDICTION_SURCHARGE_RULES, type JurisdictionSurchargeRule, type SurchargeRequirement } from '../../domain/rules/surcharge-table.ts';
import { isInForce } from '../../domain/rules/rule-row.ts';
import type { SurchargeSettings } from '../../engine/surcharge-settings.ts';

const BRANDS = [
  { brand: 'visa', label: 'Visa' },
  { brand: 'mastercard', label: 'Mastercard' },
  { brand: 'amex', label: 'American Express' },
  { brand: 'discover', label: 'Discover' },
] as const;

const REQUIREMENT_WORDS: Record<SurchargeRequirement, string> = {
  total_price_display: 'show the total card price in dollars (a “+3%” sign is not allowed)',
  statutory_notice_text: 'show the statutory surcharge notice before payment',
  non_credit_option_required: 'only while you also accept a way to pay that is not a credit card',
  sales_tax_may_apply: 'sales tax may apply to the surcharge',
  all_in_price_review: 'all-in pricing law: check with your adviser that it does not reach your invoices',
};

const STATUS_WORDS: Record<JurisdictionSurchargeRule['status'], string> = {
  allowed: 'Allowed',
  prohibited: 'Not allowed',
  consumer_cards_prohibited: 'Business cards only (not on consumer cards)',
  unverified: 'Not yet: the rule must be verified first',
};

const CURRENCY_OF: Record<string, Currency> = { US: 'USD', PR: 'USD', CA: 'CAD', GB: 'GBP', AU: 'AUD' };

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
export function countryName(code: string): string {
  try {
    return regionNames.of(code) ?? code;
  } catch {
    return code;
  }
}

/** The countries the rule tables know (an MSP elsewhere has no rule, so nothing would be surcharged). */
export function surchargeCountries(): { code: string; name: string }[] {
  const codes = [...new Set(JURISDICTION_SURCHARGE_RULES.map((r) => r.country))];
  return codes.map((code) => ({ code, name: countryName(code) })).sort((a, b) => a.name.localeCompare(b.name));
}

export interface PlaceRow {
  readonly place: string;
  readonly status: string;
  readonly cap: string;
  readonly conditions: string;
}

/** The places with a rule of their own today (a ban, a cap or a condition); the EU's members as one row. */
export function placesWithRules(on: string): PlaceRow[] {
  const rows: PlaceRow[] = [];
  let euDone = false;
  for (const r of JURISDICTION_SURCHARGE_RULES) {
    if (!isInForce(r, on)) continue;
    if (r.status === 'allowed' && r.capBps === null && r.requirements.length === 0) continue;
    if (EU_COUNTRIES.includes(r.country)) {
      if (euDone) continue;
      euDone = true;
    }
    const place = EU_COUNTRIES.includes(r.country)
      ? 'European Union (each member state)'
      : r.region
        ? `${r.name}, ${countryName(r.country)}`
        : countryName(r.country);
    rows.push({
      place,
      status: STATUS_WORDS[r.status],
      cap: r.status === 'prohibited' ? '—' : r.capBps === null ? 'Your cost, and the card brands’ caps' : formatBps(r.capBps),
      conditions: [...r.requirements.map((q) => REQUIREMENT_WORDS[q]), r.note ?? ''].filter(Boolean).join('; ') || '—',
    });
  }
  return rows;
}

export interface BrandExample {
  readonly brand: string;
  readonly cap: string;
  readonly outcome: string;
}

/**
 * Per brand: its cap for the MSP's country and what a credit card of that brand would pay today on an invoice
 * of 100.00 from a client in the MSP's own place — quoteSurcharge's answer, in its own words.
 */
export function brandExamples(s: SurchargeSettings, on: string): { amount: string; rows: BrandExample[] } {
  const amount = money(10_000n, CURRENCY_OF[s.msp_country] ?? (EU_COUNTRIES.includes(s.msp_country) ? 'EUR' : 'USD'));
  const here = { country: s.msp_country, region: s.msp_region };
  const rows = BRANDS.map(({ brand, label }) => {
    const rule = brandRule(brand, s.msp_country, on);
    const cap = !rule ? 'no rule: not surcharged' : rule.capBps === null ? 'your cost of acceptance' : formatBps(rule.capBps);
    const q = quoteSurcharge({
      amount,
      funding: 'credit',
      brand,
      cardProduct: 'commercial',
      mspLocation: here,
      clientLocation: here,
      mspCostOfAcceptanceBps: s.cost_of_acceptance_bps,
      noticeFiledOn: s.notice_filed_on,
      clientExempt: false,
      on,
    });
    const outcome = q.allowed ? `${format(q.surcharge)} (${formatBps(q.rateBps)})` : `No surcharge: ${q.detail}`;
    return { brand: label, cap, outcome };
  });
  return { amount: format(amount), rows };
}

/** A sentence on the MSP's own place, or null where it has no rule of its own beyond the brands'. */
export function ownPlace(s: SurchargeSettings, on: string): { text: string; blocked: boolean } {
  const rule = jurisdictionRule({ country: s.msp_country, region: s.msp_region }, on);
  const where = s.msp_region ? `${s.msp_region}, ${countryName(s.msp_country)}` : countryName(s.msp_country);
  if (!rule) return { text: `Settle has no surcharge rule for ${where}, so it adds no surcharge there.`, blocked: true };
  if (rule.status === 'prohibited')
    return { text: `${rule.name} does not allow card surcharges: Settle adds none while your business is there.`, blocked: true };
  if (rule.status === 'unverified')
    return { text: `${rule.name}: ${rule.note ?? 'the rule is not verified'}. Settle adds no surcharge until it is.`, blocked: true };
  if (rule.status === 'consumer_cards_prohibited')
    return { text: `${rule.name} allows surcharges only on business (commercial) cards, never above your cost.`, blocked: false };
  return { text: `Surcharges are allowed in ${where}${rule.capBps !== null ? `, at most ${formatBps(rule.capBps)}` : ''}.`, blocked: false };
}
