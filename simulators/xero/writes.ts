// The creates Settle makes, checked as Xero checks them (messages as Xero words them where known; docs:
// developer.xero.com/documentation/api/accounting/payments, …/banktransfers, …/banktransactions):
// - Payment: an AUTHORISED ACCREC invoice, an account of type BANK (or with "Enable payments to this
//   account"), a date, an amount > 0 and ≤ the amount due; the invoice's AmountDue falls, PAID at zero.
// - BankTransfer: two different BANK accounts, Amount > 0, a Date.
// - BankTransaction (SPEND / RECEIVE): a BANK account, a Contact (by ContactID or Name — Xero creates a
//   contact for an unknown name), line items with an AccountCode of an active non-bank account and, if any,
//   Tracking of active categories and options (tracking.ts).
// Each returns the created object's JSON, or the messages for the Elements[].ValidationErrors shape.
import { randomUUID } from 'node:crypto';
import { toCents, toDay, unknownFields } from './errors.ts';
import { checkLineTracking } from './tracking.ts';
import type { Rec, XeroBankTransactionLine, XeroStore } from './store.ts';

export type Created = { ok: true; json: Rec } | { ok: false; messages: string[] };

const PAYMENT_FIELDS = ['Invoice', 'Account', 'Date', 'Amount', 'Reference', 'CurrencyRate', 'IsReconciled', 'Status'];
const TRANSFER_FIELDS = ['FromBankAccount', 'ToBankAccount', 'Amount', 'Date', 'Reference', 'CurrencyRate'];
const BANK_TXN_FIELDS = [
  'Type',
  'Contact',
  'BankAccount',
  'LineItems',
  'Date',
  'Reference',
  'LineAmountTypes',
  'Status',
  'CurrencyCode',
  'Url',
  'IsReconciled',
];
const LINE_FIELDS = ['Description', 'Quantity', 'UnitAmount', 'AccountCode', 'LineAmount', 'TaxType', 'Tracking', 'ItemCode'];

function unknown(obj: Rec, allowed: readonly string[], what: string): string[] {
  return unknownFields(obj, allowed).map((f) => `The property '${f}' is not a valid property of ${what}.`);
}

const ACCOUNT_REF = ['AccountID', 'Code'];
/** Unknown members of a reference (Account, Contact, …): Xero reads only its ids there. */
function unknownIn(body: Rec, key: string, allowed: readonly string[], what: string): string[] {
  const v = body[key];
  return v && typeof v === 'object' && !Array.isArray(v) ? unknown(v as Rec, allowed, what) : [];
}

export function createPayment(store: XeroStore, body: Rec): Created {
  const messages = [...unknown(body, PAYMENT_FIELDS, 'Payment'), ...unknownIn(body, 'Account', ACCOUNT_REF, 'Account')];
  const invRef = body['Invoice'] as Rec | undefined;
  const named = invRef && typeof invRef === 'object' && (typeof invRef['InvoiceID'] === 'string' || typeof invRef['InvoiceNumber'] === 'string');
  const inv = named ? invoiceFor(store, invRef) : undefined;
  if (invRef && typeof invRef === 'object') messages.push(...unknown(invRef, ['InvoiceID', 'InvoiceNumber'], 'Invoice'));
  // Xero's own words (its answers as integrators quote them): no reference, an unknown one, a document
  // that is not AUTHORISED (draft, awaiting approval, paid, voided).
  if (!named) messages.push('You must specify an Invoice ID or Invoice Number for the payment');
  else if (!inv) messages.push('Invoice could not be found');
  else if (inv.Status !== 'AUTHORISED') messages.push('Payments can only be made against Authorised documents');
  const acct = store.account(body['Account'] as Rec | undefined);
  if (!acct) messages.push('Account could not be found');
  else if (acct.Status !== 'ACTIVE') messages.push('The account is archived');
  else if (acct.Type !== 'BANK' && !acct.EnablePaymentsToAccount) messages.push('Payments can only be made to bank accounts or accounts with payments enabled');
  const date = toDay(body['Date']);
  if (!date) messages.push('A valid date must be specified');
  const amount = toCents(body['Amount']);
  if (amount === null || amount <= 0) messages.push('Payment amount must be greater than zero');
  else if (inv && amount > inv.totalCents - inv.paidCents - inv.creditedCents) messages.push('Payment amount exceeds the amount outstanding on this document');
  if (body['Status'] !== undefined && body['Status'] !== 'AUTHORISED') messages.push('Status must be AUTHORISED on a new payment');
  const reference = body['Reference'] === undefined ? '' : String(body['Reference']);
  if (reference.length > 255) messages.push('Reference must not be longer than 255 characters');
  if (messages.length > 0) return { ok: false, messages };
  const now = store.now();
  const p = {
    PaymentID: randomUUID(),
    InvoiceID: inv!.InvoiceID,
    AccountID: acct!.AccountID,
    Date: date!,
    amountCents: amount!,
    Reference: reference,
    Status: 'AUTHORISED' as const,
    IsReconciled: body['IsReconciled'] === true,
    updatedAt: now,
  };
  store.payments.push(p);
  inv!.paidCents += amount!;
  if (inv!.paidCents + inv!.creditedCents === inv!.totalCents) inv!.Status = 'PAID';
  inv!.updatedAt = now;
  return { ok: true, json: store.paymentJson(p) };
}

