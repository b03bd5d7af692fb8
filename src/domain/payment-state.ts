// A payment's life as data: one transitions table, read by `applyPaymentEvent`, the same shape as
// killbill's PaymentStates.xml and nango's task-state table. Adding a state or an event is a table
// edit the compiler checks (every state has a row; every event name is a key of the union).
//
// Rules behind the table:
// - ARCHITECTURE.md "Connectors": an attempt can end `unknown`; unknowns are resolved by asking the
//   processor, never by guessing, so nothing but a processor answer moves a payment out of `unknown`.
// - payments-rules.md §2.8: ACH goes pending → processing → succeeded, and can still come back after
//   success (a return; with Stripe, a late failure arrives as a dispute).
// - `succeeded` is only ever entered on the processor's word (charge_succeeded, or dispute_won, which
//   is the processor handing the disputed funds back).

export const PAYMENT_STATES = [
  'pending', // created on our side, not yet (known to be) at the processor
  'processing', // at the processor, outcome not yet known (ACH: up to 4 business days, §2.8)
  'unknown', // we asked and could not learn the outcome (timeout, crash); the janitor asks again
  'succeeded',
  'failed', // declined, or an ACH return before we ever saw success
  'partially_refunded',
  'refunded',
  'returned', // ACH return after success (§2.4): the bank took the money back
  'disputed', // chargeback / ACH dispute open: the processor has withdrawn the funds
  'charged_back', // dispute lost: the money is gone for good
] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];

export const PAYMENT_EVENTS = [
  'charge_submitted', // the processor accepted the charge and reports it processing
  'charge_succeeded',
  'charge_declined',
  // A confirmation the client made in the processor's hosted fields was declined, but the intent went back
  // to "requires a payment method" and the client can confirm it again in the same form (Stripe's
  // PaymentIntent lifecycle): the payment stays open, it has not failed.
  'attempt_declined',
  'outcome_unknown', // the call timed out / the process crashed before the answer was stored
  'refund_partial',
  'refund_full', // a refund that brings the refunded total to the full amount
  'ach_returned',
  'dispute_opened',
  'dispute_won',
  'dispute_lost',
] as const;
export type PaymentEvent = (typeof PAYMENT_EVENTS)[number];

type Row = Partial<Record<PaymentEvent, PaymentState>>;

/**
 * The only allowed edges. A missing entry means the event is not valid in that state.
 *
 * Choices worth knowing:
 * - pending → succeeded/failed directly: a card charge answers synchronously, no `processing` step.
 * - pending/processing → unknown: a timeout can happen on the first call or on a later status read.
 * - unknown → processing: asking the processor about an ACH debit can legitimately answer "processing".
 * - processing → failed on ach_returned: a NACHA return that arrives before we confirmed settlement
 *   means the money never arrived, which is a failure of this attempt, not a reversal (§2.4).
 * - partially_refunded → returned: an unauthorized-return window (R05/R07/R10: 60 days, §2.4) can
 *   outlive a partial refund; the return still takes the whole entry back.
 * - dispute_lost → charged_back, kept apart from `returned` because the books differ (dispute fee,
 *   dispute_losses; ledger.ts) and a lost dispute invalidates the mandate (§2.8).
 * - dispute_won → succeeded even when the payment had been partially refunded before the dispute:
 *   the refund amounts live with the refunds, so the refunded total stays right; the engine re-derives
 *   `partially_refunded` from them if it wants that label back (see `afterDisputeWon`).
 * - pending → pending on attempt_declined: a portal checkout whose intent the client holds (client
 *   secret in the hosted fields) is not over when one card is declined — Stripe returns the intent to
 *   requires_payment_method and the client may type another card into the same form. Only that kind of
 *   payment gets this event (engine/apply-processor-event.ts); a decline of a charge Settle confirmed
 *   itself is `charge_declined`, final for that payment.
 * - failed → succeeded on charge_succeeded: the processor's word that the money was taken outranks our
 *   earlier failure (a PaymentIntent's payment_failed is not final while it can be confirmed again), so
 *   a success that follows a recorded failure is recorded, never dropped. The engine refuses it when the
 *   failure had already reversed bookings (record-payment-outcome).
 * - failed → processing on charge_submitted, for the same reason: a bank debit that failed (insufficient
 *   funds) can be confirmed again by the client in the same hosted form and is then processing at the
 *   processor. Left `failed`, its money would not count as in flight and a second checkout could take it
 *   again (a double charge the soak found). Same guard as the late success.
 * - refunded, returned, charged_back are terminal: money questions after those are new payments, not edges.
 */
