// Settle's copy of the QuickBooks Desktop books for the three-way reconciliation (readLedgerChanges). QuickBooks
// Desktop is reached only when the Web Connector polls, so the copy is read as one queue item ('ledger-read')
// that walks the three entities in turn — InvoiceQuery, ReceivePaymentQuery, DepositQuery — each with
// ModifiedDateRangeFilter from its own cursor and a qbXML iterator (Start, then Continue with the iteratorID
// while iteratorRemainingCount > 0, MaxReturned a page). Each page is stored into the books copy
// (storeLedgerChanges: upserts) in the same transaction that records the page's progress, so a page is never
// lost and re-reading one is harmless.
//
// The cursor: an entity's cursor moves to the latest TimeModified its read saw, and only once the entity's last
// page has been stored — QuickBooks does not promise an iterator's order, so moving it after an early page could
// skip what a later page held. The next read asks from the cursor less OVERLAP_MS (inclusive), so a record
// changed in the same second, or during the walk, is read again (an upsert), never missed. An iterator lives only as long as QuickBooks'
// session (one Web Connector run): if a run ends mid-walk, or QuickBooks no longer knows the iteratorID, the
// entity is read again from its cursor with a new Start. The copy is current (asOf) to the moment the walk's
// first request was handed over: anything Settle wrote before then is in it.
import { money, parseDecimal, type Currency } from '../../../domain/money.ts';
import type { Tx } from '../../../db/tenant.ts';
import { storeLedgerChanges } from '../../../engine/sync-books-copy.ts';
import type { LedgerChanges, LedgerDepositCopy, LedgerInvoiceCopy, LedgerPaymentCopy, LedgerRecordKind } from '../ledger-copy.ts';
import { modifiedQuery, txnDeletedQuery, type LedgerEntity } from './qbxml/requests.ts';
import { describeStatus, listOf, refOf, statusKind, text, type QbResponse, type Ret } from './qbxml/responses.ts';
import { invoiceCopy, type InvoiceCopy } from './work-steps.ts';

export const LEDGER_KEY = 'ledger-read';
export const LEDGER_VENDOR = 'quickbooks-desktop';
/** Records a page: big enough that a 1,000-payment day is a handful of documents, small enough for the desktop. */
export const LEDGER_PAGE = 200;
const MAX_RESTARTS = 3;
/** The walk's steps: the three entities by modified date, then what was deleted (TxnDeletedQuery; deletions below). */
type LedgerStep = LedgerEntity | 'TxnDeleted';
const ENTITIES: readonly LedgerStep[] = ['Invoice', 'ReceivePayment', 'Deposit', 'TxnDeleted'];
const DELETABLE: readonly LedgerEntity[] = ['Invoice', 'ReceivePayment', 'Deposit'];

export interface LedgerReadContext {
  /** Per entity, the TimeModified (QuickBooks' clock, as it wrote it) the next read starts from. */
  readonly from?: Partial<Record<LedgerStep, string>>;
  /** The entity being read now, and its iterator (absent: start it). */
  readonly entity?: LedgerStep;
  readonly iteratorID?: string;
  /** The latest TimeModified this entity's read has seen so far (the cursor once its last page is stored). */
  readonly maxSeen?: string;
  /** When this walk's first request was handed over (Settle's clock); the walk's asOf once it ends. */
  readonly startedAt?: string;
  /** Entities started again in this walk because QuickBooks lost the iterator (bounded by MAX_RESTARTS). */
  readonly restarts?: number;
  /** The last completed walk's asOf. */
  readonly asOf?: string;
}

/**
 * How far before its cursor an entity is read again. An iterator may render a record as it is when its page is
 * read, so a record changed during a walk (read on an early page, changed, while a later page shows a newer
 * TimeModified) would otherwise fall behind the cursor. A walk takes seconds; re-reading only upserts.
 */
export const OVERLAP_MS = 5 * 60_000;

/** The cursor less the overlap, as qbXML's datetime (UTC offset). */
export function overlapped(cursor: string): string {
  return `${new Date(Date.parse(cursor) - OVERLAP_MS).toISOString().slice(0, 19)}+00:00`;
}

