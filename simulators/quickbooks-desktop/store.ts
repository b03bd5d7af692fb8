// The company file the simulator plays: accounts, customers, invoices and what Settle writes (received
// payments, deposits, journal entries), amounts in cents (bigint), one currency (USD). IDs look like
// QuickBooks' own (ListID "80000001-1700000000", TxnID "1A2-1700000000").
export interface Account {
  readonly listId: string;
  readonly fullName: string;
  readonly type: 'Bank' | 'AccountsReceivable' | 'OtherCurrentAsset' | 'OtherCurrentLiability' | 'Income' | 'Expense';
  /** False once a person made it inactive in QuickBooks (`_sim` control); AccountQuery's ActiveOnly leaves it out. */
  active?: boolean;
}
import { Iterators } from './reads.ts';
import type { DeletedTxn } from './deletions.ts';

export interface Customer {
  readonly listId: string;
  readonly fullName: string;
  timeModified: string;
}
export interface Invoice {
  readonly txnId: string;
  readonly refNumber: string;
  readonly customerListId: string;
  readonly txnDate: string;
  readonly subtotal: bigint;
  balance: bigint;
  timeModified: string;
}
/** A credit memo as the PSA's accounting export writes it; `remaining` is what is left to apply (CreditRemaining). */
export interface CreditMemo {
  readonly txnId: string;
  readonly refNumber: string;
  readonly customerListId: string;
  readonly txnDate: string;
  readonly total: bigint;
  remaining: bigint;
  timeModified: string;
}
export interface Payment {
  readonly txnId: string;
  readonly customerListId: string;
  readonly txnDate: string;
  readonly refNumber: string;
  readonly total: bigint;
  readonly memo: string;
  readonly externalGuid: string | undefined;
  /** Undeposited Funds unless DepositToAccountRef named another account. */
  readonly depositTo: string;
  readonly applied: readonly { readonly txnId: string; readonly amount: bigint; readonly credits?: readonly { creditTxnId: string; amount: bigint }[] }[];
  depositedIn: string | null;
  readonly timeModified: string;
}
export interface DepositLine {
  readonly paymentTxnId?: string;
  readonly account?: string;
  readonly className?: string | undefined;
  readonly amount: bigint;
  readonly memo: string;
}
export interface Deposit {
  readonly txnId: string;
  readonly txnDate: string;
  readonly account: string;
  readonly memo: string;
  readonly externalGuid: string | undefined;
  readonly lines: readonly DepositLine[];
  readonly total: bigint;
  readonly timeModified: string;
  /** Moves on with every change (DepositMod must name the current one; deposit-mod.ts). */
  readonly editSequence?: number;
}
export interface JournalLine {
  readonly account: string;
  readonly amount: bigint;
  readonly memo: string;
  readonly entityListId: string | undefined;
  /** The class's full name (ClassRef), when the line has one. */
  readonly className?: string | undefined;
}
/** A class (QuickBooks' class tracking): lines of journal entries and deposits may name one. */
export interface QbClass {
  readonly listId: string;
  readonly fullName: string;
  active: boolean;
}
export interface Journal {
  readonly txnId: string;
  readonly txnDate: string;
  readonly refNumber: string;
  readonly externalGuid: string | undefined;
  readonly debits: readonly JournalLine[];
  readonly credits: readonly JournalLine[];
  readonly timeModified: string;
}

export const UNDEPOSITED_FUNDS = 'Undeposited Funds';

export class CompanyFile {
  private seq = 0;
  readonly accounts: Account[] = [];
  readonly customers: Customer[] = [];
  readonly invoices: Invoice[] = [];
  readonly payments: Payment[] = [];
  readonly deposits: Deposit[] = [];
  readonly journals: Journal[] = [];
  readonly creditMemos: CreditMemo[] = [];
  readonly classes: QbClass[] = [];
  /** Transactions a person deleted (TxnDeletedQuery lists them; deletions.ts). */
  readonly deleted: DeletedTxn[] = [];
  /** qbXML iterators of the QuickBooks session (one per Web Connector run). */
  readonly iterators: Iterators;

  constructor(
    readonly path = 'C:\\Users\\Public\\Documents\\Intuit\\QuickBooks\\Company Files\\MSP.QBW',
    private readonly now: () => number = Date.now,
  ) {
    this.iterators = new Iterators(now);
    for (const [fullName, type] of [
      ['Checking', 'Bank'],
      ['Accounts Receivable', 'AccountsReceivable'],
      [UNDEPOSITED_FUNDS, 'OtherCurrentAsset'],
      ['Payments Clearing', 'OtherCurrentAsset'],
      ['Client Credit', 'OtherCurrentLiability'],
      ['Services', 'Income'],
      ['Surcharge Income', 'Income'],
      ['Merchant Fees', 'Expense'],
    ] as const) {
      this.accounts.push({ listId: this.listId(), fullName, type });
    }
  }

