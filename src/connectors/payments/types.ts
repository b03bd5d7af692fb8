// The payments role: a processor (Stripe) or the MSP's bank (NACHA). Card and bank details never
// pass through Settle: methods are processor tokens.
import type { Currency, Money } from '../../domain/money.ts';

export type PaymentsVendor = 'stripe' | 'bank-ach' | 'fake';

export type MethodKind = 'card' | 'us_bank_account';
export type CardFunding = 'credit' | 'debit' | 'prepaid' | 'unknown';

export interface SavedMethod {
  readonly processorMethodId: string;
  readonly kind: MethodKind;
  readonly brand: string | null;
  readonly last4: string;
  readonly funding: CardFunding | null; // cards only
  readonly expMonth: number | null;
  readonly expYear: number | null;
}

/** A method as the processor describes it, with whose it is: a customer's, or nobody's yet (fresh from the hosted fields). */
export interface DescribedMethod extends SavedMethod {
  /** The processor customer it is attached to; null while attached to none. */
  readonly customerId: string | null;
  readonly createdAt: Date;
}

/** What a charge attempt came to (ARCHITECTURE.md: four outcomes; unknown is resolved by asking). */
export type ChargeOutcome =
  | { readonly kind: 'succeeded'; readonly processorPaymentId: string; readonly chargeId: string | null }
  | { readonly kind: 'processing'; readonly processorPaymentId: string } // ACH until it settles
  | {
      readonly kind: 'requires_action';
      readonly processorPaymentId: string;
      readonly clientSecret: string;
      /** A bank account typed by its numbers: nothing is debited until the client confirms two microdeposits. */
      readonly verification?: BankVerification | undefined;
    }
  | {
      readonly kind: 'declined';
      readonly processorPaymentId: string | null;
      readonly declineCode: string | null;
      readonly message: string;
    }
  | { readonly kind: 'not_sent'; readonly reason: string }
  | { readonly kind: 'unknown'; readonly reason: string };

export interface PortalPaymentInput {
  readonly amount: Money;
  readonly customerId: string;
  readonly methodKinds: readonly MethodKind[];
  readonly description: string;
  readonly metadata: Record<string, string>;
  readonly idempotencyKey: string;
}

/** What asking the processor to cancel an unconfirmed portal payment came to. */
export type PortalPaymentCancel = { readonly kind: 'canceled' } | { readonly kind: 'not_cancelable'; readonly outcome: ChargeOutcome };

/** A card the client just entered in the hosted fields, charged while the client is on the page. */
export interface OnSessionChargeInput {
  readonly amount: Money;
  readonly customerId: string;
  readonly processorMethodId: string;
  readonly description: string;
  readonly metadata: Record<string, string>;
  readonly idempotencyKey: string;
}

export interface OffSessionChargeInput {
  readonly amount: Money;
  readonly customerId: string;
  readonly processorMethodId: string;
  readonly description: string;
  readonly metadata: Record<string, string>;
  readonly idempotencyKey: string;
}

/** A processor event after signature verification, mapped onto our vocabulary. */
/** Where and by when the client confirms the microdeposits sent to a bank account they typed in. */
export interface BankVerification {
  readonly url: string;
  readonly arrivalDate: Date | null;
}

export type ProcessorEvent =
  | {
      readonly eventId: string;
      readonly type: 'payment.awaiting_verification';
      readonly processorPaymentId: string;
      readonly verification: BankVerification;
      readonly metadata: Record<string, string>;
    }
  | { readonly eventId: string; readonly type: 'payment.processing'; readonly processorPaymentId: string; readonly metadata: Record<string, string> }
  | {
      readonly eventId: string;
      readonly type: 'payment.succeeded';
      readonly processorPaymentId: string;
      readonly chargeId: string | null;
      readonly amount: Money;
      readonly method: SavedMethod | null;
      /** The method's id at the processor when the event names it but not its details (Stripe's webhook). */
      readonly processorMethodId?: string | null;
      readonly metadata: Record<string, string>;
    }
  | {
      readonly eventId: string;
      readonly type: 'payment.failed';
      readonly processorPaymentId: string;
      readonly declineCode: string | null;
      readonly message: string;
      readonly metadata: Record<string, string>;
      /** What kind of method failed, when the processor says: a bank debit failing days later is final, a card declined on the page is not. */
      readonly methodKind?: MethodKind | null;
    }
  | {
      readonly eventId: string;
      readonly type: 'refund.updated';
      readonly processorPaymentId: string;
      readonly refundId: string;
      readonly amount: Money;
      readonly status: string;
      /** Our refund id travels in metadata (settle_refund) when Settle asked for the refund. */
      readonly metadata: Record<string, string>;
    }
  | {
      readonly eventId: string;
      readonly type: 'dispute.created';
      readonly processorPaymentId: string;
      readonly disputeId: string;
      readonly amount: Money;
      /** The processor's dispute fee, when the event shows it (Stripe: the withdrawal's balance transaction). */
      readonly fee: Money | null;
      readonly reason: string;
    }
  | {
      readonly eventId: string;
      readonly type: 'dispute.closed';
      readonly processorPaymentId: string;
      readonly disputeId: string;
      readonly amount: Money;
      /** won: the funds come back; lost: they are gone. (Inquiries, which withdraw nothing, are not mapped.) */
      readonly outcome: 'won' | 'lost';
    }
  | { readonly eventId: string; readonly type: 'payout.paid'; readonly payoutId: string; readonly amount: Money; readonly arrivalDate: string }
  | { readonly eventId: string; readonly type: 'payout.failed'; readonly payoutId: string; readonly amount: Money }
  | { readonly eventId: string; readonly type: 'ignored'; readonly vendorType: string };

