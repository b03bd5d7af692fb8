import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import { WebhookRejected } from '../../webhook-rejected.ts';
import { parseStripeWebhook } from './webhook.ts';

const secret = 'whsec_test_secret_for_settle';
const sdk = new Stripe('sk_test_unused');
const now = Math.floor(Date.now() / 1000);

function event(type: string, object: Record<string, unknown>): string {
  return JSON.stringify(
    {
      id: 'evt_1',
      object: 'event',
      api_version: '2023-08-16',
      created: now,
      type,
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
    },
    null,
    2,
  );
}
/** Signed by the official library, so our verifier is checked against Stripe's own scheme. */
function signed(payload: string, opts: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  return { 'stripe-signature': sdk.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? secret, timestamp: opts.timestamp ?? now }) };
}
function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof WebhookRejected) return e.reason;
    throw e;
  }
  return 'accepted';
}
const pi = {
  id: 'pi_1',
  object: 'payment_intent',
  amount: 5000,
  amount_received: 5000,
  currency: 'usd',
  latest_charge: 'ch_1',
  payment_method: 'pm_1',
  metadata: { settle_attempt: 'att_1' },
  status: 'succeeded',
};
const parse = (headers: Record<string, string>, body: string, secrets = [secret]) =>
  parseStripeWebhook(headers, Buffer.from(body), { secrets, nowSeconds: now });

describe('Stripe webhook verification', () => {
  it('accepts a genuine delivery and maps payment_intent.succeeded', () => {
    const body = event('payment_intent.succeeded', pi);
    expect(parse(signed(body), body)).toEqual({
      eventId: 'evt_1',
      type: 'payment.succeeded',
      processorPaymentId: 'pi_1',
      chargeId: 'ch_1',
      amount: money(5000n, 'USD'),
      method: null,
      processorMethodId: 'pm_1', // the event names the card only by id; the receipt job asks for brand and last 4
      metadata: { settle_attempt: 'att_1' },
    });
  });
  it('rejects a bad signature, a tampered body and a missing header', () => {
    const body = event('payment_intent.succeeded', pi);
    expect(rejection(() => parse(signed(body, { secret: 'whsec_someone_else' }), body))).toBe('bad_signature');
    expect(rejection(() => parse(signed(body), body.replace('5000', '5001')))).toBe('bad_signature');
    expect(rejection(() => parse({}, body))).toBe('bad_signature');
    expect(rejection(() => parse({ 'stripe-signature': `t=${now},v1=${'0'.repeat(64)}` }, body))).toBe('bad_signature');
  });
  it('rejects a stale (replayed) timestamp beyond 300 s, accepts one within it', () => {
    const body = event('payment_intent.succeeded', pi);
    expect(rejection(() => parse(signed(body, { timestamp: now - 301 }), body))).toBe('stale_timestamp');
    expect(rejection(() => parse(signed(body, { timestamp: now - 299 }), body))).toBe('accepted');
  });
  it('accepts either secret while one is being rolled', () => {
    const body = event('payment_intent.succeeded', pi);
    expect(rejection(() => parse(signed(body, { secret: 'whsec_new' }), body, [secret, 'whsec_new']))).toBe('accepted');
  });
});

