import { describe, expect, it } from 'vitest';
import { applyNoc, isValidRoutingNumber, NOC_CODES, nocApplyBy, nocCode, type AchAccountDetails } from './noc-codes.ts';

const account: AchAccountDetails = {
  routingNumber: '021000021',
  accountNumber: '123456789',
  accountType: 'checking',
  holderName: 'Client Co',
  receiverId: 'CL-1',
};

describe('NOC codes', () => {
  it('lists C01–C14 and marks the ones our source lacks as unverified', () => {
    expect(NOC_CODES.map((n) => n.code)).toEqual(Array.from({ length: 14 }, (_, i) => `C${String(i + 1).padStart(2, '0')}`));
    expect(NOC_CODES.filter((n) => !n.verified).map((n) => n.code)).toEqual(['C08', 'C13', 'C14']);
    expect(nocCode('c07')?.fields).toEqual(['routingNumber', 'accountNumber', 'accountType']);
  });

  it('applies the corrected fields and leaves the rest', () => {
    expect(applyNoc(account, { code: 'C01', accountNumber: '987654321' })).toEqual({ ...account, accountNumber: '987654321' });
    expect(applyNoc(account, { code: 'C03', routingNumber: '121042882', accountNumber: '55' })).toEqual({
      ...account,
      routingNumber: '121042882',
      accountNumber: '55',
    });
    expect(applyNoc(account, { code: 'C05', transactionCode: 37 })).toEqual({ ...account, accountType: 'savings' });
    expect(applyNoc(account, { code: 'C07', routingNumber: '121042882', accountNumber: '77', transactionCode: 27 })).toEqual({
      ...account,
      routingNumber: '121042882',
      accountNumber: '77',
    });
    expect(applyNoc(account, { code: 'C12', holderName: 'Client Company LLC', receiverId: 'CL-9' })).toEqual({
      ...account,
      holderName: 'Client Company LLC',
      receiverId: 'CL-9',
    });
    expect(applyNoc(account, { code: 'C13' })).toEqual(account);
  });

  it('rejects malformed changes', () => {
    expect(() => applyNoc(account, { code: 'C01', routingNumber: '121042882' })).toThrow(/does not correct routingNumber/);
    expect(() => applyNoc(account, { code: 'C03', routingNumber: '121042882' })).toThrow(/needs the corrected accountNumber/);
    expect(() => applyNoc(account, { code: 'C02', routingNumber: '121042881' })).toThrow(/check digit/);
    expect(() => applyNoc(account, { code: 'C05', transactionCode: 42 })).toThrow(/neither/);
    expect(() => applyNoc(account, { code: 'C99' })).toThrow(/unknown NOC/);
  });

  it('checks ABA routing check digits', () => {
    expect(isValidRoutingNumber('021000021')).toBe(true);
    expect(isValidRoutingNumber('021000022')).toBe(false);
    expect(isValidRoutingNumber('02100002')).toBe(false);
  });

  it('must be applied within 6 banking days, or before the next entry if later', () => {
    expect(nocApplyBy('2026-05-20')).toBe('2026-05-29'); // Memorial Day 05-25 skipped
    expect(nocApplyBy('2026-05-20', '2026-06-15')).toBe('2026-06-15');
    expect(nocApplyBy('2026-05-20', '2026-05-21')).toBe('2026-05-29');
  });
});
