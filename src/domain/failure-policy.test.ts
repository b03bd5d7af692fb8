import { describe, expect, it } from 'vitest';
import { money } from './money.ts';
import { checkCardRetryNow, decideBankFailure, decideCardFailure, returnCodeOfStripeAchFailure } from './failure-policy.ts';
import type { CardAttempt, RetrySchedule } from './rules/index.ts';

const amount = money(50_000, 'USD');
const schedule: RetrySchedule = {
  soft: { anchor: 'first_attempt', steps: [{ businessDays: 1 }, { businessDays: 3 }, { businessDays: 7 }] },
  technical: { anchor: 'first_attempt', steps: [{ minutes: 15 }] },
};
const declined = (at: string, declineCode: string, paymentRef = 'chain-1'): CardAttempt => ({
  at: new Date(at),
  paymentRef,
  amount,
  outcome: 'declined',
  declineCode,
});

describe('decideCardFailure', () => {
  it('soft decline on a Friday: retry on Monday at the same time, step 1 of the tenant schedule', () => {
    const d = decideCardFailure({
      brand: 'visa',
      chainRef: 'chain-1',
      history: [declined('2026-05-01T14:00:00Z', 'insufficient_funds')],
      schedule,
      now: new Date('2026-05-01T14:00:01Z'),
    });
    expect(d).toMatchObject({
      retry: true,
      at: new Date('2026-05-04T14:00:00Z'),
      retryNumber: 1,
      failureClass: 'soft',
      reason: 'retry_scheduled',
      exactAmount: false,
    });
  });

  it('hard decline (stolen_card): never retried', () => {
    const d = decideCardFailure({
      brand: 'visa',
      chainRef: 'chain-1',
      history: [declined('2026-05-01T14:00:00Z', 'stolen_card')],
      schedule,
      now: new Date('2026-05-01T14:00:01Z'),
    });
    expect(d).toMatchObject({ retry: false, failureClass: 'hard', reason: 'hard_decline' });
  });

  it('the tenth try on a card in 30 days pushes the next retry until the oldest leaves the window', () => {
    const history = Array.from({ length: 10 }, (_, i) => declined(`2026-05-${String(4 + i).padStart(2, '0')}T10:00:00Z`, 'insufficient_funds', `other-${i}`));
    history.push(declined('2026-05-14T10:00:00Z', 'insufficient_funds', 'chain-1'));
    const d = decideCardFailure({ brand: 'visa', chainRef: 'chain-1', history, schedule, now: new Date('2026-05-14T10:00:01Z') });
    expect(d.retry).toBe(true);
    if (!d.retry) return;
    expect(d.reason).toBe('retry_deferred_by_limit');
    expect(d.rulesApplied).toContain('retry-limit:settle:10-per-30d');
    // the 10th most recent try is 05-05 10:00 → free from 06-04 10:00 (a Thursday banking day)
    expect(d.at.toISOString()).toBe('2026-06-04T10:00:00.000Z');
  });
});

describe('checkCardRetryNow', () => {
  it('refuses a card with a hard decline and defers a card at its limit', () => {
    expect(
      checkCardRetryNow({ brand: 'visa', history: [declined('2026-05-01T14:00:00Z', 'lost_card')], amount, now: new Date('2026-05-02T00:00:00Z') }),
    ).toMatchObject({ ok: false, stop: true, reason: 'card_hard_declined' });
    const ten = Array.from({ length: 10 }, (_, i) => declined(`2026-05-${String(4 + i).padStart(2, '0')}T10:00:00Z`, 'insufficient_funds', `p-${i}`));
    const r = checkCardRetryNow({ brand: 'mastercard', history: ten, amount, now: new Date('2026-05-20T00:00:00Z') });
    expect(r).toMatchObject({ ok: false, stop: false, until: new Date('2026-06-03T10:00:00Z') });
    expect(checkCardRetryNow({ brand: 'visa', history: ten.slice(1), amount, now: new Date('2026-05-20T00:00:00Z') })).toMatchObject({ ok: true });
  });
});

describe('decideBankFailure (Stripe ACH)', () => {
  const base = { originalOn: '2026-05-01', amount, companyName: 'Acme IT', companyId: 'stripe', now: new Date('2026-05-05T15:00:00Z') };

  it('insufficient_funds is R01: reinitiated +3 banking days, identical amount', () => {
    const d = decideBankFailure({ ...base, failureCode: 'insufficient_funds', previousReturns: [] });
    expect(d).toMatchObject({ retry: true, returnCode: 'R01', retryNumber: 1, exactAmount: true, at: new Date('2026-05-08T15:00:00Z') });
  });

  it('at most two reinitiations; unauthorized and unmapped failures never', () => {
    const twice = [
      { code: 'R01', returnedOn: '2026-05-05' },
      { code: 'R01', returnedOn: '2026-05-12' },
    ];
    expect(decideBankFailure({ ...base, failureCode: 'insufficient_funds', previousReturns: twice })).toMatchObject({ retry: false, reason: 'limit_reached' });
    expect(decideBankFailure({ ...base, failureCode: 'debit_not_authorized', previousReturns: [] })).toMatchObject({
      retry: false,
      returnCode: 'R10',
      reason: 'not_reinitiable',
    });
    expect(decideBankFailure({ ...base, failureCode: 'invalid_currency', previousReturns: [] })).toMatchObject({
      retry: false,
      returnCode: null,
      reason: 'unmapped_ach_failure',
    });
    expect(returnCodeOfStripeAchFailure('account_closed')?.returnCode).toBe('R02');
  });
});
