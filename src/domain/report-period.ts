// The period a report covers: [from, to) in calendar days of the workspace's timezone. The dashboard offers
// this month, last month, the last 90 days and custom dates; the API takes from/to. A period that reaches past
// today is measured up to now (DSO of "this month" on the 6th counts 6 days), which is what `measuredTo`,
// `days` and `asOf` say.
import { addDays, daysBetween, isoDate, type IsoDate } from './rules/calendar-date.ts';

export const PERIOD_PRESETS = ['this_month', 'last_month', 'last_90_days', 'custom'] as const;
export type PeriodPreset = (typeof PERIOD_PRESETS)[number];

export interface ReportPeriod {
  readonly preset: PeriodPreset;
  /** First day in the period. */
  readonly from: IsoDate;
  /** First day after the period (exclusive). */
  readonly to: IsoDate;
  /** Where measuring stops: `to`, or tomorrow when the period reaches past today. */
  readonly measuredTo: IsoDate;
  /** Days measured: measuredTo − from (0 for a period wholly in the future). */
  readonly days: number;
  /** The day aging and overdue are judged on: the last day measured (today for a current period). */
  readonly asOf: IsoDate;
  readonly today: IsoDate;
}

export class PeriodError extends Error {
  override readonly name = 'PeriodError';
  constructor(
    readonly field: 'from' | 'to' | 'period',
    message: string,
  ) {
    super(message);
  }
}

/** The longest custom period: ten years is far more than any MSP asks and keeps a report's work bounded. */
const MAX_DAYS = 3660;

function firstOfMonth(date: IsoDate): IsoDate {
  return `${date.slice(0, 7)}-01`;
}

function nextMonth(first: IsoDate): IsoDate {
  const y = Number(first.slice(0, 4));
  const m = Number(first.slice(5, 7));
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}

function previousMonth(first: IsoDate): IsoDate {
  return firstOfMonth(addDays(first, -1));
}

function parseDay(field: 'from' | 'to', text: string | undefined): IsoDate {
  if (text === undefined || text.trim() === '') throw new PeriodError(field, `Enter the ${field === 'from' ? 'first' : 'last'} day of the period`);
  try {
    return isoDate(text.trim());
  } catch {
    throw new PeriodError(field, `The ${field === 'from' ? 'first' : 'last'} day must be a real date as YYYY-MM-DD, for example 2026-03-01`);
  }
}

function measured(preset: PeriodPreset, from: IsoDate, to: IsoDate, today: IsoDate): ReportPeriod {
  const tomorrow = addDays(today, 1);
  const measuredTo = to < tomorrow ? to : tomorrow < from ? from : tomorrow;
  return { preset, from, to, measuredTo, days: Math.max(0, daysBetween(from, measuredTo)), asOf: addDays(measuredTo, -1), today };
}

/**
 * The period for a preset, or for custom dates. Custom dates are given as people think of them — first and
 * last day, both included — so `lastDay` becomes the exclusive `to` here.
 */
export function resolvePeriod(input: { preset?: string | undefined; from?: string | undefined; lastDay?: string | undefined }, today: IsoDate): ReportPeriod {
  const preset = input.preset === undefined || input.preset === '' ? (input.from || input.lastDay ? 'custom' : 'this_month') : input.preset;
  switch (preset) {
    case 'this_month': {
      const from = firstOfMonth(today);
      return measured('this_month', from, nextMonth(from), today);
    }
    case 'last_month': {
      const to = firstOfMonth(today);
      return measured('last_month', previousMonth(to), to, today);
    }
    case 'last_90_days': {
      const to = addDays(today, 1);
      return measured('last_90_days', addDays(to, -90), to, today);
    }
    case 'custom': {
      const from = parseDay('from', input.from);
      const last = parseDay('to', input.lastDay);
      if (last < from) throw new PeriodError('to', 'The last day must be on or after the first day');
      const to = addDays(last, 1);
      if (daysBetween(from, to) > MAX_DAYS) throw new PeriodError('to', 'Choose a period of at most ten years');
      return measured('custom', from, to, today);
    }
    default:
      throw new PeriodError('period', `Choose a period: ${PERIOD_PRESETS.join(', ')}`);
  }
}

/** The calendar day an instant falls on in the timezone. */
export function localDate(instant: Date, timeZone: string): IsoDate {
  const f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return f.format(instant);
}