describe('Stripe event mapping', () => {
  const map = (type: string, object: Record<string, unknown>) => {
    const body = event(type, object);
    return parse(signed(body), body);
  };
  it('maps failures, ACH processing, refunds, disputes and payouts', () => {
    expect(
      map('payment_intent.payment_failed', {
        ...pi,
        status: 'requires_payment_method',
        last_payment_error: { type: 'invalid_request_error', code: 'insufficient_funds', message: 'NSF' },
      }),
    ).toMatchObject({
      type: 'payment.failed',
      declineCode: 'insufficient_funds',
      message: 'NSF',
      methodKind: null,
    });
    // Which kind of method failed: a bank debit's failure is final, a card declined on the page is not.
    const failedWith = (lastPaymentError: Record<string, unknown>) =>
      map('payment_intent.payment_failed', { ...pi, status: 'requires_payment_method', last_payment_error: { message: 'x', ...lastPaymentError } });
    expect(failedWith({ payment_method_type: 'us_bank_account', code: 'account_closed' })).toMatchObject({ methodKind: 'us_bank_account' });
    expect(failedWith({ payment_method: { id: 'pm_1', type: 'card' }, decline_code: 'generic_decline' })).toMatchObject({ methodKind: 'card' });
    expect(map('payment_intent.processing', pi)).toMatchObject({ type: 'payment.processing', processorPaymentId: 'pi_1' });
    expect(map('refund.created', { id: 're_1', amount: 1000, currency: 'usd', payment_intent: 'pi_1', status: 'succeeded' })).toEqual({
      eventId: 'evt_1',
      type: 'refund.updated',
      processorPaymentId: 'pi_1',
      refundId: 're_1',
      amount: money(1000n, 'USD'),
      status: 'succeeded',
      metadata: {},
    });
    expect(
      map('refund.created', { id: 're_2', amount: 1, currency: 'usd', payment_intent: 'pi_1', status: 'pending', metadata: { settle_refund: 'r-1' } }),
    ).toMatchObject({ metadata: { settle_refund: 'r-1' } });
    const withdrawal = { id: 'txn_1', amount: -5000, fee: 1500, currency: 'usd' };
    expect(
      map('charge.dispute.created', {
        id: 'dp_1',
        amount: 5000,
        currency: 'usd',
        payment_intent: 'pi_1',
        reason: 'fraudulent',
        status: 'needs_response',
        balance_transactions: [withdrawal],
      }),
    ).toMatchObject({
      type: 'dispute.created',
      disputeId: 'dp_1',
      reason: 'fraudulent',
      fee: money(1500n, 'USD'),
    });
    expect(
      map('charge.dispute.closed', { id: 'dp_1', amount: 5000, currency: 'usd', payment_intent: 'pi_1', reason: 'fraudulent', status: 'won' }),
    ).toMatchObject({ type: 'dispute.closed', outcome: 'won', amount: money(5000n, 'USD') });
    expect(() =>
      map('charge.dispute.closed', { id: 'dp_1', amount: 5000, currency: 'usd', payment_intent: 'pi_1', reason: 'fraudulent', status: 'under_review' }),
    ).toThrow(/status under_review/);
    expect(map('payout.paid', { id: 'po_1', amount: 9680, currency: 'usd', arrival_date: 1_700_006_400 })).toEqual({
      eventId: 'evt_1',
      type: 'payout.paid',
      payoutId: 'po_1',
      amount: money(9680n, 'USD'),
      arrivalDate: '2023-11-15',
    });
    expect(map('payout.failed', { id: 'po_2', amount: 1, currency: 'usd', arrival_date: 0 })).toMatchObject({ type: 'payout.failed', payoutId: 'po_2' });
  });
  it('maps a PaymentIntent waiting for microdeposits; other requires_action (3-D Secure) is ignored', () => {
    const waiting = {
      ...pi,
      status: 'requires_action',
      latest_charge: null,
      next_action: {
        type: 'verify_with_microdeposits',
        verify_with_microdeposits: {
          arrival_date: 1_800_000_000,
          hosted_verification_url: 'https://payments.stripe.com/microdeposit/pacs_1',
          microdeposit_type: 'amounts',
        },
      },
    };
    expect(map('payment_intent.requires_action', waiting)).toEqual({
      eventId: 'evt_1',
      type: 'payment.awaiting_verification',
      processorPaymentId: 'pi_1',
      verification: { url: 'https://payments.stripe.com/microdeposit/pacs_1', arrivalDate: new Date(1_800_000_000_000) },
      metadata: { settle_attempt: 'att_1' },
    });
    const threeDs = { ...pi, status: 'requires_action', next_action: { type: 'use_stripe_sdk', use_stripe_sdk: {} } };
    expect(map('payment_intent.requires_action', threeDs)).toMatchObject({ type: 'ignored' });
  });
  it('ignores types Settle does not act on and currencies it does not support; rejects malformed payloads', () => {
    expect(map('customer.created', { id: 'cus_1' })).toEqual({ eventId: 'evt_1', type: 'ignored', vendorType: 'customer.created' });
    expect(map('payment_intent.succeeded', { ...pi, currency: 'jpy' })).toMatchObject({ type: 'ignored' });
    expect(rejection(() => map('payment_intent.succeeded', { id: 'pi_1', currency: 'usd' }))).toBe('malformed');
    const notJson = 'not json';
    expect(rejection(() => parse(signed(notJson), notJson))).toBe('malformed');
  });
});