/**
 * The invoice a payment names: by InvoiceID, or by InvoiceNumber (a sales invoice's number is unique in a
 * Xero organisation; a deleted one no longer answers to it). InvoiceID wins when both are given.
 */
function invoiceFor(store: XeroStore, ref: Rec): XeroStore['invoices'][number] | undefined {
  if (typeof ref['InvoiceID'] === 'string') return store.invoices.find((i) => i.InvoiceID === ref['InvoiceID']);
  return store.invoices.find((i) => i.InvoiceNumber === ref['InvoiceNumber'] && i.Status !== 'DELETED');
}

/** POST /Payments/{id} {"Status":"DELETED"}: the only change Xero allows to a payment. */
export function deletePayment(store: XeroStore, id: string, body: Rec): Created | null {
  const p = store.payments.find((x) => x.PaymentID === id);
  if (!p) return null;
  const messages = unknown(body, ['Status', 'PaymentID'], 'Payment');
  if (body['Status'] !== 'DELETED') messages.push('Only the Status of a payment can be changed, to DELETED');
  if (p.Status === 'DELETED') messages.push('This payment has already been deleted');
  if (p.IsReconciled) messages.push('A reconciled payment cannot be deleted');
  if (messages.length > 0) return { ok: false, messages };
  const inv = store.invoices.find((i) => i.InvoiceID === p.InvoiceID)!;
  const now = store.now();
  p.Status = 'DELETED';
  p.updatedAt = now;
  inv.paidCents -= p.amountCents;
  if (inv.Status === 'PAID') inv.Status = 'AUTHORISED';
  inv.updatedAt = now;
  return { ok: true, json: store.paymentJson(p) };
}

export function createTransfer(store: XeroStore, body: Rec): Created {
  const messages = [
    ...unknown(body, TRANSFER_FIELDS, 'BankTransfer'),
    ...unknownIn(body, 'FromBankAccount', ACCOUNT_REF, 'FromBankAccount'),
    ...unknownIn(body, 'ToBankAccount', ACCOUNT_REF, 'ToBankAccount'),
  ];
  const from = store.account(body['FromBankAccount'] as Rec | undefined);
  const to = store.account(body['ToBankAccount'] as Rec | undefined);
  if (!from || from.Type !== 'BANK') messages.push('FromBankAccount must be a valid bank account');
  if (!to || to.Type !== 'BANK') messages.push('ToBankAccount must be a valid bank account');
  if (from && to && from.AccountID === to.AccountID) messages.push('The From and To bank accounts must be different');
  const amount = toCents(body['Amount']);
  if (amount === null || amount <= 0) messages.push('Amount must be greater than zero');
  const date = body['Date'] === undefined ? new Date(store.now()).toISOString().slice(0, 10) : toDay(body['Date']);
  if (!date) messages.push('A valid date must be specified');
  if (messages.length > 0) return { ok: false, messages };
  const t = {
    BankTransferID: randomUUID(),
    FromAccountID: from!.AccountID,
    ToAccountID: to!.AccountID,
    amountCents: amount!,
    Date: date!,
    Reference: body['Reference'] === undefined ? '' : String(body['Reference']),
    createdAt: store.now(),
  };
  store.transfers.push(t);
  return { ok: true, json: store.transferJson(t) };
}

