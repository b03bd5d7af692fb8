// The PSA role: where invoices come from (source of truth) and where payment status goes back.
import type { Currency, Money } from '../../domain/money.ts';
import type { ContractRef } from '../../domain/contracts.ts';

export type PsaVendor = 'connectwise' | 'autotask' | 'halopsa';

export interface PsaClient {
  readonly externalId: string;
  readonly identifier: string; // the PSA's short code, e.g. ConnectWise company.identifier
  readonly name: string;
  readonly billingEmail: string | null;
  readonly billingContactName: string | null;
  readonly updatedAt: string; // ISO 8601
  /** Fields whose text was cleaned to be storable (connectors/storable-text.ts), for the log. */
  readonly textRepairs?: readonly string[];
}

export interface PsaInvoiceLine {
  readonly externalId: string; // e.g. "product:123", "time:456"
  readonly kind: 'product' | 'time' | 'expense' | 'other';
  readonly description: string;
  readonly quantity: string; // decimal text, never a float
  readonly amount: Money; // extended amount of the line
  /** The contract the line is billed under (domain/contracts.ts); absent: none, or not known. */
  readonly contract?: ContractRef;
}

export type PsaInvoiceType = 'standard' | 'agreement' | 'credit_memo' | 'down_payment' | 'miscellaneous' | 'progress';

export interface PsaInvoice {
  readonly externalId: string;
  readonly number: string; // what the client and the books see (QuickBooks DocNumber)
  readonly type: PsaInvoiceType;
  readonly status: string; // the PSA's own status text, kept for display
  readonly clientExternalId: string;
  readonly issuedOn: string; // YYYY-MM-DD
  readonly dueOn: string | null;
  readonly currency: Currency;
  readonly subtotal: Money;
  readonly tax: Money;
  readonly total: Money;
  readonly balance: Money; // what the PSA says is still owed
  readonly lines: readonly PsaInvoiceLine[];
  readonly updatedAt: string; // ISO 8601 last-updated in the PSA
  /** Fields whose text was cleaned to be storable (connectors/storable-text.ts), for the log. */
  readonly textRepairs?: readonly string[];
}

export interface CallbackCheck {
  /** present: registered and active as wanted; created: there was none; repaired: ours was replaced. */
  readonly outcome: 'present' | 'created' | 'repaired' | 'unsupported';
  /** What was replaced, for the log and `settle doctor` (e.g. `inactive callback 12 to https://old/…`). */
  readonly replaced: readonly string[];
}

/** A record the PSA returned that Settle cannot take as it is (a value outside what it understands). */
export interface PsaRejectedRecord {
  readonly entity: 'client' | 'invoice';
  readonly externalId: string;
  /** How staff find it in the PSA, e.g. `invoice INV-1042` or `company "Acme" (ACME)`. */
  readonly label: string;
  readonly reason: string;
}

/** One page of records; `rejected` names the page's records that could not be mapped (the rest go on). */
export type PsaPage<T> = readonly T[] & { readonly rejected?: readonly PsaRejectedRecord[] };

/** A change announced by the PSA (callback/webhook), before we fetch the record itself. */
export interface PsaChangeNotice {
  readonly eventId: string; // the vendor's identity for this delivery, for inbox dedup
  readonly entity: 'invoice' | 'company' | 'other';
  readonly externalId: string;
  readonly action: 'added' | 'updated' | 'deleted';
}

export interface RecordPaymentInput {
  readonly invoiceExternalId: string;
  readonly amount: Money;
  readonly paidOn: string; // YYYY-MM-DD
  /** Our identity written into the PSA record so that a retry can find it (no vendor idempotency). */
  readonly reference: string;
  readonly idempotencyKey: string;
  /**
   * Ids of payments in the PSA that other Settle postings already stand for. A PSA without our reference
   * on its records (ConnectWise) matches by day and amount; two payments of the same amount on the same
   * day (two installments, two halves) must never be taken for one another.
   */
  readonly claimedRemoteIds?: readonly string[];
}

export interface RecordPaymentResult {
  readonly remoteId: string;
  /** True when check-before-write found the payment already there (a retry after a crash). */
  readonly alreadyRecorded: boolean;
}

