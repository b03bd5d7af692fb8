// One queued item's way through a Web Connector session, as pure functions: which step is next, the qbXML
// request for it, and what QuickBooks' answer means. Steps:
//   lookup — InvoiceQuery by RefNumber: the invoice's TxnID and customer (payments and reversals need both);
//   check  — before any re-send of a write that was handed over before (the answer may have been lost with a
//            crash, a dropped connection or a Web Connector error), look for it by what qbXML can filter on
//            (RefNumber / customer / date / account) and match amount and our memo marker;
//   credit — a credit memo application's credit memo, by its number (credit-memo.ts);
//   add    — ReceivePaymentAdd / DepositAdd / JournalEntryAdd (a credit memo: ReceivePaymentAdd of 0 with SetCredit).
// The reads (chart of accounts, the books copy) have one step, 'read', handled in reads.ts.
import { money, parseCurrency, parseDecimal, type Currency } from '../../../domain/money.ts';
import type { QbdStep, QbdWorkKind } from '../../../db/schema/quickbooks-desktop.ts';
import * as Rq from './qbxml/requests.ts';
import { settleMarker } from './qbxml/xml.ts';
import { describeStatus, listOf, refOf, statusKind, text, type QbResponse, type Ret } from './qbxml/responses.ts';
import { depositModOutcome, depositModRequest, depositModStep } from './deposit-restore.ts';
import { creditMemoFound, creditMemoRequest, isOurCreditApplication, type CreditMemoIntent } from './credit-memo.ts';
import { journalRefFor, type DepositIntent, type InvoiceLookupIntent, type PaymentIntent, type ReversalIntent, type WorkContext } from './work-intent.ts';

export interface WorkItem {
  readonly id: string;
  readonly key: string;
  readonly kind: QbdWorkKind;
  readonly intent: Record<string, unknown>;
  readonly context: WorkContext;
  readonly adds_sent: number;
}

export function nextStep(item: WorkItem): QbdStep {
  if (item.kind === 'invoice-lookup') return 'lookup';
  if (item.kind === 'chart-read' || item.kind === 'ledger-read') return 'read';
  if (item.kind === 'deposit-mod') return depositModStep(item);
  if ((item.kind === 'payment' || item.kind === 'reversal' || item.kind === 'credit-memo') && !item.context.invoice) return 'lookup';
  if (item.kind === 'credit-memo' && !item.context.creditMemo) return 'credit';
  return item.adds_sent > 0 && !item.context.checked ? 'check' : 'add';
}

const amountOf = (minor: string, currency: string) => money(BigInt(minor), parseCurrency(currency));

export function requestFor(item: WorkItem, step: QbdStep, requestID: string): string {
  const inv = item.context.invoice;
  if (item.kind === 'deposit-mod') return depositModRequest(item, step, requestID);
  if (step === 'lookup') return Rq.invoiceQueryByRefNumbers(requestID, [(item.intent as unknown as InvoiceLookupIntent).invoiceNumber]);
  if (item.kind === 'credit-memo' && (step === 'credit' || step === 'check' || step === 'add'))
    return creditMemoRequest(item.key, item.intent as unknown as CreditMemoIntent, item.context, step, requestID);
  if (item.kind === 'payment') {
    const p = item.intent as unknown as PaymentIntent;
    const customer = { listId: inv!.customerListId };
    if (step === 'check') return Rq.receivePaymentCheckQuery(requestID, { customer, txnDate: p.paidOn, refNumber: p.reference });
    return Rq.receivePaymentAdd(requestID, {
      idempotencyKey: item.key,
      customer,
      txnDate: p.paidOn,
      refNumber: p.reference,
      totalAmount: amountOf(p.amountMinor, p.currency),
      ...(p.accounts.paymentMethod ? { paymentMethod: p.accounts.paymentMethod } : {}),
      memo: p.memo,
      ...(p.fromClientCredit && p.accounts.clientCredit
        ? { depositTo: p.accounts.clientCredit }
        : p.accounts.undepositedFunds
          ? { depositTo: p.accounts.undepositedFunds }
          : {}),
      // The split reopened.ts decided (an open reversal entry first); without one, all of it to the invoice.
      applied: (item.context.applyTo ?? (BigInt(p.appliedMinor) > 0n ? [{ txnId: inv!.txnId, amountMinor: p.appliedMinor }] : [])).map((a) => ({
        txnId: a.txnId,
        paymentAmount: amountOf(a.amountMinor, p.currency),
      })),
    });
  }
  if (item.kind === 'deposit') {
    const d = item.intent as unknown as DepositIntent;
    if (step === 'check') return Rq.depositCheckQuery(requestID, { depositTo: d.accounts.bank, txnDate: d.depositedOn });
    return Rq.depositAdd(requestID, {
      idempotencyKey: item.key,
      txnDate: d.depositedOn,
      depositTo: d.accounts.bank,
      memo: d.memo,
      paymentTxnIds: d.paymentTxnIds,
      paymentClasses: d.paymentClasses,
      otherLines: d.otherLines.map((l) => ({ account: l.account, amount: amountOf(l.amountMinor, d.currency), memo: l.memo })),
    });
  }
  const r = item.intent as unknown as ReversalIntent;
  const ref = journalRefFor(item.key);
  if (step === 'check') return Rq.journalEntryCheckQuery(requestID, { txnDate: r.reversedOn, refNumber: ref });
  const amount = amountOf(r.amountMinor, r.currency);
  const memo = `${r.memo} (payment ${r.paymentRemoteId}, invoice ${r.invoiceNumber})`;
  return Rq.journalEntryAdd(requestID, {
    idempotencyKey: item.key,
    txnDate: r.reversedOn,
    refNumber: ref,
    // The invoice owes this again (A/R needs the customer on its line); the money leaves through clearing,
    // where the later payout's deposit takes it out with a negative line.
    // The invoice's class (GL mapping rules by contract kind) on both lines, so reports by class net to zero too.
    debits: [
      { account: r.accounts.accountsReceivable, amount, memo, entity: { listId: inv!.customerListId }, ...(r.classRef ? { classRef: r.classRef } : {}) },
    ],
    credits: [{ account: r.accounts.clearing ?? r.accounts.adjustments ?? r.accounts.fees, amount, memo, ...(r.classRef ? { classRef: r.classRef } : {}) }],
  });
}

