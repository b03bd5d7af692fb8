// What Settle does after an off-session payment fails: retry it (when, and why), or not (and why). Pure:
// the caller passes the attempts, the tenant's schedule and the clock. The rules themselves live in
// domain/rules (decline classes §3.1, nextRetry and the per-card limits §3.2–3.3, ACH reinitiation §2.5);
// this module only chooses which of them applies and turns the answer into one shape the engine stores.
import type { Money } from './money.ts';
import {
  achReinitiation,
  achReturnCode,
  applyLimits,
  atTimeOfDay,
  classifyDecline,
  LONG_STANDING,
  nextRetry,
  utcDateOf,
  type CardAttempt,
  type IsoDate,
  type RetrySchedule,
  type RuleRow,
} from './rules/index.ts';

export type FailureClass = 'hard' | 'soft' | 'fix_data' | 'technical' | 'ach_return';

export type FailureDecision =
  | {
      readonly retry: true;
      readonly at: Date;
      readonly retryNumber: number;
      readonly failureClass: FailureClass;
      readonly returnCode: string | null;
      /** ACH reinitiation must present the identical amount (§2.5); a card retry may follow the open balance. */
      readonly exactAmount: boolean;
      readonly reason: string;
      readonly detail: string;
      readonly rulesApplied: readonly string[];
    }
  | {
      readonly retry: false;
      readonly failureClass: FailureClass;
      readonly returnCode: string | null;
      readonly reason: string;
      readonly detail: string;
      readonly rulesApplied: readonly string[];
    };

/**
 * Stripe reports a failed ACH Direct Debit with a failure code, not the NACHA return code behind it
 * (docs.stripe.com/payments/ach-direct-debit, "failed payments"; our simulator notes the same codes per
 * test account). The rows below name the return code each stands for; R01 covers R09 too (both are
 * "not enough money", §2.4), and debit_not_authorized is the unauthorized family (R05/R07/R10/R29) —
 * R10 is used as its representative, which is never reinitiated either way. Codes not listed here are
 * never retried.
 */
export interface StripeAchFailureRow extends RuleRow {
  readonly failureCode: string;
  readonly returnCode: string;
}
const STRIPE_ACH = 'https://docs.stripe.com/payments/ach-direct-debit';
const achRow = (failureCode: string, returnCode: string): StripeAchFailureRow => ({
  id: `stripe-ach-failure:${failureCode}`,
  source: STRIPE_ACH,
  ref: '§2.4, §2.8',
  effectiveFrom: LONG_STANDING,
  failureCode,
  returnCode,
});
export const STRIPE_ACH_FAILURE_CODES: readonly StripeAchFailureRow[] = [
  achRow('insufficient_funds', 'R01'),
  achRow('account_closed', 'R02'),
  achRow('no_account', 'R03'),
  achRow('invalid_account_number', 'R04'),
  achRow('debit_not_authorized', 'R10'),
  achRow('bank_account_restricted', 'R16'),
];

export function returnCodeOfStripeAchFailure(failureCode: string | null): StripeAchFailureRow | null {
  return STRIPE_ACH_FAILURE_CODES.find((r) => r.failureCode === failureCode) ?? null;
}

export interface CardFailureInput {
  readonly brand: string;
  /** The chain's id: its attempts fix the position in the schedule. */
  readonly chainRef: string;
  /** This tenant's attempts on this card (any payment), including the one that just failed. */
  readonly history: readonly CardAttempt[];
  readonly schedule: RetrySchedule;
  readonly now: Date;
}

export function decideCardFailure(input: CardFailureInput): FailureDecision {
  const d = nextRetry({ brand: input.brand, paymentRef: input.chainRef, history: input.history, schedule: input.schedule, now: input.now });
  const latest = [...input.history]
    .filter((a) => a.paymentRef === input.chainRef && a.outcome === 'declined')
    .sort((a, b) => b.at.getTime() - a.at.getTime())[0];
  const cls = latest
    ? classifyDecline({ declineCode: latest.declineCode ?? null, adviceCode: latest.adviceCode ?? null, merchantAdviceCode: latest.merchantAdviceCode ?? null })
        .class
    : 'hard';
  if (d.retry) {
    const deferred = d.deferredBy.length ? `; moved later by ${d.deferredBy.join(', ')}` : '';
    return {
      retry: true,
      at: d.at,
      retryNumber: d.retryNumber,
      failureClass: d.class,
      returnCode: null,
      exactAmount: false,
      reason: d.deferredBy.length ? 'retry_deferred_by_limit' : 'retry_scheduled',
      detail: `${d.class} decline: retry ${d.retryNumber} at ${d.at.toISOString()}${deferred}`,
      rulesApplied: [...d.rulesApplied, ...d.deferredBy],
    };
  }
  return { retry: false, failureClass: cls, returnCode: null, reason: d.reason, detail: d.detail, rulesApplied: d.rulesApplied };
}

