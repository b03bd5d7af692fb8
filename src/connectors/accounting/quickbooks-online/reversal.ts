// Reversing a payment in QuickBooks Online (refund, ACH return, lost dispute): what an accountant
// expects with the Undeposited-Funds / deposit pattern of payments-rules.md §5.3.
//
// Why not void the Payment: the original payment did pass through the clearing account and its charge
// is (or will be) part of a processor payout, whose Deposit must link the payment at its full amount so
// the deposit equals the bank line. Voiding is refused once the payment is deposited (QBO: "remove it
// from the deposit first"), and voiding an undeposited one would break the deposit still to come. Why not
// a RefundReceipt: it books the money back against income and leaves the invoice paid, while the PSA
// (the source of truth) shows the invoice owing the reversed part again.
//
// So, in two steps, each check-before-write:
//   1. a JournalEntry dated the day of the reversal: Dr Accounts Receivable (the customer) / Cr the
//      payout-adjustment account — the account the payout's Deposit debits for refunds, returns and
//      dispute withdrawals (its "Adjustments" line), so the pair nets to zero there when the money
//      leaves through the payout;
//   2. the original Payment is re-applied (sparse update, amount unchanged): the reversed part moves from
//      the invoice (or from what the payment left unapplied, when it reached the books after the reversal
//      was made: PostPaymentInput.appliedAmount) to that journal entry. The invoice owes that part again, exactly as in the PSA; the
//      customer's A/R is right; the deposit is untouched.
import { VendorError } from '../../http.ts';
import { money, parseDecimal, toVendorNumber, type Money } from '../../../domain/money.ts';
import type { PostResult, ReversePaymentInput } from '../types.ts';
import type { QboApi } from './api.ts';
import { QBO_CATALOGUE } from './catalogue.ts';
import { headerTracking, journalLineTracking, type QboTracking } from './tracking.ts';
import { carriesMarker, privateNote, queryLiteral, refValue, requestIdFor, requestKey } from './mapping.ts';

type Json = Record<string, unknown>;

export interface ReversalAccounts {
  readonly accountsReceivableAccountId: string;
  /** Credited by the journal entry; the payout deposit's adjustment line debits the same account. */
  readonly clearingAccountId: string;
  /** The mapped class and location, on both lines (and the location on the entry). */
  readonly tracking?: QboTracking | undefined;
}

/** The reversing journal entry (Finance.xsd › JournalEntry / JournalEntryLineDetail / EntityTypeRef). */
export function reversalJournalBody(input: ReversePaymentInput, customerId: string, accounts: ReversalAccounts): Json {
  if (input.amount.amountMinor <= 0n) throw new RangeError('a reversal amount must be more than zero');
  const amount = toVendorNumber(input.amount);
  return {
    TxnDate: input.reversedOn,
    PrivateNote: privateNote(input.memo, input.idempotencyKey),
    ...headerTracking(accounts.tracking),
    Line: [
      {
        Description: input.memo.slice(0, 4000),
        Amount: amount,
        DetailType: 'JournalEntryLineDetail',
        JournalEntryLineDetail: {
          PostingType: 'Debit',
          AccountRef: { value: accounts.accountsReceivableAccountId },
          Entity: { Type: 'Customer', EntityRef: { value: customerId } },
          ...journalLineTracking(accounts.tracking),
        },
      },
      {
        Description: input.memo.slice(0, 4000),
        Amount: amount,
        DetailType: 'JournalEntryLineDetail',
        JournalEntryLineDetail: { PostingType: 'Credit', AccountRef: { value: accounts.clearingAccountId }, ...journalLineTracking(accounts.tracking) },
      },
    ],
  };
}

/**
 * The payment's lines after moving `amount` to the journal entry: first from what the payment left
 * unapplied (a payment posted after its refund applies only the rest to the invoice: PostPaymentInput's
 * appliedAmount), then from the invoice it paid. Null when the payment already applies to that entry (a
 * retry after step 2 succeeded).
 */
