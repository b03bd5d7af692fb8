// qbXML 13.0 request builders for what Settle asks of QuickBooks Desktop (shared/specs/README.md §5). Each
// returns one `*Rq` element; qbxmlDocument wraps one or more into the document the Web Connector carries.
// Element order follows qbxmlops130.xsd exactly (the tests validate every request against it).
import type { Money } from '../../../../domain/money.ts';
import { amount, externalGuidFor, memoWithMarker, ref, render, type Node, type QbRef } from './xml.ts';

export type Iterator = { readonly iterator: 'Start' } | { readonly iterator: 'Continue'; readonly iteratorID: string };

function rq(name: string, requestID: string, body: readonly Node[], extra: Readonly<Record<string, string>> = {}): string {
  return render([name, body, { requestID, ...extra }]);
}

function iteratorAttrs(it: Iterator | undefined): Record<string, string> {
  if (!it) return {};
  return it.iterator === 'Start' ? { iterator: 'Start' } : { iterator: 'Continue', iteratorID: it.iteratorID };
}

/** A ModifiedDateRangeFilter, left out when it has no bound (a first, full read). */
function modifiedRange(from: string | undefined, to?: string): Node {
  if (!from && !to) return ['ModifiedDateRangeFilter', undefined];
  return [
    'ModifiedDateRangeFilter',
    [
      ['FromModifiedDate', from],
      ['ToModifiedDate', to],
    ],
  ];
}

/** Invoices by their number (the PSA's invoice number is the RefNumber its accounting export wrote). */
export function invoiceQueryByRefNumbers(requestID: string, refNumbers: readonly string[]): string {
  if (refNumbers.length === 0) throw new Error('invoiceQueryByRefNumbers needs at least one number');
  return rq('InvoiceQueryRq', requestID, [...refNumbers.map((n): Node => ['RefNumber', n]), ['IncludeLinkedTxns', 'true']]);
}

/**
 * Invoices changed in a window, a page at a time: iterator Start, then Continue with the iteratorID the
 * response gave (valid only within the same QuickBooks session, i.e. one Web Connector run).
 */
export function invoiceQueryModified(
  requestID: string,
  q: { readonly from?: string; readonly to?: string; readonly maxReturned: number; readonly page?: Iterator },
): string {
  return rq(
    'InvoiceQueryRq',
    requestID,
    [['MaxReturned', String(q.maxReturned)], modifiedRange(q.from, q.to), ['IncludeLinkedTxns', 'true']],
    iteratorAttrs(q.page ?? { iterator: 'Start' }),
  );
}

/** Credit memos by their number (the PSA's accounting export wrote the PSA's credit memo number as RefNumber). */
export function creditMemoQueryByRefNumber(requestID: string, refNumber: string): string {
  return rq('CreditMemoQueryRq', requestID, [
    ['RefNumber', refNumber],
    ['IncludeLinkedTxns', 'true'],
  ]);
}

/** The chart of accounts for the GL mapping: active accounts only (AccountQuery has no iterator in qbXML 13). */
export function accountQuery(requestID: string): string {
  return rq('AccountQueryRq', requestID, [['ActiveStatus', 'ActiveOnly']]);
}

/** The active classes, for the GL mapping's Class dimension (qbxml130.xsd › group ListQuery). */
export function classQuery(requestID: string): string {
  return rq('ClassQueryRq', requestID, [['ActiveStatus', 'ActiveOnly']]);
}

/** The transactions Settle's books copy reads by modified date (ledger-read.ts). */
export type LedgerEntity = 'Invoice' | 'ReceivePayment' | 'Deposit';

/**
 * One page of invoices, received payments or deposits modified since `from` (inclusive), with their lines
 * (payments: what they apply; deposits: their lines). Iterator Start, then Continue with the iteratorID the
 * answer gave, while iteratorRemainingCount > 0.
 */
export function modifiedQuery(
  requestID: string,
  entity: LedgerEntity,
  q: { readonly from?: string; readonly maxReturned: number; readonly page: Iterator },
): string {
  if (entity === 'Invoice') return invoiceQueryModified(requestID, q);
  return rq(
    `${entity}QueryRq`,
    requestID,
    [['MaxReturned', String(q.maxReturned)], modifiedRange(q.from), ['IncludeLineItems', 'true']],
    iteratorAttrs(q.page),
  );
}

/**
 * Transactions of these types deleted since `from` (inclusive): TxnDeletedQuery has neither iterator nor
 * MaxReturned (qbxml130.xsd › group TxnDeletedQuery) — one answer lists them all.
 */