/** An invoice as QuickBooks returned it, for Settle's copy (qbd_invoices). */
export interface InvoiceCopy {
  readonly txnId: string;
  readonly refNumber: string;
  readonly customerListId: string;
  readonly customerName: string | null;
  readonly totalMinor: bigint;
  readonly balanceMinor: bigint;
  readonly currency: Currency;
  readonly timeModified: string | null;
}

export function invoiceCopy(ret: Ret, home: Currency): InvoiceCopy | null {
  const txnId = text(ret, 'TxnID');
  const refNumber = text(ret, 'RefNumber');
  const customer = refOf(ret, 'CustomerRef');
  if (!txnId || !refNumber || !customer?.listId) return null;
  const total = parseDecimal(text(ret, 'Subtotal') ?? '0', home).amountMinor + parseDecimal(text(ret, 'SalesTaxTotal') ?? '0', home).amountMinor;
  return {
    txnId,
    refNumber,
    customerListId: customer.listId,
    customerName: customer.fullName ?? null,
    totalMinor: total,
    balanceMinor: parseDecimal(text(ret, 'BalanceRemaining') ?? '0', home).amountMinor,
    currency: home,
    timeModified: text(ret, 'TimeModified') ?? null,
  };
}

export type Outcome =
  | { readonly state: 'done'; readonly remoteId: string }
  | { readonly state: 'queued'; readonly context: WorkContext; readonly error?: string; readonly statusCode?: number }
  | { readonly state: 'waiting_invoice'; readonly error: string }
  | { readonly state: 'refused'; readonly error: string; readonly statusCode: number };

/** What QuickBooks' answer to `step` means for the item, and the invoices it showed (for Settle's copy). */
export function applyResponse(item: WorkItem, step: QbdStep, rs: QbResponse, home: Currency): { outcome: Outcome; invoices: InvoiceCopy[] } {
  if (item.kind === 'deposit-mod') return { outcome: depositModOutcome(item, step, rs), invoices: [] };
  const kind = statusKind(rs);
  if (kind === 'retry') return { outcome: { state: 'queued', context: item.context, error: describeStatus(rs), statusCode: rs.statusCode }, invoices: [] };
  if (kind === 'refused') return { outcome: { state: 'refused', error: describeStatus(rs), statusCode: rs.statusCode }, invoices: [] };
  if (step === 'lookup') {
    const invoices = rs.rets.map((r) => invoiceCopy(r, home)).filter((i): i is InvoiceCopy => i !== null);
    const number = (item.intent as unknown as InvoiceLookupIntent).invoiceNumber;
    const found = invoices.find((i) => i.refNumber === number);
    // The look-up is shared by a document's items (document-plan.ts): each copies only its own invoice.
    if (!found) return { outcome: { state: 'waiting_invoice', error: `invoice ${number} is not in the QuickBooks company file yet` }, invoices: [] };
    if (item.kind === 'invoice-lookup') return { outcome: { state: 'done', remoteId: found.txnId }, invoices: [found] };
    const context = { ...item.context, invoice: { txnId: found.txnId, customerListId: found.customerListId, refNumber: found.refNumber } };
    return { outcome: { state: 'queued', context }, invoices: [found] };
  }
  if (step === 'credit') {
    const found = creditMemoFound(item.intent as unknown as CreditMemoIntent, rs);
    if ('waiting' in found) return { outcome: { state: 'waiting_invoice', error: found.waiting }, invoices: [] };
    return { outcome: { state: 'queued', context: { ...item.context, creditMemo: found } }, invoices: [] };
  }
  if (step === 'check') {
    const earlier = rs.rets.find((r) => isOurs(item, r));
    const id = earlier && text(earlier, 'TxnID');
    if (id) return { outcome: { state: 'done', remoteId: id }, invoices: [] };
    return { outcome: { state: 'queued', context: { ...item.context, checked: true } }, invoices: [] };
  }
  const id = rs.rets[0] && text(rs.rets[0], 'TxnID');
  if (!id) return { outcome: { state: 'queued', context: item.context, error: `${rs.type} came back without a TxnID` }, invoices: [] };
  return { outcome: { state: 'done', remoteId: id }, invoices: [] };
}

/** Whether a record a check query returned is this item's earlier write: our marker, and the same amount. */
export function isOurs(item: WorkItem, ret: Ret): boolean {
  const marker = settleMarker(item.key);
  if (item.kind === 'reversal') {
    return [...listOf(ret, 'JournalDebitLine'), ...listOf(ret, 'JournalCreditLine')].some((l) => (text(l, 'Memo') ?? '').includes(marker));
  }
  if (item.kind === 'credit-memo') return isOurCreditApplication(marker, text(ret, 'TotalAmount'), text(ret, 'Memo'), String(item.intent['currency']));
  if (!(text(ret, 'Memo') ?? '').includes(marker)) return false;
  if (item.kind === 'payment') {
    const p = item.intent as unknown as PaymentIntent;
    const total = text(ret, 'TotalAmount');
    return total !== undefined && parseDecimal(total, parseCurrency(p.currency)).amountMinor === BigInt(p.amountMinor);
  }
  return true;
}