export function relinkedLines(payment: Json, invoiceId: string, journalId: string, amount: Money): Json[] | null {
  const lines = ((payment['Line'] as Json[] | undefined) ?? []).map((l) => {
    const link = ((l['LinkedTxn'] as Json[] | undefined) ?? [])[0];
    return { amount: parseDecimal(l['Amount'] as number, amount.currency), type: String(link?.['TxnType'] ?? ''), id: String(link?.['TxnId'] ?? '') };
  });
  if (lines.some((l) => l.type === 'JournalEntry' && l.id === journalId)) return null;
  const total = parseDecimal((payment['TotalAmt'] ?? 0) as number, amount.currency).amountMinor;
  const unapplied = total - lines.reduce((a, l) => a + l.amount.amountMinor, 0n);
  const fromUnapplied = unapplied > 0n ? (unapplied < amount.amountMinor ? unapplied : amount.amountMinor) : 0n;
  const fromInvoice = amount.amountMinor - fromUnapplied;
  const onInvoice = lines.find((l) => l.type === 'Invoice' && l.id === invoiceId);
  if (fromInvoice > 0n && (!onInvoice || onInvoice.amount.amountMinor < fromInvoice)) {
    throw new VendorError(
      QBO_CATALOGUE.vendor,
      'conflict',
      `payment ${String(payment['Id'])} does not apply ${fromInvoice} minor units to invoice ${invoiceId} any more; re-apply it by hand`,
    );
  }
  const out: Json[] = [];
  for (const l of lines) {
    const keep = l === onInvoice ? l.amount.amountMinor - fromInvoice : l.amount.amountMinor;
    if (keep > 0n) out.push({ Amount: toVendorNumber(money(keep, amount.currency)), LinkedTxn: [{ TxnId: l.id, TxnType: l.type }] });
  }
  out.push({ Amount: toVendorNumber(amount), LinkedTxn: [{ TxnId: journalId, TxnType: 'JournalEntry' }] });
  return out;
}

export async function reverseQboPayment(
  api: QboApi,
  accounts: { clearingAccountId: string; accountsReceivableAccountId?: string | undefined; tracking?: QboTracking | undefined },
  input: ReversePaymentInput,
  checkBeforeWrite: boolean,
): Promise<PostResult> {
  const payment = await api.read('Payment', input.paymentRemoteId);
  const customerId = refValue(payment['CustomerRef']);
  if (!customerId) throw new VendorError(QBO_CATALOGUE.vendor, 'invalid', `payment ${input.paymentRemoteId} has no customer`);
  // 1. The journal entry, found by our marker or created once.
  let journal: Json | undefined;
  if (checkBeforeWrite) {
    const sameDay = await api.queryAll('JournalEntry', `TxnDate = ${queryLiteral(input.reversedOn)}`);
    journal = sameDay.find((j) => carriesMarker(j, input.idempotencyKey));
  }
  if (!journal) {
    const ar = accounts.accountsReceivableAccountId ?? (await receivablesAccount(api));
    try {
      journal = await api.create(
        'JournalEntry',
        reversalJournalBody(input, customerId, { accountsReceivableAccountId: ar, clearingAccountId: accounts.clearingAccountId, tracking: accounts.tracking }),
        // A retry after a refusal is a new request (types.ts › RequestGeneration); the marker stays the key.
        requestIdFor(requestKey(input.idempotencyKey, input.requestGeneration)),
      );
    } catch (e) {
      // The remembered A/R account may be the cause (made inactive, merged): ask again next time.
      receivables.delete(api);
      throw e;
    }
  }
  const journalId = String(journal['Id']);
  // 2. Re-apply the payment; a stale SyncToken (someone edited it meanwhile) reads it again.
  const invoice = (await api.queryAll('Invoice', `DocNumber = ${queryLiteral(input.invoiceNumber)}`))[0];
  if (!invoice) throw new VendorError(QBO_CATALOGUE.vendor, 'not_found', `invoice ${input.invoiceNumber} is not in QuickBooks`);
  let current = payment;
  for (let attempt = 1; ; attempt++) {
    const lines = relinkedLines(current, String(invoice['Id']), journalId, input.amount);
    if (!lines) break;
    try {
      const token = String(current['SyncToken']);
      // requestid per SyncToken and generation: a replayed stale-object fault, or a refusal from before a
      // person's retry, must not answer the next attempt.
      const requestId = requestIdFor(`${requestKey(input.idempotencyKey, input.requestGeneration)}:relink:${token}`);
      await api.create('Payment', { Id: current['Id'], SyncToken: token, sparse: true, Line: lines }, requestId);
      break;
    } catch (e) {
      if (!(e instanceof VendorError && e.kind === 'conflict' && attempt < 3)) throw e;
      current = await api.read('Payment', input.paymentRemoteId);
    }
  }
  return { ok: true, remoteId: journalId };
}

/** The company's A/R account, asked once per connector (it was one extra call per reversal). */
const receivables = new WeakMap<QboApi, Promise<string>>();

function receivablesAccount(api: QboApi): Promise<string> {
  let known = receivables.get(api);
  if (!known) {
    known = api.queryAll('Account', `AccountType = 'Accounts Receivable'`).then((rows) => {
      const first = rows[0];
      if (!first) throw new VendorError(QBO_CATALOGUE.vendor, 'invalid', 'the company has no Accounts Receivable account');
      return String(first['Id']);
    });
    receivables.set(api, known);
    // A failed look-up is asked again next time, not remembered.
    known.catch(() => receivables.delete(api));
  }
  return known;
}
