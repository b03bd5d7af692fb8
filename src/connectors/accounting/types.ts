// The accounting role: the MSP's books. Payments land against the same invoice the PSA issued
// (matched by invoice number), fees are separated, and each payout becomes one deposit equal to
// the bank line (payments-rules.md §5.3).
import type { Money } from '../../domain/money.ts';
import type { LedgerChanges } from './ledger-copy.ts';

export type AccountingVendor = 'quickbooks-online' | 'quickbooks-desktop' | 'xero';

export interface BooksInvoice {
  readonly remoteId: string;
  readonly number: string;
  readonly customerRemoteId: string;
  readonly total: Money;
  readonly balance: Money;
}

export interface PostPaymentInput {
  readonly idempotencyKey: string;
  readonly invoiceNumber: string;
  readonly amount: Money;
  readonly paidOn: string; // YYYY-MM-DD
  /** Our payment reference shown in the books (PaymentRefNum) and used for check-before-write. */
  readonly reference: string;
  readonly memo: string;
  /**
   * Paid out of the client's credit (an earlier overpayment), not new money: the books draw it from the
   * client-credit clearing account the overpayment was deposited to, never from Undeposited Funds.
   */
  readonly fromClientCredit?: boolean;
  /**
   * How much of `amount` to apply to the invoice, when less: part of this payment was already refunded
   * (or returned) in Settle before it reached the books. The rest stays unapplied on the payment, and the
   * reversal's posting moves it to its journal entry — so the refunded part never claims the invoice's
   * open balance, which another payment may have taken meanwhile (the soak: QuickBooks refused such a
   * payment for ever, and its refund waited for it). Absent ⇒ all of it.
   */
  readonly appliedAmount?: Money;
  /** See RequestGeneration. */
  readonly requestGeneration?: number;
  /**
   * Never sent before: Settle recorded, before this send, that it is the first (engine/post-to-accounting.ts),
   * so no earlier write of it can exist and the connector may skip its check-before-write look-up for it. A
   * send whose answer was lost (a crash) is never a first one: its mark stays until an answer is recorded.
   */
  readonly firstSend?: boolean;
  /**
   * Class / location for this payment's invoice, from the GL mapping's rules by PSA field (gl-mapping.ts);
   * absent ⇒ the workspace-wide choice. A ledger puts each dimension where it takes one.
   */
  readonly tracking?: PostingTracking;
}

/**
 * requestGeneration: 0 at first; one more each time a person retries after the vendor refused the request.
 * A refused request wrote nothing, and a vendor that replays answers by request id (QuickBooks' requestid)
 * would replay the refusal, so the connector makes it part of the request id. The record's own marker
 * (check-before-write) stays the idempotency key.
 */
export type RequestGeneration = number;

export type PostResult =
  | { readonly ok: true; readonly remoteId: string }
  | {
      readonly ok: false;
      readonly retryable: boolean;
      readonly error: string;
      /**
       * Set when nothing is wrong with the request or the vendor, but the invoice it applies to is not in
       * the books yet (the PSA's accounting export has not run): the posting waits for it, it has not failed.
       */
      readonly waitingForInvoice?: string;
      /**
       * Set when the credit memo an application names is not in the books yet (the PSA's export has not
       * created it): the application waits for it, as a payment waits for its invoice (ApplyCreditMemoInput).
       */
      readonly waitingForCreditMemo?: string;
    };

export interface DepositPaymentLine {
  readonly paymentRemoteId: string;
  readonly amount: Money;
  /**
   * As PostPaymentInput.tracking: the payment's invoice's class / location by the GL mapping's rules, for a
   * ledger whose deposit line that links a payment takes one (QuickBooks Desktop's OverrideClassRef).
   */
  readonly tracking?: PostingTracking;
}

export interface PostDepositInput {
  readonly idempotencyKey: string;
  readonly payoutId: string;
  readonly depositedOn: string; // YYYY-MM-DD
  readonly payments: readonly DepositPaymentLine[];
  /** Processing fees of the payout as a positive amount; booked as a negative line to the fee account. */
  readonly fees: Money;
  /** Other non-payment movements inside the payout (refunds, adjustments), signed. */
  readonly adjustments: Money;
  /** Card surcharges collected with the payout's payments: income of their own (payments-rules.md §5.3). */
  readonly surcharges?: Money;
  /** Installment-plan fees charged with the payout's payments: income of their own, not a surcharge. */
  readonly planFees?: Money;
  /** Money paid beyond the invoices (overpayments): the clients' credit, a liability until applied. */
  readonly clientCredit?: Money;
  /**
   * Of `adjustments`, the ACH discounts given (§1.5) as a positive amount: a ledger with an account mapped
   * for them books them on a negative line of their own and takes them out of the adjustments line; a
   * ledger that ignores this leaves them in adjustments (the deposit equals the payout either way).
   */
  readonly achDiscounts?: Money;
  /**
   * Payments in this money that are not in the books yet (their invoice has not been exported there): each
   * becomes a line to the clearing account, so the deposit still equals the bank line today. When the
   * payment is posted, linkDepositPayments moves the line onto it.
   */
  readonly awaiting?: readonly DepositClearingLine[];
  readonly memo: string;
  /** See RequestGeneration. */
  readonly requestGeneration?: number;
}

