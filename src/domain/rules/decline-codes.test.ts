import { describe, expect, it } from 'vitest';
import { classifyDecline, MASTERCARD_ADVICE_CODES, STRIPE_ADVICE_CODES, STRIPE_DECLINE_CODES } from './decline-codes.ts';
import { retryLimitsInForce } from './retry-limits.ts';

describe('decline code data', () => {
  it('has one row per code, each with a source URL and an effective date', () => {
    const codes = STRIPE_DECLINE_CODES.map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const r of [...STRIPE_DECLINE_CODES, ...MASTERCARD_ADVICE_CODES, ...STRIPE_ADVICE_CODES]) {
      expect(r.source).toMatch(/^https:\/\//);
      expect(r.effectiveFrom).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('classes every Visa category 1 code as hard (§3.2: no reattempts)', () => {
    const cat1 = STRIPE_DECLINE_CODES.filter((r) => r.visaCategory === 1);
    expect(cat1.length).toBeGreaterThan(5);
    for (const r of cat1) expect(r.class, r.code).toBe('hard');
  });
});

describe('classifyDecline', () => {
  it('follows the §3.1 table', () => {
    expect(classifyDecline({ declineCode: 'insufficient_funds' }).class).toBe('soft');
    expect(classifyDecline({ declineCode: 'processing_error' }).class).toBe('technical');
    expect(classifyDecline({ declineCode: 'expired_card' }).class).toBe('fix_data');
    expect(classifyDecline({ declineCode: 'stolen_card' })).toMatchObject({ class: 'hard', customerMessage: 'generic' });
    expect(classifyDecline({ declineCode: 'card_velocity_exceeded' }).minWaitMinutes).toBe(24 * 60);
    expect(classifyDecline({ declineCode: 'reenter_transaction' }).maxRetries).toBe(1);
  });

  it('treats a missing or unknown code as hard', () => {
    expect(classifyDecline({ declineCode: null })).toMatchObject({ class: 'hard', rulesApplied: ['decline:unknown-code'] });
    expect(classifyDecline({ declineCode: 'brand_new_code_2031' }).class).toBe('hard');
  });

  it('lets the stricter signal win: Mastercard MAC 03/21 and Stripe do_not_try_again make a soft decline hard', () => {
    expect(classifyDecline({ declineCode: 'insufficient_funds', merchantAdviceCode: '03' }).class).toBe('hard');
    expect(classifyDecline({ declineCode: 'do_not_honor', merchantAdviceCode: '21' }).class).toBe('hard');
    expect(classifyDecline({ declineCode: 'generic_decline', adviceCode: 'do_not_try_again' }).class).toBe('hard');
    expect(classifyDecline({ declineCode: 'generic_decline', adviceCode: 'confirm_card_data' }).class).toBe('fix_data');
    expect(classifyDecline({ declineCode: 'insufficient_funds', merchantAdviceCode: '99' }).class).toBe('hard');
    // A softer signal never loosens a hard code.
    expect(classifyDecline({ declineCode: 'lost_card', adviceCode: 'try_again_later' }).class).toBe('hard');
  });

  it('honours Mastercard retry-after advice codes as minimum waits', () => {
    expect(classifyDecline({ declineCode: 'insufficient_funds', merchantAdviceCode: '27' })).toMatchObject({ class: 'soft', minWaitMinutes: 4 * 24 * 60 });
    expect(classifyDecline({ declineCode: 'card_velocity_exceeded', merchantAdviceCode: '24' }).minWaitMinutes).toBe(24 * 60);
  });
});

describe('retry limits (effective-dated)', () => {
  const max = (brand: string, on: string, id: string) => retryLimitsInForce(brand, on).find((l) => l.id.startsWith(id))?.maxInWindow;

  it('Visa allows 15 per 30 days until 2026-04-17 and 20 from 2026-04-18', () => {
    expect(max('visa', '2026-04-17', 'retry-limit:visa')).toBe(15);
    expect(max('visa', '2026-04-18', 'retry-limit:visa')).toBe(20);
    expect(retryLimitsInForce('visa', '2026-04-18').filter((l) => l.brand === 'visa')).toHaveLength(1);
  });

  it('Mastercard: 10 per 24 h from 2022-10-01, 35 per 30 days for the same amount; our 10 per 30 days for every brand', () => {
    expect(max('mastercard', '2022-09-30', 'retry-limit:mastercard:10')).toBeUndefined();
    expect(max('mastercard', '2022-10-01', 'retry-limit:mastercard:10')).toBe(10);
    expect(retryLimitsInForce('MASTERCARD', '2026-01-01').find((l) => l.sameAmountOnly)?.maxInWindow).toBe(35);
    for (const brand of ['visa', 'mastercard', 'amex', 'discover']) expect(max(brand, '2026-01-01', 'retry-limit:settle')).toBe(10);
  });
});
