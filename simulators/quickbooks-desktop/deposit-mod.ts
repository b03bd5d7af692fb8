// DepositMod as QuickBooks Desktop takes it (qbxml130.xsd › element DepositMod): the deposit by TxnID with the
// EditSequence the caller read — any other is refused 3200 (changed since it was read) — and, when the Mod names
// lines (DepositLineMod, TxnLineID -1 for a new line), those lines replace all of the deposit's: payments leave
// it or join it (a payment in another deposit is refused 3180), other lines need a known account. Each change
// moves the EditSequence on. Also what a bookkeeper does by hand in the Make Deposits window (`_sim` control).
import type { CompanyFile, Deposit, DepositLine } from './store.ts';
import { EditRefusal } from './deletions.ts';

type El = Record<string, unknown>;
const arr = (v: unknown): El[] => (v === undefined ? [] : Array.isArray(v) ? (v as El[]) : [v as El]);
const str = (e: El | undefined, k: string): string | undefined => (e && e[k] !== undefined && typeof e[k] !== 'object' ? String(e[k]) : undefined);
const refOf = (e: El | undefined, k: string) => {
  const r = e?.[k] as El | undefined;
  return r ? { ...(str(r, 'ListID') ? { listId: str(r, 'ListID')! } : {}), ...(str(r, 'FullName') ? { fullName: str(r, 'FullName')! } : {}) } : undefined;
};

/**
 * A line's ClassRef (a deposit line linking a payment: OverrideClassRef): absent, or an active class of the
 * company file (else 3140, as QuickBooks answers). DepositAdd, DepositMod and JournalEntryAdd share it.
 */
export function classOn(c: CompanyFile, line: El, txn: string, key: 'ClassRef' | 'OverrideClassRef' = 'ClassRef'): string | undefined {
  const ref = refOf(line, key);
  if (!ref) return undefined;
  const cls = c.classOf(ref);
  if (!cls) throw new EditRefusal(3140, `There is an invalid reference to QuickBooks Class "${ref.fullName ?? ref.listId}" in the ${txn}.`);
  return cls.fullName;
}

export function editSequenceOf(d: Deposit): string {
  return String(d.editSequence ?? 1);
}

export function depositMod(c: CompanyFile, m: El, cents: (s: string | undefined) => bigint): Deposit {
  const txnId = str(m, 'TxnID') ?? '';
  const d = c.deposits.find((x) => x.txnId === txnId);
  if (!d) throw new EditRefusal(3120, `Object "${txnId}" specified in the request cannot be found.`);
  if (str(m, 'EditSequence') !== editSequenceOf(d)) throw new EditRefusal(3200, `The provided edit sequence "${str(m, 'EditSequence') ?? ''}" is out-of-date.`);
  const lineMods = arr(m['DepositLineMod']);
  let lines = d.lines;
  if (lineMods.length > 0) {
    lines = lineMods.map((l): DepositLine => {
      const paymentTxnId = str(l, 'PaymentTxnID');
      if (paymentTxnId) {
        const p = c.payments.find((x) => x.txnId === paymentTxnId);
        if (!p) throw new EditRefusal(3120, `Object "${paymentTxnId}" specified in the request cannot be found.`);
        if (p.depositedIn && p.depositedIn !== d.txnId)
          throw new EditRefusal(3180, `There was an error when saving a Deposit. QuickBooks error message: payment ${paymentTxnId} is in another deposit.`);
        return { paymentTxnId, amount: p.total, memo: p.memo, className: classOn(c, l, 'Deposit', 'OverrideClassRef') };
      }
      const acct = c.account(refOf(l, 'AccountRef'));
      if (!acct)
        throw new EditRefusal(3140, `There is an invalid reference to QuickBooks Account "${JSON.stringify(refOf(l, 'AccountRef'))}" in the Deposit line.`);
      return { account: acct.fullName, amount: cents(str(l, 'Amount')), memo: str(l, 'Memo') ?? '', className: classOn(c, l, 'Deposit') };
    });
  }
  return replaceLines(c, d, lines, { memo: str(m, 'Memo') ?? d.memo, txnDate: str(m, 'TxnDate') ?? d.txnDate });
}

/** A bookkeeper edits a deposit by hand: adds a line (e.g. a bank charge) to it. */
export function editDepositByHand(c: CompanyFile, txnId: string, line: { account: string; amountCents: bigint; memo: string }): Deposit {
  const d = c.deposits.find((x) => x.txnId === txnId);
  if (!d) throw new EditRefusal(3120, `Object "${txnId}" specified in the request cannot be found.`);
  if (!c.account({ fullName: line.account })) throw new EditRefusal(3140, `There is no account "${line.account}".`);
  return replaceLines(c, d, [...d.lines, { account: line.account, amount: line.amountCents, memo: line.memo }], {});
}

function replaceLines(c: CompanyFile, d: Deposit, lines: readonly DepositLine[], header: { memo?: string; txnDate?: string }): Deposit {
  const inIt = new Set(lines.filter((l) => l.paymentTxnId).map((l) => l.paymentTxnId));
  for (const p of c.payments) {
    if (p.depositedIn === d.txnId && !inIt.has(p.txnId)) p.depositedIn = null;
    if (inIt.has(p.txnId)) p.depositedIn = d.txnId;
  }
  Object.assign(d, {
    ...header,
    lines,
    total: lines.reduce((s, l) => s + l.amount, 0n),
    editSequence: (d.editSequence ?? 1) + 1,
    timeModified: c.timeModified(),
  });
  return d;
}
