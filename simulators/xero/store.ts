// One Xero organisation (tenant) as the Accounting API shows it: chart of accounts, contacts, sales
// invoices, payments, bank transfers and bank transactions. Amounts are kept in cents (integers) and shown
// as Xero shows them: decimal numbers; dates as Xero's JSON does ("/Date(ms+0000)/"; no DateString, which the OpenAPI does not list).
import { randomUUID } from 'node:crypto';
import { seedTrackingCategories, type XeroTrackingCategory } from './tracking.ts';

export type Rec = Record<string, unknown>;

export interface XeroAccount {
  readonly AccountID: string;
  readonly Code: string;
  readonly Name: string;
  /** BANK, CURRENT, REVENUE, EXPENSE, CURRLIAB, … (components › schemas › AccountType). */
  readonly Type: string;
  Status: 'ACTIVE' | 'ARCHIVED';
  readonly EnablePaymentsToAccount: boolean;
  readonly BankAccountNumber?: string;
  readonly SystemAccount?: string;
}

export interface XeroContact {
  readonly ContactID: string;
  readonly Name: string;
  readonly EmailAddress?: string;
  updatedAt: number;
}

export interface XeroInvoice {
  readonly InvoiceID: string;
  readonly InvoiceNumber: string;
  readonly Type: 'ACCREC';
  readonly ContactID: string;
  readonly Date: string; // YYYY-MM-DD
  readonly DueDate: string;
  Status: 'DRAFT' | 'SUBMITTED' | 'AUTHORISED' | 'PAID' | 'VOIDED' | 'DELETED';
  readonly totalCents: number;
  paidCents: number;
  /** Credit notes allocated to it (credit-notes.ts); AmountDue = total − paid − credited. */
  creditedCents: number;
  readonly CurrencyCode: string;
  readonly description: string;
  updatedAt: number;
}

export interface XeroPayment {
  readonly PaymentID: string;
  readonly InvoiceID: string;
  readonly AccountID: string;
  readonly Date: string;
  readonly amountCents: number;
  readonly Reference: string;
  Status: 'AUTHORISED' | 'DELETED';
  readonly IsReconciled: boolean;
  updatedAt: number;
}

/** A sales credit note (ACCRECCREDIT) as the PSA's accounting export creates it; Settle only allocates it. */
export interface XeroCreditNote {
  readonly CreditNoteID: string;
  readonly CreditNoteNumber: string;
  readonly ContactID: string;
  readonly Date: string;
  Status: 'DRAFT' | 'SUBMITTED' | 'AUTHORISED' | 'PAID' | 'VOIDED' | 'DELETED';
  readonly totalCents: number;
  readonly CurrencyCode: string;
  readonly allocations: XeroAllocation[];
  updatedAt: number;
}

export interface XeroAllocation {
  readonly AllocationID: string;
  readonly InvoiceID: string;
  readonly amountCents: number;
  readonly Date: string;
}

export interface XeroBankTransfer {
  readonly BankTransferID: string;
  readonly FromAccountID: string;
  readonly ToAccountID: string;
  readonly amountCents: number;
  readonly Date: string;
  readonly Reference: string;
  readonly createdAt: number;
}

export interface XeroBankTransactionLine {
  readonly Description: string;
  readonly AccountCode: string;
  readonly amountCents: number;
  /** The tracking options on the line (tracking.ts), as Xero shows them. */
  readonly tracking: readonly { readonly Name: string; readonly Option: string }[];
}

export interface XeroBankTransaction {
  readonly BankTransactionID: string;
  readonly Type: 'SPEND' | 'RECEIVE';
  readonly AccountID: string;
  readonly ContactID: string;
  readonly Date: string;
  readonly Reference: string;
  readonly lines: readonly XeroBankTransactionLine[];
  readonly totalCents: number;
  Status: 'AUTHORISED' | 'DELETED';
  updatedAt: number;
}

/** Xero's JSON date: "/Date(1573755038314+0000)/". */
export function msDate(ms: number): string {
  return `/Date(${ms}+0000)/`;
}

/** A calendar date as Xero's JSON writes it (midnight UTC). */
export function dayDate(day: string): string {
  return msDate(Date.parse(`${day}T00:00:00Z`));
}