export interface BankFailureInput {
  readonly failureCode: string | null;
  /** Returns of this same debit so far (its earlier presentments in the chain). */
  readonly previousReturns: readonly { readonly code: string; readonly returnedOn: IsoDate }[];
  /** Day the chain's first debit was presented (our stand-in for its settlement date with a processor). */
  readonly originalOn: IsoDate;
  readonly amount: Money;
  readonly companyName: string;
  readonly companyId: string;
  readonly now: Date;
}

export function decideBankFailure(input: BankFailureInput): FailureDecision {
  const mapped = returnCodeOfStripeAchFailure(input.failureCode);
  if (!mapped) {
    return {
      retry: false,
      failureClass: 'ach_return',
      returnCode: null,
      reason: 'unmapped_ach_failure',
      detail: `bank debit failed with "${input.failureCode ?? 'no code'}", which is not a return Settle may present again`,
      rulesApplied: [],
    };
  }
  const today = utcDateOf(input.now);
  const d = achReinitiation({
    code: mapped.returnCode,
    returnedOn: today,
    previousReturns: input.previousReturns,
    original: { settledOn: input.originalOn, companyName: input.companyName, companyId: input.companyId, amount: input.amount },
    now: today,
  });
  const rules = [mapped.id, ...d.rulesApplied];
  if (!d.allowed) {
    return { retry: false, failureClass: 'ach_return', returnCode: mapped.returnCode, reason: d.reason, detail: d.detail, rulesApplied: rules };
  }
  const at = atTimeOfDay(d.earliestOn, input.now);
  return {
    retry: true,
    at: at.getTime() < input.now.getTime() ? input.now : at,
    retryNumber: d.reinitiationNumber,
    failureClass: 'ach_return',
    returnCode: mapped.returnCode,
    exactAmount: true,
    reason: 'reinitiation_scheduled',
    detail: `${mapped.returnCode} (${achReturnCode(mapped.returnCode).description}): reinitiation ${d.reinitiationNumber} of ${2} on ${d.earliestOn} (last day ${d.latestOn})`,
    rulesApplied: rules,
  };
}

export type RunTimeCheck =
  | { readonly ok: true; readonly rulesApplied: readonly string[] }
  | { readonly ok: false; readonly stop: true; readonly reason: string; readonly detail: string }
  | { readonly ok: false; readonly stop: false; readonly until: Date; readonly deferredBy: readonly string[] };

/**
 * Just before a scheduled retry charges a card: the card must not have had a hard decline since, and one
 * more try now must fit every per-card limit (network limits and our 10 per 30 days, §3.2–3.3) — other
 * invoices' retries on the same card may have used the room since the retry was scheduled.
 */
export function checkCardRetryNow(input: { brand: string; history: readonly CardAttempt[]; amount: Money; now: Date }): RunTimeCheck {
  const hard = input.history.find(
    (a) =>
      a.outcome === 'declined' &&
      classifyDecline({ declineCode: a.declineCode ?? null, adviceCode: a.adviceCode ?? null, merchantAdviceCode: a.merchantAdviceCode ?? null }).class ===
        'hard',
  );
  if (hard)
    return {
      ok: false,
      stop: true,
      reason: 'card_hard_declined',
      detail: `the card had a hard decline (${hard.declineCode ?? 'advice code'}) on ${hard.at.toISOString()}`,
    };
  const limits = applyLimits(
    input.now,
    {
      brand: input.brand,
      paymentRef: '',
      history: input.history,
      schedule: { soft: { anchor: 'first_attempt', steps: [] }, technical: { anchor: 'first_attempt', steps: [] } },
      now: input.now,
    },
    input.amount,
  );
  if (limits.at.getTime() > input.now.getTime()) return { ok: false, stop: false, until: limits.at, deferredBy: limits.deferredBy };
  return { ok: true, rulesApplied: limits.checked };
}
