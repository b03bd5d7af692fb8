import { describe, expect, it } from 'vitest';
import { money } from './money.ts';
import { installmentSchedule, InstallmentError, partRetryAt } from './installments.ts';

describe('installmentSchedule', () => {
  it('splits evenly with the remainder on the last part', () => {
    const parts = installmentSchedule(money(100_00n, 'USD'), { kind: 'every', parts: 3, firstDueOn: '2026-03-01', everyDays: 30 }, '2026-02-01');
    expect(parts.map((p) => p.amount.amountMinor)).toEqual([33_33n, 33_33n, 33_34n]);
    expect(parts.map((p) => p.dueOn)).toEqual(['2026-03-01', '2026-03-31', '2026-04-30']);
    expect(parts.reduce((s, p) => s + p.amount.amountMinor, 0n)).toBe(100_00n);
  });
  it('takes explicit dates', () => {
    const parts = installmentSchedule(money(10n, 'USD'), { kind: 'dates', dates: ['2026-01-02', '2026-01-05'] }, '2026-01-01');
    expect(parts).toEqual([
      { partNo: 1, dueOn: '2026-01-02', amount: money(5n, 'USD') },
      { partNo: 2, dueOn: '2026-01-05', amount: money(5n, 'USD') },
    ]);
  });
  it('refuses past, unordered, too few, or too small plans', () => {
    const owed = money(100n, 'USD');
    expect(() => installmentSchedule(owed, { kind: 'dates', dates: ['2025-12-31', '2026-01-05'] }, '2026-01-01')).toThrow(/in the past/);
    expect(() => installmentSchedule(owed, { kind: 'dates', dates: ['2026-01-05', '2026-01-05'] }, '2026-01-01')).toThrow(/not after part 1/);
    expect(() => installmentSchedule(owed, { kind: 'dates', dates: ['2026-01-05'] }, '2026-01-01')).toThrow(InstallmentError);
    expect(() => installmentSchedule(money(2n, 'USD'), { kind: 'every', parts: 3, firstDueOn: '2026-01-02', everyDays: 7 }, '2026-01-01')).toThrow(
      /cannot be split/,
    );
    expect(() => installmentSchedule(money(0n, 'USD'), { kind: 'every', parts: 3, firstDueOn: '2026-01-02', everyDays: 7 }, '2026-01-01')).toThrow(
      /nothing is owed/,
    );
  });
});

describe('partRetryAt', () => {
  const schedule = {
    soft: { anchor: 'first_attempt' as const, steps: [{ businessDays: 1 }, { businessDays: 3 }] },
    technical: { anchor: 'previous_attempt' as const, steps: [{ minutes: 15 }] },
  };
  const first = new Date('2026-03-06T15:00:00Z'); // a Friday
  it('retries a soft decline on the schedule in banking days from the first charge', () => {
    expect(partRetryAt({ declineCode: 'insufficient_funds', charges: 1, firstChargedAt: first, lastChargedAt: first, schedule })).toEqual(
      new Date('2026-03-09T00:00:00Z'),
    );
    expect(partRetryAt({ declineCode: 'insufficient_funds', charges: 2, firstChargedAt: first, lastChargedAt: first, schedule })).toEqual(
      new Date('2026-03-11T00:00:00Z'),
    );
    expect(partRetryAt({ declineCode: 'insufficient_funds', charges: 3, firstChargedAt: first, lastChargedAt: first, schedule })).toBeNull();
  });
  it('never retries a hard decline by itself', () => {
    expect(partRetryAt({ declineCode: 'stolen_card', charges: 1, firstChargedAt: first, lastChargedAt: first, schedule })).toBeNull();
  });
});