export const cents = (n: number): number => n / 100;

export class XeroStore {
  readonly accounts: XeroAccount[] = [];
  readonly contacts: XeroContact[] = [];
  readonly invoices: XeroInvoice[] = [];
  readonly payments: XeroPayment[] = [];
  readonly transfers: XeroBankTransfer[] = [];
  readonly bankTransactions: XeroBankTransaction[] = [];
  readonly creditNotes: XeroCreditNote[] = [];
  readonly trackingCategories: XeroTrackingCategory[] = seedTrackingCategories();

  constructor(
    readonly tenantId: string,
    readonly tenantName: string,
    readonly currency: string,
    readonly now: () => number,
  ) {
    // A chart as a new Xero organisation has it, plus a second bank-type account used as clearing
    // (Xero accepts payments only into bank accounts or accounts with "Enable payments" ticked).
    const acct = (Code: string, Name: string, Type: string, extra: Partial<XeroAccount> = {}): void => {
      this.accounts.push({ AccountID: randomUUID(), Code, Name, Type, Status: 'ACTIVE', EnablePaymentsToAccount: false, ...extra });
    };
    acct('090', 'Business Bank Account', 'BANK', { BankAccountNumber: '12-3456-7890123-00' });
    acct('091', 'Settle Clearing', 'BANK', { BankAccountNumber: 'CLEARING-01' });
    acct('200', 'Sales', 'REVENUE');
    acct('260', 'Other Revenue', 'REVENUE');
    acct('404', 'Bank Fees', 'EXPENSE');
    acct('610', 'Accounts Receivable', 'CURRENT', { SystemAccount: 'DEBTORS' });
    acct('835', 'Client Credit', 'CURRLIAB');
    acct('877', 'Payments Clearing (non-bank)', 'CURRENT', { EnablePaymentsToAccount: true });
  }

  account(ref: { AccountID?: unknown; Code?: unknown } | undefined): XeroAccount | undefined {
    if (!ref) return undefined;
    if (typeof ref.AccountID === 'string') return this.accounts.find((a) => a.AccountID === ref.AccountID);
    if (typeof ref.Code === 'string') return this.accounts.find((a) => a.Code === ref.Code);
    return undefined;
  }

  contactByName(name: string): XeroContact {
    const found = this.contacts.find((c) => c.Name === name);
    if (found) return found;
    const c: XeroContact = { ContactID: randomUUID(), Name: name, updatedAt: this.now() };
    this.contacts.push(c);
    return c;
  }

  invoiceJson(i: XeroInvoice, withLines = true): Rec {
    const contact = this.contacts.find((c) => c.ContactID === i.ContactID);
    const payments = this.payments.filter((p) => p.InvoiceID === i.InvoiceID && p.Status === 'AUTHORISED');
    return {
      Type: i.Type,
      InvoiceID: i.InvoiceID,
      InvoiceNumber: i.InvoiceNumber,
      Reference: '',
      Contact: { ContactID: i.ContactID, Name: contact?.Name ?? '' },
      Date: dayDate(i.Date),
      DueDate: dayDate(i.DueDate),
      Status: i.Status,
      LineAmountTypes: 'NoTax',
      ...(withLines
        ? {
            LineItems: [
              {
                LineItemID: `${i.InvoiceID.slice(0, 8)}-line`,
                Description: i.description,
                Quantity: 1,
                UnitAmount: cents(i.totalCents),
                AccountCode: '200',
                TaxType: 'NONE',
                TaxAmount: 0,
                LineAmount: cents(i.totalCents),
                Tracking: [],
              },
            ],
          }
        : {}),
      SubTotal: cents(i.totalCents),
      TotalTax: 0,
      Total: cents(i.totalCents),
      AmountDue: cents(i.totalCents - i.paidCents - i.creditedCents),
      AmountPaid: cents(i.paidCents),
      AmountCredited: cents(i.creditedCents),
      CurrencyCode: i.CurrencyCode,
      Payments: payments.map((p) => ({ PaymentID: p.PaymentID, Date: dayDate(p.Date), Amount: cents(p.amountCents), Reference: p.Reference })),
      UpdatedDateUTC: msDate(i.updatedAt),
    };
  }

