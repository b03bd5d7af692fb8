import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { money, type Currency } from '../money.ts';
import { addDays } from './calendar-date.ts';
import { quoteSurcharge, refundSurcharge, type SurchargeQuoteInput } from './surcharge.ts';
import { JURISDICTION_SURCHARGE_RULES } from './surcharge-table.ts';

const usd = (minor: number | bigint) => money(minor, 'USD');
const base: SurchargeQuoteInput = {
  amount: usd(100_000), // $1,000.00
  funding: 'credit',
  brand: 'visa',
  mspLocation: { country: 'US', region: 'TX' },
  clientLocation: { country: 'US', region: 'TX' },
  mspCostOfAcceptanceBps: 350,
  noticeFiledOn: '2026-01-01',
  clientExempt: false,
  on: '2026-05-01',
};
const quote = (over: Partial<SurchargeQuoteInput>) => quoteSurcharge({ ...base, ...over });

describe('quoteSurcharge', () => {
  it('caps a Visa surcharge at 3% in a state without its own rule', () => {
    const q = quote({});
    expect(q).toMatchObject({ allowed: true, rateBps: 300, surcharge: usd(3_000) });
    if (!q.allowed) throw new Error('expected allowed');
    expect(q.displayTotal).toBeUndefined();
    expect(q.disclosure).toContain('$30.00');
    expect(q.rulesApplied).toEqual(expect.arrayContaining(['brand:visa:US:3pct', 'jurisdiction:US-TX', 'surcharge:floor-rounding']));
  });

  it('uses Visa 4% before 2023-04-15 and 3% from that day (effective-dated brand rule)', () => {
    const before = quote({ on: '2023-04-14', noticeFiledOn: '2023-01-01', mspCostOfAcceptanceBps: 500 });
    const after = quote({ on: '2023-04-15', noticeFiledOn: '2023-01-01', mspCostOfAcceptanceBps: 500 });
    expect(before).toMatchObject({ allowed: true, rateBps: 400 });
    expect(after).toMatchObject({ allowed: true, rateBps: 300 });
  });

  it('takes the cost of acceptance when it is below every cap', () => {
    expect(quote({ mspCostOfAcceptanceBps: 249 })).toMatchObject({ allowed: true, rateBps: 249, surcharge: usd(2_490) });
  });

  it('refuses in Connecticut, whether the MSP or the client is there, and suggests an ACH discount', () => {
    for (const over of [{ clientLocation: { country: 'US', region: 'CT' } }, { mspLocation: { country: 'US', region: 'CT' } }]) {
      const q = quote(over);
      expect(q).toMatchObject({ allowed: false, reason: 'prohibited_jurisdiction', alternative: 'ach_discount' });
      expect(q.rulesApplied).toContain('jurisdiction:US-CT');
    }
  });

  it('caps Colorado at 2% even when Visa and cost allow more', () => {
    const q = quote({ clientLocation: { country: 'US', region: 'CO' } });
    expect(q).toMatchObject({ allowed: true, rateBps: 200, surcharge: usd(2_000) });
    if (q.allowed) expect(q.requirements).toContain('statutory_notice_text');
  });

  it('shows the total credit-card price for New York', () => {
    const q = quote({ mspLocation: { country: 'US', region: 'NY' }, amount: usd(12_345) });
    if (!q.allowed) throw new Error(`expected allowed, got ${q.reason}`);
    expect(q.surcharge).toEqual(usd(370)); // 123.45 × 3% = 3.7035 → floor 3.70
    expect(q.displayTotal).toEqual(usd(12_715));
    expect(q.disclosure).toContain('Credit card price: $127.15');
    expect(q.disclosure).not.toMatch(/\+\s*\d/); // "+3%" signs are non-compliant in NY
  });

  it('never surcharges a debit or prepaid card, and treats unknown funding as not surchargeable', () => {
    expect(quote({ funding: 'debit' })).toMatchObject({ allowed: false, reason: 'debit_or_prepaid', alternative: 'absorb' });
    expect(quote({ funding: 'prepaid' })).toMatchObject({ allowed: false, reason: 'debit_or_prepaid' });
    expect(quote({ funding: 'unknown' })).toMatchObject({ allowed: false, reason: 'funding_unknown' });
  });

  it('caps a Canadian client at 2.4%', () => {
    const q = quote({ clientLocation: { country: 'CA', region: 'ON' }, amount: usd(100_000) });
    expect(q).toMatchObject({ allowed: true, rateBps: 240, surcharge: usd(2_400) });
  });

  it('caps a Canadian MSP at 2.4% through the Canadian brand rules', () => {
    const q = quoteSurcharge({
      ...base,
      amount: money(50_000, 'CAD'),
      mspLocation: { country: 'CA', region: 'BC' },
      clientLocation: { country: 'CA', region: 'AB' },
    });
    expect(q).toMatchObject({ allowed: true, rateBps: 240, surcharge: money(1_200, 'CAD') });
    expect(q.rulesApplied).toContain('brand:visa:CA');
  });

  it('refuses for Quebec (MSP or client) and for Canada before 2022-10-06', () => {
    expect(quote({ clientLocation: { country: 'CA', region: 'QC' } })).toMatchObject({ allowed: false, reason: 'prohibited_jurisdiction' });
    expect(quote({ mspLocation: { country: 'CA', region: 'qc' }, clientLocation: { country: 'CA', region: 'ON' } })).toMatchObject({
      allowed: false,
      reason: 'prohibited_jurisdiction',
    });
    expect(quote({ clientLocation: { country: 'CA', region: 'ON' }, on: '2022-10-05', noticeFiledOn: '2022-01-01' })).toMatchObject({
      allowed: false,
      reason: 'prohibited_jurisdiction',
    });
  });

  it('starts exactly 30 days after the notice was filed (29 days: refused, 30 days: allowed)', () => {
    const on = '2026-05-01';
    const at29 = quote({ on, noticeFiledOn: addDays(on, -29) });
    expect(at29).toMatchObject({ allowed: false, reason: 'notice_period', allowedFrom: addDays(on, 1) });
    expect(quote({ on, noticeFiledOn: addDays(on, -30) })).toMatchObject({ allowed: true, rateBps: 300 });
    expect(quote({ noticeFiledOn: null })).toMatchObject({ allowed: false, reason: 'notice_period' });
  });

  it('holds Amex to the other brands (equal treatment): 3% cap and the 30-day notice', () => {
    expect(quote({ brand: 'amex', mspCostOfAcceptanceBps: 450 })).toMatchObject({ allowed: true, rateBps: 300 });
    expect(quote({ brand: 'amex', noticeFiledOn: null })).toMatchObject({ allowed: false, reason: 'notice_period' });
  });

  it('caps Discover at the cost of acceptance only', () => {
    expect(quote({ brand: 'discover', mspCostOfAcceptanceBps: 380 })).toMatchObject({ allowed: true, rateBps: 380 });
  });

  it('refuses an exempt client, unknown brands and jurisdictions, and unverified Australia', () => {
    expect(quote({ clientExempt: true })).toMatchObject({ allowed: false, reason: 'exempt', alternative: 'absorb' });
    expect(quote({ brand: 'unknown' })).toMatchObject({ allowed: false, reason: 'brand_not_covered' });
    expect(quote({ clientLocation: { country: 'ZZ', region: null } })).toMatchObject({ allowed: false, reason: 'unknown_jurisdiction' });
    expect(quote({ clientLocation: { country: 'AU', region: 'NSW' } })).toMatchObject({ allowed: false, reason: 'unverified_jurisdiction' });
  });

  it('Oklahoma: prohibited until 2025-10-31, 2% from 2025-11-01', () => {
    const ok = { clientLocation: { country: 'US', region: 'OK' }, noticeFiledOn: '2025-01-01' };
    expect(quote({ ...ok, on: '2025-10-31' })).toMatchObject({ allowed: false, reason: 'prohibited_jurisdiction' });
    expect(quote({ ...ok, on: '2025-11-01' })).toMatchObject({ allowed: true, rateBps: 200 });
  });

  it('UK: refuses consumer cards, allows commercial cards at cost', () => {
    const uk = { amount: money(10_000, 'GBP'), mspLocation: { country: 'GB', region: null }, clientLocation: { country: 'GB', region: null } };
    expect(quote(uk)).toMatchObject({ allowed: false, reason: 'consumer_card', alternative: 'ach_discount' });
    expect(quote({ ...uk, cardProduct: 'commercial', mspCostOfAcceptanceBps: 180 })).toMatchObject({
      allowed: true,
      rateBps: 180,
      surcharge: money(180, 'GBP'),
    });
    expect(
      quote({ ...uk, mspLocation: { country: 'DE', region: null }, clientLocation: { country: 'FR', region: null }, cardProduct: 'commercial' }),
    ).toMatchObject({ allowed: true });
  });

  it('refuses when the surcharge would round to zero or there is no cost', () => {
    expect(quote({ amount: usd(3) })).toMatchObject({ allowed: false, reason: 'rounds_to_zero' });
    expect(quote({ mspCostOfAcceptanceBps: 0 })).toMatchObject({ allowed: false, reason: 'no_cost_of_acceptance' });
    expect(() => quote({ mspCostOfAcceptanceBps: 2.5 })).toThrow(RangeError);
  });

  it('property: the surcharge never exceeds any cap and is never added to a non-credit card', () => {
    const regions = [...new Set(JURISDICTION_SURCHARGE_RULES.filter((r) => r.country === 'US' && r.region).map((r) => r.region as string)), 'WA', 'OR'];
    const location = fc.oneof(
      fc.constantFrom(...regions).map((region) => ({ country: 'US', region })),
      fc.constantFrom('ON', 'QC', 'BC').map((region) => ({ country: 'CA', region })),
    );
    const day = fc.integer({ min: 0, max: 4 * 365 }).map((n) => addDays('2023-01-01', n));
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 10n }),
        fc.constantFrom('credit', 'debit', 'prepaid', 'unknown') as fc.Arbitrary<SurchargeQuoteInput['funding']>,
        fc.constantFrom('visa', 'mastercard', 'amex', 'discover'),
        location,
        location,
        fc.integer({ min: 0, max: 800 }),
        day,
        fc.integer({ min: 0, max: 90 }),
        (amountMinor, funding, brand, msp, client, cost, on, noticeAge) => {
          const currency: Currency = 'USD';
          const amount = money(amountMinor, currency);
          const q = quoteSurcharge({
            amount,
            funding,
            brand,
            mspLocation: msp,
            clientLocation: client,
            mspCostOfAcceptanceBps: cost,
            noticeFiledOn: addDays(on, -noticeAge),
            clientExempt: false,
            on,
          });
          if (funding !== 'credit' || noticeAge < 30) expect(q.allowed).toBe(false);
          if (!q.allowed) return;
          const s = q.surcharge.amountMinor;
          const cap = (bps: number) => (amountMinor * BigInt(bps)) / 10_000n; // floor
          expect(s).toBeGreaterThan(0n);
          expect(s).toBeLessThanOrEqual(cap(cost));
          expect(s).toBeLessThanOrEqual(cap(brand === 'discover' ? cost : on >= '2023-04-15' && brand !== 'mastercard' ? 300 : 400));
          for (const loc of [msp, client]) {
            if (loc.country === 'CA') expect(s).toBeLessThanOrEqual(cap(240));
            if (loc.region === 'CO' || (loc.region === 'OK' && loc.country === 'US')) expect(s).toBeLessThanOrEqual(cap(200));
            expect(['CT', 'ME', 'MA', 'PR', 'QC']).not.toContain(loc.region);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('refundSurcharge', () => {
  it('refunds the surcharge in proportion, rounded down, and exactly in full for a full refund', () => {
    expect(refundSurcharge(usd(10_000), usd(300), usd(3_333))).toEqual(usd(99)); // 99.99 → 99
    expect(refundSurcharge(usd(10_001), usd(300), usd(10_001))).toEqual(usd(300));
    expect(refundSurcharge(usd(10_000), usd(300), usd(0))).toEqual(usd(0));
  });

  it('lets successive partial refunds add up to the whole surcharge', () => {
    const first = refundSurcharge(usd(10_000), usd(299), usd(3_333));
    const second = refundSurcharge(usd(10_000), usd(299), usd(6_667), { amount: usd(3_333), surcharge: first });
    expect(first.amountMinor + second.amountMinor).toBe(299n);
  });

  it('rejects refunds beyond the original and mixed currencies', () => {
    expect(() => refundSurcharge(usd(10_000), usd(300), usd(10_001))).toThrow(/exceed/);
    expect(() => refundSurcharge(usd(10_000), money(300, 'CAD'), usd(1))).toThrow(/cannot combine/);
  });

  it('property: any split of the original refunds exactly the surcharge, and no part exceeds its share', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        fc.integer({ min: 0, max: 400 }),
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 6 }),
        (original, rate, weights) => {
          const surcharge = (original * BigInt(rate)) / 10_000n;
          const total = weights.reduce((a, b) => a + b, 0);
          let done = 0n;
          let doneSurcharge = 0n;
          weights.forEach((w, i) => {
            const part = i === weights.length - 1 ? original - done : (original * BigInt(w)) / BigInt(total);
            const r = refundSurcharge(usd(original), usd(surcharge), usd(part), { amount: usd(done), surcharge: usd(doneSurcharge) });
            expect((doneSurcharge + r.amountMinor) * original).toBeLessThanOrEqual(surcharge * (done + part));
            done += part;
            doneSurcharge += r.amountMinor;
          });
          expect(doneSurcharge).toBe(surcharge);
        },
      ),
    );
  });
});