export interface DepositClearingLine {
  /** Our key for the line (the payment posting's idempotency key), kept on the line so a later run finds it. */
  readonly key: string;
  readonly amount: Money;
  /** Shown on the line, e.g. "Payment for invoice 1042 (invoice not in the books yet)". */
  readonly description: string;
}

/** A deposit Settle posted and a person edited by hand, put back as Settle posts it (AccountingConnector.restoreDeposit). */
export interface RestoreDepositInput extends PostDepositInput {
  /** The deposit's id in the books (the deposit posting's remote id). */
  readonly depositRemoteId: string;
}

/** A deposit as it is in the books: its id, and which clearing lines (by key) it still carries. */
export type DepositResult = { readonly ok: true; readonly remoteId: string; readonly onClearing: readonly string[] } | Extract<PostResult, { ok: false }>;

/** Move clearing lines of a deposit onto the payments now in the books; the deposit total does not change. */
export interface LinkDepositPaymentsInput {
  readonly depositRemoteId: string;
  readonly links: readonly { readonly key: string; readonly paymentRemoteId: string; readonly amount: Money }[];
}

/**
 * Take back (part of) a payment Settle posted: a refund, an ACH return, a lost dispute. The books must
 * show the invoice owing that part again, and the money leaving through a later payout.
 */
export interface ReversePaymentInput {
  readonly idempotencyKey: string;
  /** The books' id of the payment Settle posted (the payment posting's remote id). */
  readonly paymentRemoteId: string;
  readonly invoiceNumber: string;
  /** What is taken back now (positive). */
  readonly amount: Money;
  /** The day of the refund / return: the entry's date (stable across retries). */
  readonly reversedOn: string; // YYYY-MM-DD
  readonly memo: string;
  /** See RequestGeneration. */
  readonly requestGeneration?: number;
  /** As PostPaymentInput.tracking: the invoice's class / location by the GL mapping's rules. */
  readonly tracking?: PostingTracking;
}

/**
 * Money the bank took out of the account that is no payment of ours (a bank ACH return's debit): booked
 * against the clearing account the return's reversal credited, so the two net to zero there.
 */
export interface BankWithdrawalInput {
  readonly idempotencyKey: string;
  /** Positive: what left the bank. */
  readonly amount: Money;
  readonly withdrawnOn: string; // YYYY-MM-DD, the bank line's date
  readonly reference: string;
  readonly memo: string;
  /** As for payments: one more each time a person retries after the vendor refused the request. */
  readonly requestGeneration?: number;
}

export interface PostPaymentsOptions {
  /**
   * Awaited after each write to the ledger, before the next is sent, with the results now known by position
   * in the inputs: the caller records them at once, so a process killed during a long backlog loses at most
   * the answer of the write in flight (its re-send is found by check-before-write). Positions never reported
   * come back only in the returned results.
   */
  readonly onAnswered?: (answered: ReadonlyMap<number, PostResult>) => Promise<void>;
}

