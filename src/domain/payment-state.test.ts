import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PAYMENT_EVENTS,
  PAYMENT_STATES,
  PROCESSOR_CONFIRMATIONS,
  TERMINAL_STATES,
  afterDisputeWon,
  allowedEvents,
  applyPaymentEvent,
  countsAsCollected,
  isTerminal,
  replayPaymentEvents,
  type PaymentEvent,
  type PaymentState,
} from './payment-state.ts';

// The intended edges written out independently of the implementation's table, so that a stray edit
// to the table (an extra edge out of a terminal state, say) fails here.
const EXPECTED_EDGES = new Set([
  'pending -charge_submitted-> processing',
  'pending -charge_succeeded-> succeeded',
  'pending -charge_declined-> failed',
  'pending -attempt_declined-> pending',
  'pending -outcome_unknown-> unknown',
  'processing -charge_succeeded-> succeeded',
  'processing -charge_declined-> failed',
  'processing -outcome_unknown-> unknown',
  'processing -ach_returned-> failed',
  'unknown -charge_submitted-> processing',
  'unknown -charge_succeeded-> succeeded',
  'unknown -charge_declined-> failed',
  'unknown -outcome_unknown-> unknown',
  'succeeded -refund_partial-> partially_refunded',
  'succeeded -refund_full-> refunded',
  'succeeded -ach_returned-> returned',
  'succeeded -dispute_opened-> disputed',
  'partially_refunded -refund_partial-> partially_refunded',
  'partially_refunded -refund_full-> refunded',
  'partially_refunded -ach_returned-> returned',
  'partially_refunded -dispute_opened-> disputed',
  'disputed -dispute_won-> succeeded',
  'disputed -dispute_lost-> charged_back',
  'failed -charge_submitted-> processing',
  'failed -charge_succeeded-> succeeded',
]);

const stateArb = fc.constantFrom<PaymentState>(...PAYMENT_STATES);
const eventArb = fc.constantFrom<PaymentEvent>(...PAYMENT_EVENTS);

describe('payment transitions table', () => {
  it('accepts exactly the intended edges, for every state × event', () => {
    const accepted = new Set<string>();
    for (const s of PAYMENT_STATES) {
      for (const e of PAYMENT_EVENTS) {
        const r = applyPaymentEvent(s, e);
        if (r.ok) accepted.add(`${s} -${e}-> ${r.to}`);
        else expect(r.reason.length).toBeGreaterThan(0);
      }
    }
    expect([...accepted].sort()).toEqual([...EXPECTED_EDGES].sort());
  });

  it('has exactly the three terminal states (failed is not one: a later success of the same intent is recorded)', () => {
    expect([...TERMINAL_STATES].sort()).toEqual(['charged_back', 'refunded', 'returned']);
    expect(allowedEvents('failed')).toEqual(['charge_submitted', 'charge_succeeded']);
    expect(isTerminal('succeeded')).toBe(false);
    expect(allowedEvents('refunded')).toEqual([]);
  });

  it('reaches every state from pending', () => {
    const seen = new Set<PaymentState>(['pending']);
    let frontier: PaymentState[] = ['pending'];
    while (frontier.length > 0) {
      const next: PaymentState[] = [];
      for (const s of frontier) {
        for (const e of allowedEvents(s)) {
          const r = applyPaymentEvent(s, e);
          if (r.ok && !seen.has(r.to)) {
            seen.add(r.to);
            next.push(r.to);
          }
        }
      }
      frontier = next;
    }
    expect([...seen].sort()).toEqual([...PAYMENT_STATES].sort());
  });

  it('explains a refusal, naming final states as final', () => {
    const r = applyPaymentEvent('refunded', 'charge_succeeded');
    expect(r).toMatchObject({ ok: false, from: 'refunded', event: 'charge_succeeded' });
    expect(!r.ok && r.reason).toMatch(/final/);
    const r2 = applyPaymentEvent('pending', 'refund_full');
    expect(!r2.ok && r2.reason).toMatch(/allowed: charge_submitted/);
  });
});