/** A failed client payment, shown to the MSP's staff in the PSA (a note, or what each PSA allows). */
export interface RecordFailureInput {
  readonly clientExternalId: string;
  /** What staff read: amount, invoice numbers, the reason and what happens next. */
  readonly text: string;
  /** Our identity written into the PSA record so that a retry can find it (no vendor idempotency). */
  readonly reference: string;
  readonly idempotencyKey: string;
}

/**
 * Undo (part of) a payment Settle recorded in the PSA: a refund, an ACH return, a lost dispute. The
 * payment is kept at `remaining` (reduced), or removed when `remaining` is zero. An absolute target,
 * so repeating the call is harmless; a payment already at or below it is left alone.
 */
export interface ReversePaymentInput {
  readonly invoiceExternalId: string;
  /** The PSA's id of the payment Settle recorded (the payment posting's remote id). */
  readonly paymentRemoteId: string;
  readonly remaining: Money;
  readonly idempotencyKey: string;
}

export interface ReversePaymentResult {
  /** 'removed' (deleted), 'reduced' (amount lowered), or 'already' (found as wanted: a retry). */
  readonly outcome: 'removed' | 'reduced' | 'already';
}

export interface PsaConnector {
  readonly vendor: PsaVendor;
  /** Companies changed since `since` (all when null), one page per yield. */
  listClients(since: string | null): AsyncIterable<PsaPage<PsaClient>>;
  /** Invoices with their lines changed since `since` (all when null), oldest first, one page per yield. */
  listInvoices(since: string | null): AsyncIterable<PsaPage<PsaInvoice>>;
  getInvoice(externalId: string): Promise<PsaInvoice | null>;
  /** One client by the PSA's id (PSAs that push company changes; null: it no longer exists). */
  getClient?(externalId: string): Promise<PsaClient | null>;
  recordPayment(input: RecordPaymentInput): Promise<RecordPaymentResult>;
  /** Reduce or remove a payment Settle recorded earlier (refund, ACH return, lost dispute). */
  reversePayment(input: ReversePaymentInput): Promise<ReversePaymentResult>;
  /** Show a failed payment on the client's record in the PSA, check-before-write by `reference`. */
  recordFailure(input: RecordFailureInput): Promise<RecordPaymentResult>;
  /** Register (or confirm) push notifications to `url`; returns false where the PSA cannot push. */
  subscribe(url: string): Promise<boolean>;
  /**
   * Make sure the PSA pushes changes to `url`, repairing what is not as it should be: a missing callback is
   * created, and one of ours that was deactivated, changed, or points at another address for the same
   * workspace path (Settle's public URL moved) is replaced.
   */
  ensureCallback(url: string): Promise<CallbackCheck>;
  /**
   * Parse and authenticate a pushed notification; throws (or rejects with) WebhookRejected when it is
   * not genuine. May be async: ConnectWise signs with a key the receiver fetches from a URL named in
   * the callback (cached), so callers always `await` the result.
   */
  parseNotification(headers: Record<string, string | string[] | undefined>, rawBody: Buffer): PsaChangeNotice | Promise<PsaChangeNotice>;
  /**
   * The credit memos applied to this invoice in the PSA (each lowers what the client owes; the invoice's
   * balance already shows it). Settle applies the same memo, as the PSA's export created it in the books, to
   * the same invoice (AccountingConnector.applyCreditMemo). Absent ⇒ the PSA cannot tell.
   */
  creditApplications?(invoiceExternalId: string): Promise<readonly PsaCreditApplication[]>;
  /** The invoice as the PSA renders it (its own template), where the PSA offers one; null when it has none. */
  invoicePdf?(invoiceExternalId: string): Promise<Buffer | null>;
}

/** One credit memo applied to an invoice in the PSA. */
export interface PsaCreditApplication {
  /** The PSA's id of the application (ConnectWise: the invoice payment row that names the credit). */
  readonly remoteId: string;
  readonly creditMemoExternalId: string;
  /** The memo's number, as the PSA's accounting export gives it to the books (QuickBooks DocNumber). */
  readonly creditMemoNumber: string;
  /** Positive. */
  readonly amount: Money;
  readonly appliedOn: string; // YYYY-MM-DD
}
