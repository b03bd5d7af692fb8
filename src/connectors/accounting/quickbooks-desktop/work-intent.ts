// What the connector queues for the Web Connector (qbd_work.intent), as JSON: amounts in minor units as
// strings (bigint-exact), account references as the MSP named them (QuickBooks Desktop users know accounts by
// name; a ListID works too). The accounts travel with each item, so the SOAP service builds the qbXML from
// the row alone, exactly as the connector meant it, however late the Web Connector asks.
import { createHash } from 'node:crypto';
import type { QbRef } from './qbxml/xml.ts';

export interface QbdAccounts {
  readonly bank: QbRef;
  readonly fees: QbRef;
  readonly accountsReceivable: QbRef;
  /** Payments land here; absent ⇒ QuickBooks' Undeposited Funds (omitting DepositToAccountRef). */
  readonly undepositedFunds?: QbRef;
  readonly adjustments?: QbRef;
  readonly surchargeIncome?: QbRef;
  readonly planFeeIncome?: QbRef;
  readonly clientCredit?: QbRef;
  /** ACH discounts given (§1.5), a negative deposit line of their own; absent ⇒ they stay in the adjustments line. */
  readonly achDiscounts?: QbRef;
  /** Payout money whose payment is not in the books yet, and the account reversals clear through. */
  readonly clearing?: QbRef;
  readonly paymentMethod?: QbRef;
}

export interface PaymentIntent {
  readonly invoiceNumber: string;
  readonly currency: string;
  readonly amountMinor: string;
  readonly appliedMinor: string;
  readonly paidOn: string;
  readonly reference: string;
  readonly memo: string;
  readonly fromClientCredit: boolean;
  readonly accounts: QbdAccounts;
}

export interface DepositIntent {
  readonly payoutId: string;
  readonly currency: string;
  readonly depositedOn: string;
  readonly memo: string;
  readonly paymentTxnIds: readonly string[];
  /**
   * Payment TxnID → the class (ClassRet ListID) its invoice has by the GL mapping's rules: the payment's line
   * carries it as OverrideClassRef. Absent for a payment with no rule (and in intents queued before).
   */
  readonly paymentClasses?: Readonly<Record<string, string>>;
  /** Signed amounts of the lines besides the payments, already mapped to accounts (work-steps.ts adds them as given). */
  readonly otherLines: readonly { readonly account: QbRef; readonly amountMinor: string; readonly memo: string }[];
  /** Keys of clearing lines (payments not in the books yet) — reported back as onClearing. */
  readonly clearingKeys: readonly string[];
  readonly accounts: QbdAccounts;
}

export interface ReversalIntent {
  readonly invoiceNumber: string;
  readonly paymentRemoteId: string;
  readonly currency: string;
  readonly amountMinor: string;
  readonly reversedOn: string;
  readonly memo: string;
  readonly accounts: QbdAccounts;
  /** The invoice's class by the GL mapping's rules (PostingTracking 'class': a ClassRet ListID), on both lines. */
  readonly classRef?: QbRef;
}

export interface InvoiceLookupIntent {
  readonly invoiceNumber: string;
}

/** Where part of a payment goes: its invoice, or an open reversal entry of that invoice (reopened.ts). */
export interface Application {
  readonly txnId: string;
  readonly amountMinor: string;
  readonly to: 'invoice' | 'journal';
}

/** What the steps learned: the invoice (TxnID, customer) and whether the check-before-write has run. */
export interface WorkContext {
  /** A payment's split, decided when its add is first handed over and kept for any re-send (reopened.ts). */
  readonly applyTo?: readonly Application[];
  readonly invoice?: { readonly txnId: string; readonly customerListId: string; readonly refNumber: string };
  /** A credit memo application's credit memo, found by its number (credit-memo.ts). */
  readonly creditMemo?: { readonly txnId: string; readonly customerListId: string };
  readonly checked?: boolean;
  /** A deposit's EditSequence as the restore's check read it (deposit-restore.ts). */
  readonly editSequence?: string;
}

/** A journal entry's RefNumber holds 11 characters: a short stable digest of our key. */
export function journalRefFor(idempotencyKey: string): string {
  return `S${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 10).toUpperCase()}`;
}