export function txnDeletedQuery(requestID: string, types: readonly LedgerEntity[], from?: string): string {
  return rq('TxnDeletedQueryRq', requestID, [
    ...types.map((t): Node => ['TxnDelType', t]),
    ['DeletedDateRangeFilter', from ? [['FromDeletedDate', from]] : undefined],
  ]);
}

export function customerQuery(
  requestID: string,
  q: { readonly listIds?: readonly string[]; readonly fromModified?: string; readonly maxReturned?: number; readonly page?: Iterator },
): string {
  if (q.listIds && q.listIds.length > 0)
    return rq(
      'CustomerQueryRq',
      requestID,
      q.listIds.map((id): Node => ['ListID', id]),
    );
  return rq(
    'CustomerQueryRq',
    requestID,
    [
      ['MaxReturned', String(q.maxReturned ?? 100)],
      ['ActiveStatus', 'All'],
      ['FromModifiedDate', q.fromModified],
    ],
    q.page ? iteratorAttrs(q.page) : {},
  );
}

export interface ReceivePaymentAddInput {
  readonly idempotencyKey: string;
  readonly customer: QbRef;
  readonly txnDate: string;
  /** Shown as the payment's reference; QuickBooks Desktop holds 20 characters. */
  readonly refNumber: string;
  readonly totalAmount: Money;
  readonly paymentMethod?: QbRef;
  readonly memo: string;
  /** Absent ⇒ QuickBooks' Undeposited Funds (where a payout's deposit picks it up). */
  readonly depositTo?: QbRef;
  /**
   * The invoice(s) the payment pays: TxnID and how much of it; `credit` applies a credit memo to it as well
   * (SetCredit). A payment that only applies a credit memo has a TotalAmount of 0 and no paymentAmount.
   */
  readonly applied: readonly {
    readonly txnId: string;
    readonly paymentAmount?: Money;
    readonly credit?: { readonly creditTxnId: string; readonly amount: Money };
  }[];
}

export const REF_NUMBER_MAX = 20;

/** Keep the end of a long reference (where our ids differ). */
export function refNumber(reference: string, max = REF_NUMBER_MAX): string {
  return reference.length <= max ? reference : reference.slice(reference.length - max);
}

export function receivePaymentAdd(requestID: string, p: ReceivePaymentAddInput): string {
  return rq('ReceivePaymentAddRq', requestID, [
    [
      'ReceivePaymentAdd',
      [
        ref('CustomerRef', p.customer),
        ['TxnDate', p.txnDate],
        ['RefNumber', refNumber(p.refNumber)],
        ['TotalAmount', amount(p.totalAmount)],
        ref('PaymentMethodRef', p.paymentMethod),
        ['Memo', memoWithMarker(p.memo, p.idempotencyKey)],
        ref('DepositToAccountRef', p.depositTo),
        ['ExternalGUID', externalGuidFor(p.idempotencyKey)],
        ...p.applied.map((a): Node => [
          'AppliedToTxnAdd',
          [
            ['TxnID', a.txnId],
            ['PaymentAmount', a.paymentAmount ? amount(a.paymentAmount) : undefined],
            a.credit
              ? [
                  'SetCredit',
                  [
                    ['CreditTxnID', a.credit.creditTxnId],
                    ['AppliedAmount', amount(a.credit.amount)],
                  ],
                ]
              : ['SetCredit', undefined],
          ],
        ]),
      ],
    ],
  ]);
}

export interface DepositOtherLine {
  readonly account: QbRef;
  /** Signed: a processing fee is a negative line, so the deposit equals the bank line. */
  readonly amount: Money;
  readonly memo: string;
  readonly entity?: QbRef;
  readonly classRef?: QbRef;
}

export interface DepositAddInput {
  readonly idempotencyKey: string;
  readonly txnDate: string;
  readonly depositTo: QbRef;
  readonly memo: string;
  /** Received payments sitting in Undeposited Funds, by their TxnID. */
  readonly paymentTxnIds: readonly string[];
  /** Payment TxnID → its class, put on the payment's line (group PaymentLine: OverrideClassRef, last). */
  readonly paymentClasses?: Readonly<Record<string, string>> | undefined;
  readonly otherLines: readonly DepositOtherLine[];
}

/** A deposit line linking a payment (group PaymentLine), with the payment's class where it has one. */
export function depositPaymentLine(id: string, classes: DepositAddInput['paymentClasses']): Node[] {
  const cls = classes?.[id];
  return [['PaymentTxnID', id], ref('OverrideClassRef', cls ? { listId: cls } : undefined)];
}

