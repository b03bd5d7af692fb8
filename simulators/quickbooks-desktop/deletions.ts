// What a person does to transactions in QuickBooks Desktop that Settle's books copy must see, and how QuickBooks
// tells: deleting one removes it (its applications and deposit links undone) and lists it in TxnDeletedQuery
// (qbxml130.xsd › group TxnDeletedQuery: TxnDelType+, DeletedDateRangeFilter; TxnDeletedRet: TxnDelType,
// TxnID, TimeCreated, TimeDeleted, RefNumber); voiding one keeps it with its amounts zeroed and "VOID:" before
// its memo (what QuickBooks Desktop's Void does — qbXML 13 has no void flag on ReceivePaymentRet / DepositRet;
// the invoice's balance comes back when its payment is voided).
import type { CompanyFile } from './store.ts';
import * as Rs from './qbxml-rs.ts';

type El = Record<string, unknown>;
export type DeletableType = 'Invoice' | 'ReceivePayment' | 'Deposit' | 'JournalEntry';
/** TxnDelType's enumeration (qbxml130.xsd › element TxnDelType). */
const TXN_DEL_TYPES = new Set(
  'ARRefundCreditCard Bill BillPaymentCheck BillPaymentCreditCard BuildAssembly Charge Check CreditCardCharge CreditCardCredit CreditMemo Deposit Estimate InventoryAdjustment Invoice ItemReceipt JournalEntry PurchaseOrder ReceivePayment SalesOrder SalesReceipt SalesTaxPaymentCheck TimeTracking TransferInventory VehicleMileage VendorCredit'.split(
    ' ',
  ),
);

export interface DeletedTxn {
  readonly type: DeletableType;
  readonly txnId: string;
  readonly refNumber: string | undefined;
  readonly timeCreated: string;
  readonly timeDeleted: string;
}

export class EditRefusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A person deletes a transaction in QuickBooks. */
export function deleteTxn(c: CompanyFile, type: DeletableType, txnId: string): DeletedTxn {
  const now = c.timeModified();
  let refNumber: string | undefined;
  if (type === 'ReceivePayment') {
    const p = take(c.payments, txnId, type);
    if (p.depositedIn) throw new EditRefusal(3180, `payment ${txnId} is in deposit ${p.depositedIn}: remove it from the deposit first`);
    unapply(c, p);
    refNumber = p.refNumber;
  } else if (type === 'Deposit') {
    const d = take(c.deposits, txnId, type);
    for (const p of c.payments) if (p.depositedIn === d.txnId) p.depositedIn = null;
  } else if (type === 'Invoice') {
    const i = c.invoices.find((x) => x.txnId === txnId);
    if (i && c.payments.some((p) => p.applied.some((a) => a.txnId === txnId)))
      throw new EditRefusal(3180, `invoice ${i.refNumber} has payments applied: delete them first`);
    refNumber = take(c.invoices, txnId, type).refNumber;
  } else {
    refNumber = take(c.journals, txnId, type).refNumber;
  }
  const d: DeletedTxn = { type, txnId, refNumber, timeCreated: now, timeDeleted: now };
  c.deleted.push(d);
  return d;
}

/** A person voids a received payment or a deposit: kept, amounts zeroed, "VOID:" before the memo. */
export function voidTxn(c: CompanyFile, type: 'ReceivePayment' | 'Deposit', txnId: string): void {
  if (type === 'ReceivePayment') {
    const p = c.payments.find((x) => x.txnId === txnId);
    if (!p) throw new EditRefusal(3120, `Object "${txnId}" specified in the request cannot be found.`);
    unapply(c, p);
    Object.assign(p, { total: 0n, memo: `VOID: ${p.memo}`, applied: [], timeModified: c.timeModified() });
    return;
  }
  const d = c.deposits.find((x) => x.txnId === txnId);
  if (!d) throw new EditRefusal(3120, `Object "${txnId}" specified in the request cannot be found.`);
  for (const p of c.payments) if (p.depositedIn === d.txnId) p.depositedIn = null;
  Object.assign(d, { total: 0n, memo: `VOID: ${d.memo}`, lines: [], timeModified: c.timeModified() });
}

function take<T extends { txnId: string }>(list: T[], txnId: string, type: string): T {
  const at = list.findIndex((x) => x.txnId === txnId);
  if (at < 0) throw new EditRefusal(3120, `Object "${txnId}" specified in the request cannot be found (${type}).`);
  return list.splice(at, 1)[0]!;
}

function unapply(c: CompanyFile, p: CompanyFile['payments'][number]): void {
  for (const a of p.applied) {
    const inv = c.invoices.find((i) => i.txnId === a.txnId);
    if (!inv) continue;
    inv.balance += a.amount + (a.credits ?? []).reduce((s, x) => s + x.amount, 0n);
    inv.timeModified = c.timeModified();
  }
}

const str = (e: El | undefined, k: string): string | undefined => (e && e[k] !== undefined && typeof e[k] !== 'object' ? String(e[k]) : undefined);

/** TxnDeletedQueryRq: the deleted transactions of the asked types, deleted within the range. */
export function txnDeletedQuery(c: CompanyFile, rq: El, id: string | undefined): string {
  const types = [rq['TxnDelType']]
    .flat()
    .filter((t) => t !== undefined)
    .map(String);
  if (types.length === 0) throw new EditRefusal(3000, 'TxnDeletedQuery needs at least one TxnDelType.');
  for (const t of types) if (!TXN_DEL_TYPES.has(t)) throw new EditRefusal(3000, `"${t}" is not a TxnDelType.`);
  const range = rq['DeletedDateRangeFilter'] as El | undefined;
  const from = str(range, 'FromDeletedDate');
  const to = str(range, 'ToDeletedDate');
  const found = c.deleted.filter(
    (d) => types.includes(d.type) && (!from || Date.parse(d.timeDeleted) >= Date.parse(from)) && (!to || Date.parse(d.timeDeleted) <= Date.parse(to)),
  );
  return Rs.list('TxnDeletedQueryRs', id, found.map(Rs.txnDeletedRet));
}
