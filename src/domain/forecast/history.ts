// A client's (and the workspace's) payment history as the forecast reads it: for each invoice paid through
// Settle, its due date, the day the payment that completed it arrived, and the reminders Collections Assist
// sent before that day. The statistics are robust (a weighted median: one invoice paid a year late moves it
// no more than one paid a day late) and weighted toward recent behaviour (a half-life in days), because a
// client that used to pay late and now pays on time should be forecast as it is now.
//
// Day statistics are plain numbers; no amount ever passes through here.
import { dayNumber, type IsoDate } from '../rules/calendar-date.ts';

/** A reminder sent for an invoice: the day it went out and its step's offset from the due date. */
export interface ReminderSent {
  readonly sentOn: IsoDate;
  readonly offsetDays: number;
}

/** One invoice paid in full, as known to Settle. */
export interface PaidRecord {
  readonly invoiceId: string;
  readonly clientId: string;
  /** The due date, or the terms' date when the PSA gave none (issued + NO_DUE_DATE_TERMS_DAYS). */
  readonly dueOn: IsoDate;
  /** The workspace-local day of the payment that completed the invoice. */
  readonly paidOn: IsoDate;
  /** Reminders sent for the invoice, oldest first. */
  readonly reminders: readonly ReminderSent[];
}

/** The history a prediction may read: only what was known before `asOf`. */
export interface HistorySample {
  readonly records: readonly PaidRecord[];
  readonly asOf: IsoDate;
}

/** Weight halves every HALF_LIFE_DAYS of age: last quarter's behaviour counts about twice last half-year's. */
export const HALF_LIFE_DAYS = 180;
/** A client's own history counts from this many paid invoices; fewer and the workspace's is used. */
export const MIN_CLIENT_RECORDS = 3;
/** The workspace's history counts from this many paid invoices; fewer and the invoice's terms are used. */
export const MIN_WORKSPACE_RECORDS = 10;
/** The most recent invoices a client's statistic reads (older behaviour has little weight anyway). */
export const CLIENT_SAMPLE = 24;
/** The most recent invoices the workspace's statistic reads. */
export const WORKSPACE_SAMPLE = 500;
/** An invoice without a due date is taken as due this many days after it was issued (net 30). */
export const NO_DUE_DATE_TERMS_DAYS = 30;

// A record's days as numbers, worked out once: a forecast reads each record thousands of times (every open
// invoice of a client, every due date of the back-test), and parsing dates each time cost seconds at 100,000.
const FACTS = new WeakMap<PaidRecord, { readonly paidDay: number; readonly late: number }>();
function facts(r: PaidRecord): { readonly paidDay: number; readonly late: number } {
  let f = FACTS.get(r);
  if (!f) FACTS.set(r, (f = { paidDay: dayNumber(r.paidOn), late: dayNumber(r.paidOn) - dayNumber(r.dueOn) }));
  return f;
}

export const daysLate = (r: PaidRecord): number => facts(r).late;

/** How much a record counts when predicting as of `asOf` (1 for one paid that day, ½ a half-life earlier). */
export function recencyWeight(r: PaidRecord, asOf: IsoDate): number {
  const age = Math.max(0, dayNumber(asOf) - facts(r).paidDay);
  return Math.pow(0.5, age / HALF_LIFE_DAYS);
}

/**
 * The weighted median of whole-day values: the smallest value at which the running weight reaches half of the
 * total. Ties in value keep their order; null for an empty list.
 */
export function weightedMedian(items: ReadonlyArray<{ readonly value: number; readonly weight: number }>): number | null {
  if (items.length === 0) return null;
  const sorted = [...items].sort((a, b) => a.value - b.value);
  const total = sorted.reduce((s, x) => s + x.weight, 0);
  let run = 0;
  for (const x of sorted) {
    run += x.weight;
    if (run * 2 >= total) return x.value;
  }
  return sorted[sorted.length - 1]!.value;
}

const MEDIANS = new WeakMap<HistorySample, Map<string, number | null>>();

/**
 * Weighted median of `valueOf` over the sample's records, each weighted by its recency. With a `memo` key the
 * result is kept with the sample: the workspace's sample is one object for every invoice predicted as of a day.
 */
