// When to try a declined card again (payments-rules.md §0.4, §3). Pure: the caller passes this
// tenant's attempts on the card, the tenant schedule and the clock; the answer is a value with a
// reason, never an exception, so the worker can record why it stopped.
import type { Money } from '../money.ts';
import { atTimeOfDay, utcDateOf } from './calendar-date.ts';
import { classifyDecline, stricter, type DeclineClass } from './decline-codes.ts';
import { retryLimitsInForce } from './retry-limits.ts';
import { LONG_STANDING, type RuleRow } from './rule-row.ts';
import { addBankingDays, isBankingDay, onOrAfterBankingDay } from './us-banking-calendar.ts';

/** Outcomes of a charge attempt (ARCHITECTURE.md: succeeded, declined, not-sent, unknown; plus in-flight states). */
export type AttemptOutcome = 'succeeded' | 'declined' | 'not_sent' | 'unknown' | 'processing' | 'requires_action';

export interface CardAttempt {
  readonly at: Date;
  /** Our payment the attempt belongs to; its attempts fix the position in the schedule. */
  readonly paymentRef: string;
  readonly amount: Money;
  readonly outcome: AttemptOutcome;
  readonly declineCode?: string | null;
  readonly adviceCode?: string | null;
  readonly merchantAdviceCode?: string | null;
}

export type RetryStep = { readonly businessDays: number } | { readonly minutes: number };

export interface RetryPlan {
  /** Steps are offsets from the payment's first attempt, or from the attempt just declined. */
  readonly anchor: 'first_attempt' | 'previous_attempt';
  readonly steps: readonly RetryStep[];
}

/** Per-tenant schedule. Hard and fix-data declines have none by rule. */
export interface RetrySchedule {
  readonly soft: RetryPlan;
  readonly technical: RetryPlan;
}

/** §3.3 proposed default: soft +1/+3/+5/+7 business days, technical +15 min/+1 h/+6 h. */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  soft: { anchor: 'first_attempt', steps: [{ businessDays: 1 }, { businessDays: 3 }, { businessDays: 5 }, { businessDays: 7 }] },
  technical: { anchor: 'first_attempt', steps: [{ minutes: 15 }, { minutes: 60 }, { minutes: 360 }] },
};

const POLICY = {
  unknownNeverRetried: {
    id: 'retry:unknown-outcome-never-retried',
    source: 'ARCHITECTURE.md#connectors (no retry acts on an unknown)',
    ref: '§0.4',
    effectiveFrom: LONG_STANDING,
  },
  hardNeverRetried: {
    id: 'retry:hard-decline-never-retried',
    source: 'https://developers.getevolved.com/enterprise/docs/visas-processing-integrity-fee-program',
    ref: '§0.4, §3.2',
    effectiveFrom: LONG_STANDING,
  },
  businessDays: { id: 'retry:business-days', source: 'https://www.frbservices.org/about/holiday-schedules', ref: '§3.3', effectiveFrom: LONG_STANDING },
} as const satisfies Record<string, RuleRow>;

export type NoRetryReason =
  | 'no_attempts'
  | 'unknown_outcome'
  | 'already_succeeded'
  | 'in_flight'
  | 'not_declined'
  | 'hard_decline'
  | 'card_hard_declined'
  | 'needs_new_card_data'
  | 'code_retry_limit'
  | 'schedule_exhausted';

export type RetryDecision =
  | {
      readonly retry: true;
      readonly at: Date;
      /** 1 for the first retry of this payment. */
      readonly retryNumber: number;
      readonly class: DeclineClass;
      /** Limit rules that pushed `at` later than the schedule asked. */
      readonly deferredBy: readonly string[];
      readonly rulesApplied: readonly string[];
    }
  | { readonly retry: false; readonly reason: NoRetryReason; readonly detail: string; readonly rulesApplied: readonly string[] };

export interface NextRetryInput {
  readonly brand: string;
  readonly paymentRef: string;
  /** This tenant's attempts on this card, any payment, any order. */
  readonly history: readonly CardAttempt[];
  /** Class decided by the caller; the stricter of this and the latest decline's own class is used. */
  readonly class?: DeclineClass;
  readonly schedule: RetrySchedule;
  readonly now: Date;
}

const MINUTE = 60_000;
const no = (reason: NoRetryReason, detail: string, rulesApplied: readonly string[] = []): RetryDecision => ({ retry: false, reason, detail, rulesApplied });
const reachedProcessor = (a: CardAttempt): boolean => a.outcome !== 'not_sent';
const later = (a: Date, b: Date): Date => (a.getTime() >= b.getTime() ? a : b);

function stepTime(base: Date, step: RetryStep): Date {
  if ('minutes' in step) return new Date(base.getTime() + step.minutes * MINUTE);
  return atTimeOfDay(addBankingDays(utcDateOf(base), step.businessDays), base);
}

