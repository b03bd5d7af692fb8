import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { money } from '../money.ts';
import { utcDateOf } from './calendar-date.ts';
import { nextRetry, type CardAttempt, type NextRetryInput, type RetrySchedule } from './retry-policy.ts';
import { isBankingDay } from './us-banking-calendar.ts';

const DAY = 86_400_000;
const amount = money(25_000, 'USD');
const schedule: RetrySchedule = {
  soft: { anchor: 'first_attempt', steps: [{ businessDays: 1 }, { businessDays: 3 }, { businessDays: 7 }] },
  technical: { anchor: 'first_attempt', steps: [{ minutes: 15 }, { minutes: 60 }] },
};
const declined = (at: string, declineCode: string, paymentRef = 'pay_1', extra: Partial<CardAttempt> = {}): CardAttempt => ({
  at: new Date(at),
  paymentRef,
  amount,
  outcome: 'declined',
  declineCode,
  ...extra,
});
const input = (history: CardAttempt[], now: string, over: Partial<NextRetryInput> = {}): NextRetryInput => ({
  brand: 'visa',
  paymentRef: 'pay_1',
  history,
  schedule,
  now: new Date(now),
  ...over,
});

describe('nextRetry', () => {
  it('retries a soft decline on the next business day at the same time (Friday → Monday)', () => {
    const d = nextRetry(input([declined('2026-05-01T14:00:00Z', 'insufficient_funds')], '2026-05-01T14:00:05Z'));
    expect(d).toMatchObject({ retry: true, retryNumber: 1, class: 'soft', at: new Date('2026-05-04T14:00:00Z'), deferredBy: [] });
  });

  it('skips US banking holidays (Memorial Day 2026-05-25)', () => {
    const d = nextRetry(input([declined('2026-05-22T09:00:00Z', 'insufficient_funds')], '2026-05-22T09:01:00Z'));
    expect(d).toMatchObject({ retry: true, at: new Date('2026-05-26T09:00:00Z') });
  });

  it('counts steps from the first attempt: +1, +3, +7 business days, then stops', () => {
    const h = [declined('2026-05-01T14:00:00Z', 'insufficient_funds'), declined('2026-05-04T14:00:00Z', 'insufficient_funds')];
    expect(nextRetry(input(h, '2026-05-04T14:01:00Z'))).toMatchObject({ retry: true, retryNumber: 2, at: new Date('2026-05-06T14:00:00Z') });
    h.push(declined('2026-05-06T14:00:00Z', 'insufficient_funds'));
    expect(nextRetry(input(h, '2026-05-06T14:01:00Z'))).toMatchObject({ retry: true, retryNumber: 3, at: new Date('2026-05-12T14:00:00Z') });
    h.push(declined('2026-05-12T14:00:00Z', 'insufficient_funds'));
    expect(nextRetry(input(h, '2026-05-12T14:01:00Z'))).toMatchObject({ retry: false, reason: 'schedule_exhausted' });
  });

  it('when the step is already past (worker was down), retries now — moved to a banking day for day-based steps', () => {
    const d = nextRetry(input([declined('2026-05-01T14:00:00Z', 'insufficient_funds')], '2026-05-09T08:00:00Z')); // Saturday
    expect(d).toMatchObject({ retry: true, at: new Date('2026-05-11T08:00:00Z') });
  });

  it('never retries a hard decline, nor any card that had one', () => {
    expect(nextRetry(input([declined('2026-05-01T14:00:00Z', 'lost_card')], '2026-05-01T15:00:00Z'))).toMatchObject({ retry: false, reason: 'hard_decline' });
    expect(
      nextRetry(
        input([declined('2026-05-01T14:00:00Z', 'insufficient_funds', 'pay_1', { merchantAdviceCode: '03' })], '2026-05-01T15:00:00Z', { brand: 'mastercard' }),
      ),
    ).toMatchObject({ retry: false, reason: 'hard_decline' });
    const h = [declined('2026-04-20T14:00:00Z', 'pickup_card', 'pay_0'), declined('2026-05-01T14:00:00Z', 'insufficient_funds')];
    expect(nextRetry(input(h, '2026-05-01T15:00:00Z'))).toMatchObject({ retry: false, reason: 'card_hard_declined' });
    // The caller's class can only make the decision stricter.
    expect(nextRetry(input([declined('2026-05-01T14:00:00Z', 'insufficient_funds')], '2026-05-01T15:00:00Z', { class: 'hard' }))).toMatchObject({
      retry: false,
      reason: 'hard_decline',
    });
    expect(nextRetry(input([declined('2026-05-01T14:00:00Z', 'lost_card')], '2026-05-01T15:00:00Z', { class: 'soft' }))).toMatchObject({
      retry: false,
      reason: 'hard_decline',
    });
  });

  it('never retries when an attempt of the payment has an unknown outcome', () => {
    const h = [{ ...declined('2026-05-01T14:00:00Z', 'x'), outcome: 'unknown' as const }, declined('2026-05-01T15:00:00Z', 'insufficient_funds')];
    expect(nextRetry(input(h, '2026-05-01T16:00:00Z'))).toMatchObject({ retry: false, reason: 'unknown_outcome' });
  });

  it('does not retry succeeded, in-flight or fix-data payments', () => {
    const ok = { ...declined('2026-05-01T14:00:00Z', 'x'), outcome: 'succeeded' as const };
    expect(nextRetry(input([declined('2026-05-01T13:00:00Z', 'insufficient_funds'), ok], '2026-05-02T00:00:00Z'))).toMatchObject({
      retry: false,
      reason: 'already_succeeded',
    });
    expect(nextRetry(input([{ ...ok, outcome: 'processing' }], '2026-05-02T00:00:00Z'))).toMatchObject({ retry: false, reason: 'in_flight' });
    expect(nextRetry(input([declined('2026-05-01T14:00:00Z', 'expired_card')], '2026-05-02T00:00:00Z'))).toMatchObject({
      retry: false,
      reason: 'needs_new_card_data',
    });
    expect(nextRetry(input([], '2026-05-02T00:00:00Z'))).toMatchObject({ retry: false, reason: 'no_attempts' });
  });

  it('stops at the per-code limit (restricted_card: one retry)', () => {
    const h = [declined('2026-05-01T14:00:00Z', 'restricted_card')];
    expect(nextRetry(input(h, '2026-05-01T15:00:00Z'))).toMatchObject({ retry: true });
    h.push(declined('2026-05-04T14:00:00Z', 'restricted_card'));
    expect(nextRetry(input(h, '2026-05-04T15:00:00Z'))).toMatchObject({ retry: false, reason: 'code_retry_limit' });
  });

  it("uses the technical plan in minutes, and a decline's minimum wait when longer", () => {
    expect(nextRetry(input([declined('2026-05-02T10:00:00Z', 'processing_error')], '2026-05-02T10:00:01Z'))).toMatchObject({
      retry: true,
      class: 'technical',
      at: new Date('2026-05-02T10:15:00Z'),
    });
    expect(nextRetry(input([declined('2026-05-02T10:00:00Z', 'issuer_not_available')], '2026-05-02T10:00:01Z'))).toMatchObject({
      retry: true,
      at: new Date('2026-05-02T11:00:00Z'),
    });
  });

  it('honours a Mastercard retry-after advice code (MAC 27: 4 days)', () => {
    const d = nextRetry(
      input([declined('2026-05-04T10:00:00Z', 'insufficient_funds', 'pay_1', { merchantAdviceCode: '27' })], '2026-05-04T10:01:00Z', { brand: 'mastercard' }),
    );
    expect(d).toMatchObject({ retry: true, at: new Date('2026-05-08T10:00:00Z') });
  });

  it('defers past the 10-tries-per-card-per-30-days cap until the oldest try leaves the window', () => {
    const others = Array.from({ length: 10 }, (_, i) =>
      declined(new Date(Date.parse('2026-04-13T12:00:00Z') + i * DAY).toISOString(), 'insufficient_funds', `pay_other_${i}`),
    );
    const h = [...others, declined('2026-05-01T14:00:00Z', 'insufficient_funds')];
    const d = nextRetry(input(h, '2026-05-01T14:01:00Z'));
    // 11 tries in the window (10 others + this payment's first): the next try fits only once two have
    // left it, i.e. the second-oldest (2026-04-14T12:00Z) + 30 days = 2026-05-14T12:00Z (a Thursday).
    expect(d).toMatchObject({ retry: true, at: new Date('2026-05-14T12:00:00Z'), deferredBy: ['retry-limit:settle:10-per-30d'] });
  });

  it('does not count not-sent attempts against the caps', () => {
    const notSent = Array.from({ length: 12 }, (_, i) => ({
      ...declined(new Date(Date.parse('2026-04-20T12:00:00Z') + i * 3_600_000).toISOString(), 'x', `pay_n${i}`),
      outcome: 'not_sent' as const,
    }));
    const d = nextRetry(input([...notSent, declined('2026-05-01T14:00:00Z', 'insufficient_funds')], '2026-05-01T14:01:00Z'));
    expect(d).toMatchObject({ retry: true, deferredBy: [] });
  });

  it('property: a retry is never for hard/unknown, never before now, on a banking day, and within 10 tries per 30 days', () => {
    const codes = ['insufficient_funds', 'do_not_honor', 'generic_decline', 'processing_error', 'lost_card', 'expired_card', 'card_velocity_exceeded'];
    const attempt = fc.record({
      offsetMin: fc.integer({ min: 0, max: 60 * 24 * 40 }),
      code: fc.constantFrom(...codes),
      outcome: fc.constantFrom('declined', 'declined', 'declined', 'unknown', 'not_sent') as fc.Arbitrary<CardAttempt['outcome']>,
      mine: fc.boolean(),
    });
    const start = Date.parse('2026-03-01T00:00:00Z');
    fc.assert(
      fc.property(
        fc.array(attempt, { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 0, max: 60 * 24 * 5 }),
        fc.constantFrom('visa', 'mastercard', 'amex'),
        (raw, lagMin, brand) => {
          const history: CardAttempt[] = raw.map((a, i) => ({
            at: new Date(start + a.offsetMin * 60_000),
            paymentRef: a.mine ? 'pay_1' : `pay_${i}`,
            amount,
            outcome: a.outcome,
            declineCode: a.code,
          }));
          const lastAt = Math.max(...history.map((a) => a.at.getTime()));
          const now = new Date(lastAt + lagMin * 60_000);
          const d = nextRetry({ brand, paymentRef: 'pay_1', history, schedule, now });
          if (!d.retry) return;
          const mine = history.filter((a) => a.paymentRef === 'pay_1');
          expect(mine.some((a) => a.outcome === 'unknown')).toBe(false);
          expect(history.some((a) => a.outcome === 'declined' && ['lost_card'].includes(a.declineCode ?? ''))).toBe(false);
          expect(d.at.getTime()).toBeGreaterThanOrEqual(now.getTime());
          if (d.class === 'soft') expect(isBankingDay(utcDateOf(d.at))).toBe(true);
          const inWindow = history.filter((a) => a.outcome !== 'not_sent' && a.at.getTime() > d.at.getTime() - 30 * DAY);
          expect(inWindow.length).toBeLessThan(10);
        },
      ),
      { numRuns: 400 },
    );
  });
});