/** One line of a payout: a charge, refund, fee or adjustment that the payout's amount is made of. */
export interface PayoutItem {
  readonly balanceTransactionId: string;
  readonly type: 'charge' | 'payment' | 'refund' | 'adjustment' | 'fee' | 'other';
  readonly processorPaymentId: string | null; // the PaymentIntent behind a charge/refund
  readonly gross: Money;
  readonly fee: Money;
  readonly net: Money;
}

export interface Payout {
  readonly payoutId: string;
  readonly amount: Money;
  readonly arrivalDate: string; // YYYY-MM-DD
  readonly status: string;
}

export interface PaymentStatus {
  readonly processorPaymentId: string;
  readonly outcome: ChargeOutcome;
  readonly amount: Money;
  readonly metadata: Record<string, string>;
}

/** A processor session in which the client saves a method without paying (Stripe SetupIntent). */
export interface SetupSession {
  readonly setupId: string;
  readonly clientSecret: string;
}

export interface SetupResult {
  readonly setupId: string;
  readonly status: 'succeeded' | 'pending' | 'failed' | 'canceled';
  readonly customerId: string | null;
  readonly processorMethodId: string | null;
  readonly metadata: Record<string, string>;
  readonly failureMessage: string | null;
}

/** Capability: save a method for later off-session charges, in the processor's hosted fields. */
export interface MethodSetupCapability {
  createSetupSession(input: {
    customerId: string;
    methodKinds: readonly MethodKind[];
    metadata: Record<string, string>;
    idempotencyKey: string;
  }): Promise<SetupSession>;
  getSetupSession(setupId: string): Promise<SetupResult>;
  /** Detach a saved method from its customer (the client removed it in the portal); it can never be charged again. */
  removeSavedMethod?(processorMethodId: string): Promise<void>;
}

/** A refund of (part of) a payment, to the method it was paid with. */
export interface RefundInput {
  readonly processorPaymentId: string;
  readonly amount: Money;
  /** Staff's reason, kept in our records and the processor's metadata. */
  readonly reason: string;
  readonly metadata: Record<string, string>;
  readonly idempotencyKey: string;
}

/** succeeded / pending: the processor took it; failed: refused (nothing moved); unknown: ask again with the same key. */
export type RefundOutcome =
  | { readonly kind: 'succeeded' | 'pending'; readonly refundId: string }
  | { readonly kind: 'failed'; readonly refundId: string | null; readonly message: string }
  | { readonly kind: 'unknown'; readonly reason: string };

/** Capability: give money back to the payer (Stripe refunds; a bank ACH file would need a credit entry). */
export interface RefundCapability {
  refund(input: RefundInput): Promise<RefundOutcome>;
}

export interface PaymentsConnector {
  readonly vendor: PaymentsVendor;
  /** Present when the processor can save a method without a payment (re-enrollment after a failure). */
  readonly methodSetup?: MethodSetupCapability;
  /** Present when the processor can refund a payment. */
  readonly refunds?: RefundCapability;
  ensureCustomer(input: { name: string; email: string | null; clientId: string; idempotencyKey: string }): Promise<{ customerId: string }>;
  /** Start an on-session payment shown in the processor's hosted fields; returns the client secret. */
  createPortalPayment(input: PortalPaymentInput): Promise<{ processorPaymentId: string; clientSecret: string }>;
  chargeOffSession(input: OffSessionChargeInput): Promise<ChargeOutcome>;
  /**
   * Cancel a portal payment the client has not (yet) confirmed, because another checkout or a staff/autopay
   * charge replaces it (one open checkout per invoice). One the processor already took (processing,
   * succeeded) cannot be canceled: the answer is then what became of it.
   */
  cancelPortalPayment(input: { processorPaymentId: string; idempotencyKey: string }): Promise<PortalPaymentCancel>;
  /**
   * Server-side confirmation of a payment method created in the hosted fields (Stripe's "finalize
   * payments on the server"): Settle learns the card's funding first, quotes any surcharge, shows it, and
   * only then charges the final amount. 3-D Secure comes back as `requires_action` with a client secret.
   */
  chargeOnSession(input: OnSessionChargeInput): Promise<ChargeOutcome>;
  /** Read a payment method the processor holds (kind, brand, funding, owner), e.g. one just made in the hosted fields. */
  describeMethod(processorMethodId: string): Promise<DescribedMethod>;
  /** Ask the processor what happened to a payment (resolves `unknown`). */
  getPayment(processorPaymentId: string): Promise<PaymentStatus>;
  /** Find payments we created by our own attempt id (when a crash lost the processor's id). */
  findPaymentsByMetadata(key: string, value: string): Promise<readonly PaymentStatus[]>;
  listSavedMethods(customerId: string): Promise<readonly SavedMethod[]>;
  getPayout(payoutId: string): Promise<Payout>;
  listPayoutItems(payoutId: string, currency: Currency): AsyncIterable<readonly PayoutItem[]>;
  /** The ids of payouts paid to the bank that were created since `since`, newest first, page by page (the safety net for lost webhooks). */
  listPaidPayouts(since: Date): AsyncIterable<readonly string[]>;
  /** Verify the signature and parse; throws WebhookRejected when it is not genuine. */
  parseWebhook(headers: Record<string, string | string[] | undefined>, rawBody: Buffer): ProcessorEvent;
}