export function ledgerReadRequest(context: LedgerReadContext, requestID: string): string {
  const entity = context.entity ?? 'Invoice';
  const cursor = context.from?.[entity];
  if (entity === 'TxnDeleted') return txnDeletedQuery(requestID, DELETABLE, cursor ? overlapped(cursor) : undefined);
  return modifiedQuery(requestID, entity, {
    ...(cursor ? { from: overlapped(cursor) } : {}),
    maxReturned: LEDGER_PAGE,
    page: context.iteratorID ? { iterator: 'Continue', iteratorID: context.iteratorID } : { iterator: 'Start' },
  });
}

/** The context as the request is handed over: a walk that starts now is current to now. */
export function ledgerReadHandedOver(context: LedgerReadContext, now: Date): LedgerReadContext {
  return context.entity || context.startedAt ? context : { ...context, startedAt: now.toISOString() };
}

export type LedgerPageOutcome =
  | { readonly state: 'queued' | 'done'; readonly context: LedgerReadContext; readonly error?: string; readonly statusCode?: number }
  | { readonly state: 'refused'; readonly context: LedgerReadContext; readonly error: string; readonly statusCode: number };

/** Store one answered page and say what comes next: the next page, the next entity, or the end of the walk. */
export async function applyLedgerPage(
  tx: Tx,
  tenantId: string,
  context: LedgerReadContext,
  rs: QbResponse,
  home: Currency,
): Promise<{ outcome: LedgerPageOutcome; invoices: InvoiceCopy[] }> {
  const entity = context.entity ?? 'Invoice';
  const kind = statusKind(rs);
  if (kind === 'retry' || kind === 'refused') {
    // An iterator QuickBooks no longer knows (its session ended, or it expired): read the entity again from its
    // cursor. The status code keeps it from being asked again in this run (web-connector.ts counts it as waiting).
    const { iteratorID: _gone, maxSeen: _seen, ...rest } = context;
    const restarts = (context.restarts ?? 0) + 1;
    // Started again at once; after a few lost iterators in one walk, at the next run (no spinning in this one).
    const wait = kind === 'retry' || restarts > MAX_RESTARTS ? { statusCode: rs.statusCode } : {};
    if (context.iteratorID || kind === 'retry')
      return { outcome: { state: 'queued', context: { ...rest, restarts }, error: describeStatus(rs), ...wait }, invoices: [] };
    return { outcome: { state: 'refused', context: rest, error: describeStatus(rs), statusCode: rs.statusCode }, invoices: [] };
  }
  const page = pageOf(entity, rs.rets, home);
  await storeLedgerChanges(tx, tenantId, LEDGER_VENDOR, page.changes);
  const maxSeen = latest(context.maxSeen, page.maxSeen);
  if ((rs.iteratorRemainingCount ?? 0) > 0 && rs.iteratorID) {
    return {
      outcome: { state: 'queued', context: { ...context, entity, iteratorID: rs.iteratorID, ...(maxSeen ? { maxSeen } : {}) } },
      invoices: page.invoices,
    };
  }
  // The entity's last page is stored: only now does its cursor move.
  const from = { ...context.from, ...(maxSeen ? { [entity]: maxSeen } : {}) };
  const next = ENTITIES[ENTITIES.indexOf(entity) + 1];
  if (next)
    return {
      outcome: { state: 'queued', context: { from, entity: next, ...(context.startedAt ? { startedAt: context.startedAt } : {}) } },
      invoices: page.invoices,
    };
  return { outcome: { state: 'done', context: { from, asOf: context.startedAt ?? new Date().toISOString() } }, invoices: page.invoices };
}

/** What a payment took off an invoice: its own Amount plus the credit memos it applied there (LinkedTxn). */
function appliedWithCredits(a: Ret, home: Currency) {
  let minor = parseDecimal(text(a, 'Amount') ?? '0', home).amountMinor;
  for (const l of listOf(a, 'LinkedTxn')) {
    if (text(l, 'TxnType') !== 'CreditMemo') continue;
    const m = parseDecimal(text(l, 'Amount') ?? '0', home).amountMinor;
    minor += m < 0n ? -m : m;
  }
  return money(minor, home);
}

