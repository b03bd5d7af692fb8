// Stripe as Settle's payments processor (cards + ACH Direct Debit) through the official SDK.
// Every POST carries the caller's idempotency key; a charge whose fate is not known comes back as
// `unknown` and is resolved by asking Stripe (getPayment, or search by our metadata), never guessed.
import type Stripe from 'stripe';
import type { Currency } from '../../../domain/money.ts';
import type {
  ChargeOutcome,
  MethodSetupCapability,
  OffSessionChargeInput,
  OnSessionChargeInput,
  PaymentsConnector,
  PaymentStatus,
  Payout,
  PayoutItem,
  PortalPaymentCancel,
  PortalPaymentInput,
  ProcessorEvent,
  SavedMethod,
  DescribedMethod,
  RefundCapability,
} from '../types.ts';
import { call, createStripeClient, repeatable, toVendorError, type StripeApiOptions } from './api.ts';
import { VendorError } from '../../http.ts';
import { STRIPE } from './catalogue.ts';
import { failureOutcome, intentOutcome, paymentStatus, payoutItem, payoutOf, savedMethod, toStripeAmount } from './mapping.ts';
import { parseStripeWebhook } from './webhook.ts';
import { stripeMethodSetup } from './setup.ts';
import { stripeRefunds } from './refunds.ts';

export interface StripeConnectorOptions extends StripeApiOptions {
  /** Signing secret(s) of Settle's webhook endpoint (whsec_…); two while a rolled secret overlaps. */
  readonly webhookSecret: string | readonly string[];
  readonly webhookToleranceSeconds?: number | undefined;
  readonly wait?: ((ms: number) => Promise<void>) | undefined;
}

