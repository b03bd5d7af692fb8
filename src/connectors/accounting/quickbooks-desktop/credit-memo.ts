// Credit memos on QuickBooks Desktop (AccountingConnector.applyCreditMemo): the PSA's accounting export created
// the credit memo in QuickBooks; Settle finds it by its number (CreditMemoQuery by RefNumber) and applies it to
// the same invoice the PSA applied it to, as QuickBooks Desktop does it — a ReceivePaymentAdd of 0.00 whose
// AppliedToTxnAdd names the invoice and carries SetCredit {CreditTxnID, AppliedAmount} (qbxml130.xsd: TotalAmount
// and PaymentAmount are optional, SetCredit sits inside AppliedToTxnAdd). Settle never creates a credit memo.
// QuickBooks refuses a credit memo of another customer, more than is left on it or open on the invoice; those
// are final refusals a person sees. Like every write, a re-send after an error is checked first (work-steps.ts):
// payments of the customer on the day with our RefNumber, matched on a zero total and the memo marker.
import { money, parseCurrency, parseDecimal } from '../../../domain/money.ts';
import * as Rq from './qbxml/requests.ts';
import { refOf, text, type QbResponse } from './qbxml/responses.ts';
import type { QbdAccounts, WorkContext } from './work-intent.ts';

export interface CreditMemoIntent {
  readonly invoiceNumber: string;
  readonly creditMemoNumber: string;
  readonly currency: string;
  readonly amountMinor: string;
  readonly appliedOn: string;
  readonly memo: string;
  readonly accounts: QbdAccounts;
}

/** The zero payment's RefNumber: the credit memo's number, so a person finds it beside the memo in QuickBooks. */
export const creditRefFor = (i: CreditMemoIntent): string => Rq.refNumber(`CM ${i.creditMemoNumber}`);

export function creditMemoRequest(key: string, i: CreditMemoIntent, ctx: WorkContext, step: 'credit' | 'check' | 'add', requestID: string): string {
  if (step === 'credit') return Rq.creditMemoQueryByRefNumber(requestID, i.creditMemoNumber);
  const customer = { listId: ctx.invoice!.customerListId };
  if (step === 'check') return Rq.receivePaymentCheckQuery(requestID, { customer, txnDate: i.appliedOn, refNumber: creditRefFor(i) });
  const currency = parseCurrency(i.currency);
  return Rq.receivePaymentAdd(requestID, {
    idempotencyKey: key,
    customer,
    txnDate: i.appliedOn,
    refNumber: creditRefFor(i),
    totalAmount: money(0n, currency),
    memo: i.memo,
    applied: [{ txnId: ctx.invoice!.txnId, credit: { creditTxnId: ctx.creditMemo!.txnId, amount: money(BigInt(i.amountMinor), currency) } }],
  });
}

/** The credit memo by its number, or why not: not exported yet (wait), or a person must look (final). */
export function creditMemoFound(i: CreditMemoIntent, rs: QbResponse): { txnId: string; customerListId: string } | { waiting: string } {
  const found = rs.rets.find((r) => text(r, 'RefNumber') === i.creditMemoNumber);
  const txnId = found && text(found, 'TxnID');
  const customerListId = found && refOf(found, 'CustomerRef')?.listId;
  if (!txnId || !customerListId) return { waiting: `credit memo ${i.creditMemoNumber} is not in the QuickBooks company file yet` };
  return { txnId, customerListId };
}

/** A check query's record is this application's earlier write: our marker and a zero total. */
export function isOurCreditApplication(marker: string, total: string | undefined, memo: string | undefined, currency: string): boolean {
  return (memo ?? '').includes(marker) && total !== undefined && parseDecimal(total, parseCurrency(currency)).amountMinor === 0n;
}
