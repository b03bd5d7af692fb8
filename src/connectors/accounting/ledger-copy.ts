// Settle's own copy of the ledger (three-way reconciliation, issue #11): the books' invoices, payments and
// deposits, read incrementally so the reconciliation report runs over local rows and never waits on a
// vendor's rate limit. Each ledger reads changes its own way behind one small interface:
//   - QuickBooks Online: Change Data Capture (`/cdc?entities=…&changedSince=…`, 30 days back at most,
//     1,000 records an answer) — quickbooks-online/ledger-copy.ts;
//   - Xero: `If-Modified-Since` on GET /Invoices, /Payments, /BankTransfers (paged);
//   - QuickBooks Desktop: InvoiceQuery / ReceivePaymentQuery / DepositQuery with FromModifiedDate and iterators.
// The cursor is the connector's own opaque text (Settle stores it, never reads it); null asks for a full read.
import type { Money } from '../../domain/money.ts';

export interface LedgerInvoiceCopy {
  readonly remoteId: string;
  readonly number: string;
  readonly customerRemoteId: string | null;
  readonly total: Money;
  readonly balance: Money;
  readonly voided: boolean;
  readonly updatedAt: Date | null;
}

export interface LedgerPaymentCopy {
  readonly remoteId: string;
  readonly total: Money;
  readonly paidOn: string | null; // YYYY-MM-DD
  readonly customerRemoteId: string | null;
  /** The idempotency key of Settle's `[settle:<key>]` marker, when Settle posted it; null when a person did. */
  readonly settleKey: string | null;
  readonly reference: string | null;
  readonly voided: boolean;
  /** What it applies to which invoice (by the books' invoice id). */
  readonly applied: readonly { readonly invoiceRemoteId: string; readonly amount: Money }[];
  readonly updatedAt: Date | null;
}

export interface LedgerDepositCopy {
  readonly remoteId: string;
  readonly total: Money;
  readonly depositedOn: string | null;
  readonly settleKey: string | null;
  readonly voided: boolean;
  readonly updatedAt: Date | null;
}

export type LedgerRecordKind = 'invoice' | 'payment' | 'deposit';

export interface LedgerChanges {
  /**
   * full: this answer is the whole ledger (a first read, or a cursor too old for incremental reads) — records
   * of the copy not in it are gone. Otherwise only what changed since the cursor.
   */
  readonly full: boolean;
  readonly invoices: readonly LedgerInvoiceCopy[];
  readonly payments: readonly LedgerPaymentCopy[];
  readonly deposits: readonly LedgerDepositCopy[];
  readonly deleted: readonly { readonly kind: LedgerRecordKind; readonly remoteId: string }[];
  /** Give it back next time. */
  readonly cursor: string;
  /** False when the vendor cut the answer short (QBO CDC's 1,000 records): ask again at once with the cursor. */
  readonly complete: boolean;
  /** The moment up to which the copy is current once these changes are stored (the vendor's clock where known). */
  readonly asOf: Date;
}

/** Implemented by a ledger connector that can keep Settle's copy current (AccountingConnector.readLedgerChanges). */
export interface LedgerCopySource {
  readLedgerChanges(cursor: string | null): Promise<LedgerChanges>;
}
