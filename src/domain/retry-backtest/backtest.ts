// The backtest itself: every past failure replayed under the current and the proposed schedule, the chance
// that each replayed retry collects taken from this workspace's history (rates.ts), summed per decline
// class and in total. Amounts are exact Money per currency: a failure's expected recovery is its amount
// × the chance (in millionths), rounded half-even (payments-rules.md §5.2 for estimates), then summed.
import { money, multiplyRatio, type Currency, type Money } from '../money.ts';
import type { RetrySchedule } from '../rules/index.ts';
import { FAILURE_CLASSES, SCHEDULED_CLASSES, type FailureClass, type PastFailure } from './history.ts';
import { estimateRates, retryChance, type ClassRates, type RateBasis, type RetryChance } from './rates.ts';
import { replayFailure, type Replay } from './replay.ts';

export const EXPECTED_AMOUNT_ROUNDING = 'half-even' as const;
const PPM = 1_000_000;

export interface ScheduleFigures {
  /** Retries the schedule makes if every one is declined again (an upper bound that needs no rates). */
  plannedRetries: number;
  /** Retries expected to be made: a retry after one that collected is not made. Estimated failures only. */
  expectedRetries: number;
  refusedByCardLimits: number;
  refusedByCode: number;
  /** Expected amount collected by automatic retries, per currency. */
  recoveredByRetries: Money[];
  /** The same plus what clients paid themselves when no retry collected (they would have paid anyway). */
  recoveredInTotal: Money[];
  /** Where the chances came from, counted per replayed retry. */
  basis: Record<RateBasis, number>;
}

export interface ClassRow {
  readonly class: FailureClass;
  /** Whether the tenant schedule governs this class (soft, technical). */
  readonly scheduled: boolean;
  readonly rates: ClassRates;
  /** Failures whose replay needs a chance this history cannot give, under either schedule: left out of the amounts. */
  readonly notEstimated: number;
  readonly current: ScheduleFigures;
  readonly proposed: ScheduleFigures;
  readonly actual: { readonly retries: number; readonly recoveredByRetries: Money[]; readonly recoveredInTotal: Money[] };
}

/** One past failure under both schedules; `estimate` is null when this history cannot give its chances. */
export interface FailureReplay {
  readonly failure: PastFailure;
  readonly current: { readonly replay: Replay; readonly estimate: Estimate | null };
  readonly proposed: { readonly replay: Replay; readonly estimate: Estimate | null };
}

export interface BacktestResult {
  readonly failures: number;
  readonly perFailure: readonly FailureReplay[];
  readonly classes: readonly ClassRow[];
  readonly totals: Omit<ClassRow, 'class' | 'scheduled' | 'rates'>;
  readonly rounding: typeof EXPECTED_AMOUNT_ROUNDING;
}

type Sums = Map<Currency, bigint>;
const addTo = (s: Sums, m: Money): void => void s.set(m.currency, (s.get(m.currency) ?? 0n) + m.amountMinor);
const moneyOf = (s: Sums): Money[] => [...s.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amountMinor]) => money(amountMinor, currency));

interface Acc {
  figures: Omit<ScheduleFigures, 'recoveredByRetries' | 'recoveredInTotal'>;
  byRetries: Sums;
  inTotal: Sums;
}
const acc = (): Acc => ({
  figures: { plannedRetries: 0, expectedRetries: 0, refusedByCardLimits: 0, refusedByCode: 0, basis: { elapsed: 0, retry_number: 0, class: 0 } },
  byRetries: new Map(),
  inTotal: new Map(),
});
const done = (a: Acc): ScheduleFigures => ({ ...a.figures, recoveredByRetries: moneyOf(a.byRetries), recoveredInTotal: moneyOf(a.inTotal) });

const chancesOf = (f: PastFailure, r: Replay, rates: ClassRates | undefined): (RetryChance | null)[] =>
  r.retries.map((x) => retryChance(rates, x.retryNumber, (x.at.getTime() - f.firstAttemptAt.getTime()) / 60_000));

export interface Estimate {
  /** Expected amount collected by retries: amount × chance in millionths, rounded half-even. */
  readonly expected: Money;
  readonly expectedRetries: number;
  readonly chances: readonly RetryChance[];
}