export interface AccountingConnector {
  readonly vendor: AccountingVendor;
  findInvoiceByNumber(invoiceNumber: string): Promise<BooksInvoice | null>;
  /**
   * Post several payments at once; the connector uses the vendor's batch facility where there is one.
   * Results come back in input order; one failure does not fail the others.
   */
  postPayments(inputs: readonly PostPaymentInput[], options?: PostPaymentsOptions): Promise<readonly PostResult[]>;
  /**
   * True when postPayments calls options.onAnswered after each write it sends: the engine then hands it a
   * whole backlog in one call (look-ups shared across it) and records each write's answers as they come.
   * Absent ⇒ the engine sends 30 at a time and records each call's results when it returns.
   */
  readonly answersEachWrite?: boolean;
  postDeposit(input: PostDepositInput): Promise<DepositResult>;
  /**
   * Replace each named clearing line of a posted deposit by a link to its payment (same amount). Safe to
   * repeat: a line already linked counts as done. A line that is gone (the deposit was edited by hand) is
   * a final failure naming the deposit.
   */
  linkDepositPayments(input: LinkDepositPaymentsInput): Promise<PostResult>;
  /**
   * Put a deposit Settle posted and a person edited back to the payout: the same record, its lines as
   * postDeposit would write them today (the three-way reconciliation's fix). Safe to repeat. Absent ⇒ the
   * ledger cannot (the report then tells a person what to do).
   */
  restoreDeposit?(input: RestoreDepositInput): Promise<DepositResult>;
  /** Which of these invoice numbers are in the books now (a cheap look-up for postings waiting on them). */
  invoicesInBooks(invoiceNumbers: readonly string[]): Promise<ReadonlySet<string>>;
  /**
   * Which of these credit memo numbers are in the books now, ready to apply (for applications waiting on
   * them: engine/watch-books-invoices.ts). Absent ⇒ such an application is woken when its invoice is there.
   */
  creditMemosInBooks?(creditMemoNumbers: readonly string[]): Promise<ReadonlySet<string>>;
  /** Book a reversal of a payment posted earlier (see ReversePaymentInput); remoteId names the reversing entry. */
  reversePayment(input: ReversePaymentInput): Promise<PostResult>;
  /** Book a bank debit against clearing (BankWithdrawalInput); absent ⇒ the posting fails with a person told. */
  postBankWithdrawal?(input: BankWithdrawalInput): Promise<PostResult>;
  /**
   * Which of these records Settle posted are no longer in the books as posted: voided or deleted there by a
   * person (QuickBooks allows both for an undeposited payment and for a deposit). Keys `${kind}:${remoteId}`;
   * records still in place are left out. Absent ⇒ the vendor offers no way to tell.
   */
  goneRecords?(refs: readonly BooksRecordRef[]): Promise<ReadonlyMap<string, GoneRecord>>;
  /**
   * Changes to the ledger's invoices, payments and deposits since `cursor` (null: everything), for Settle's
   * own copy that the three-way reconciliation reads (ledger-copy.ts). Absent ⇒ no copy, no books column.
   */
  readLedgerChanges?(cursor: string | null): Promise<LedgerChanges>;
  /**
   * The ledger's live chart of accounts and tracking lists, for the GL mapping (see LedgerChart). Absent ⇒
   * the staff app offers no pickers for this ledger and `settle doctor` cannot check the mapping.
   */
  readChart?(): Promise<LedgerChart>;
  /**
   * Apply, in the books, a credit memo the PSA's own accounting export created (found by its number) to the
   * same invoice the PSA applied it to — never create one (ApplyCreditMemoInput). Absent ⇒ this ledger cannot.
   */
  applyCreditMemo?(input: ApplyCreditMemoInput): Promise<PostResult>;
}

/**
 * A credit memo applied to an invoice in the PSA, to be applied the same way in the books. Check-before-write
 * by the record's marker (the idempotency key); the memo or the invoice not in the books yet is a wait
 * (PostResult.waitingForCreditMemo / waitingForInvoice), not a failure; too little credit left, or the two
 * belonging to different customers, is a final failure a person sees.
 */
export interface ApplyCreditMemoInput {
  readonly idempotencyKey: string;
  readonly creditMemoNumber: string;
  readonly invoiceNumber: string;
  /** What the PSA applied (positive). */
  readonly amount: Money;
  readonly appliedOn: string; // YYYY-MM-DD
  readonly memo: string;
  readonly requestGeneration?: number;
  readonly tracking?: PostingTracking;
}

// ---- The GL mapping, one model for every ledger (engine/gl-mapping.ts, engine/books-accounts.ts) ----

/**
 * What Settle books to an account. bank: payouts land there. undeposited_funds: payments wait there until
 * their payout. clearing: payout money whose invoice is not in the books yet. processing_fees, surcharge_income,
 * plan_fee_income, ach_discounts: their own lines of a payout's deposit. client_credit: overpayments held for
 * clients. adjustments: refunds and other payout movements, and what reversals clear through.
 */
export type GlRole =
  'bank' | 'undeposited_funds' | 'clearing' | 'processing_fees' | 'surcharge_income' | 'plan_fee_income' | 'client_credit' | 'ach_discounts' | 'adjustments';

export interface LedgerAccount {
  readonly id: string;
  /** As the ledger shows it in its own pickers (QuickBooks: FullyQualifiedName; Xero: "200 Sales"). */
  readonly name: string;
  /** The ledger's own word for its type ("Bank", "Other Current Asset", "EXPENSE"), shown to people. */
  readonly type: string;
  /** The ledger's sub-type where it has one (QuickBooks: "UndepositedFunds"); '' otherwise. */
  readonly subType: string;
  /** The roles this account may take, by the ledger's rules (the connector decides: it knows its types). */
  readonly fits: readonly GlRole[];
}

/**
 * A tracking dimension the ledger puts on what Settle posts: QuickBooks' Class and Location (Department),
 * Xero's tracking categories, QuickBooks Desktop's Class. `key` is stable (it names the dimension in the
 * workspace's rules); `on` false: the ledger has it but the company turned it off (nothing may be mapped).
 */
export interface LedgerDimension {
  readonly key: string;
  readonly label: string;
  readonly on: boolean;
  readonly options: readonly { readonly id: string; readonly name: string }[];
}

export interface LedgerChart {
  /** Active accounts only. */
  readonly accounts: readonly LedgerAccount[];
  readonly dimensions: readonly LedgerDimension[];
}

/** Dimension key → option id, for one posting. */
export type PostingTracking = Readonly<Record<string, string>>;

export interface BooksRecordRef {
  readonly kind: 'payment' | 'deposit';
  readonly remoteId: string;
}

export type GoneRecord = 'voided' | 'deleted';