export function createBankTransaction(store: XeroStore, body: Rec): Created {
  const messages = [
    ...unknown(body, BANK_TXN_FIELDS, 'BankTransaction'),
    ...unknownIn(body, 'BankAccount', ACCOUNT_REF, 'BankAccount'),
    ...unknownIn(body, 'Contact', ['ContactID', 'Name'], 'Contact'),
  ];
  const type = body['Type'];
  if (type !== 'SPEND' && type !== 'RECEIVE') messages.push('Type must be SPEND or RECEIVE for this simulator (Xero: one of the BankTransactionType values)');
  const acct = store.account(body['BankAccount'] as Rec | undefined);
  if (!acct || acct.Type !== 'BANK') messages.push('BankAccount must be a valid bank account');
  const c = body['Contact'] as Rec | undefined;
  let contactId: string | null = null;
  if (c && typeof c['ContactID'] === 'string') contactId = store.contacts.find((x) => x.ContactID === c['ContactID'])?.ContactID ?? null;
  if (!contactId && !(c && typeof c['Name'] === 'string' && c['Name'].trim())) messages.push('A Contact must be specified for this type of transaction');
  if (body['LineAmountTypes'] !== undefined && body['LineAmountTypes'] !== 'NoTax')
    messages.push('LineAmountTypes must be NoTax (this simulator keeps no tax rates)');
  const rawLines = Array.isArray(body['LineItems']) ? (body['LineItems'] as Rec[]) : [];
  if (rawLines.length === 0) messages.push('At least one line item is required');
  const lines: XeroBankTransactionLine[] = [];
  for (const l of rawLines) {
    messages.push(...unknown(l, LINE_FIELDS, 'LineItem'));
    const a = store.accounts.find((x) => x.Code === l['AccountCode']);
    if (!a || a.Status !== 'ACTIVE') messages.push(`Account code '${String(l['AccountCode'])}' is not a valid code for this document.`);
    else if (a.Type === 'BANK') messages.push('A bank account cannot be used on a line item');
    const qty = l['Quantity'] === undefined ? 1 : Number(l['Quantity']);
    const unit = toCents(l['UnitAmount'] ?? l['LineAmount']);
    if (unit === null || unit <= 0 || qty !== 1) messages.push('Each line needs Quantity 1 and a positive UnitAmount with at most 2 decimals');
    const tracked = checkLineTracking(store.trackingCategories, l['Tracking']);
    messages.push(...tracked.messages);
    if (unit !== null && unit > 0 && qty === 1)
      lines.push({ Description: String(l['Description'] ?? ''), AccountCode: String(l['AccountCode']), amountCents: unit, tracking: tracked.tracking });
  }
  const date = toDay(body['Date']);
  if (!date) messages.push('A valid date must be specified');
  if (messages.length > 0) return { ok: false, messages };
  const contact = contactId ?? store.contactByName(String(c!['Name'])).ContactID;
  const b = {
    BankTransactionID: randomUUID(),
    Type: type as 'SPEND' | 'RECEIVE',
    AccountID: acct!.AccountID,
    ContactID: contact,
    Date: date!,
    Reference: body['Reference'] === undefined ? '' : String(body['Reference']),
    lines,
    totalCents: lines.reduce((n, l) => n + l.amountCents, 0),
    Status: 'AUTHORISED' as const,
    updatedAt: store.now(),
  };
  store.bankTransactions.push(b);
  return { ok: true, json: store.bankTransactionJson(b) };
}