  private stamp(): number {
    this.seq += 1;
    return Math.floor(this.now() / 1000) * 1000 + this.seq;
  }
  listId(): string {
    return `${(0x80000000 + (this.stamp() % 0xfffffff)).toString(16).toUpperCase()}-${Math.floor(this.now() / 1000)}`;
  }
  txnId(): string {
    return `${this.stamp().toString(16).toUpperCase().slice(-6)}-${Math.floor(this.now() / 1000)}`;
  }
  /** TimeModified as QuickBooks writes it: local time with offset (here UTC). */
  timeModified(): string {
    return new Date(this.now()).toISOString().slice(0, 19) + '+00:00';
  }

  account(ref: { listId?: string; fullName?: string } | undefined): Account | undefined {
    if (!ref) return undefined;
    return this.accounts.find((a) => (ref.listId ? a.listId === ref.listId : a.fullName.toLowerCase() === (ref.fullName ?? '').toLowerCase()));
  }
  customer(ref: { listId?: string; fullName?: string } | undefined): Customer | undefined {
    if (!ref) return undefined;
    return this.customers.find((c) => (ref.listId ? c.listId === ref.listId : c.fullName === ref.fullName));
  }

  /** A class a person made in QuickBooks (`_sim` control). */
  addClass(fullName: string): QbClass {
    const existing = this.classes.find((c) => c.fullName === fullName);
    if (existing) return existing;
    const c = { listId: this.listId(), fullName, active: true };
    this.classes.push(c);
    return c;
  }
  /** A ClassRef: by ListID or full name, active classes only (QuickBooks refuses an inactive one on a new line). */
  classOf(ref: { listId?: string; fullName?: string } | undefined): QbClass | undefined {
    if (!ref) return undefined;
    return this.classes.find((c) => c.active && (ref.listId ? c.listId === ref.listId : c.fullName === ref.fullName));
  }

  addCustomer(fullName: string): Customer {
    const existing = this.customers.find((c) => c.fullName === fullName);
    if (existing) return existing;
    const c = { listId: this.listId(), fullName, timeModified: this.timeModified() };
    this.customers.push(c);
    return c;
  }

  /** An invoice as the PSA's accounting export writes it (the simulator's seed; `_sim` control). */
  addInvoice(i: { refNumber: string; customer: string; amountCents: bigint; txnDate?: string }): Invoice {
    const customer = this.addCustomer(i.customer);
    const inv: Invoice = {
      txnId: this.txnId(),
      refNumber: i.refNumber,
      customerListId: customer.listId,
      txnDate: i.txnDate ?? new Date(this.now()).toISOString().slice(0, 10),
      subtotal: i.amountCents,
      balance: i.amountCents,
      timeModified: this.timeModified(),
    };
    this.invoices.push(inv);
    return inv;
  }

  /** A credit memo as the PSA's accounting export writes it (`_sim` control). */
  addCreditMemo(c: { refNumber: string; customer: string; amountCents: bigint; txnDate?: string }): CreditMemo {
    const customer = this.addCustomer(c.customer);
    const memo: CreditMemo = {
      txnId: this.txnId(),
      refNumber: c.refNumber,
      customerListId: customer.listId,
      txnDate: c.txnDate ?? new Date(this.now()).toISOString().slice(0, 10),
      total: c.amountCents,
      remaining: c.amountCents,
      timeModified: this.timeModified(),
    };
    this.creditMemos.push(memo);
    return memo;
  }

  /**
   * What a customer still owes on a journal entry: its Accounts Receivable debit lines (each names the customer)
   * less what received payments applied to the entry. QuickBooks lists such an entry among the customer's open
   * transactions in Receive Payments, and a ReceivePayment may apply to it (AppliedToTxnAdd with its TxnID).
   */
  openOnJournal(txnId: string, customerListId?: string): bigint {
    const j = this.journals.find((x) => x.txnId === txnId);
    if (!j) return 0n;
    const ar = new Set(this.accounts.filter((a) => a.type === 'AccountsReceivable').map((a) => a.fullName));
    let open = 0n;
    for (const l of j.debits) if (ar.has(l.account) && (!customerListId || l.entityListId === customerListId)) open += l.amount;
    for (const p of this.payments) for (const a of p.applied) if (a.txnId === txnId) open -= a.amount;
    return open;
  }

  /** Money sitting in an account from Settle's writes (for tests: clearing should net to zero). */
  balanceOf(fullName: string): bigint {
    let b = 0n;
    for (const p of this.payments) if (p.depositTo === fullName && !p.depositedIn) b += p.total;
    for (const d of this.deposits) for (const l of d.lines) if (l.account === fullName) b -= l.amount;
    for (const j of this.journals) {
      for (const l of j.debits) if (l.account === fullName) b += l.amount;
      for (const l of j.credits) if (l.account === fullName) b -= l.amount;
    }
    return b;
  }
}
