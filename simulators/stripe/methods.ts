// Payment methods: created from Stripe's test tokens (`pm_card_visa`, `pm_usBankAccount_success`),
// from test card numbers / test bank accounts (the hosted-fields stand-in and POST /v1/payment_methods),
// and attached to customers. Card and account numbers are never stored, only last4 and a fingerprint.
import { createHash } from 'node:crypto';
import { noSuch, paramError, stateError } from './errors.ts';
import { emptyAddress, type BillingDetails, type PaymentMethod } from './objects.ts';
import type { Cause, StripeStore } from './store.ts';
import {
  bankForNumber,
  bankForToken,
  cardForNumber,
  cardForToken,
  TEST_BANK_NAME,
  TEST_ROUTING_NUMBER,
  type TestBankAccount,
  type TestCard,
} from './test-methods.ts';

const fingerprint = (secret: string): string => createHash('sha256').update(`settle-sim:${secret}`).digest('base64url').slice(0, 16);

/** Test cards expire at the end of a year comfortably in the future, like "any future date" in the docs. */
const EXP_YEAR = new Date().getUTCFullYear() + 4;

export interface BillingInput {
  readonly name?: string | null;
  readonly email?: string | null;
}

function billing(input: BillingInput | undefined): BillingDetails {
  return { address: emptyAddress(), email: input?.email ?? null, name: input?.name ?? null, phone: null };
}

export function createCardMethod(
  store: StripeStore,
  card: TestCard,
  opts: { expMonth?: number; expYear?: number; billing?: BillingInput; metadata?: Record<string, string> } = {},
): PaymentMethod {
  const pm: PaymentMethod = {
    id: store.newId('pm'),
    object: 'payment_method',
    billing_details: billing(opts.billing),
    card: {
      brand: card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      exp_month: opts.expMonth ?? 12,
      exp_year: opts.expYear ?? EXP_YEAR,
      fingerprint: fingerprint(card.number),
      funding: card.funding,
      generated_from: null,
      last4: card.number.slice(-4),
      networks: { available: [card.brand], preferred: null },
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: store.now(),
    customer: null,
    livemode: false,
    metadata: opts.metadata ?? {},
    type: 'card',
  };
  store.paymentMethods.set(pm.id, pm);
  store.behaviour.set(pm.id, { rail: 'card', card: card.behaviour });
  return pm;
}

export function createBankMethod(
  store: StripeStore,
  bank: TestBankAccount,
  opts: {
    holderType?: 'individual' | 'company';
    accountType?: 'checking' | 'savings';
    billing?: BillingInput;
    metadata?: Record<string, string>;
  } = {},
): PaymentMethod {
  const pm: PaymentMethod = {
    id: store.newId('pm'),
    object: 'payment_method',
    billing_details: billing(opts.billing ?? { name: 'Jenny Rosen' }),
    us_bank_account: {
      account_holder_type: opts.holderType ?? 'individual',
      account_type: opts.accountType ?? 'checking',
      bank_name: TEST_BANK_NAME,
      financial_connections_account: null,
      fingerprint: fingerprint(`${TEST_ROUTING_NUMBER}:${bank.accountNumber}`),
      last4: bank.accountNumber.slice(-4),
      networks: { preferred: 'ach', supported: ['ach'] },
      routing_number: TEST_ROUTING_NUMBER,
      status_details: {},
    },
    created: store.now(),
    customer: null,
    livemode: false,
    metadata: opts.metadata ?? {},
    type: 'us_bank_account',
  };
  store.paymentMethods.set(pm.id, pm);
  store.behaviour.set(pm.id, { rail: 'bank', bank: bank.behaviour });
  return pm;
}

/** A test token (`pm_card_visa`, `tok_visa`, `pm_usBankAccount_…`) makes a fresh PaymentMethod, as Stripe does. */
export function methodFromToken(store: StripeStore, token: string): PaymentMethod | null {
  const card = cardForToken(token);
  if (card) return createCardMethod(store, card);
  const bank = bankForToken(token);
  if (bank) return createBankMethod(store, bank);
  return null;
}

/** `payment_method=` on an intent: an existing pm_ id or a test token. */
export function resolveMethod(store: StripeStore, ref: string, param = 'payment_method'): PaymentMethod {
  const existing = store.paymentMethods.get(ref);
  if (existing) return existing;
  const fresh = methodFromToken(store, ref);
  if (fresh) return fresh;
  throw noSuch('PaymentMethod', ref, param);
}

export function testCardOrError(number: string, param: string): TestCard {
  const card = cardForNumber(number);
  if (!card) {
    throw paramError(
      'Your card was declined. Your request was in test mode, but used a non test (live) card. For a list of valid test cards, visit: https://stripe.com/docs/testing.',
      param,
      'card_declined',
    );
  }
  return card;
}

export function testBankOrError(routing: string, account: string, param: string): TestBankAccount {
  const bank = routing === TEST_ROUTING_NUMBER ? bankForNumber(account) : null;
  if (!bank) {
    throw paramError(
      `Test mode only accepts Stripe's test bank accounts (routing ${TEST_ROUTING_NUMBER}); see https://stripe.com/docs/payments/ach-direct-debit/accept-a-payment#test-integration.`,
      param,
      'account_number_invalid',
    );
  }
  return bank;
}

export function attach(store: StripeStore, pm: PaymentMethod, customerId: string, cause: Cause): PaymentMethod {
  if (!store.customers.has(customerId)) throw noSuch('customer', customerId, 'customer');
  if (pm.customer === customerId) return pm;
  if (pm.customer === null && store.spentWithoutCustomer.has(pm.id)) {
    throw paramError(
      'This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.',
      'payment_method',
    );
  }
  if (pm.customer !== null) {
    throw stateError('The payment method you provided has already been attached to a customer.', 'payment_method_unexpected_state', 'payment_method');
  }
  pm.customer = customerId;
  store.emit('payment_method.attached', pm, cause);
  return pm;
}