export function medianOf(
  sample: HistorySample,
  valueOf: (r: PaidRecord) => number,
  only: (r: PaidRecord) => boolean = () => true,
  memo?: string,
): number | null {
  const kept = memo === undefined ? undefined : MEDIANS.get(sample);
  if (memo !== undefined && kept?.has(memo)) return kept.get(memo)!;
  const asOf = dayNumber(sample.asOf);
  const weight = (r: PaidRecord) => Math.pow(0.5, Math.max(0, asOf - facts(r).paidDay) / HALF_LIFE_DAYS);
  const m = weightedMedian(sample.records.filter(only).map((r) => ({ value: valueOf(r), weight: weight(r) })));
  if (memo !== undefined) MEDIANS.set(sample, (kept ?? new Map<string, number | null>()).set(memo, m));
  return m;
}

/** Reminders the client had been sent by the day it paid (a reminder sent on the day of payment counts). */
export const remindersBeforePaying = (r: PaidRecord): number => r.reminders.filter((m) => m.sentOn <= r.paidOn).length;

/**
 * Records ordered by payment day, so that "what was known before a day" is a binary search and a slice: the
 * forecast and its back-test ask it once per invoice, over up to hundreds of thousands of records.
 */
export class HistoryIndex {
  private readonly byClient = new Map<string, PaidRecord[]>();
  private readonly all: PaidRecord[];
  /**
   * Samples per (client or workspace, as-of day), shared by every invoice predicted as of that day — 100,000
   * open invoices of 5,000 clients are 5,000 samples, each with its medians worked out once (medianOf's memo).
   */
  private readonly samples = new Map<string, { sample: HistorySample; ids: Set<string> }>();

  constructor(records: readonly PaidRecord[]) {
    // sorted once by a plain text key (payment day, then invoice id): no comparator work per comparison
    const keyed = records.map((r) => ({ key: `${r.paidOn} ${r.invoiceId}`, r }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.all = keyed.map((k) => k.r);
    for (const r of this.all) {
      const list = this.byClient.get(r.clientId);
      if (list) list.push(r);
      else this.byClient.set(r.clientId, [r]);
    }
  }

  get size(): number {
    return this.all.length;
  }

  /** The paid records with a payment day in [from, to), in payment order. */
  paidBetween(from: IsoDate, to: IsoDate): PaidRecord[] {
    return this.all.slice(firstOnOrAfter(this.all, from), firstOnOrAfter(this.all, to));
  }

  /** The client's most recent records paid strictly before `asOf`, never `exclude` (the invoice being predicted). */
  client(clientId: string, asOf: IsoDate, exclude?: string): HistorySample {
    return this.sample(`c:${clientId}:${asOf}`, this.byClient.get(clientId) ?? [], asOf, CLIENT_SAMPLE, exclude);
  }

  /** The workspace's most recent records paid strictly before `asOf`, never `exclude`. */
  workspace(asOf: IsoDate, exclude?: string): HistorySample {
    return this.sample(`w:${asOf}`, this.all, asOf, WORKSPACE_SAMPLE, exclude);
  }

  private sample(key: string, list: readonly PaidRecord[], asOf: IsoDate, limit: number, exclude: string | undefined): HistorySample {
    let shared = this.samples.get(key);
    if (!shared) {
      const records = lastBefore(list, asOf, limit);
      this.samples.set(key, (shared = { sample: { records, asOf }, ids: new Set(records.map((r) => r.invoiceId)) }));
    }
    if (exclude === undefined || !shared.ids.has(exclude)) return shared.sample;
    return { records: lastBefore(list, asOf, limit, exclude), asOf };
  }
}

function firstOnOrAfter(list: readonly PaidRecord[], day: IsoDate): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.paidOn < day) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lastBefore(list: readonly PaidRecord[], asOf: IsoDate, limit: number, exclude?: string): PaidRecord[] {
  const end = firstOnOrAfter(list, asOf);
  const out = list.slice(Math.max(0, end - limit - 1), end).filter((r) => r.invoiceId !== exclude);
  return out.slice(Math.max(0, out.length - limit));
}
