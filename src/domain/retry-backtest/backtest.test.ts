// The backtest on a small history worked out by hand. Every first attempt is Monday 2026-03-02 14:00 UTC
// (no US banking holiday near), so the reference schedule's soft retries fall on Tue 03-03 (+1 business
// day, 1 day elapsed), Thu 03-05 (+3, 3 days), Mon 03-09 (+5, 7 days) and Wed 03-11 (+7, 9 days).
import { describe, expect, it } from 'vitest';
import { money } from '../money.ts';
import { DEFAULT_RETRY_SCHEDULE, type CardAttempt, type RetrySchedule } from '../rules/index.ts';
import { runBacktest } from './backtest.ts';
import type { PastFailure, PastOutcome } from './history.ts';
import { estimateRates, retryChance } from './rates.ts';
import { replayFailure } from './replay.ts';

const at = (iso: string) => new Date(`${iso}Z`);
const FIRST = at('2026-03-02T14:00:00');
const RETRY_AT = ['2026-03-03T14:00:00', '2026-03-05T14:00:00', '2026-03-09T14:00:00', '2026-03-11T14:00:00'].map(at);
const usd = (minor: number) => money(minor, 'USD');

let n = 0;
function failure(p: Partial<PastFailure> & { retries: number; outcome: PastOutcome }): PastFailure {
  return {
    id: `pay-${++n}`,
    brand: 'visa',
    declineCode: 'insufficient_funds',
    class: 'soft',
    amount: usd(10_000),
    firstAttemptAt: FIRST,
    retriesAt: RETRY_AT.slice(0, p.retries),
    otherAttemptsOnCard: [],
    ...p,
  };
}
const byRetry = (k: number): PastOutcome => ({ kind: 'retry_recovered', retryNumber: k, at: RETRY_AT[k - 1]! });

// Nine soft declines of $100.00: two collected by retry 1, two by retry 2, one the client paid in the
// portal on Wed 03-04 after retry 1 failed, four never collected after all four retries.
const soft = [
  failure({ retries: 1, outcome: byRetry(1) }),
  failure({ retries: 1, outcome: byRetry(1) }),
  failure({ retries: 2, outcome: byRetry(2) }),
  failure({ retries: 2, outcome: byRetry(2) }),
  failure({ retries: 1, outcome: { kind: 'client_fixed', at: at('2026-03-04T10:00:00') } }),
  ...Array.from({ length: 4 }, () => failure({ retries: 4, outcome: { kind: 'not_recovered' } })),
];
// Never retried whatever the schedule: a lost card the client replaced, an expired card never fixed.
const hard = failure({ declineCode: 'lost_card', class: 'hard', retries: 0, outcome: { kind: 'client_fixed', at: at('2026-03-03T09:00:00') } });
const fixData = failure({ declineCode: 'expired_card', class: 'fix_data', retries: 0, outcome: { kind: 'not_recovered' } });
// One technical error: far too little history for a rate.
const technical = failure({
  declineCode: 'processing_error',
  class: 'technical',
  amount: money(5_000, 'CAD'),
  retriesAt: [at('2026-03-02T14:15:00')],
  retries: 1,
  outcome: byRetry(1),
});
const history = [...soft, hard, fixData, technical];

// Proposed: soft +1, +3 and +10 business days (Mon 03-16, 14 days elapsed); technical unchanged.
const PROPOSED: RetrySchedule = {
  soft: { anchor: 'first_attempt', steps: [{ businessDays: 1 }, { businessDays: 3 }, { businessDays: 10 }] },
  technical: DEFAULT_RETRY_SCHEDULE.technical,
};

