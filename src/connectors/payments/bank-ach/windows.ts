// Which bank cut-off a file is built for, and the effective entry dates it carries (payments-rules.md
// §2.3). Pure: the caller passes the instant; bank-local dates and times come from the IANA zone through
// Intl, so daylight saving is the platform's problem, not ours. Banking days come from the US banking
// calendar in domain/rules.
import { addBankingDays, isBankingDay } from '../../../domain/rules/us-banking-calendar.ts';
import { addDays, type IsoDate } from '../../../domain/rules/calendar-date.ts';
import { fedWindowFor, type CutoffSetting } from './catalogue.ts';

export interface LocalClock {
  readonly date: IsoDate;
  readonly time: string; // HH:MM, 24-hour
}

const formatters = new Map<string, Intl.DateTimeFormat>();

export function localClock(instant: Date, timeZone: string): LocalClock {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(instant).map((x) => [x.type, x.value]));
  return { date: `${p['year']}-${p['month']}-${p['day']}`, time: `${p['hour']}:${p['minute']}` };
}

const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export interface FileWindow {
  /** The cut-off's id, e.g. 'same-day-1'. */
  readonly cutoffId: string;
  /** Banking day of the cut-off. */
  readonly windowDate: IsoDate;
  readonly cutoffAt: string;
  /** A Same Day window (only when the cut-off is today: a Same Day batch settles on its creation date). */
  readonly sameDay: boolean;
  /** HHMM the Fed settles this Same Day window ("SDHHMM", §2.3); null for next-day windows. */
  readonly settlesAt: string | null;
  /** Effective entry date of standard entries: the banking day after the window (§2.3 "next business day"). */
  readonly nextDayEffective: IsoDate;
  /** Minutes from now to the cut-off when it is today; null when the window is on a later day. */
  readonly minutesToCutoff: number | null;
}

export class CutoffConfigError extends Error {
  override readonly name = 'CutoffConfigError';
}

/** Checks the configured cut-offs: HH:MM, unique ids, Same Day cut-offs before the last Fed window. */
export function checkCutoffs(cutoffs: readonly CutoffSetting[], on: IsoDate): void {
  if (cutoffs.length === 0) throw new CutoffConfigError('at least one cut-off is needed');
  const ids = new Set<string>();
  for (const c of cutoffs) {
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(c.at)) throw new CutoffConfigError(`cut-off ${c.id}: "${c.at}" is not HH:MM`);
    if (ids.has(c.id)) throw new CutoffConfigError(`cut-off id ${c.id} appears twice`);
    ids.add(c.id);
    if (c.sameDay && !fedWindowFor(c.at, on)) {
      throw new CutoffConfigError(`cut-off ${c.id} at ${c.at} is marked Same Day but is after the last FedACH Same Day deadline`);
    }
  }
}

/**
 * The window a file built at `now` belongs to: the next cut-off still ahead today if today is a banking
 * day, otherwise the first cut-off of the next banking day.
 */
export function currentWindow(now: Date, cutoffs: readonly CutoffSetting[], timeZone: string): FileWindow {
  const clock = localClock(now, timeZone);
  const sorted = [...cutoffs].sort((a, b) => a.at.localeCompare(b.at));
  const first = sorted[0];
  if (!first) throw new CutoffConfigError('at least one cut-off is needed');
  const todays = isBankingDay(clock.date) ? sorted.find((c) => minutes(c.at) > minutes(clock.time)) : undefined;
  if (todays) return windowOf(todays, clock.date, minutes(todays.at) - minutes(clock.time));
  let day = addDays(clock.date, 1);
  while (!isBankingDay(day)) day = addDays(day, 1);
  return windowOf(first, day, null);
}

function windowOf(c: CutoffSetting, windowDate: IsoDate, minutesToCutoff: number | null): FileWindow {
  const fed = c.sameDay && minutesToCutoff !== null ? fedWindowFor(c.at, windowDate) : null;
  return {
    cutoffId: c.id,
    windowDate,
    cutoffAt: c.at,
    sameDay: fed !== null,
    settlesAt: fed?.settlesAt ?? null,
    nextDayEffective: addBankingDays(windowDate, 1),
    minutesToCutoff,
  };
}

/** Whether the scheduled run should build this window's file now (within `leadMinutes` of today's cut-off). */
export function isDue(w: FileWindow, leadMinutes: number): boolean {
  return w.minutesToCutoff !== null && w.minutesToCutoff <= leadMinutes;
}