describe('payment state properties', () => {
  const run = (start: PaymentState, events: readonly PaymentEvent[]) => {
    const steps: { from: PaymentState; event: PaymentEvent; to: PaymentState | null }[] = [];
    let state = start;
    for (const event of events) {
      const r = applyPaymentEvent(state, event);
      steps.push({ from: state, event, to: r.ok ? r.to : null });
      if (r.ok) state = r.to;
    }
    return steps;
  };

  it('no event sequence moves a payment except along an allowed edge, and never out of a terminal state', () => {
    fc.assert(
      fc.property(stateArb, fc.array(eventArb, { maxLength: 40 }), (start, events) => {
        for (const step of run(start, events)) {
          if (step.to === null) continue;
          expect(EXPECTED_EDGES.has(`${step.from} -${step.event}-> ${step.to}`)).toBe(true);
          expect(isTerminal(step.from)).toBe(false);
        }
      }),
    );
  });

  it('succeeded is entered only on the processor’s confirmation', () => {
    fc.assert(
      fc.property(stateArb, fc.array(eventArb, { maxLength: 40 }), (start, events) => {
        for (const step of run(start, events)) {
          if (step.to === 'succeeded' && step.from !== 'succeeded') {
            expect(PROCESSOR_CONFIRMATIONS.has(step.event)).toBe(true);
          }
        }
      }),
    );
  });

  it('an unknown payment is only resolved by a processor answer, never by a guess', () => {
    fc.assert(
      fc.property(eventArb, (event) => {
        const r = applyPaymentEvent('unknown', event);
        if (r.ok && r.to !== 'unknown') {
          expect(['charge_submitted', 'charge_succeeded', 'charge_declined']).toContain(event);
        }
      }),
    );
  });

  it('replay stops at the first refused event and reports it', () => {
    fc.assert(
      fc.property(stateArb, fc.array(eventArb, { maxLength: 20 }), (start, events) => {
        const { state, refused } = replayPaymentEvents(start, events);
        const steps = run(start, events);
        const firstRefusal = steps.findIndex((s) => s.to === null);
        if (firstRefusal === -1) {
          expect(refused).toBeNull();
          expect(state).toBe(steps.length === 0 ? start : steps[steps.length - 1]!.to);
        } else {
          expect(refused?.event).toBe(events[firstRefusal]);
          expect(state).toBe(steps[firstRefusal]!.from);
        }
      }),
    );
  });
});

describe('typical lives', () => {
  it('card: pending → succeeded → partially refunded → refunded', () => {
    const r = replayPaymentEvents('pending', ['charge_succeeded', 'refund_partial', 'refund_partial', 'refund_full']);
    expect(r).toEqual({ state: 'refunded', refused: null });
  });

  it('ACH: processing → succeeded → returned; a return before success is a failure', () => {
    expect(replayPaymentEvents('pending', ['charge_submitted', 'charge_succeeded', 'ach_returned']).state).toBe('returned');
    expect(replayPaymentEvents('pending', ['charge_submitted', 'ach_returned']).state).toBe('failed');
  });

  it('portal checkout: a declined card keeps it open, the next card in the same form succeeds; a late decline changes nothing', () => {
    expect(replayPaymentEvents('pending', ['attempt_declined', 'attempt_declined', 'charge_succeeded', 'attempt_declined', 'charge_declined'])).toMatchObject({
      state: 'succeeded',
      refused: { event: 'attempt_declined' },
    });
    expect(applyPaymentEvent('succeeded', 'charge_declined').ok).toBe(false);
    expect(applyPaymentEvent('failed', 'attempt_declined').ok).toBe(false);
  });

  it('a success the processor reports after a recorded failure is recorded', () => {
    expect(replayPaymentEvents('pending', ['charge_declined', 'charge_succeeded']).state).toBe('succeeded');
  });

  it('timeout → unknown → resolved by asking', () => {
    expect(replayPaymentEvents('pending', ['outcome_unknown', 'outcome_unknown', 'charge_succeeded']).state).toBe('succeeded');
    expect(replayPaymentEvents('pending', ['outcome_unknown', 'charge_submitted', 'charge_declined']).state).toBe('failed');
    expect(applyPaymentEvent('unknown', 'refund_full').ok).toBe(false);
  });

  it('disputes: won goes back to collected, lost is final', () => {
    expect(replayPaymentEvents('succeeded', ['dispute_opened', 'dispute_won']).state).toBe('succeeded');
    const lost = replayPaymentEvents('succeeded', ['dispute_opened', 'dispute_lost', 'dispute_won']);
    expect(lost.state).toBe('charged_back');
    expect(lost.refused?.event).toBe('dispute_won');
    expect(afterDisputeWon(0n)).toBe('succeeded');
    expect(afterDisputeWon(1n)).toBe('partially_refunded');
  });

  it('counts money against invoices only once collected (ACH processing is pending, §2.8)', () => {
    const collected = PAYMENT_STATES.filter(countsAsCollected).sort();
    expect(collected).toEqual(['disputed', 'partially_refunded', 'succeeded']);
  });
});