describe('recovery rates from the history', () => {
  const rates = estimateRates(history).get('soft')!;
  it('counts each retry as a trial up to the one that collected', () => {
    // Retry 1: all 9 made, 2 collected. Retry 2: 6 made (B×2, D×4), 2 collected. Retries 3 and 4: D×4, none.
    expect(rates.byRetry).toEqual([
      { tried: 9, recovered: 2 },
      { tried: 6, recovered: 2 },
      { tried: 4, recovered: 0 },
      { tried: 4, recovered: 0 },
    ]);
    // By time since the first attempt: 1 day → "1 to 3 days", 3 days → "3 to 7", 7 and 9 days → "7 to 14".
    expect(rates.byElapsed.map((t) => t.tried)).toEqual([0, 0, 9, 6, 8, 0, 0]);
    expect(rates.all).toEqual({ tried: 23, recovered: 4 });
    expect(rates.outcomes).toEqual({ retry_recovered: 4, client_fixed: 1, written_off: 0, not_recovered: 4 });
    // Two recovered after 1 day, two after 3: mean 2 days.
    expect(rates.meanDaysToRetryRecovery).toBe(2);
  });

  it('falls back from elapsed time to retry number to the class, and says when there is not enough history', () => {
    expect(retryChance(rates, 1, 1440)).toEqual({ p: 2 / 9, basis: 'elapsed' });
    // 14 days: no retry ever made that late; retry 3 has only 4 trials (< 5); the class has 23 (4 collected).
    expect(retryChance(rates, 3, 14 * 1440)).toEqual({ p: 4 / 23, basis: 'class' });
    expect(retryChance(estimateRates(history).get('technical'), 1, 15)).toBeNull();
  });
});

describe('replaying one failure', () => {
  it('makes the retries the real policy makes and stops where the client paid', () => {
    expect(replayFailure(soft[5]!, DEFAULT_RETRY_SCHEDULE).retries.map((r) => r.at)).toEqual(RETRY_AT);
    // The client paid on Wed 03-04: the Thu 03-05 retry is never made.
    const fixed = replayFailure(soft[4]!, DEFAULT_RETRY_SCHEDULE);
    expect(fixed.retries).toHaveLength(1);
    expect(fixed.stop).toEqual({ kind: 'closed', at: at('2026-03-04T10:00:00') });
  });

  it('never retries a hard or fix-data decline', () => {
    expect(replayFailure(hard, PROPOSED)).toMatchObject({ retries: [], stop: { kind: 'rule', reason: 'hard_decline' } });
    expect(replayFailure(fixData, PROPOSED)).toMatchObject({ retries: [], stop: { kind: 'rule', reason: 'needs_new_card_data' } });
  });

  it("counts steps beyond the decline code's own limit as refused", () => {
    // do_not_honor allows 3 retries; a five-step schedule has two refused.
    const five: RetrySchedule = { ...PROPOSED, soft: { anchor: 'first_attempt', steps: [1, 2, 3, 4, 5].map((d) => ({ businessDays: d })) } };
    const r = replayFailure(failure({ declineCode: 'do_not_honor', retries: 0, outcome: { kind: 'not_recovered' } }), five);
    expect(r.retries).toHaveLength(3);
    expect(r).toMatchObject({ refusedByCode: 2, stop: { reason: 'code_retry_limit' } });
  });

  it('counts a retry the card limits refuse at its time and pushes it later, as the retry job does', () => {
    // Nine tries on the card for other invoices on 02-20 plus this payment's first attempt = 10 in 30 days
    // (Settle's cap): the +1 day retry waits until the 02-20 tries leave the window, 30 days later (03-22,
    // a Sunday, so Monday 03-23 — a banking day).
    const others: CardAttempt[] = Array.from({ length: 9 }, (_, i) => ({
      at: at(`2026-02-20T10:0${i}:00`),
      paymentRef: `other-${i}`,
      amount: usd(2_500),
      outcome: 'declined' as const,
      declineCode: 'insufficient_funds',
    }));
    const r = replayFailure(failure({ retries: 0, otherAttemptsOnCard: others, outcome: { kind: 'not_recovered' } }), DEFAULT_RETRY_SCHEDULE);
    expect(r.refusedByCardLimits).toBeGreaterThanOrEqual(1);
    expect(r.retries[0]!.deferredBy).toContain('retry-limit:settle:10-per-30d');
    expect(r.retries[0]!.at).toEqual(at('2026-03-23T10:00:00'));
  });
});

