// Recovery rates from the workspace's own history. A retry is one trial: it either collected the money or
// was declined again. Rates are conditional ("of the retries made at this point, how many collected"), so
// a chain that a client fixed after retry 2 counts as two failed trials and nothing after. Three views
// per class: by retry number, by time elapsed since the first attempt, and all retries together. Too few
// trials and the rate is not used: payments-rules.md gives no recovery figures to fall back on, so
// the answer is "not enough history", never a guess.
import { FAILURE_CLASSES, type FailureClass, type PastFailure } from './history.ts';

/** Fewer trials than this and a rate is reported but not used for estimates. */
export const MIN_TRIALS = 5;

const HOUR = 60;
const DAY = 24 * HOUR;
/** Time since the payment's first attempt, in minutes; `upTo` is exclusive. */
export const ELAPSED_BUCKETS: readonly { readonly label: string; readonly upTo: number }[] = [
  { label: 'under 1 hour', upTo: HOUR },
  { label: '1 hour to 1 day', upTo: DAY },
  { label: '1 to 3 days', upTo: 3 * DAY },
  { label: '3 to 7 days', upTo: 7 * DAY },
  { label: '7 to 14 days', upTo: 14 * DAY },
  { label: '14 to 30 days', upTo: 30 * DAY },
  { label: '30 days or more', upTo: Number.POSITIVE_INFINITY },
];

export const elapsedBucket = (minutes: number): number => ELAPSED_BUCKETS.findIndex((b) => minutes < b.upTo);

export interface Trials {
  tried: number;
  recovered: number;
}

export interface ClassRates {
  readonly class: FailureClass;
  readonly failures: number;
  /** Index 0 = retry 1. */
  readonly byRetry: Trials[];
  /** Index = ELAPSED_BUCKETS position. */
  readonly byElapsed: Trials[];
  readonly all: Trials;
  readonly outcomes: Record<PastFailure['outcome']['kind'], number>;
  /** Mean days from the first attempt to recovery by retry, or null when none. */
  readonly meanDaysToRetryRecovery: number | null;
}

export type RateBasis = 'elapsed' | 'retry_number' | 'class';
export interface RetryChance {
  readonly p: number;
  readonly basis: RateBasis;
}

const MINUTE_MS = 60_000;
const trials = (): Trials => ({ tried: 0, recovered: 0 });

export function estimateRates(history: readonly PastFailure[]): Map<FailureClass, ClassRates> {
  const out = new Map<FailureClass, ClassRates>();
  for (const cls of FAILURE_CLASSES) {
    const of = history.filter((f) => f.class === cls);
    const rates: ClassRates = {
      class: cls,
      failures: of.length,
      byRetry: [],
      byElapsed: ELAPSED_BUCKETS.map(trials),
      all: trials(),
      outcomes: { retry_recovered: 0, client_fixed: 0, written_off: 0, not_recovered: 0 },
      meanDaysToRetryRecovery: null,
    };
    let days = 0;
    for (const f of of) {
      rates.outcomes[f.outcome.kind]++;
      const recoveredAt = f.outcome.kind === 'retry_recovered' ? f.outcome.retryNumber : null;
      if (f.outcome.kind === 'retry_recovered') days += (f.outcome.at.getTime() - f.firstAttemptAt.getTime()) / (DAY * MINUTE_MS);
      f.retriesAt.forEach((at, i) => {
        const n = i + 1;
        if (recoveredAt !== null && n > recoveredAt) return; // nothing is retried after the money came in
        const ok = n === recoveredAt ? 1 : 0;
        const byN = (rates.byRetry[i] ??= trials());
        const byT = rates.byElapsed[elapsedBucket((at.getTime() - f.firstAttemptAt.getTime()) / MINUTE_MS)]!;
        for (const t of [byN, byT, rates.all]) {
          t.tried++;
          t.recovered += ok;
        }
      });
    }
    if (rates.outcomes.retry_recovered > 0)
      (rates as { meanDaysToRetryRecovery: number | null }).meanDaysToRetryRecovery = days / rates.outcomes.retry_recovered;
    out.set(cls, rates);
  }
  return out;
}

export const rateOf = (t: Trials | undefined): number | null => (t && t.tried > 0 ? t.recovered / t.tried : null);

/**
 * The chance that retry `retryNumber`, made `elapsedMinutes` after the first attempt, collects: from the
 * retries this workspace made at that time since the first attempt, else at that retry number, else all
 * retries of the class — the first with at least MIN_TRIALS trials. Null: not enough history.
 */
export function retryChance(rates: ClassRates | undefined, retryNumber: number, elapsedMinutes: number): RetryChance | null {
  if (!rates) return null;
  const candidates: [Trials | undefined, RateBasis][] = [
    [rates.byElapsed[elapsedBucket(elapsedMinutes)], 'elapsed'],
    [rates.byRetry[retryNumber - 1], 'retry_number'],
    [rates.all, 'class'],
  ];
  for (const [t, basis] of candidates) if (t && t.tried >= MIN_TRIALS) return { p: t.recovered / t.tried, basis };
  return null;
}
