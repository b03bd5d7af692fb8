// Calendar dates as 'YYYY-MM-DD' text. Rule rows are effective-dated by calendar day, not by instant,
// so the rules engines work on plain dates; arithmetic goes through a UTC day number so no time zone
// or daylight-saving shift can move a date. ISO dates also compare correctly as strings.

export type IsoDate = string;

export class CalendarDateError extends Error {
  override readonly name = 'CalendarDateError';
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

/** Validates 'YYYY-MM-DD' (a real calendar day) and returns it unchanged. */
export function isoDate(text: string): IsoDate {
  const m = ISO.exec(text);
  if (!m) throw new CalendarDateError(`"${text}" is not a date (expected YYYY-MM-DD)`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const back = new Date(Date.UTC(y, mo - 1, d));
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    throw new CalendarDateError(`"${text}" is not a calendar day`);
  }
  return text;
}

/** Days since 1970-01-01 (UTC). */
export function dayNumber(date: IsoDate): number {
  isoDate(date);
  return Date.parse(`${date}T00:00:00Z`) / MS_PER_DAY;
}

export function fromDayNumber(n: number): IsoDate {
  return new Date(n * MS_PER_DAY).toISOString().slice(0, 10);
}

export function addDays(date: IsoDate, days: number): IsoDate {
  return fromDayNumber(dayNumber(date) + days);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: IsoDate, to: IsoDate): number {
  return dayNumber(to) - dayNumber(from);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(date: IsoDate): number {
  return ((dayNumber(date) % 7) + 7 + 4) % 7; // 1970-01-01 was a Thursday
}

export const isWeekend = (date: IsoDate): boolean => {
  const w = weekday(date);
  return w === 0 || w === 6;
};

/** The UTC calendar day of an instant. */
export function utcDateOf(instant: Date): IsoDate {
  return instant.toISOString().slice(0, 10);
}

/** `date` at the UTC time of day of `timeOf` (used to keep a retry at the hour of the original try). */
export function atTimeOfDay(date: IsoDate, timeOf: Date): Date {
  const msIntoDay = timeOf.getTime() - Date.parse(`${utcDateOf(timeOf)}T00:00:00Z`);
  return new Date(dayNumber(date) * MS_PER_DAY + msIntoDay);
}

export const minDate = (a: IsoDate, b: IsoDate): IsoDate => (a <= b ? a : b);
export const maxDate = (a: IsoDate, b: IsoDate): IsoDate => (a >= b ? a : b);