function latest(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

const MARKER = /\[settle:([^\]]+)\]/;
const settleKeyOf = (memo: string | undefined): string | null => MARKER.exec(memo ?? '')?.[1] ?? null;
const when = (r: Ret): Date | null => {
  const t = text(r, 'TimeModified');
  return t ? new Date(t) : null;
};

const DELETED_KIND: Readonly<Record<string, LedgerRecordKind>> = { Invoice: 'invoice', ReceivePayment: 'payment', Deposit: 'deposit' };
/**
 * QuickBooks Desktop's Void keeps the transaction with its amounts zeroed and "VOID:" before its memo; qbXML 13
 * has no void flag on ReceivePaymentRet / DepositRet, so that is how the copy knows.
 */
const isVoided = (r: Ret, amountKey: string): boolean => /^VOID:/i.test(text(r, 'Memo') ?? '') && Number(text(r, amountKey) ?? '0') === 0;

function pageOf(entity: LedgerStep, rets: readonly Ret[], home: Currency): { changes: LedgerChanges; invoices: InvoiceCopy[]; maxSeen: string | undefined } {
  if (entity === 'TxnDeleted') return deletionsOf(rets);
  const invoices: LedgerInvoiceCopy[] = [];
  const payments: LedgerPaymentCopy[] = [];
  const deposits: LedgerDepositCopy[] = [];
  const copies: InvoiceCopy[] = [];
  let maxSeen: string | undefined;
  const amount = (r: Ret, k: string) => parseDecimal(text(r, k) ?? '0', home);
  for (const r of rets) {
    maxSeen = latest(maxSeen, text(r, 'TimeModified'));
    const id = text(r, 'TxnID');
    if (!id) continue;
    if (entity === 'Invoice') {
      const c = invoiceCopy(r, home);
      if (!c) continue;
      copies.push(c);
      invoices.push({
        remoteId: c.txnId,
        number: c.refNumber,
        customerRemoteId: c.customerListId,
        total: money(c.totalMinor, c.currency),
        balance: money(c.balanceMinor, c.currency),
        voided: false,
        updatedAt: when(r),
      });
    } else if (entity === 'ReceivePayment') {
      payments.push({
        remoteId: id,
        total: amount(r, 'TotalAmount'),
        paidOn: text(r, 'TxnDate') ?? null,
        customerRemoteId: refOf(r, 'CustomerRef')?.listId ?? null,
        settleKey: settleKeyOf(text(r, 'Memo')),
        reference: text(r, 'RefNumber') ?? null,
        voided: isVoided(r, 'TotalAmount'),
        applied: listOf(r, 'AppliedToTxnRet')
          .filter((a) => text(a, 'TxnID'))
          .map((a) => ({ invoiceRemoteId: text(a, 'TxnID')!, amount: appliedWithCredits(a, home) })),
        updatedAt: when(r),
      });
    } else {
      deposits.push({
        remoteId: id,
        total: amount(r, 'DepositTotal'),
        depositedOn: text(r, 'TxnDate') ?? null,
        settleKey: settleKeyOf(text(r, 'Memo')),
        voided: isVoided(r, 'DepositTotal'),
        updatedAt: when(r),
      });
    }
  }
  const changes: LedgerChanges = { full: false, invoices, payments, deposits, deleted: [], cursor: '', complete: true, asOf: new Date() };
  return { changes, invoices: copies, maxSeen };
}

/** TxnDeletedRet: the kind and TxnID of each deleted record; the cursor moves by TimeDeleted. */
function deletionsOf(rets: readonly Ret[]): { changes: LedgerChanges; invoices: InvoiceCopy[]; maxSeen: string | undefined } {
  const deleted: { kind: LedgerRecordKind; remoteId: string }[] = [];
  let maxSeen: string | undefined;
  for (const r of rets) {
    maxSeen = latest(maxSeen, text(r, 'TimeDeleted'));
    const kind = DELETED_KIND[text(r, 'TxnDelType') ?? ''];
    const id = text(r, 'TxnID');
    if (kind && id) deleted.push({ kind, remoteId: id });
  }
  return { changes: { full: false, invoices: [], payments: [], deposits: [], deleted, cursor: '', complete: true, asOf: new Date() }, invoices: [], maxSeen };
}
