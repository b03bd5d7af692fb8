// Refunds through Stripe: POST /v1/refunds with the PaymentIntent, the amount and our idempotency key
// (docs.stripe.com/api/refunds/create). Stripe's `reason` is an enum (duplicate | fraudulent |
// requested_by_customer); staff's own words travel in metadata. A refund whose answer was lost is
// `unknown`: the caller asks again with the same key and Stripe replays the first result.
import type Stripe from 'stripe';
import type { VendorError } from '../../http.ts';
import type { RefundCapability, RefundOutcome } from '../types.ts';
import { call, repeatable, toVendorError } from './api.ts';
import { toStripeAmount } from './mapping.ts';

export type StripeRefundStatus = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

export function refundOutcome(re: Pick<Stripe.Refund, 'id' | 'status' | 'failure_reason'>): RefundOutcome {
  const status = (re.status ?? 'pending') as StripeRefundStatus;
  switch (status) {
    case 'succeeded':
      return { kind: 'succeeded', refundId: re.id };
    case 'pending':
    case 'requires_action':
      // ACH refunds and some card networks settle later; refund.updated tells us how it ended.
      return { kind: 'pending', refundId: re.id };
    case 'failed':
    case 'canceled':
      return { kind: 'failed', refundId: re.id, message: `refund ${status}${re.failure_reason ? ` (${re.failure_reason})` : ''}` };
    default: {
      const _: never = status;
      throw new Error(`unknown refund status ${String(_)}`);
    }
  }
}

/** A refused request (4xx: nothing happened) is `failed`; anything whose effect is unknown is `unknown`. */
export function refundFailure(err: VendorError): RefundOutcome {
  switch (err.kind) {
    case 'invalid':
    case 'not_found':
    case 'auth':
      return { kind: 'failed', refundId: null, message: `${err.vendorCode ?? err.kind}: ${err.message}` };
    case 'conflict':
    case 'rate_limited':
    case 'server':
    case 'timeout':
    case 'network':
      return { kind: 'unknown', reason: `${err.kind}: ${err.message}` };
    default: {
      const _: never = err.kind;
      throw new Error(`unknown failure kind ${String(_)}`);
    }
  }
}

export function stripeRefunds(stripe: Stripe, maxAttempts: number, wait?: (ms: number) => Promise<void>): RefundCapability {
  return {
    async refund(input): Promise<RefundOutcome> {
      const { amount } = toStripeAmount(input.amount);
      try {
        const re = await call(
          () =>
            stripe.refunds.create(
              {
                payment_intent: input.processorPaymentId,
                amount,
                reason: 'requested_by_customer',
                metadata: { ...input.metadata, settle_reason: input.reason.slice(0, 500) },
              },
              { idempotencyKey: input.idempotencyKey },
            ),
          // Safe to repeat: the idempotency key makes Stripe replay the first result.
          { maxAttempts, retryable: repeatable, ...(wait ? { wait } : {}) },
        );
        return refundOutcome(re);
      } catch (e) {
        return refundFailure(toVendorError(e));
      }
    },
  };
}