describe('current against proposed', () => {
  const result = runBacktest(history, DEFAULT_RETRY_SCHEDULE, PROPOSED);
  const softRow = result.classes.find((c) => c.class === 'soft')!;

  it('works out the expected recovery per class in exact cents', () => {
    // Current, a failure replayed in full: chances 2/9 (1 day), 1/3 (3 days), 0, 0 (7–14 days) →
    // collected with 1 − 7/9 · 2/3 = 13/27 = 0.481481 → $100.00 × 481,481 / 10⁶ = 4,814.81 ¢ → 4,815 ¢ (half-even).
    // The client-paid failure only gets retry 1: 2/9 → 222,222 ppm → 2,222.22 ¢ → 2,222 ¢.
    // 8 × 4,815 + 2,222 = 40,742 ¢; in total 8 × 4,815 + 10,000 (the client paid anyway) = 48,520 ¢.
    expect(softRow.current.recoveredByRetries).toEqual([usd(40_742)]);
    expect(softRow.current.recoveredInTotal).toEqual([usd(48_520)]);
    // Proposed: 2/9, 1/3, then 4/23 from the class (nothing this late, retry 3 too few) →
    // 1 − 14/27 · 19/23 = 355/621 = 0.5716586 → 571,659 ppm → 5,716.59 ¢ → 5,717 ¢. 8 × 5,717 + 2,222 = 47,958 ¢.
    expect(softRow.proposed.recoveredByRetries).toEqual([usd(47_958)]);
    expect(softRow.proposed.recoveredInTotal).toEqual([usd(55_736)]);
  });

  it('counts the attempts each schedule makes', () => {
    // Planned: 8 failures × 4 + 1 (client paid) = 33 now; 8 × 3 + 1 = 25 proposed.
    expect(softRow.current.plannedRetries).toBe(33);
    expect(softRow.proposed.plannedRetries).toBe(25);
    // Expected (a retry after one that collected is not made): 1 + 7/9 + 14/27 + 14/27 = 76/27 per full
    // replay, 1 for the client-paid one → 8 · 76/27 + 1; proposed 1 + 7/9 + 14/27 = 62/27 → 8 · 62/27 + 1.
    expect(softRow.current.expectedRetries).toBeCloseTo((8 * 76) / 27 + 1, 9);
    expect(softRow.proposed.expectedRetries).toBeCloseTo((8 * 62) / 27 + 1, 9);
    expect(softRow.proposed.basis).toEqual({ elapsed: 17, retry_number: 0, class: 8 });
    expect(softRow.actual).toEqual({ retries: 23, recoveredByRetries: [usd(40_000)], recoveredInTotal: [usd(50_000)] });
  });

  it('gives each past failure its retries and expected recovery under both schedules', () => {
    const full = result.perFailure.find((x) => x.failure === soft[5])!;
    expect(full.proposed.replay.retries.map((r) => r.at)).toEqual([RETRY_AT[0], RETRY_AT[1], at('2026-03-16T14:00:00')]);
    expect(full.current.estimate!.expected).toEqual(usd(4_815));
    expect(full.proposed.estimate!.expected).toEqual(usd(5_717));
    const paid = result.perFailure.find((x) => x.failure === soft[4])!;
    expect(paid.proposed.estimate!.expected).toEqual(usd(2_222));
    expect(result.perFailure.find((x) => x.failure === technical)!.proposed.estimate).toBeNull();
  });

  it('leaves hard, fix-data and thin classes out of the expected amounts, and says so', () => {
    const row = (c: string) => result.classes.find((x) => x.class === c)!;
    expect(row('hard').proposed).toMatchObject({ plannedRetries: 0, recoveredByRetries: [usd(0)], recoveredInTotal: [usd(10_000)] });
    expect(row('fix_data').proposed).toMatchObject({ plannedRetries: 0, recoveredByRetries: [usd(0)], recoveredInTotal: [usd(0)] });
    // Technical: 3 retries planned (15 min, 1 h, 6 h), but one failure cannot give a rate.
    expect(row('technical')).toMatchObject({ notEstimated: 1, proposed: { plannedRetries: 3, recoveredByRetries: [] } });
    expect(result.totals.notEstimated).toBe(1);
    expect(result.totals.proposed.recoveredByRetries).toEqual([usd(47_958)]);
    expect(result.totals.actual.recoveredByRetries).toEqual([money(5_000, 'CAD'), usd(40_000)]);
  });
});
