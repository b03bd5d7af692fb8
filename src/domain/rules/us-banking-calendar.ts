// US banking days: Monday–Friday except the days the Federal Reserve Banks are closed. ACH settles and
// return/NOC deadlines count only banking days (payments-rules.md §2.3 "banking days only (no
// weekends/Fed holidays)"). The holiday list is data, one row per year, copied from the Fed's
// published schedule. Fed practice (same source): a holiday on a Sunday is observed the Monday after;
// a holiday on a Saturday is NOT moved — the Reserve Banks are open the Friday before.
import { addDays, isWeekend, type IsoDate } from './calendar-date.ts';
import type { RuleRow } from './rule-row.ts';

export interface BankingHolidayYear extends RuleRow {
  readonly year: number;
  readonly closed: readonly { readonly date: IsoDate; readonly name: string }[];
}

const FED_SCHEDULE = 'https://www.frbservices.org/about/holiday-schedules';

function year(y: number, closed: [IsoDate, string][]): BankingHolidayYear {
  return {
    id: `us-banking-holidays:${y}`,
    source: FED_SCHEDULE,
    ref: '§2.3',
    effectiveFrom: `${y}-01-01`,
    effectiveTo: `${y}-12-31`,
    year: y,
    closed: closed.map(([date, name]) => ({ date, name })),
  };
}

export const US_BANKING_HOLIDAYS: readonly BankingHolidayYear[] = [
  year(2024, [
    ['2024-01-01', "New Year's Day"],
    ['2024-01-15', 'Birthday of Martin Luther King, Jr.'],
    ['2024-02-19', "Washington's Birthday"],
    ['2024-05-27', 'Memorial Day'],
    ['2024-06-19', 'Juneteenth National Independence Day'],
    ['2024-07-04', 'Independence Day'],
    ['2024-09-02', 'Labor Day'],
    ['2024-10-14', 'Columbus Day'],
    ['2024-11-11', 'Veterans Day'],
    ['2024-11-28', 'Thanksgiving Day'],
    ['2024-12-25', 'Christmas Day'],
  ]),
  year(2025, [
    ['2025-01-01', "New Year's Day"],
    ['2025-01-20', 'Birthday of Martin Luther King, Jr.'],
    ['2025-02-17', "Washington's Birthday"],
    ['2025-05-26', 'Memorial Day'],
    ['2025-06-19', 'Juneteenth National Independence Day'],
    ['2025-07-04', 'Independence Day'],
    ['2025-09-01', 'Labor Day'],
    ['2025-10-13', 'Columbus Day'],
    ['2025-11-11', 'Veterans Day'],
    ['2025-11-27', 'Thanksgiving Day'],
    ['2025-12-25', 'Christmas Day'],
  ]),
  year(2026, [
    ['2026-01-01', "New Year's Day"],
    ['2026-01-19', 'Birthday of Martin Luther King, Jr.'],
    ['2026-02-16', "Washington's Birthday"],
    ['2026-05-25', 'Memorial Day'],
    ['2026-06-19', 'Juneteenth National Independence Day'],
    // Independence Day 2026-07-04 is a Saturday: not observed, Friday 07-03 is a banking day.
    ['2026-09-07', 'Labor Day'],
    ['2026-10-12', 'Columbus Day'],
    ['2026-11-11', 'Veterans Day'],
    ['2026-11-26', 'Thanksgiving Day'],
    ['2026-12-25', 'Christmas Day'],
  ]),
  year(2027, [
    ['2027-01-01', "New Year's Day"],
    ['2027-01-18', 'Birthday of Martin Luther King, Jr.'],
    ['2027-02-15', "Washington's Birthday"],
    ['2027-05-31', 'Memorial Day'],
    // Juneteenth 2027-06-19 is a Saturday: not observed.
    ['2027-07-05', 'Independence Day (observed; July 4 is a Sunday)'],
    ['2027-09-06', 'Labor Day'],
    ['2027-10-11', 'Columbus Day'],
    ['2027-11-11', 'Veterans Day'],
    ['2027-11-25', 'Thanksgiving Day'],
    // Christmas 2027-12-25 is a Saturday: not observed, Friday 12-24 is a banking day.
  ]),
];

export class BankingCalendarError extends Error {
  override readonly name = 'BankingCalendarError';
}

const CLOSED = new Map<number, ReadonlySet<IsoDate>>(US_BANKING_HOLIDAYS.map((y) => [y.year, new Set(y.closed.map((c) => c.date))]));

/**
 * Whether ACH settles on `date`. Outside the years in the table this throws instead of guessing: a
 * wrong holiday shifts return deadlines, so the table must be extended from the Fed schedule first.
 */
export function isBankingDay(date: IsoDate): boolean {
  if (isWeekend(date)) return false;
  const y = Number(date.slice(0, 4));
  const closed = CLOSED.get(y);
  if (!closed) {
    throw new BankingCalendarError(`no US banking holiday data for ${y}; add it to US_BANKING_HOLIDAYS from ${FED_SCHEDULE}`);
  }
  return !closed.has(date);
}

/** `date` itself when it is a banking day, else the next banking day. */
export function onOrAfterBankingDay(date: IsoDate): IsoDate {
  let d = date;
  while (!isBankingDay(d)) d = addDays(d, 1);
  return d;
}

/** The `n`th banking day after `date` (n ≥ 0; `date` itself need not be a banking day; n = 0 rolls forward). */
export function addBankingDays(date: IsoDate, n: number): IsoDate {
  if (!Number.isSafeInteger(n) || n < 0) throw new BankingCalendarError(`banking-day count must be a whole number ≥ 0, got ${n}`);
  if (n === 0) return onOrAfterBankingDay(date);
  let d = date;
  let left = n;
  while (left > 0) {
    d = addDays(d, 1);
    if (isBankingDay(d)) left -= 1;
  }
  return d;
}
