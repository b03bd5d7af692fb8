import { describe, expect, it } from 'vitest';
import { money, parseDecimal } from './money.ts';
import { bpsText, chargedForPart, offerFee, offerQuote, offerRefusal, OfferInputError, parseOffer, type Offer } from './installment-offers.ts';

const usd = (s: string) => parseDecimal(s, 'USD');
const offer = (o: Partial<Offer> = {}): Offer => ({
  label: '3 monthly payments',
  parts: 3,
  everyDays: 30,
  currency: 'USD',
  minOwed: usd('1000.00'),
  feeFlat: usd('0'),
  feeBps: 0,
  methods: ['card', 'us_bank_account'],
  ...o,
});

describe('installment offers', () => {
  it('applies from the minimum owed, in its own currency only', () => {
    expect(offerRefusal(offer(), usd('999.99'))).toMatch(/below the offer’s minimum/);
    expect(offerRefusal(offer(), usd('1000.00'))).toBeNull();
    expect(offerRefusal(offer(), money(500_000n, 'CAD'))).toMatch(/in USD/);
  });

  it('splits the amount owed exactly, the leftover cents on the last part, first part today', () => {
    const q = offerQuote(offer(), usd('1000.01'), '2026-12-06');
    expect(q.parts.map((p) => [p.dueOn, p.amount.amountMinor])).toEqual([
      ['2026-12-06', 33333n],
      ['2027-01-05', 33333n],
      ['2027-02-04', 33335n],
    ]);
    expect(q.total.amountMinor).toBe(100001n);
    expect(q.parts.reduce((s, p) => s + p.amount.amountMinor, 0n)).toBe(q.total.amountMinor);
  });

  it('rounds a percentage fee half-up to the cent, plus the flat part; the parts split the amount owed and part 1 carries the fee', () => {
    // 2.5 % of $1,000.10 = $25.0025 → $25.00; of $1,000.20 = $25.005 → $25.01 (half-up, not half-even or floor)
    expect(offerFee(offer({ feeBps: 250 }), usd('1000.10')).amountMinor).toBe(2500n);
    expect(offerFee(offer({ feeBps: 250 }), usd('1000.20')).amountMinor).toBe(2501n);
    const q = offerQuote(offer({ feeBps: 250, feeFlat: usd('5.00') }), usd('1000.20'), '2026-12-06');
    expect(q.fee.amountMinor).toBe(3001n);
    expect(q.total.amountMinor).toBe(103021n);
    // The parts pay the invoice (what the engine splits); the fee rides on part 1 only.
    expect(q.parts.reduce((s, p) => s + p.amount.amountMinor, 0n)).toBe(100020n);
    const charged = q.parts.map((p) => chargedForPart(q, p).amountMinor);
    expect(charged).toEqual([33340n + 3001n, 33340n, 33340n]);
    expect(charged.reduce((s, x) => s + x, 0n)).toBe(q.total.amountMinor);
  });

  it('reads a staff form and names every problem by field', () => {
    const ok = parseOffer({ label: ' 3 monthly ', parts: '3', every_days: '30', min_owed: '$1,000.00', fee_percent: '2.5', methods: 'card' }, 'USD');
    expect(ok).toMatchObject({ label: '3 monthly', parts: 3, everyDays: 30, feeBps: 250, methods: ['card'] });
    expect(ok.minOwed.amountMinor).toBe(100000n);
    try {
      parseOffer({ label: '', parts: '13', every_days: '3', min_owed: '0', fee_flat: '200', fee_percent: '11', methods: ['cash'] }, 'USD');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(OfferInputError);
      expect(Object.keys((e as OfferInputError).fields).sort()).toEqual(['every_days', 'fee_percent', 'label', 'methods', 'min_owed', 'parts']);
    }
    expect(() => parseOffer({ label: 'x', parts: '2', every_days: '30', min_owed: '100', fee_flat: '10.01', methods: 'card' }, 'USD')).toThrow(/tenth/);
    expect(bpsText(250)).toBe('2.5');
    expect(bpsText(1000)).toBe('10');
    expect(bpsText(5)).toBe('0.05');
  });
});
