import { describe, expect, it } from 'vitest';
import { money } from '../money.ts';
import { achReinitiation, type AchReinitiationInput } from './ach-reinitiation.ts';
import { ACH_RETURN_CODES, achReturnCode } from './ach-return-codes.ts';

describe('ACH return code data', () => {
  it('has unique codes R01–R29 and R31, each with a source URL', () => {
    const codes = ACH_RETURN_CODES.map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (let n = 1; n <= 29; n++) expect(codes).toContain(`R${String(n).padStart(2, '0')}`);
    expect(codes).toContain('R31');
    for (const r of ACH_RETURN_CODES) expect(r.source).toMatch(/^https:\/\//);
  });

  it('allows retries only for R01 and R09, and return fees only for them', () => {
    expect(ACH_RETURN_CODES.filter((r) => r.reinitiation === 'allowed').map((r) => r.code)).toEqual(['R01', 'R09']);
    expect(ACH_RETURN_CODES.filter((r) => r.returnFeeAllowed).map((r) => r.code)).toEqual(['R01', 'R09']);
  });

  it('revokes the mandate on unauthorized returns and counts the Nacha unauthorized rate codes', () => {
    for (const c of ['R05', 'R07', 'R10', 'R29']) {
      expect(achReturnCode(c)).toMatchObject({ action: 'revoke_mandate', rateCategory: 'unauthorized', category: 'unauthorized' });
    }
    expect(ACH_RETURN_CODES.filter((r) => r.rateCategory === 'unauthorized').map((r) => r.code)).toEqual(['R05', 'R07', 'R10', 'R29', 'R51']);
    expect(ACH_RETURN_CODES.filter((r) => r.rateCategory === 'administrative').map((r) => r.code)).toEqual(['R02', 'R03', 'R04']);
  });

  it('gives 60 calendar days for consumer unauthorized returns and 2 banking days for R29 and NSF', () => {
    for (const c of ['R05', 'R07', 'R10', 'R11']) expect(achReturnCode(c).window).toEqual({ kind: 'calendar_days', days: 60 });
    for (const c of ['R01', 'R09', 'R29', 'R02']) expect(achReturnCode(c).window).toEqual({ kind: 'banking_days', days: 2 });
  });

  it('maps unlisted codes to "log and alert", never retried', () => {
    expect(achReturnCode('r84')).toMatchObject({ code: 'R84', id: 'ach-return:unexpected', reinitiation: 'never', action: 'manual_review' });
  });
});

describe('achReinitiation', () => {
  const original = { settledOn: '2026-03-02', companyName: 'ACME MSP', companyId: '1234567890', amount: money(150_000, 'USD') };
  const base: AchReinitiationInput = { code: 'R01', returnedOn: '2026-03-04', previousReturns: [], original, now: '2026-03-04' };

  it('allows the first reinitiation of R01 with RETRY PYMT and the original company name, ID and amount', () => {
    const d = achReinitiation(base);
    expect(d).toEqual({
      allowed: true,
      description: 'RETRY PYMT',
      reinitiationNumber: 1,
      constraints: { companyName: 'ACME MSP', companyId: '1234567890', amount: money(150_000, 'USD') },
      earliestOn: '2026-03-09', // +3 banking days after the return (§3.3)
      latestOn: '2026-08-29', // settlement + 180 days
      rulesApplied: ['ach-return:R01', 'ach-reinitiation:2-within-180-days'],
    });
  });

  it('allows R09 a second time, then refuses a third', () => {
    const one = [{ code: 'R09', returnedOn: '2026-03-04' }];
    expect(achReinitiation({ ...base, code: 'R09', previousReturns: one, returnedOn: '2026-03-12', now: '2026-03-12' })).toMatchObject({
      allowed: true,
      reinitiationNumber: 2,
      earliestOn: '2026-03-23',
    });
    const two = [...one, { code: 'R01', returnedOn: '2026-03-12' }];
    expect(achReinitiation({ ...base, previousReturns: two, now: '2026-03-25' })).toMatchObject({ allowed: false, reason: 'limit_reached' });
  });

  it('refuses after 180 days from the original settlement', () => {
    expect(achReinitiation({ ...base, now: '2026-08-29' })).toMatchObject({ allowed: true, earliestOn: '2026-08-29' });
    expect(achReinitiation({ ...base, now: '2026-08-30' })).toMatchObject({ allowed: false, reason: 'window_passed' });
  });

  it('never reinitiates unauthorized or account returns', () => {
    for (const code of ['R05', 'R07', 'R10', 'R29', 'R02', 'R03', 'R04', 'R16']) {
      expect(achReinitiation({ ...base, code })).toMatchObject({ allowed: false, reason: 'not_reinitiable' });
    }
    expect(achReinitiation({ ...base, previousReturns: [{ code: 'R07', returnedOn: '2026-02-01' }] })).toMatchObject({
      allowed: false,
      reason: 'prior_unauthorized_return',
    });
  });

  it("R08 needs the receiver's separate authorization; R11 is corrected and resent within 60 days; R12 needs a new entry", () => {
    expect(achReinitiation({ ...base, code: 'R08' })).toMatchObject({ allowed: false, reason: 'needs_separate_authorization' });
    expect(achReinitiation({ ...base, code: 'R08', receiverAuthorizedReinitiation: true })).toMatchObject({ allowed: true });
    expect(achReinitiation({ ...base, code: 'R11' })).toMatchObject({ allowed: false, reason: 'correct_and_resend', resendBy: '2026-05-03' });
    expect(achReinitiation({ ...base, code: 'R12' })).toMatchObject({ allowed: false, reason: 'new_entry_after_correction' });
  });
});