/** Search query literal: single-quoted with quotes and backslashes escaped (docs.stripe.com/search). */
const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export class StripeConnector implements PaymentsConnector {
  readonly vendor = 'stripe' as const;
  readonly stripe: Stripe;
  private readonly maxAttempts: number;
  private readonly secrets: readonly string[];

  constructor(private readonly opts: StripeConnectorOptions) {
    this.stripe = createStripeClient(opts);
    this.maxAttempts = opts.maxAttempts ?? 4;
    this.secrets = typeof opts.webhookSecret === 'string' ? [opts.webhookSecret] : opts.webhookSecret;
  }

  /** SetupIntents: the client saves a new method in the hosted fields (re-enrollment after a failure). */
  get methodSetup(): MethodSetupCapability {
    return stripeMethodSetup(this.stripe, (fn) => this.safe(fn));
  }

  /** Refunds (full or partial) of a PaymentIntent, with our idempotency key. */
  get refunds(): RefundCapability {
    return stripeRefunds(this.stripe, this.maxAttempts, this.opts.wait);
  }

  /** Reads, and writes with an idempotency key: repeating them cannot do anything twice. */
  private safe<T>(fn: () => Promise<T>): Promise<T> {
    return call(fn, { maxAttempts: this.maxAttempts, retryable: repeatable, ...(this.opts.wait ? { wait: this.opts.wait } : {}) });
  }

  async ensureCustomer(input: { name: string; email: string | null; clientId: string; idempotencyKey: string }): Promise<{ customerId: string }> {
    // Search finds customers created more than about a minute ago; the idempotency key covers the rest.
    const found = await this.safe(() =>
      this.stripe.customers.search({ query: `metadata[${quote(STRIPE.clientIdMetadataKey)}]:${quote(input.clientId)}`, limit: 1 }),
    );
    const existing = found.data[0];
    if (existing) return { customerId: existing.id };
    const created = await this.safe(() =>
      this.stripe.customers.create(
        { name: input.name, ...(input.email ? { email: input.email } : {}), metadata: { [STRIPE.clientIdMetadataKey]: input.clientId } },
        { idempotencyKey: input.idempotencyKey },
      ),
    );
    return { customerId: created.id };
  }

  async createPortalPayment(input: PortalPaymentInput): Promise<{ processorPaymentId: string; clientSecret: string }> {
    const { amount, currency } = toStripeAmount(input.amount);
    const pi = await this.safe(() =>
      this.stripe.paymentIntents.create(
        {
          amount,
          currency,
          customer: input.customerId,
          payment_method_types: [...input.methodKinds],
          description: input.description,
          metadata: { ...input.metadata },
        },
        { idempotencyKey: input.idempotencyKey },
      ),
    );
    if (!pi.client_secret) throw new Error(`Stripe returned PaymentIntent ${pi.id} without a client secret`);
    return { processorPaymentId: pi.id, clientSecret: pi.client_secret };
  }

  async cancelPortalPayment(input: { processorPaymentId: string; idempotencyKey: string }): Promise<PortalPaymentCancel> {
    // One try is: read the intent, then cancel it once. A failed try (a 500, a timeout) is repeated from the
    // read, never by sending the cancel again on its own: a cancel repeated seconds after the read could land
    // on a debit the client confirmed meanwhile, which Stripe cancels (CI under load saw a re-confirmed debit
    // canceled that way, and the invoice offered again). Re-reading first keeps that window to one round trip.
    return call(() => this.cancelOnce(input), { maxAttempts: this.maxAttempts, retryable: repeatable, ...(this.opts.wait ? { wait: this.opts.wait } : {}) });
  }

  private async cancelOnce(input: { processorPaymentId: string; idempotencyKey: string }): Promise<PortalPaymentCancel> {
    // Stripe cancels an intent that is `processing` "in rare cases" (docs.stripe.com/api/payment_intents/cancel):
    // an ACH debit the client already confirmed. That is money on its way, not an open checkout — never canceled
    // here: read the intent first and record what it is. (The soak found a confirmed debit canceled by a second
    // tab's checkout, its payment left `processing` for ever.) Only a checkout the client has not confirmed is canceled.
    const current = await this.stripe.paymentIntents.retrieve(input.processorPaymentId);
    if (current.status === 'canceled') return { kind: 'canceled' };
    if (current.status === 'processing' || current.status === 'succeeded' || current.status === 'requires_capture') {
      return { kind: 'not_cancelable', outcome: intentOutcome(current) };
    }
    try {
      await this.stripe.paymentIntents.cancel(input.processorPaymentId, { cancellation_reason: 'duplicate' }, { idempotencyKey: input.idempotencyKey });
      return { kind: 'canceled' };
    } catch (e) {
      const err = toVendorError(e);
      // Stripe refuses to cancel an intent that is processing or succeeded (or already canceled): read what it is.
      if (err.kind !== 'invalid' && err.kind !== 'conflict') throw err;
      const pi = await this.safe(() => this.stripe.paymentIntents.retrieve(input.processorPaymentId));
      if (pi.status === 'canceled') return { kind: 'canceled' };
      const outcome = intentOutcome(pi);
      if (outcome.kind === 'requires_action' || outcome.kind === 'declined') throw err; // still confirmable: not a verdict
      return { kind: 'not_cancelable', outcome };
    }
  }

  async chargeOffSession(input: OffSessionChargeInput): Promise<ChargeOutcome> {
    return this.createAndConfirm(input, {
      // ACH Direct Debit is USD only; a saved bank account reuses its mandate off-session.
      payment_method_types: input.amount.currency === 'USD' ? ['card', 'us_bank_account'] : ['card'],
      off_session: true,
    });
  }

  async chargeOnSession(input: OnSessionChargeInput): Promise<ChargeOutcome> {
    // The method the hosted fields made; no off_session: the client is present, so 3-D Secure comes back
    // as requires_action for the page to complete.
    return this.createAndConfirm(input, { payment_method_types: ['card'] });
  }

  /**
   * Create and confirm a PaymentIntent in one call. Only a 429 is retried here: Stripe did not act on it.
   * Any other failure after the request left is reported as it is (unknown or declined); the janitor
   * resolves unknowns by asking.
   */
  private async createAndConfirm(
    input: OffSessionChargeInput | OnSessionChargeInput,
    params: Pick<Stripe.PaymentIntentCreateParams, 'payment_method_types' | 'off_session'>,
  ): Promise<ChargeOutcome> {
    let amount: { amount: number; currency: string };
    try {
      amount = toStripeAmount(input.amount);
    } catch (e) {
      return { kind: 'not_sent', reason: (e as Error).message };
    }
    try {
      const pi = await call(
        () =>
          this.stripe.paymentIntents.create(
            {
              ...amount,
              ...params,
              customer: input.customerId,
              payment_method: input.processorMethodId,
              confirm: true,
              description: input.description,
              metadata: { ...input.metadata },
            },
            { idempotencyKey: input.idempotencyKey },
          ),
        { maxAttempts: this.maxAttempts, retryable: (e) => e.kind === 'rate_limited', ...(this.opts.wait ? { wait: this.opts.wait } : {}) },
      );
      return intentOutcome(pi);
    } catch (e) {
      return failureOutcome(toVendorError(e));
    }
  }

  async describeMethod(processorMethodId: string): Promise<DescribedMethod> {
    const pm = await this.safe(() => this.stripe.paymentMethods.retrieve(processorMethodId));
    const m = savedMethod(pm);
    if (!m) throw new VendorError(STRIPE.vendor, 'invalid', `payment method ${processorMethodId} is a ${pm.type}, which Settle does not take`);
    const customer = typeof pm.customer === 'string' ? pm.customer : (pm.customer?.id ?? null);
    return { ...m, customerId: customer, createdAt: new Date(pm.created * 1000) };
  }

  async getPayment(processorPaymentId: string): Promise<PaymentStatus> {
    return paymentStatus(await this.safe(() => this.stripe.paymentIntents.retrieve(processorPaymentId)));
  }

  async findPaymentsByMetadata(key: string, value: string): Promise<readonly PaymentStatus[]> {
    const out: PaymentStatus[] = [];
    let page: string | undefined;
    do {
      const res = await this.safe(() =>
        this.stripe.paymentIntents.search({ query: `metadata[${quote(key)}]:${quote(value)}`, limit: STRIPE.maxPageSize, ...(page ? { page } : {}) }),
      );
      out.push(...res.data.map(paymentStatus));
      page = res.has_more && res.next_page ? res.next_page : undefined;
    } while (page);
    return out;
  }

  async listSavedMethods(customerId: string): Promise<readonly SavedMethod[]> {
    const out: SavedMethod[] = [];
    for (const type of ['card', 'us_bank_account'] as const) {
      let after: string | undefined;
      for (;;) {
        const res = await this.safe(() =>
          this.stripe.customers.listPaymentMethods(customerId, { type, limit: STRIPE.maxPageSize, ...(after ? { starting_after: after } : {}) }),
        );
        for (const pm of res.data) {
          const m = savedMethod(pm);
          if (m) out.push(m);
        }
        const last = res.data[res.data.length - 1];
        if (!res.has_more || !last) break;
        after = last.id;
      }
    }
    return out;
  }

  async getPayout(payoutId: string): Promise<Payout> {
    return payoutOf(await this.safe(() => this.stripe.payouts.retrieve(payoutId)));
  }

  /** Pages of GET /v1/payouts?status=paid&created[gte]=… (newest first). */
  async *listPaidPayouts(since: Date): AsyncIterable<readonly string[]> {
    let after: string | undefined;
    for (;;) {
      const res = await this.safe(() =>
        this.stripe.payouts.list({
          status: 'paid',
          created: { gte: Math.floor(since.getTime() / 1000) },
          limit: STRIPE.maxPageSize,
          ...(after ? { starting_after: after } : {}),
        }),
      );
      if (res.data.length > 0) yield res.data.map((p) => p.id);
      if (!res.has_more || res.data.length === 0) return;
      after = res.data[res.data.length - 1]!.id;
    }
  }

  /** Pages of GET /v1/balance_transactions?payout=…, sources expanded to find each PaymentIntent. */
  async *listPayoutItems(payoutId: string, currency: Currency): AsyncIterable<readonly PayoutItem[]> {
    let after: string | undefined;
    for (;;) {
      const res = await this.safe(() =>
        this.stripe.balanceTransactions.list({
          payout: payoutId,
          limit: STRIPE.maxPageSize,
          expand: ['data.source'],
          ...(after ? { starting_after: after } : {}),
        }),
      );
      const items = res.data.map((bt) => payoutItem(bt, currency)).filter((x): x is PayoutItem => x !== null);
      if (items.length > 0) yield items;
      const last = res.data[res.data.length - 1];
      if (!res.has_more || !last) return;
      after = last.id;
    }
  }

  parseWebhook(headers: Record<string, string | string[] | undefined>, rawBody: Buffer): ProcessorEvent {
    return parseStripeWebhook(headers, rawBody, {
      secrets: this.secrets,
      ...(this.opts.webhookToleranceSeconds !== undefined ? { toleranceSeconds: this.opts.webhookToleranceSeconds } : {}),
    });
  }
}

export function createStripeConnector(opts: StripeConnectorOptions): StripeConnector {
  return new StripeConnector(opts);
}