export const PAYMENT_TRANSITIONS: { readonly [S in PaymentState]: Readonly<Row> } = {
  pending: {
    charge_submitted: 'processing',
    charge_succeeded: 'succeeded',
    charge_declined: 'failed',
    attempt_declined: 'pending',
    outcome_unknown: 'unknown',
  },
  processing: {
    charge_succeeded: 'succeeded',
    charge_declined: 'failed',
    outcome_unknown: 'unknown',
    ach_returned: 'failed',
  },
  unknown: {
    charge_submitted: 'processing',
    charge_succeeded: 'succeeded',
    charge_declined: 'failed',
    outcome_unknown: 'unknown', // asked again, still no answer: stays unknown, never a guess
  },
  succeeded: {
    refund_partial: 'partially_refunded',
    refund_full: 'refunded',
    ach_returned: 'returned',
    dispute_opened: 'disputed',
  },
  partially_refunded: {
    refund_partial: 'partially_refunded',
    refund_full: 'refunded',
    ach_returned: 'returned',
    dispute_opened: 'disputed',
  },
  disputed: {
    dispute_won: 'succeeded',
    dispute_lost: 'charged_back',
  },
  failed: {
    charge_submitted: 'processing',
    charge_succeeded: 'succeeded',
  },
  refunded: {},
  returned: {},
  charged_back: {},
};

/** Events that carry the processor's own confirmation that the money is ours. */
export const PROCESSOR_CONFIRMATIONS: ReadonlySet<PaymentEvent> = new Set(['charge_succeeded', 'dispute_won']);

export const TERMINAL_STATES: ReadonlySet<PaymentState> = new Set(PAYMENT_STATES.filter((s) => Object.keys(PAYMENT_TRANSITIONS[s]).length === 0));

export function isTerminal(state: PaymentState): boolean {
  return TERMINAL_STATES.has(state);
}

export type TransitionResult =
  | { readonly ok: true; readonly from: PaymentState; readonly to: PaymentState }
  | { readonly ok: false; readonly from: PaymentState; readonly event: PaymentEvent; readonly reason: string };

export function applyPaymentEvent(state: PaymentState, event: PaymentEvent): TransitionResult {
  const to = PAYMENT_TRANSITIONS[state][event];
  if (to !== undefined) return { ok: true, from: state, to };
  const reason = isTerminal(state)
    ? `payment is ${state}, which is final; ${event} cannot change it`
    : `${event} is not valid for a ${state} payment (allowed: ${allowedEvents(state).join(', ')})`;
  return { ok: false, from: state, event, reason };
}

export function allowedEvents(state: PaymentState): PaymentEvent[] {
  return PAYMENT_EVENTS.filter((e) => PAYMENT_TRANSITIONS[state][e] !== undefined);
}

/** Run a sequence; stops at the first refused event. */
export function replayPaymentEvents(
  start: PaymentState,
  events: readonly PaymentEvent[],
): { readonly state: PaymentState; readonly refused: Extract<TransitionResult, { ok: false }> | null } {
  let state = start;
  for (const event of events) {
    const r = applyPaymentEvent(state, event);
    if (!r.ok) return { state, refused: r };
    state = r.to;
  }
  return { state, refused: null };
}

/** After a won dispute: `partially_refunded` when some of the payment had been refunded before. */
export function afterDisputeWon(refundedMinor: bigint): PaymentState {
  return refundedMinor > 0n ? 'partially_refunded' : 'succeeded';
}

/** Whether the client's money currently counts against the invoices it was allocated to. */
export function countsAsCollected(state: PaymentState): boolean {
  switch (state) {
    case 'succeeded':
    case 'partially_refunded':
    // An open dispute keeps the invoice paid: reopening it would let autopay or dunning chase the
    // client while the chargeback is still being argued. Only a lost dispute reopens it.
    case 'disputed':
      return true;
    // processing ACH is shown as "payment pending", not paid (§2.8).
    case 'pending':
    case 'processing':
    case 'unknown':
    case 'failed':
    case 'refunded':
    case 'returned':
    case 'charged_back':
      return false;
    default: {
      const _: never = state;
      return _;
    }
  }
}
