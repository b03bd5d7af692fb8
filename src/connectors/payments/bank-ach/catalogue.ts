// Bank ACH facts as data (payments-rules.md §2.3, §2.7): the FedACH Same Day windows, the default bank
// cut-offs, the Company Entry Descriptions Nacha standardises, and the file-naming convention. Code reads
// them from here; every row carries its source and the days it is in force (rule-row.ts).
import { inForce, LONG_STANDING, oneInForce, type RuleRow } from '../../../domain/rules/rule-row.ts';
import type { IsoDate } from '../../../domain/rules/calendar-date.ts';
import { SAME_DAY_LIMIT_CENTS } from './nacha/index.ts';

const SAME_DAY_SOURCE = 'https://legalclarity.org/same-day-ach-origination-cutoff-times-limits-and-fees/';

export const BANK_ACH = {
  vendor: 'bank-ach',
  /** FedACH deadlines are published in Eastern Time (§2.3); bank cut-offs are read in this zone unless configured. */
  timeZone: 'America/New_York',
  /** §2.3: Same Day ACH per-payment limit ($1,000,000). */
  sameDayLimitCents: SAME_DAY_LIMIT_CENTS,
  /** Minutes before a cut-off at which the scheduled run builds and sends that cut-off's file. */
  buildLeadMinutes: 20,
  /** Default SFTP directories: where we put files for the bank, and where the bank leaves files for us. */
  uploadDir: '/inbound',
  downloadDir: '/outbound',
  /** A bank's file acknowledgement carries the name of the file it acknowledges plus this suffix (configurable). */
  ackSuffix: '.ack',
} as const;

/** A FedACH Same Day processing window: the Fed's submission deadline and when it settles (ET). */
export interface SameDayWindowRule extends RuleRow {
  readonly fedDeadline: string; // HH:MM Eastern
  readonly settlesAt: string; // HHMM Eastern, written as "SDHHMM" in the batch header's descriptive date
}

export const FEDACH_SAME_DAY_WINDOWS: readonly SameDayWindowRule[] = [
  { id: 'fedach-sdach-1', fedDeadline: '10:30', settlesAt: '1300', source: SAME_DAY_SOURCE, ref: '§2.3', effectiveFrom: LONG_STANDING },
  { id: 'fedach-sdach-2', fedDeadline: '14:45', settlesAt: '1700', source: SAME_DAY_SOURCE, ref: '§2.3', effectiveFrom: LONG_STANDING },
  { id: 'fedach-sdach-3', fedDeadline: '16:45', settlesAt: '1800', source: SAME_DAY_SOURCE, ref: '§2.3', effectiveFrom: LONG_STANDING },
];

/** A bank (ODFI) cut-off: files delivered before `at` (bank-local time) go out in that window. */
export interface CutoffSetting {
  readonly id: string; // stable, e.g. 'same-day-1'; part of the file's identity for that day
  readonly at: string; // HH:MM
  readonly sameDay: boolean;
}

/**
 * (derived) Defaults until the MSP enters its bank's published cut-offs: §2.3 says ODFI cut-offs are
 * earlier than the Fed deadlines, so each Same Day cut-off sits one hour before its Fed window, and the
 * next-day cut-off at 17:00 ET is a common bank deadline. Replace them with the bank's own times.
 */
export const DEFAULT_CUTOFFS: readonly CutoffSetting[] = [
  { id: 'same-day-1', at: '09:30', sameDay: true },
  { id: 'same-day-2', at: '13:45', sameDay: true },
  { id: 'same-day-3', at: '15:45', sameDay: true },
  { id: 'next-day', at: '17:00', sameDay: false },
];

/**
 * The Fed window a Same Day cut-off feeds: the first whose deadline is not before the cut-off. A Same Day
 * cut-off after the last Fed deadline is a configuration error (nothing could settle that day).
 */
export function fedWindowFor(cutoffAt: string, on: IsoDate): SameDayWindowRule | null {
  return inForce(FEDACH_SAME_DAY_WINDOWS, on).find((w) => w.fedDeadline >= cutoffAt) ?? null;
}

/** Company Entry Description (batch header, 10 characters) by SEC code, effective-dated (§2.7). */
export interface EntryDescriptionRule extends RuleRow {
  readonly secCodes: readonly string[];
  readonly description: string;
}

const STANDARD_DESCRIPTIONS = 'https://www.amegybank.com/business/treasury/nacha-rules-resource-center';
export const ENTRY_DESCRIPTIONS: readonly EntryDescriptionRule[] = [
  // §2.7: consumer WEB e-commerce debits carry "PURCHASE" no later than 2026-03-20.
  { id: 'entry-description:web-purchase', secCodes: ['WEB'], description: 'PURCHASE', source: STANDARD_DESCRIPTIONS, ref: '§2.7', effectiveFrom: '2026-03-20' },
  {
    id: 'entry-description:web-before-2026',
    secCodes: ['WEB'],
    description: 'INVOICES',
    source: STANDARD_DESCRIPTIONS,
    ref: '§2.7',
    effectiveFrom: LONG_STANDING,
    effectiveTo: '2026-03-19',
  },
  // (derived) business and signed-authorization debits: what the receiver sees on the statement.
  {
    id: 'entry-description:invoices',
    secCodes: ['CCD', 'PPD'],
    description: 'INVOICES',
    source: 'payments-rules.md §2.2 (derived)',
    ref: '§2.2',
    effectiveFrom: LONG_STANDING,
  },
];

export function entryDescriptionFor(secCode: string, on: IsoDate): string {
  const row = oneInForce(ENTRY_DESCRIPTIONS, on, (r) => r.secCodes.includes(secCode));
  if (!row) throw new Error(`no Company Entry Description rule for ${secCode} on ${on}`);
  return row.description;
}

/** The deterministic file name for the file with this identity at the bank: one name per (date, modifier). */
export function achFileName(prefix: string, fileDate: IsoDate, fileIdModifier: string): string {
  return `${prefix}_${fileDate.replaceAll('-', '')}_${fileIdModifier}.ach`;
}

/** File ID modifiers in the order they are used within a day (§2.1: A-Z, then 0-9). */
export const FILE_ID_MODIFIERS: readonly string[] = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];