export function depositAdd(requestID: string, d: DepositAddInput): string {
  return rq('DepositAddRq', requestID, [
    [
      'DepositAdd',
      [
        ['TxnDate', d.txnDate],
        ref('DepositToAccountRef', d.depositTo),
        ['Memo', memoWithMarker(d.memo, d.idempotencyKey)],
        ['ExternalGUID', externalGuidFor(d.idempotencyKey)],
        ...d.paymentTxnIds.map((id): Node => ['DepositLineAdd', depositPaymentLine(id, d.paymentClasses)]),
        ...d.otherLines.map((l): Node => [
          'DepositLineAdd',
          [ref('EntityRef', l.entity), ref('AccountRef', l.account), ['Memo', l.memo], ref('ClassRef', l.classRef), ['Amount', amount(l.amount)]],
        ]),
      ],
    ],
  ]);
}

export interface JournalLine {
  readonly account: QbRef;
  /** Positive on both sides; debits and credits must balance. */
  readonly amount: Money;
  readonly memo: string;
  readonly entity?: QbRef;
  readonly classRef?: QbRef;
}

export interface JournalEntryAddInput {
  readonly idempotencyKey: string;
  readonly txnDate: string;
  /** QuickBooks Desktop holds 11 characters here. */
  readonly refNumber: string;
  readonly debits: readonly JournalLine[];
  readonly credits: readonly JournalLine[];
}

export const JOURNAL_REF_MAX = 11;

/**
 * A reversal (refund, ACH return, lost dispute). QuickBooks Desktop ignores a journal entry's own Memo (the
 * catalogue: "not in QBD"), so the marker goes on every line's Memo, where a query returns it.
 */
export function journalEntryAdd(requestID: string, j: JournalEntryAddInput): string {
  const line =
    (name: string) =>
    (l: JournalLine): Node => [
      name,
      [
        ref('AccountRef', l.account),
        ['Amount', amount(l.amount)],
        ['Memo', memoWithMarker(l.memo, j.idempotencyKey)],
        ref('EntityRef', l.entity),
        ref('ClassRef', l.classRef),
      ],
    ];
  return rq('JournalEntryAddRq', requestID, [
    [
      'JournalEntryAdd',
      [
        ['TxnDate', j.txnDate],
        ['RefNumber', refNumber(j.refNumber, JOURNAL_REF_MAX)],
        ['ExternalGUID', externalGuidFor(j.idempotencyKey)],
        ...j.debits.map(line('JournalDebitLine')),
        ...j.credits.map(line('JournalCreditLine')),
      ],
    ],
  ]);
}

// ---- check-before-write: what qbXML can filter on (never ExternalGUID) --------------------------------

/** Payments of this customer on this day with this reference; the caller matches amount and memo marker. */
export function receivePaymentCheckQuery(requestID: string, c: { readonly customer: QbRef; readonly txnDate: string; readonly refNumber: string }): string {
  const r = refNumber(c.refNumber);
  return rq('ReceivePaymentQueryRq', requestID, [
    ['MaxReturned', '50'],
    [
      'TxnDateRangeFilter',
      [
        ['FromTxnDate', c.txnDate],
        ['ToTxnDate', c.txnDate],
      ],
    ],
    [
      'EntityFilter',
      [
        ['ListID', c.customer.listId],
        ['FullName', c.customer.listId ? undefined : c.customer.fullName],
      ],
    ],
    [
      'RefNumberRangeFilter',
      [
        ['FromRefNumber', r],
        ['ToRefNumber', r],
      ],
    ],
    ['IncludeLineItems', 'true'],
  ]);
}

/** Deposits into this account on this day; the caller matches total and memo marker. */
export function depositCheckQuery(requestID: string, c: { readonly depositTo: QbRef; readonly txnDate: string }): string {
  return rq('DepositQueryRq', requestID, [
    ['MaxReturned', '50'],
    [
      'TxnDateRangeFilter',
      [
        ['FromTxnDate', c.txnDate],
        ['ToTxnDate', c.txnDate],
      ],
    ],
    [
      'AccountFilter',
      [
        ['ListID', c.depositTo.listId],
        ['FullName', c.depositTo.listId ? undefined : c.depositTo.fullName],
      ],
    ],
    ['IncludeLineItems', 'true'],
  ]);
}

/** Journal entries with this reference on this day; the caller matches the marker on their lines. */
export function journalEntryCheckQuery(requestID: string, c: { readonly txnDate: string; readonly refNumber: string }): string {
  const r = refNumber(c.refNumber, JOURNAL_REF_MAX);
  return rq('JournalEntryQueryRq', requestID, [
    ['MaxReturned', '50'],
    [
      'TxnDateRangeFilter',
      [
        ['FromTxnDate', c.txnDate],
        ['ToTxnDate', c.txnDate],
      ],
    ],
    [
      'RefNumberRangeFilter',
      [
        ['FromRefNumber', r],
        ['ToRefNumber', r],
      ],
    ],
    ['IncludeLineItems', 'true'],
  ]);
}