/** One failure's expected recovery and retries under a replay whose chances are all known. */
function estimate(f: PastFailure, chances: readonly RetryChance[]): Estimate {
  let none = 1; // chance that no retry so far collected
  let expectedRetries = 0;
  for (const c of chances) {
    expectedRetries += none;
    none *= 1 - c.p;
  }
  const ppm = BigInt(Math.round((1 - none) * PPM));
  return { expected: multiplyRatio(f.amount, ppm, BigInt(PPM), EXPECTED_AMOUNT_ROUNDING), expectedRetries, chances };
}

function count(into: Acc, f: PastFailure, e: Estimate): void {
  into.figures.expectedRetries += e.expectedRetries;
  for (const c of e.chances) into.figures.basis[c.basis]++;
  addTo(into.byRetries, e.expected);
  addTo(into.inTotal, f.outcome.kind === 'client_fixed' ? f.amount : e.expected);
}

function plan(into: Acc, r: Replay): void {
  into.figures.plannedRetries += r.retries.length;
  into.figures.refusedByCardLimits += r.refusedByCardLimits;
  into.figures.refusedByCode += r.refusedByCode;
}

export function runBacktest(history: readonly PastFailure[], current: RetrySchedule, proposed: RetrySchedule): BacktestResult {
  const rates = estimateRates(history);
  const rows = new Map(
    FAILURE_CLASSES.map((c) => [c, { notEstimated: 0, current: acc(), proposed: acc(), actual: { retries: 0, byRetries: new Map(), inTotal: new Map() } }]),
  );
  const perFailure: FailureReplay[] = [];
  const total = { notEstimated: 0, current: acc(), proposed: acc(), actual: { retries: 0, byRetries: new Map() as Sums, inTotal: new Map() as Sums } };
  for (const f of history) {
    const row = rows.get(f.class)!;
    const classRates = rates.get(f.class);
    const replays = { current: replayFailure(f, current), proposed: replayFailure(f, proposed) };
    const chances = { current: chancesOf(f, replays.current, classRates), proposed: chancesOf(f, replays.proposed, classRates) };
    const known = (c: (RetryChance | null)[]): c is RetryChance[] => c.every((x) => x !== null);
    // Both or neither: a failure estimated under one schedule only would tilt the comparison.
    const estimates =
      known(chances.current) && known(chances.proposed) ? { current: estimate(f, chances.current), proposed: estimate(f, chances.proposed) } : null;
    const estimated = estimates !== null;
    perFailure.push({
      failure: f,
      current: { replay: replays.current, estimate: estimates?.current ?? null },
      proposed: { replay: replays.proposed, estimate: estimates?.proposed ?? null },
    });
    for (const into of [row, total]) {
      for (const which of ['current', 'proposed'] as const) {
        plan(into[which], replays[which]);
        if (estimates) count(into[which], f, estimates[which]);
      }
      if (!estimated) into.notEstimated++;
      into.actual.retries += f.retriesAt.length;
      if (f.outcome.kind === 'retry_recovered') addTo(into.actual.byRetries, f.amount);
      if (f.outcome.kind === 'retry_recovered' || f.outcome.kind === 'client_fixed') addTo(into.actual.inTotal, f.amount);
    }
  }
  const actualOf = (a: { retries: number; byRetries: Sums; inTotal: Sums }) => ({
    retries: a.retries,
    recoveredByRetries: moneyOf(a.byRetries),
    recoveredInTotal: moneyOf(a.inTotal),
  });
  return {
    failures: history.length,
    classes: FAILURE_CLASSES.map((c) => {
      const r = rows.get(c)!;
      return {
        class: c,
        scheduled: SCHEDULED_CLASSES.includes(c),
        rates: rates.get(c)!,
        notEstimated: r.notEstimated,
        current: done(r.current),
        proposed: done(r.proposed),
        actual: actualOf(r.actual),
      };
    }),
    totals: { notEstimated: total.notEstimated, current: done(total.current), proposed: done(total.proposed), actual: actualOf(total.actual) },
    rounding: EXPECTED_AMOUNT_ROUNDING,
    perFailure,
  };
}
