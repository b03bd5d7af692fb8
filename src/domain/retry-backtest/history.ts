// A workspace's past failed payments as the backtest reads them (docs/retry-backtest.md): one row per chain
// (the declined payment and Settle's automatic retries of it), its decline class, the retries actually made
// and what happened in the end. Pure data; the engine (engine/retry-backtest.ts) loads it from
// payment_failures, payments and payment_attempts.
import type { Money } from '../money.ts';
import type { CardAttempt, DeclineClass } from '../rules/index.ts';

/** Card classes from decline-codes.ts, plus bank-debit returns (their reinitiation follows NACHA, not the schedule). */
export type FailureClass = DeclineClass | 'ach_return';

export const FAILURE_CLASSES: readonly FailureClass[] = ['soft', 'technical', 'fix_data', 'hard', 'ach_return'];

/** Classes the tenant schedule governs; hard and fix-data declines are never retried (§0.4), bank returns follow §2.5. */
export const SCHEDULED_CLASSES: readonly FailureClass[] = ['soft', 'technical'];

export type PastOutcome =
  /** An automatic retry collected it: `retryNumber` 1 is the first retry. */
  | { readonly kind: 'retry_recovered'; readonly retryNumber: number; readonly at: Date }
  /** Paid another way after the failure: a new method saved through the update link, the portal, or paid outside Settle. */
  | { readonly kind: 'client_fixed'; readonly at: Date }
  /** The invoices were voided or credited in the PSA: the MSP gave the money up. */
  | { readonly kind: 'written_off'; readonly at: Date }
  | { readonly kind: 'not_recovered' };

export interface PastFailure {
  /** The chain's first (declined) payment. */
  readonly id: string;
  /** Lower-case card brand ('visa', 'mastercard', …); '' for bank debits or when unknown. */
  readonly brand: string;
  readonly declineCode: string | null;
  readonly class: FailureClass;
  readonly amount: Money;
  readonly firstAttemptAt: Date;
  /** When each automatic retry was actually attempted, in order. */
  readonly retriesAt: readonly Date[];
  readonly outcome: PastOutcome;
  /** Attempts on the same card for other payments, any time: the per-card limits count them. */
  readonly otherAttemptsOnCard: readonly CardAttempt[];
}

export const OUTCOME_KINDS: readonly PastOutcome['kind'][] = ['retry_recovered', 'client_fixed', 'written_off', 'not_recovered'];
