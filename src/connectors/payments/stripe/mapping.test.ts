// Pure mapping checked on Stripe's own example objects (specs/stripe/fixtures3.json, API 2023-08-16).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import { VendorError } from '../../http.ts';
import { failureOutcome, intentOutcome, paymentStatus, payoutItem, payoutOf, savedMethod, toStripeAmount } from './mapping.ts';

const specs = resolve(process.env['SETTLE_SPECS_DIR'] ?? join(import.meta.dirname, '../../../../../shared/specs'));
const fixtures = (JSON.parse(readFileSync(join(specs, 'stripe/fixtures3.json'), 'utf8')) as { resources: Record<string, unknown> }).resources;
const fixture = <T>(name: string): T => structuredClone(fixtures[name]) as T;

describe('PaymentIntent status → ChargeOutcome', () => {
  const pi = fixture<Stripe.PaymentIntent>('payment_intent');
  it.each([
    ['succeeded', 'succeeded'],
    ['processing', 'processing'],
    ['requires_capture', 'processing'],
    ['requires_action', 'requires_action'],
    ['requires_confirmation', 'requires_action'],
    ['requires_payment_method', 'requires_action'],
    ['canceled', 'not_sent'],
  ] as const)('%s → %s', (status, kind) => {
    expect(intentOutcome({ ...pi, status }).kind).toBe(kind);
  });
  it('reads a decline from last_payment_error and the charge from latest_charge', () => {
    const declined = intentOutcome({
      ...pi,
      status: 'requires_payment_method',
      last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
    });
    expect(declined).toEqual({ kind: 'declined', processorPaymentId: pi.id, declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' });
    expect(intentOutcome({ ...pi, status: 'succeeded', latest_charge: 'ch_1' })).toEqual({ kind: 'succeeded', processorPaymentId: pi.id, chargeId: 'ch_1' });
  });
  it('turns the fixture into a PaymentStatus with integer money', () => {
    expect(paymentStatus({ ...pi, metadata: { settle_attempt: 'a1' } })).toMatchObject({ amount: money(1099n, 'USD'), metadata: { settle_attempt: 'a1' } });
  });
});

describe('failed call → ChargeOutcome', () => {
  const err = (kind: VendorError['kind'], status: number | null, code: string | null = null, body: unknown = null) =>
    new VendorError('stripe', kind, 'x', status, null, code, body);
  it('a 402 card_error is a decline with its decline code and intent', () => {
    const o = failureOutcome(
      err('invalid', 402, 'card_declined', {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'generic_decline',
        message: 'Your card was declined.',
        payment_intent: { id: 'pi_9' },
      }),
    );
    expect(o).toEqual({ kind: 'declined', processorPaymentId: 'pi_9', declineCode: 'generic_decline', message: 'Your card was declined.' });
  });
  it.each([
    ['timeout', null, null, 'unknown'],
    ['server', 500, null, 'unknown'],
    ['network', null, 'ECONNRESET', 'unknown'],
    ['network', null, 'ECONNREFUSED', 'not_sent'],
    ['conflict', 400, 'idempotency_error', 'unknown'],
    ['rate_limited', 429, 'rate_limit', 'not_sent'],
    ['auth', 401, null, 'not_sent'],
    ['invalid', 400, 'parameter_invalid_integer', 'not_sent'],
    ['not_found', 404, 'resource_missing', 'not_sent'],
  ] as const)('%s (%s %s) → %s', (kind, status, code, outcome) => {
    expect(failureOutcome(err(kind, status, code)).kind).toBe(outcome);
  });
});

describe('payment methods, payouts, balance transactions', () => {
  it('keeps only token, brand, last4 and funding of a card; unknown funding is not credit', () => {
    const pm = fixture<Stripe.PaymentMethod>('payment_method');
    expect(savedMethod(pm)).toEqual({ processorMethodId: pm.id, kind: 'card', brand: 'visa', last4: '4242', funding: 'credit', expMonth: 8, expYear: 2024 });
    expect(savedMethod({ ...pm, card: { ...pm.card!, funding: 'charge_card' } })?.funding).toBe('unknown');
    const bank = {
      ...pm,
      type: 'us_bank_account',
      card: undefined,
      us_bank_account: { bank_name: 'STRIPE TEST BANK', last4: '6789', account_holder_type: 'individual', account_type: 'checking' },
    } as unknown as Stripe.PaymentMethod;
    expect(savedMethod(bank)).toMatchObject({ kind: 'us_bank_account', brand: 'STRIPE TEST BANK', last4: '6789', funding: null });
  });
  it('maps a payout with its arrival date as a calendar day (UTC)', () => {
    expect(payoutOf({ ...fixture<Stripe.Payout>('payout'), arrival_date: 1_700_006_400 })).toMatchObject({
      amount: money(1100n, 'USD'),
      arrivalDate: '2023-11-15',
      status: 'in_transit',
    });
  });
  it('maps balance transactions to payout items, skipping the payout itself, and finds the intent behind a charge', () => {
    const bt = fixture<Stripe.BalanceTransaction>('balance_transaction');
    const withFee = {
      ...bt,
      amount: 10_000,
      fee: 320,
      net: 9_680,
      source: { ...fixture<Stripe.Charge>('charge'), payment_intent: 'pi_7' },
    } as Stripe.BalanceTransaction;
    expect(payoutItem(withFee, 'USD')).toEqual({
      balanceTransactionId: bt.id,
      type: 'charge',
      processorPaymentId: 'pi_7',
      gross: money(10_000n, 'USD'),
      fee: money(320n, 'USD'),
      net: money(9_680n, 'USD'),
    });
    expect(payoutItem({ ...bt, type: 'payout', amount: -100, net: -100 }, 'USD')).toBeNull();
    expect(payoutItem({ ...bt, type: 'payment_failure_refund' as Stripe.BalanceTransaction.Type }, 'USD')?.type).toBe('adjustment');
    expect(payoutItem({ ...bt, type: 'some_future_type' as Stripe.BalanceTransaction.Type }, 'USD')?.type).toBe('other');
    expect(() => payoutItem({ ...bt, currency: 'cad' }, 'USD')).toThrow(/cad/);
  });
  it('sends integer minor units and refuses what Stripe cannot take', () => {
    expect(toStripeAmount(money(123_456n, 'USD'))).toEqual({ amount: 123_456, currency: 'usd' });
    expect(() => toStripeAmount(money(0n, 'USD'))).toThrow(RangeError);
  });
});
