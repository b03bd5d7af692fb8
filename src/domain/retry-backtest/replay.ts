// One past failure replayed under a schedule: which retries that schedule would have made, asked of the
// real retry policy (rules/retry-policy.ts nextRetry: the same business-day calendar, per-code limits and
// per-card network limits the retry job uses), each retry assumed to be declined again with the same code
// so the next one is planned — the chance that it would have collected instead comes from rates.ts.
import { nextRetry, type CardAttempt, type NoRetryReason, type RetrySchedule } from '../rules/index.ts';
import type { PastFailure } from './history.ts';

export interface ReplayedRetry {
  readonly retryNumber: number;
  readonly at: Date;
  /** Limit rules (network or Settle's cap) that refused the scheduled time and pushed the retry later. */
  readonly deferredBy: readonly string[];
}

export type ReplayStop =
  | { readonly kind: 'rule'; readonly reason: NoRetryReason; readonly detail: string }
  /** The money came in another way (or was written off) before the next retry would have been made. */
  | { readonly kind: 'closed'; readonly at: Date }
  | { readonly kind: 'not_scheduled'; readonly detail: string };

export interface Replay {
  readonly retries: readonly ReplayedRetry[];
  readonly stop: ReplayStop;
  /** Retries the schedule asked for that a rule refused: the decline code's own retry limit, a hard card. */
  readonly refusedByCode: number;
  /** Retries whose scheduled time the card limits (Visa, Mastercard, Settle's 10 in 30 days) refused. */
  readonly refusedByCardLimits: number;
}

/** Time after which the replay stops asking: no schedule step is beyond 30 business days (retry-settings.ts). */
const HORIZON_MS = 90 * 86_400_000;

export function replayFailure(f: PastFailure, schedule: RetrySchedule): Replay {
  if (f.class === 'ach_return')
    return {
      retries: [],
      stop: { kind: 'not_scheduled', detail: 'bank debit returns are presented again under NACHA rules, not this schedule' },
      refusedByCode: 0,
      refusedByCardLimits: 0,
    };
  const closedAt = f.outcome.kind === 'client_fixed' || f.outcome.kind === 'written_off' ? f.outcome.at : null;
  const own: CardAttempt[] = [{ at: f.firstAttemptAt, paymentRef: f.id, amount: f.amount, outcome: 'declined', declineCode: f.declineCode }];
  const retries: ReplayedRetry[] = [];
  let refusedByCardLimits = 0;
  for (;;) {
    const now = own[own.length - 1]!.at;
    // What the retry job knows when it decides: attempts made so far, on this payment and on the card.
    const history = [...f.otherAttemptsOnCard.filter((a) => a.at.getTime() <= now.getTime()), ...own];
    const d = nextRetry({ brand: f.brand, paymentRef: f.id, history, class: f.class, schedule, now });
    if (!d.retry) {
      const plan = f.class === 'soft' ? schedule.soft : f.class === 'technical' ? schedule.technical : null;
      const left = plan ? Math.max(0, plan.steps.length - retries.length) : 0;
      const refusedByCode = d.reason === 'code_retry_limit' || d.reason === 'card_hard_declined' ? left : 0;
      return { retries, stop: { kind: 'rule', reason: d.reason, detail: d.detail }, refusedByCode, refusedByCardLimits };
    }
    if (d.deferredBy.length > 0) refusedByCardLimits++;
    if (closedAt && d.at.getTime() >= closedAt.getTime()) return { retries, stop: { kind: 'closed', at: closedAt }, refusedByCode: 0, refusedByCardLimits };
    if (d.at.getTime() - f.firstAttemptAt.getTime() > HORIZON_MS)
      return { retries, stop: { kind: 'not_scheduled', detail: 'the card limits pushed the next retry past 90 days' }, refusedByCode: 0, refusedByCardLimits };
    retries.push({ retryNumber: d.retryNumber, at: d.at, deferredBy: d.deferredBy });
    own.push({ at: d.at, paymentRef: f.id, amount: f.amount, outcome: 'declined', declineCode: f.declineCode });
  }
}