  paymentJson(p: XeroPayment): Rec {
    const inv = this.invoices.find((i) => i.InvoiceID === p.InvoiceID)!;
    const acct = this.accounts.find((a) => a.AccountID === p.AccountID)!;
    return {
      PaymentID: p.PaymentID,
      Date: dayDate(p.Date),
      Amount: cents(p.amountCents),
      BankAmount: cents(p.amountCents),
      Reference: p.Reference,
      CurrencyRate: 1,
      PaymentType: 'ACCRECPAYMENT',
      Status: p.Status,
      IsReconciled: p.IsReconciled,
      HasAccount: true,
      HasValidationErrors: false,
      UpdatedDateUTC: msDate(p.updatedAt),
      Account: { AccountID: acct.AccountID, Code: acct.Code },
      Invoice: { InvoiceID: inv.InvoiceID, InvoiceNumber: inv.InvoiceNumber, Type: inv.Type, Contact: { ContactID: inv.ContactID } },
    };
  }

  transferJson(t: XeroBankTransfer): Rec {
    const from = this.accounts.find((a) => a.AccountID === t.FromAccountID)!;
    const to = this.accounts.find((a) => a.AccountID === t.ToAccountID)!;
    return {
      BankTransferID: t.BankTransferID,
      FromBankAccount: { AccountID: from.AccountID, Code: from.Code, Name: from.Name },
      ToBankAccount: { AccountID: to.AccountID, Code: to.Code, Name: to.Name },
      Amount: cents(t.amountCents),
      Date: dayDate(t.Date),
      Reference: t.Reference,
      CurrencyRate: 1,
      FromBankTransactionID: `${t.BankTransferID.slice(0, 8)}-from`,
      ToBankTransactionID: `${t.BankTransferID.slice(0, 8)}-to`,
      HasAttachments: false,
      CreatedDateUTC: msDate(t.createdAt),
    };
  }

  bankTransactionJson(b: XeroBankTransaction): Rec {
    const acct = this.accounts.find((a) => a.AccountID === b.AccountID)!;
    const contact = this.contacts.find((c) => c.ContactID === b.ContactID);
    return {
      BankTransactionID: b.BankTransactionID,
      Type: b.Type,
      Contact: { ContactID: b.ContactID, Name: contact?.Name ?? '' },
      BankAccount: { AccountID: acct.AccountID, Code: acct.Code, Name: acct.Name },
      Date: dayDate(b.Date),
      Reference: b.Reference,
      Status: b.Status,
      LineAmountTypes: 'NoTax',
      LineItems: b.lines.map((l, n) => ({
        LineItemID: `${b.BankTransactionID.slice(0, 8)}-${n}`,
        Description: l.Description,
        Quantity: 1,
        UnitAmount: cents(l.amountCents),
        AccountCode: l.AccountCode,
        LineAmount: cents(l.amountCents),
        TaxType: 'NONE',
        TaxAmount: 0,
        Tracking: l.tracking.map((t) => {
          const c = this.trackingCategories.find((x) => x.Name === t.Name)!;
          const o = c.Options.find((x) => x.Name === t.Option)!;
          return { TrackingCategoryID: c.TrackingCategoryID, TrackingOptionID: o.TrackingOptionID, Name: t.Name, Option: t.Option };
        }),
      })),
      SubTotal: cents(b.totalCents),
      TotalTax: 0,
      Total: cents(b.totalCents),
      IsReconciled: false,
      CurrencyCode: this.currency,
      UpdatedDateUTC: msDate(b.updatedAt),
    };
  }

  /** The balance of an account as Settle's postings move it (payments in, transfers, spend/receive). */
  balanceCents(accountId: string): number {
    let n = 0;
    for (const p of this.payments) if (p.Status === 'AUTHORISED' && p.AccountID === accountId) n += p.amountCents;
    for (const t of this.transfers) {
      if (t.FromAccountID === accountId) n -= t.amountCents;
      if (t.ToAccountID === accountId) n += t.amountCents;
    }
    for (const b of this.bankTransactions) if (b.Status === 'AUTHORISED' && b.AccountID === accountId) n += b.Type === 'RECEIVE' ? b.totalCents : -b.totalCents;
    return n;
  }
}