/** Earliest instant ≥ t at which one more try keeps every limit in force; returns the ids that deferred it. Reads only `brand` and `history` of the input (the retry job re-checks the limits at run time with it). */
export function applyLimits(t: Date, input: NextRetryInput, amount: Money): { at: Date; deferredBy: string[]; checked: string[] } {
  const brand = input.brand;
  let at = t;
  const deferredBy = new Set<string>();
  const checked = new Set<string>();
  // A deferral can cross an effective date (Visa 15 → 20), so settle on a fixed point.
  for (let i = 0; i < 4; i++) {
    const limits = retryLimitsInForce(brand, utcDateOf(at));
    let next = at;
    for (const limit of limits) {
      checked.add(limit.id);
      const counted = input.history
        .filter(reachedProcessor)
        .filter((a) => (limit.counts === 'declines' ? a.outcome === 'declined' : true))
        .filter((a) => !limit.sameAmountOnly || (a.amount.currency === amount.currency && a.amount.amountMinor === amount.amountMinor))
        .map((a) => a.at.getTime())
        .sort((x, y) => y - x);
      // One more try at time T is within the limit iff fewer than max tries fall in (T − window, T]:
      // the max-th most recent try must be at or before T − window.
      const kth = counted[limit.maxInWindow - 1];
      if (kth === undefined) continue;
      const free = new Date(kth + limit.windowMinutes * MINUTE);
      if (free.getTime() > next.getTime()) {
        next = free;
        deferredBy.add(limit.id);
      }
    }
    if (next.getTime() === at.getTime()) break;
    at = next;
  }
  return { at, deferredBy: [...deferredBy], checked: [...checked] };
}

/**
 * The next try for a declined payment, or why there is none. Order of checks: an unknown or
 * successful attempt stops everything; hard declines (this payment's or any earlier one on the card)
 * and fix-data declines are never retried; then the per-code retry limit, the tenant schedule, the
 * decline's own minimum wait, and the per-card limits (network and our 10 per 30 days), which defer
 * the try until it fits. Business-day steps land on US banking days (UTC calendar dates).
 */
export function nextRetry(input: NextRetryInput): RetryDecision {
  const attempts = input.history.filter((a) => a.paymentRef === input.paymentRef).sort((a, b) => a.at.getTime() - b.at.getTime());
  if (attempts.length === 0) return no('no_attempts', `no attempts recorded for payment ${input.paymentRef}`);
  if (attempts.some((a) => a.outcome === 'unknown')) {
    return no('unknown_outcome', 'an attempt has an unknown outcome; resolve it with the processor before any retry', [POLICY.unknownNeverRetried.id]);
  }
  if (attempts.some((a) => a.outcome === 'succeeded')) return no('already_succeeded', 'the payment already succeeded');
  const sent = attempts.filter(reachedProcessor);
  const latest = sent[sent.length - 1];
  if (!latest) return no('not_declined', 'no attempt reached the processor; resend the original attempt instead of retrying');
  if (latest.outcome === 'processing' || latest.outcome === 'requires_action') return no('in_flight', `the latest attempt is ${latest.outcome}`);
  if (latest.outcome !== 'declined') return no('not_declined', `the latest attempt is ${latest.outcome}`);

  const decline = classifyDecline({
    declineCode: latest.declineCode ?? null,
    adviceCode: latest.adviceCode ?? null,
    merchantAdviceCode: latest.merchantAdviceCode ?? null,
  });
  const cls = input.class ? stricter(input.class, decline.class) : decline.class;
  const applied = [...decline.rulesApplied];

  if (cls === 'hard')
    return no('hard_decline', `decline ${latest.declineCode ?? '(no code)'} is hard: never retried`, [...applied, POLICY.hardNeverRetried.id]);
  const earlierHard = input.history.find(
    (a) =>
      a.outcome === 'declined' &&
      classifyDecline({ declineCode: a.declineCode ?? null, adviceCode: a.adviceCode ?? null, merchantAdviceCode: a.merchantAdviceCode ?? null }).class ===
        'hard',
  );
  if (earlierHard) {
    return no('card_hard_declined', `the card had a hard decline (${earlierHard.declineCode ?? 'advice code'}) on ${earlierHard.at.toISOString()}`, [
      ...applied,
      POLICY.hardNeverRetried.id,
    ]);
  }
  if (cls === 'fix_data')
    return no('needs_new_card_data', `decline ${latest.declineCode ?? ''} needs new card data or the customer; not retried automatically`, applied);

  const retriesSoFar = sent.length - 1;
  if (decline.maxRetries !== null && retriesSoFar >= decline.maxRetries) {
    return no(
      'code_retry_limit',
      `${latest.declineCode} allows ${decline.maxRetries} retr${decline.maxRetries === 1 ? 'y' : 'ies'}; ${retriesSoFar} done`,
      applied,
    );
  }
  const plan = cls === 'soft' ? input.schedule.soft : input.schedule.technical;
  const step = plan.steps[retriesSoFar];
  if (!step) return no('schedule_exhausted', `the ${cls} schedule has ${plan.steps.length} retries; ${retriesSoFar} done`, applied);

  const first = sent[0] ?? latest;
  let at = stepTime(plan.anchor === 'first_attempt' ? first.at : latest.at, step);
  if (decline.minWaitMinutes !== null) at = later(at, new Date(latest.at.getTime() + decline.minWaitMinutes * MINUTE));
  at = later(at, input.now);

  const limited = applyLimits(at, input, latest.amount);
  at = limited.at;
  if ('businessDays' in step) {
    applied.push(POLICY.businessDays.id);
    const day = utcDateOf(at);
    if (!isBankingDay(day)) at = atTimeOfDay(onOrAfterBankingDay(day), at);
  }
  return {
    retry: true,
    at,
    retryNumber: retriesSoFar + 1,
    class: cls,
    deferredBy: limited.deferredBy,
    rulesApplied: [...applied, ...limited.checked],
  };
}
