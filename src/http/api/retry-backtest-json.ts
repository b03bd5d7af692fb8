// The retry-policy backtest as JSON for POST /api/v1/retry-policy/backtest: amounts as strings of minor
// units per currency (schemas.ts), chances as counts of trials so a reader can redo the division.
import { z } from 'zod';
import type { Money } from '../../domain/money.ts';
import { ELAPSED_BUCKETS, MIN_TRIALS, type FailureReplay, type ScheduleFigures } from '../../domain/retry-backtest/index.ts';
import type { RetryBacktest } from '../../engine/retry-backtest.ts';
import { minor } from './schemas.ts';

const amounts = z.array(z.object({ currency: z.string(), amount_minor: minor }));
const trials = z.object({ tried: z.number().int(), recovered: z.number().int() });
const figures = z.object({
  planned_retries: z.number().int().describe('retries the schedule makes if every one is declined again'),
  expected_retries: z.number().describe('retries expected to be made (none after one that collected), estimated failures only'),
  refused_by_card_limits: z.number().int().describe('retries whose scheduled time a card limit refused (made later, or not at all)'),
  refused_by_code: z.number().int().describe("retries the schedule asked for beyond the decline code's own retry limit"),
  recovered_by_retries: amounts,
  recovered_in_total: amounts.describe('recovered by retries plus what clients paid themselves when no retry collected'),
  rate_basis: z.object({ elapsed: z.number().int(), retry_number: z.number().int(), class: z.number().int() }),
});
const actual = z.object({ retries: z.number().int(), recovered_by_retries: amounts, recovered_in_total: amounts });
const schedule = z.object({ soft_steps: z.array(z.unknown()), technical_steps: z.array(z.unknown()) });

const replayed = z.object({
  retries: z.array(z.object({ retry: z.number().int(), at: z.string(), deferred_by: z.array(z.string()) })),
  stop: z
    .string()
    .describe(
      'why no further retry: a rule (schedule_exhausted, code_retry_limit, hard_decline, …), closed (paid another way or written off first), not_scheduled',
    ),
  expected_recovered: amounts.describe('empty when this history cannot give the chances (not enough history)'),
});
const failureDetail = z.object({
  payment_id: z.string(),
  class: z.string(),
  decline_code: z.string().nullable(),
  currency: z.string(),
  amount_minor: minor,
  first_attempt_at: z.string(),
  outcome: z.object({ kind: z.string(), retry: z.number().int().nullable(), at: z.string().nullable() }),
  retries_made: z.number().int(),
  current: replayed,
  proposed: replayed,
});

export const retryBacktestResponse = z.object({
  since: z.string(),
  failures: z.number().int(),
  in_progress: z.number().int().describe('failures still being retried, left out'),
  min_trials: z.number().int(),
  rounding: z.string(),
  current: schedule,
  proposed: schedule,
  classes: z.array(
    z.object({
      class: z.string(),
      scheduled: z.boolean(),
      failures: z.number().int(),
      outcomes: z.object({ retry_recovered: z.number().int(), client_fixed: z.number().int(), written_off: z.number().int(), not_recovered: z.number().int() }),
      mean_days_to_retry_recovery: z.number().nullable(),
      rates: z.object({
        by_retry: z.array(trials.extend({ retry: z.number().int() })),
        by_elapsed: z.array(trials.extend({ elapsed: z.string() })),
        all: trials,
      }),
      not_estimated: z.number().int(),
      current: figures,
      proposed: figures,
      actual,
    }),
  ),
  totals: z.object({ not_estimated: z.number().int(), current: figures, proposed: figures, actual }),
  failures_detail: z.array(failureDetail).optional().describe('with "detail": true — every past failure under both schedules'),
});

const amountsJson = (ms: readonly Money[]) => ms.map((m) => ({ currency: m.currency, amount_minor: m.amountMinor.toString() }));
const round2 = (n: number) => Math.round(n * 100) / 100;
const figuresJson = (f: ScheduleFigures) => ({
  planned_retries: f.plannedRetries,
  expected_retries: round2(f.expectedRetries),
  refused_by_card_limits: f.refusedByCardLimits,
  refused_by_code: f.refusedByCode,
  recovered_by_retries: amountsJson(f.recoveredByRetries),
  recovered_in_total: amountsJson(f.recoveredInTotal),
  rate_basis: f.basis,
});
const actualJson = (a: { retries: number; recoveredByRetries: Money[]; recoveredInTotal: Money[] }) => ({
  retries: a.retries,
  recovered_by_retries: amountsJson(a.recoveredByRetries),
  recovered_in_total: amountsJson(a.recoveredInTotal),
});
const scheduleJson = (s: RetryBacktest['current']) => ({ soft_steps: [...s.soft.steps], technical_steps: [...s.technical.steps] });

const replayedJson = (x: FailureReplay['current']) => ({
  retries: x.replay.retries.map((r) => ({ retry: r.retryNumber, at: r.at.toISOString(), deferred_by: [...r.deferredBy] })),
  stop: x.replay.stop.kind === 'rule' ? x.replay.stop.reason : x.replay.stop.kind,
  expected_recovered: x.estimate ? amountsJson([x.estimate.expected]) : [],
});
const detailJson = (d: FailureReplay) => {
  const f = d.failure;
  const o = f.outcome;
  return {
    payment_id: f.id,
    class: f.class,
    decline_code: f.declineCode,
    currency: f.amount.currency,
    amount_minor: f.amount.amountMinor.toString(),
    first_attempt_at: f.firstAttemptAt.toISOString(),
    outcome: { kind: o.kind, retry: o.kind === 'retry_recovered' ? o.retryNumber : null, at: o.kind === 'not_recovered' ? null : o.at.toISOString() },
    retries_made: f.retriesAt.length,
    current: replayedJson(d.current),
    proposed: replayedJson(d.proposed),
  };
};

export function retryBacktestJson(b: RetryBacktest, detail: boolean): z.infer<typeof retryBacktestResponse> {
  const r = b.result;
  return {
    since: b.since.toISOString(),
    failures: r.failures,
    in_progress: b.inProgress,
    min_trials: MIN_TRIALS,
    rounding: r.rounding,
    current: scheduleJson(b.current),
    proposed: scheduleJson(b.proposed),
    classes: r.classes.map((c) => ({
      class: c.class,
      scheduled: c.scheduled,
      failures: c.rates.failures,
      outcomes: c.rates.outcomes,
      mean_days_to_retry_recovery: c.rates.meanDaysToRetryRecovery === null ? null : round2(c.rates.meanDaysToRetryRecovery),
      rates: {
        by_retry: c.rates.byRetry.map((t, i) => ({ retry: i + 1, ...t })),
        by_elapsed: c.rates.byElapsed.map((t, i) => ({ elapsed: ELAPSED_BUCKETS[i]!.label, ...t })),
        all: c.rates.all,
      },
      not_estimated: c.notEstimated,
      current: figuresJson(c.current),
      proposed: figuresJson(c.proposed),
      actual: actualJson(c.actual),
    })),
    totals: {
      not_estimated: r.totals.notEstimated,
      current: figuresJson(r.totals.current),
      proposed: figuresJson(r.totals.proposed),
      actual: actualJson(r.totals.actual),
    },
    ...(detail ? { failures_detail: r.perFailure.map(detailJson) } : {}),
  };
}
