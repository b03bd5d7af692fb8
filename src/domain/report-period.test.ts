import { describe, expect, it } from 'vitest';
import { localDate, PeriodError, resolvePeriod } from './report-period.ts';

describe('report periods', () => {
  it('this month on the 6th is measured up to now: 6 days, aging judged today', () => {
    expect(resolvePeriod({}, '2026-12-06')).toEqual({
      preset: 'this_month',
      from: '2026-12-01',
      to: '2027-01-01',
      measuredTo: '2026-12-07',
      days: 6,
      asOf: '2026-12-06',
      today: '2026-12-06',
    });
  });

  it('last month over a year end, and in a leap February', () => {
    expect(resolvePeriod({ preset: 'last_month' }, '2026-01-15')).toMatchObject({ from: '2025-12-01', to: '2026-01-01', days: 31, asOf: '2025-12-31' });
    expect(resolvePeriod({ preset: 'last_month' }, '2028-03-01')).toMatchObject({ from: '2028-02-01', to: '2028-03-01', days: 29 });
  });

  it('the last 90 days end with today', () => {
    expect(resolvePeriod({ preset: 'last_90_days' }, '2026-03-10')).toMatchObject({ from: '2025-12-11', to: '2026-03-11', days: 90, asOf: '2026-03-10' });
  });

  it('custom dates include both days; dates alone mean custom', () => {
    expect(resolvePeriod({ from: '2026-02-01', lastDay: '2026-02-28' }, '2026-03-10')).toMatchObject({ preset: 'custom', to: '2026-03-01', days: 28 });
    // a period wholly in the future measures nothing
    expect(resolvePeriod({ preset: 'custom', from: '2027-01-01', lastDay: '2027-01-31' }, '2026-03-10')).toMatchObject({ days: 0 });
  });

  it('bad input names the field and says what to do', () => {
    const err = (input: Parameters<typeof resolvePeriod>[0]) => {
      try {
        resolvePeriod(input, '2026-03-10');
      } catch (e) {
        return e instanceof PeriodError ? [e.field, e.message] : e;
      }
      return null;
    };
    expect(err({ preset: 'custom', from: '2026-02-30', lastDay: '2026-03-01' })).toEqual(['from', expect.stringMatching(/real date/)]);
    expect(err({ preset: 'custom', from: '2026-03-05', lastDay: '2026-03-01' })).toEqual(['to', 'The last day must be on or after the first day']);
    expect(err({ preset: 'custom', from: '2026-03-05' })).toEqual(['to', expect.stringMatching(/Enter the last day/)]);
    expect(err({ preset: 'yesterday' })).toEqual(['period', expect.stringMatching(/Choose a period/)]);
    expect(err({ preset: 'custom', from: '2000-01-01', lastDay: '2026-01-01' })).toEqual(['to', expect.stringMatching(/ten years/)]);
  });

  it('the local date of an instant', () => {
    expect(localDate(new Date('2026-03-01T05:30:00Z'), 'America/Chicago')).toBe('2026-02-28');
    expect(localDate(new Date('2026-03-01T05:30:00Z'), 'UTC')).toBe('2026-03-01');
  });
});
