import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, daysBetween, isoDate, weekday } from './calendar-date.ts';
import { inForce, oneInForce } from './rule-row.ts';
import { addBankingDays, isBankingDay, onOrAfterBankingDay, US_BANKING_HOLIDAYS } from './us-banking-calendar.ts';

/** Nth weekday of a month, e.g. 3rd Monday of January. */
function nth(year: number, month: number, wd: number, n: number): string {
  let d = `${year}-${String(month).padStart(2, '0')}-01`;
  while (weekday(d) !== wd) d = addDays(d, 1);
  return addDays(d, 7 * (n - 1));
}
function lastMonday(year: number, month: number): string {
  let d = addDays(`${year}-${String(month + 1).padStart(2, '0')}-01`, -1);
  while (weekday(d) !== 1) d = addDays(d, -1);
  return d;
}
/** Fed rule: Sunday → Monday; Saturday → not observed. */
function fixed(year: number, mmdd: string): string | null {
  const d = `${year}-${mmdd}`;
  if (weekday(d) === 6) return null;
  return weekday(d) === 0 ? addDays(d, 1) : d;
}

describe('calendar dates', () => {
  it('validates and does day arithmetic across month, year and leap days', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2025-12-31', 1)).toBe('2026-01-01');
    expect(daysBetween('2026-03-01', '2026-02-01')).toBe(-28);
    expect(weekday('2026-05-01')).toBe(5);
    expect(() => isoDate('2026-02-30')).toThrow();
    expect(() => isoDate('2026-5-1')).toThrow();
  });
});

describe('US banking calendar', () => {
  it('matches the Fed holiday rules for every year in the table', () => {
    for (const y of US_BANKING_HOLIDAYS) {
      const expected = [
        fixed(y.year, '01-01'),
        nth(y.year, 1, 1, 3),
        nth(y.year, 2, 1, 3),
        lastMonday(y.year, 5),
        fixed(y.year, '06-19'),
        fixed(y.year, '07-04'),
        nth(y.year, 9, 1, 1),
        nth(y.year, 10, 1, 2),
        fixed(y.year, '11-11'),
        nth(y.year, 11, 4, 4),
        fixed(y.year, '12-25'),
      ].filter((d): d is string => d !== null);
      expect(y.closed.map((c) => c.date)).toEqual(expected);
      expect(y.source).toMatch(/^https:\/\//);
    }
  });

  it('has one row per year, in force for exactly that year', () => {
    expect(US_BANKING_HOLIDAYS.map((y) => y.year)).toEqual([2024, 2025, 2026, 2027]);
    expect(oneInForce(US_BANKING_HOLIDAYS, '2026-07-03', () => true)?.year).toBe(2026);
    expect(inForce(US_BANKING_HOLIDAYS, '2028-01-03')).toEqual([]);
  });

  it('knows weekends, holidays and Saturday holidays that are not moved', () => {
    expect(isBankingDay('2026-05-25')).toBe(false); // Memorial Day
    expect(isBankingDay('2026-07-03')).toBe(true); // July 4 2026 is a Saturday: Friday stays open
    expect(isBankingDay('2027-07-05')).toBe(false); // July 4 2027 is a Sunday: observed Monday
    expect(isBankingDay('2026-05-02')).toBe(false); // Saturday
  });

  it('counts banking days forward', () => {
    expect(addBankingDays('2026-05-22', 1)).toBe('2026-05-26'); // Fri → Tue over Memorial Day
    expect(addBankingDays('2026-05-23', 2)).toBe('2026-05-27'); // from a Saturday
    expect(addBankingDays('2026-05-23', 0)).toBe('2026-05-26');
    expect(onOrAfterBankingDay('2026-05-26')).toBe('2026-05-26');
    expect(addBankingDays('2025-12-24', 1)).toBe('2025-12-26');
  });

  it('refuses to guess outside the table', () => {
    expect(() => isBankingDay('2028-01-03')).toThrow(/no US banking holiday data for 2028/);
    expect(() => addBankingDays('2026-01-05', -1)).toThrow();
  });

  it('property: n banking days later is a banking day, and exactly n banking days lie in between', () => {
    const day = fc.integer({ min: 0, max: 3 * 365 }).map((n) => addDays('2024-01-01', n));
    fc.assert(
      fc.property(day, fc.integer({ min: 1, max: 30 }), (d, n) => {
        const end = addBankingDays(d, n);
        expect(isBankingDay(end)).toBe(true);
        let count = 0;
        for (let x = addDays(d, 1); x <= end; x = addDays(x, 1)) if (isBankingDay(x)) count++;
        expect(count).toBe(n);
      }),
      { numRuns: 200 },
    );
  });
});
