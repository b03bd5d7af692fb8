// A received payment applied to a journal entry: QuickBooks lists a journal entry's Accounts Receivable debit
// among the customer's open transactions in Receive Payments, so AppliedToTxnAdd may name the entry's TxnID
// (Settle's reversal entries are paid off this way when a client pays a reversed invoice again).
import type { CompanyFile } from './store.ts';
import { EditRefusal } from './deletions.ts';
import { amt } from './qbxml-rs.ts';

/**
 * A payment applied to a journal entry, as QuickBooks' Receive Payments allows: the entry must have an Accounts
 * Receivable debit for this customer (otherwise it is not one of the customer's open transactions), no credit
 * memo is set against it here, and the amounts applied to it (this request's lines too) stay within what is open.
 */
export function checkJournalApplication(
  c: CompanyFile,
  customerListId: string,
  t: { txnId: string; amount: bigint; credits: readonly unknown[] },
  all: readonly { txnId: string; amount: bigint }[],
): void {
  const j = c.journals.find((x) => x.txnId === t.txnId)!;
  if (!j.debits.some((l) => l.entityListId === customerListId && c.account({ fullName: l.account })?.type === 'AccountsReceivable'))
    throw new EditRefusal(3140, `There is an invalid reference to QuickBooks JournalEntry "${t.txnId}": it is not an open transaction of this customer.`);
  if (t.credits.length)
    throw new EditRefusal(3180, 'There was an error when saving a ReceivePayment. QuickBooks error message: credits apply to invoices only.');
  if (t.amount <= 0n) throw new EditRefusal(3020, `PaymentAmount applied to journal entry ${j.refNumber} must be more than 0.00.`);
  const asked = all.filter((x) => x.txnId === t.txnId).reduce((s, x) => s + x.amount, 0n);
  const open = c.openOnJournal(j.txnId, customerListId);
  if (asked > open)
    throw new EditRefusal(
      3180,
      `There was an error when saving a ReceivePayment. QuickBooks error message: the amount applied to journal entry ${j.refNumber} is more than its open balance (${amt(open)}).`,
    );
}
