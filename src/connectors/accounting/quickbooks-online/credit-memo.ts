// Applying, in QuickBooks Online, a credit memo the PSA's own accounting export created, to the invoice the PSA
// applied it to (AccountingConnector.applyCreditMemo). Settle never creates a CreditMemo. QuickBooks records an
// application as a Payment with TotalAmt 0 whose lines link the Invoice and the CreditMemo for the same amount
// (Intuit's Payment reference: "to apply a credit memo to an invoice … Line.LinkedTxn TxnType CreditMemo");
// the invoice's Balance and the memo's RemainingCredit go down together and no money moves, so no deposit
// ever picks it up. Idempotency as every other write: `[settle:<key>]` in PrivateNote looked up first (by
// PaymentRefNum, the memo's number), and the requestid.
import { parseDecimal, toVendorNumber } from '../../../domain/money.ts';
import type { ApplyCreditMemoInput, PostResult } from '../types.ts';
import type { QboApi } from './api.ts';
import { carriesMarker, paymentRefNum, privateNote, queryLiteral, requestIdFor, requestKey } from './mapping.ts';
import { headerTracking, type QboTracking } from './tracking.ts';

type Json = Record<string, unknown>;

const refOf = (r: Json, field: string): string | null => {
  const v = (r[field] as { value?: unknown } | undefined)?.value;
  return typeof v === 'string' ? v : null;
};

export async function applyQboCreditMemo(
  api: QboApi,
  input: ApplyCreditMemoInput,
  checkBeforeWrite: boolean,
  tracking: QboTracking | undefined,
): Promise<PostResult> {
  const number = input.creditMemoNumber;
  if (input.amount.amountMinor <= 0n) return { ok: false, retryable: false, error: `the amount applied from credit memo ${number} must be more than zero` };
  const refNum = paymentRefNum(number);
  if (checkBeforeWrite) {
    const earlier = (await api.queryAll('Payment', `PaymentRefNum = ${queryLiteral(refNum)}`)).find((p) => carriesMarker(p, input.idempotencyKey));
    if (earlier) return { ok: true, remoteId: String(earlier['Id']) };
  }
  const memos = await api.queryAll('CreditMemo', `DocNumber = ${queryLiteral(number)}`);
  if (memos.length === 0) return { ok: false, retryable: true, error: `credit memo ${number} is not in QuickBooks (yet)`, waitingForCreditMemo: number };
  if (memos.length > 1) return { ok: false, retryable: false, error: `${memos.length} credit memos are numbered ${number} in QuickBooks` };
  const invoices = await api.queryAll('Invoice', `DocNumber = ${queryLiteral(input.invoiceNumber)}`);
  if (invoices.length === 0)
    return { ok: false, retryable: true, error: `invoice ${input.invoiceNumber} is not in QuickBooks (yet)`, waitingForInvoice: input.invoiceNumber };
  if (invoices.length > 1) return { ok: false, retryable: false, error: `${invoices.length} invoices are numbered ${input.invoiceNumber} in QuickBooks` };
  const memo = memos[0]!;
  const invoice = invoices[0]!;
  const customer = refOf(invoice, 'CustomerRef');
  if (!customer || refOf(memo, 'CustomerRef') !== customer)
    return {
      ok: false,
      retryable: false,
      error: `credit memo ${number} and invoice ${input.invoiceNumber} belong to different customers in QuickBooks; correct the one exported wrongly, then retry`,
    };
  const currency = input.amount.currency;
  const left = parseDecimal((memo['RemainingCredit'] ?? memo['Balance'] ?? 0) as number, currency).amountMinor;
  if (left < input.amount.amountMinor)
    return {
      ok: false,
      retryable: false,
      error: `credit memo ${number} has ${String(memo['RemainingCredit'])} of credit left in QuickBooks, less than the ${toVendorNumber(input.amount)} applied in the PSA (applied elsewhere by hand?); free it in QuickBooks, then retry`,
    };
  const open = parseDecimal((invoice['Balance'] ?? 0) as number, currency).amountMinor;
  if (open < input.amount.amountMinor)
    return {
      ok: false,
      retryable: false,
      error: `invoice ${input.invoiceNumber} owes ${String(invoice['Balance'])} in QuickBooks, less than the ${toVendorNumber(input.amount)} credit applied in the PSA; check the payments on it in QuickBooks, then retry`,
    };
  const amount = toVendorNumber(input.amount);
  const payment = await api.create(
    'Payment',
    {
      CustomerRef: { value: customer },
      TotalAmt: 0,
      TxnDate: input.appliedOn,
      PaymentRefNum: refNum,
      PrivateNote: privateNote(input.memo, input.idempotencyKey),
      ...headerTracking(tracking),
      Line: [
        { Amount: amount, LinkedTxn: [{ TxnId: String(invoice['Id']), TxnType: 'Invoice' }] },
        { Amount: amount, LinkedTxn: [{ TxnId: String(memo['Id']), TxnType: 'CreditMemo' }] },
      ],
    },
    requestIdFor(requestKey(input.idempotencyKey, input.requestGeneration)),
  );
  return { ok: true, remoteId: String(payment['Id']) };
}
