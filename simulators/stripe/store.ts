// In-memory state of one simulated Stripe account: every object by id, the links Stripe keeps
// internally (which payout paid which balance transaction, how a test payment method behaves),
// the account clock and the event stream.
import { randomBytes } from 'node:crypto';
import type {
  BalanceTransaction,
  Charge,
  Customer,
  Dispute,
  Mandate,
  PaymentIntent,
  PaymentMethod,
  Payout,
  Refund,
  SetupIntent,
  StripeEvent,
  WebhookEndpoint,
} from './objects.ts';
import type { BankBehaviour, CardBehaviour } from './test-methods.ts';

export const API_VERSION = '2023-08-16';

/** Who caused a change: the API request (with its Idempotency-Key) or Stripe itself (null, null). */
export interface Cause {
  readonly requestId: string | null;
  readonly idempotencyKey: string | null;
}
export const AUTOMATIC: Cause = { requestId: null, idempotencyKey: null };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[(bytes[i] ?? 0) % ALPHABET.length];
  return out;
}

export type Behaviour = { readonly rail: 'card'; readonly card: CardBehaviour } | { readonly rail: 'bank'; readonly bank: BankBehaviour };

export class StripeStore {
  readonly customers = new Map<string, Customer>();
  readonly paymentMethods = new Map<string, PaymentMethod>();
  readonly setupIntents = new Map<string, SetupIntent>();
  readonly paymentIntents = new Map<string, PaymentIntent>();
  readonly charges = new Map<string, Charge>();
  readonly refunds = new Map<string, Refund>();
  readonly balanceTransactions = new Map<string, BalanceTransaction>();
  readonly payouts = new Map<string, Payout>();
  readonly disputes = new Map<string, Dispute>();
  readonly mandates = new Map<string, Mandate>();
  readonly events = new Map<string, StripeEvent>();
  readonly webhookEndpoints = new Map<string, WebhookEndpoint>();
  /** balance transaction id → the payout that paid it out (what `?payout=` filters on). */
  readonly paidOutBy = new Map<string, string>();
  /** payment method id → how it behaves when charged (from the test number it was made from). */
  readonly behaviour = new Map<string, Behaviour>();
  /** payment method id → its active multi-use mandate (ACH), reused for off-session debits. */
  readonly mandateOf = new Map<string, string>();
  /**
   * Payment methods that moved money while attached to no customer. Stripe refuses to use such a method
   * again ("previously used with a PaymentIntent without Customer attachment … may not be used again").
   */
  readonly spentWithoutCustomer = new Set<string>();
  /**
   * US bank accounts entered by their numbers (not linked through Financial Connections, not a test token):
   * Stripe debits them only after the customer verified the microdeposits (verify_with_microdeposits).
   */
  readonly unverifiedBanks = new Set<string>();
  /** Intent id → failed verification attempts left (Stripe allows three). */
  readonly microdepositAttempts = new Map<string, number>();
  /** A live-mode account (sk_live_ keys): API answers and webhook payloads say livemode: true. */
  livemode = false;
  /** Where the hosted microdeposit verification page lives (the simulator's own base URL once listening). */
  hostedBaseUrl = 'https://payments.stripe.com';
  /** Seconds added to the wall clock: lets tests move past `available_on` without waiting. */
  clockOffsetSeconds = 0;
  private readonly listeners: Array<(e: StripeEvent) => void> = [];

  now(): number {
    return Math.floor(Date.now() / 1000) + this.clockOffsetSeconds;
  }

  newId(prefix: string, length = 24): string {
    return `${prefix}_${randomToken(length)}`;
  }

  onEvent(listener: (e: StripeEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Record an Event with a snapshot of the object as it is now, and hand it to webhook delivery. */
  emit(type: string, object: object, cause: Cause, previous?: Record<string, unknown>): StripeEvent {
    const event: StripeEvent = {
      id: this.newId('evt'),
      object: 'event',
      api_version: API_VERSION,
      created: this.now(),
      data: { object: structuredClone(object) as Record<string, unknown>, ...(previous ? { previous_attributes: previous } : {}) },
      livemode: false,
      pending_webhooks: 0,
      request: { id: cause.requestId, idempotency_key: cause.idempotencyKey },
      type,
    };
    this.events.set(event.id, event);
    for (const l of this.listeners) l(event);
    return event;
  }

  /** Any object by id, from its prefix (used by `expand[]`). */
  lookup(id: string): object | null {
    const prefix = id.slice(0, id.indexOf('_'));
    const table: Record<string, Map<string, object>> = {
      cus: this.customers,
      pm: this.paymentMethods,
      seti: this.setupIntents,
      pi: this.paymentIntents,
      ch: this.charges,
      py: this.charges,
      re: this.refunds,
      txn: this.balanceTransactions,
      po: this.payouts,
      dp: this.disputes,
      mandate: this.mandates,
      evt: this.events,
      we: this.webhookEndpoints,
    };
    const obj = table[prefix]?.get(id);
    if (!obj) return null;
    return prefix === 'txn' ? this.renderBalanceTransaction(obj as BalanceTransaction) : obj;
  }

  /** A balance transaction's status follows the clock: pending until available_on, then available. */
  renderBalanceTransaction(bt: BalanceTransaction): BalanceTransaction {
    bt.status = bt.available_on <= this.now() ? 'available' : 'pending';
    return bt;
  }
}
