// The company file answering qbXML as QuickBooks does: every *Rq gets its *Rs with statusCode /
// statusSeverity / statusMessage (qbxmlops130.xsd); refusals use QuickBooks' codes: 1 (query found nothing),
// 3070 (string too long), 3120 (object not found), 3140 (invalid reference), 3180 (error saving: not in
// balance, already deposited, more than the open balance), 3175 (record in use — injectable), 3231 (not
// processed: an earlier request failed under stopOnError). A document that is not valid qbXML fails whole,
// as QuickBooks does, with HRESULT 0x80040400 (the Web Connector passes it to receiveResponseXML).
import { XMLParser } from 'fast-xml-parser';
import { CompanyFile, UNDEPOSITED_FUNDS, type Payment } from './store.ts';
import { accountsFor, modifiedFilter, ReadRefusal } from './reads.ts';
import * as Rs from './qbxml-rs.ts';
import { EditRefusal, txnDeletedQuery } from './deletions.ts';
import { classOn, depositMod } from './deposit-mod.ts';
import { checkJournalApplication } from './journal-applications.ts';

type El = Record<string, unknown>;
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  trimValues: true,
  ignorePiTags: true,
  ignoreDeclaration: true,
});
const arr = (v: unknown): El[] => (v === undefined ? [] : Array.isArray(v) ? (v as El[]) : [v as El]);
const str = (e: El | undefined, k: string): string | undefined => (e && e[k] !== undefined && typeof e[k] !== 'object' ? String(e[k]) : undefined);
const refOf = (e: El | undefined, k: string) => {
  const r = e?.[k] as El | undefined;
  return r ? { ...(str(r, 'ListID') ? { listId: str(r, 'ListID')! } : {}), ...(str(r, 'FullName') ? { fullName: str(r, 'FullName')! } : {}) } : undefined;
};
function cents(text: string | undefined): bigint {
  if (!text) return 0n;
  const m = /^([+-]?)(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) throw new Refusal(3020, `"${text}" is not a valid amount`);
  const v = BigInt(m[2]!) * 100n + BigInt((m[3] ?? '').padEnd(2, '0') || '0');
  return m[1] === '-' ? -v : v;
}

export class Refusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class ParseFailure extends Error {
  readonly hresult = '0x80040400';
}

export interface Injected {
  /** Answer the next N write requests with 3175 (a person has the record open in QuickBooks). */
  inUse: number;
}

/** Handles one qbXML request document; returns the response document. Throws ParseFailure for a bad document. */
export function handleQbxml(company: CompanyFile, xml: string, injected: Injected): string {
  if (!/<\?qbxml\s+version="\d+\.\d+"\?>/.test(xml))
    throw new ParseFailure('QuickBooks found an error when parsing the provided XML text stream (no <?qbxml version?>).');
  let doc: El;
  try {
    doc = parser.parse(xml) as El;
  } catch {
    throw new ParseFailure('QuickBooks found an error when parsing the provided XML text stream.');
  }
  const set = (doc['QBXML'] as El | undefined)?.['QBXMLMsgsRq'] as El | undefined;
  if (!set || typeof set !== 'object') throw new ParseFailure('QuickBooks found an error when parsing the provided XML text stream (no QBXMLMsgsRq).');
  const onError = str(set, '@onError');
  if (!onError) throw new ParseFailure('QBXMLMsgsRq needs onError.');
  const out: string[] = [];
  let failed = false;
  for (const [type, value] of Object.entries(set)) {
    if (type.startsWith('@')) continue;
    for (const rq of arr(value)) {
      const rsType = type.replace(/Rq$/, 'Rs');
      const id = str(rq, '@requestID');
      if (failed && onError === 'stopOnError') {
        out.push(Rs.status(rsType, id, 3231, 'The request has not been processed.'));
        continue;
      }
      try {
        out.push(answer(company, type, rq, id, injected));
      } catch (e) {
        if (!(e instanceof Refusal) && !(e instanceof ReadRefusal) && !(e instanceof EditRefusal)) throw e;
        failed = true;
        out.push(Rs.status(rsType, id, e.code, e.message));
      }
    }
  }
  return `<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>${out.join('')}</QBXMLMsgsRs></QBXML>`;
}

function answer(c: CompanyFile, type: string, rq: El, id: string | undefined, injected: Injected): string {
  const isWrite = type.endsWith('AddRq') || type.endsWith('ModRq');
  if (isWrite && injected.inUse > 0) {
    injected.inUse -= 1;
    throw new Refusal(3175, 'There was an error when saving. QuickBooks error message: This record is in use by another user.');
  }
  switch (type) {
    case 'InvoiceQueryRq': {
      const refs = arr(rq['RefNumber']).map(String);
      if (refs.length)
        return Rs.list(
          'InvoiceQueryRs',
          id,
          c.invoices.filter((i) => refs.includes(i.refNumber)).map((i) => Rs.invoiceRet(c, i)),
        );
      return modifiedPage(c, 'InvoiceQueryRs', id, rq, c.invoices, (i) => Rs.invoiceRet(c, i));
    }
    case 'ClassQueryRq': {
      const active = str(rq, 'ActiveStatus') ?? 'ActiveOnly';
      const found = c.classes.filter((x) => active === 'All' || (active === 'ActiveOnly') === x.active);
      return Rs.list('ClassQueryRs', id, found.map(Rs.classRet));
    }
    case 'AccountQueryRq':
      return Rs.list('AccountQueryRs', id, accountsFor(c, rq).map(Rs.accountRet));
    case 'CreditMemoQueryRq': {
      const refs = arr(rq['RefNumber']).map(String);
      return Rs.list(
        'CreditMemoQueryRs',
        id,
        c.creditMemos.filter((m) => !refs.length || refs.includes(m.refNumber)).map((m) => Rs.creditMemoRet(c, m)),
      );
    }
    case 'CustomerQueryRq': {
      const ids = arr(rq['ListID']).map(String);
      const from = str(rq, 'FromModifiedDate');
      const found = c.customers.filter((x) => (ids.length ? ids.includes(x.listId) : !from || x.timeModified >= from));
      return Rs.list('CustomerQueryRs', id, found.map(Rs.customerRet));
    }
    case 'ReceivePaymentAddRq':
      return Rs.list('ReceivePaymentAddRs', id, [Rs.paymentRet(c, receivePaymentAdd(c, rq['ReceivePaymentAdd'] as El))]);
    case 'ReceivePaymentQueryRq':
      if (isModifiedRead(rq)) return modifiedPage(c, 'ReceivePaymentQueryRs', id, rq, c.payments, (p) => Rs.paymentRet(c, p));
      return Rs.list(
        'ReceivePaymentQueryRs',
        id,
        filterTxns(c.payments, rq)
          .filter((p) => !entityOk(rq) || entityOk(rq)!(p.customerListId))
          .map((p) => Rs.paymentRet(c, p)),
      );
    case 'DepositAddRq':
      return Rs.list('DepositAddRs', id, [Rs.depositRet(c, depositAdd(c, rq['DepositAdd'] as El))]);
    case 'DepositQueryRq': {
      if (isModifiedRead(rq)) return modifiedPage(c, 'DepositQueryRs', id, rq, c.deposits, (d) => Rs.depositRet(c, d));
      const acct = c.account(refOf({ a: (rq['AccountFilter'] as El | undefined) ?? {} }, 'a'));
      return Rs.list(
        'DepositQueryRs',
        id,
        filterTxns(c.deposits, rq)
          .filter((d) => !rq['AccountFilter'] || d.account === acct?.fullName)
          .map((d) => Rs.depositRet(c, d)),
      );
    }
    case 'DepositModRq':
      return Rs.list('DepositModRs', id, [Rs.depositRet(c, depositMod(c, rq['DepositMod'] as El, cents))]);
    case 'JournalEntryAddRq':
      return Rs.list('JournalEntryAddRs', id, [Rs.journalRet(c, journalEntryAdd(c, rq['JournalEntryAdd'] as El))]);
    case 'TxnDeletedQueryRq':
      return txnDeletedQuery(c, rq, id);
    case 'JournalEntryQueryRq':
      return Rs.list(
        'JournalEntryQueryRs',
        id,
        filterTxns(c.journals, rq).map((j) => Rs.journalRet(c, j)),
      );
    default:
      throw new Refusal(3250, `This feature is not enabled or not available in this version of QuickBooks (the simulator does not play ${type}).`);
  }
}

/** A read by modified date, or a page of one: the books copy's reads (reads.ts pages them). */
const isModifiedRead = (rq: El): boolean => rq['ModifiedDateRangeFilter'] !== undefined || str(rq, '@iterator') !== undefined;

function modifiedPage<T extends { timeModified: string }>(
  c: CompanyFile,
  type: string,
  id: string | undefined,
  rq: El,
  all: readonly T[],
  ret: (t: T) => string,
): string {
  const f = modifiedFilter(rq);
  const { page, attrs } = c.iterators.page(type, rq, f.key, () => all.filter((t) => f.test(t.timeModified)));
  return Rs.list(type, id, page.map(ret), attrs);
}

function filterTxns<T extends { txnDate: string; refNumber?: string }>(list: readonly T[], rq: El): T[] {
  const d = rq['TxnDateRangeFilter'] as El | undefined;
  const r = rq['RefNumberRangeFilter'] as El | undefined;
  const ids = arr(rq['TxnID']).map(String);
  return list.filter(
    (t) =>
      (!ids.length || ids.includes((t as unknown as { txnId: string }).txnId)) &&
      (!d || ((!str(d, 'FromTxnDate') || t.txnDate >= str(d, 'FromTxnDate')!) && (!str(d, 'ToTxnDate') || t.txnDate <= str(d, 'ToTxnDate')!))) &&
      (!r ||
        ((!str(r, 'FromRefNumber') || (t.refNumber ?? '') >= str(r, 'FromRefNumber')!) &&
          (!str(r, 'ToRefNumber') || (t.refNumber ?? '') <= str(r, 'ToRefNumber')!))),
  );
}
function entityOk(rq: El): ((listId: string) => boolean) | null {
  const e = rq['EntityFilter'] as El | undefined;
  if (!e) return null;
  const ids = arr(e['ListID']).map(String);
  return (listId) => ids.includes(listId);
}

function maxLen(field: string, value: string | undefined, max: number): void {
  if (value !== undefined && value.length > max) throw new Refusal(3070, `The string "${value}" in the field "${field}" is too long.`);
}

function receivePaymentAdd(c: CompanyFile, a: El): Payment {
  const customer = c.customer(refOf(a, 'CustomerRef'));
  if (!customer)
    throw new Refusal(3140, `There is an invalid reference to QuickBooks Customer "${JSON.stringify(refOf(a, 'CustomerRef'))}" in the ReceivePayment.`);
  maxLen('RefNumber', str(a, 'RefNumber'), 20);
  const depositRef = refOf(a, 'DepositToAccountRef');
  const depositTo = depositRef ? c.account(depositRef) : c.account({ fullName: UNDEPOSITED_FUNDS });
  if (!depositTo)
    throw new Refusal(3140, `There is an invalid reference to QuickBooks Account "${depositRef?.fullName ?? depositRef?.listId}" in the ReceivePayment.`);
  const total = cents(str(a, 'TotalAmount'));
  const applied = arr(a['AppliedToTxnAdd']).map((t) => ({
    txnId: str(t, 'TxnID') ?? '',
    amount: cents(str(t, 'PaymentAmount')),
    credits: arr(t['SetCredit']).map((sc) => ({ creditTxnId: str(sc, 'CreditTxnID') ?? '', amount: cents(str(sc, 'AppliedAmount')) })),
  }));
  let sum = 0n;
  for (const t of applied) {
    const inv = c.invoices.find((i) => i.txnId === t.txnId);
    if (!inv && c.journals.some((j) => j.txnId === t.txnId)) {
      checkJournalApplication(c, customer.listId, t, applied);
      sum += t.amount;
      continue;
    }
    if (!inv) throw new Refusal(3120, `Object "${t.txnId}" specified in the request cannot be found.`);
    if (inv.customerListId !== customer.listId)
      throw new Refusal(3140, `There is an invalid reference to QuickBooks Invoice "${t.txnId}": it belongs to another customer.`);
    const credited = checkCredits(c, customer.listId, t.credits);
    if (t.amount + credited > inv.balance)
      throw new Refusal(
        3180,
        `There was an error when saving a ReceivePayment. QuickBooks error message: the amount applied to invoice ${inv.refNumber} is more than its open balance.`,
      );
    sum += t.amount;
  }
  if (sum > total) throw new Refusal(3180, 'There was an error when saving a ReceivePayment. QuickBooks error message: more is applied than was received.');
  for (const t of applied) {
    const inv = c.invoices.find((i) => i.txnId === t.txnId);
    if (!inv) continue; // a journal entry: its open amount is what payments have not applied yet (CompanyFile.openOnJournal)
    inv.balance -= t.amount + t.credits.reduce((s, x) => s + x.amount, 0n);
    inv.timeModified = c.timeModified();
    for (const x of t.credits) {
      const memo = c.creditMemos.find((m) => m.txnId === x.creditTxnId)!;
      memo.remaining -= x.amount;
      memo.timeModified = c.timeModified();
    }
  }
  const p: Payment = {
    txnId: c.txnId(),
    customerListId: customer.listId,
    txnDate: str(a, 'TxnDate') ?? new Date().toISOString().slice(0, 10),
    refNumber: str(a, 'RefNumber') ?? '',
    total,
    memo: str(a, 'Memo') ?? '',
    externalGuid: str(a, 'ExternalGUID'),
    depositTo: depositTo.fullName,
    applied,
    depositedIn: null,
    timeModified: c.timeModified(),
  };
  c.payments.push(p);
  return p;
}

/** SetCredit: each credit memo exists, is the paying customer's, and has that much left; returns the credit applied. */
function checkCredits(c: CompanyFile, customerListId: string, credits: readonly { creditTxnId: string; amount: bigint }[]): bigint {
  let total = 0n;
  for (const x of credits) {
    const memo = c.creditMemos.find((m) => m.txnId === x.creditTxnId);
    if (!memo) throw new Refusal(3120, `Object "${x.creditTxnId}" specified in the request cannot be found.`);
    if (memo.customerListId !== customerListId)
      throw new Refusal(3140, `There is an invalid reference to QuickBooks CreditMemo "${memo.refNumber}": it belongs to another customer.`);
    if (x.amount <= 0n) throw new Refusal(3020, `AppliedAmount of credit memo ${memo.refNumber} must be more than 0.00.`);
    const already = credits.filter((y) => y.creditTxnId === x.creditTxnId).reduce((s, y) => s + y.amount, 0n);
    if (memo.remaining === 0n)
      throw new Refusal(
        3180,
        `There was an error when saving a ReceivePayment. QuickBooks error message: credit memo ${memo.refNumber} has already been used.`,
      );
    if (already > memo.remaining)
      throw new Refusal(
        3180,
        `There was an error when saving a ReceivePayment. QuickBooks error message: ${Rs.amt(already)} is more than the ${Rs.amt(memo.remaining)} left on credit memo ${memo.refNumber}.`,
      );
    total += x.amount;
  }
  return total;
}

function depositAdd(c: CompanyFile, a: El) {
  const bank = c.account(refOf(a, 'DepositToAccountRef'));
  if (!bank || bank.type !== 'Bank')
    throw new Refusal(3140, `There is an invalid reference to QuickBooks Account "${JSON.stringify(refOf(a, 'DepositToAccountRef'))}" in the Deposit.`);
  const lines = arr(a['DepositLineAdd']).map((l) => {
    const paymentTxnId = str(l, 'PaymentTxnID');
    if (paymentTxnId) {
      const p = c.payments.find((x) => x.txnId === paymentTxnId);
      if (!p) throw new Refusal(3120, `Object "${paymentTxnId}" specified in the request cannot be found.`);
      if (p.depositedIn || p.depositTo !== UNDEPOSITED_FUNDS)
        throw new Refusal(
          3180,
          `There was an error when saving a Deposit. QuickBooks error message: payment ${paymentTxnId} is not in Undeposited Funds (already deposited).`,
        );
      return { paymentTxnId, amount: p.total, memo: str(l, 'OverrideMemo') ?? p.memo, className: classOn(c, l, 'Deposit', 'OverrideClassRef') };
    }
    const acct = c.account(refOf(l, 'AccountRef'));
    if (!acct) throw new Refusal(3140, `There is an invalid reference to QuickBooks Account "${JSON.stringify(refOf(l, 'AccountRef'))}" in the Deposit line.`);
    return { account: acct.fullName, amount: cents(str(l, 'Amount')), memo: str(l, 'Memo') ?? '', className: classOn(c, l, 'Deposit') };
  });
  const d = {
    txnId: c.txnId(),
    txnDate: str(a, 'TxnDate') ?? '',
    account: bank.fullName,
    memo: str(a, 'Memo') ?? '',
    externalGuid: str(a, 'ExternalGUID'),
    lines,
    total: lines.reduce((s, l) => s + l.amount, 0n),
    timeModified: c.timeModified(),
  };
  for (const l of lines) if (l.paymentTxnId) c.payments.find((x) => x.txnId === l.paymentTxnId)!.depositedIn = d.txnId;
  c.deposits.push(d);
  return d;
}

function journalEntryAdd(c: CompanyFile, a: El) {
  maxLen('RefNumber', str(a, 'RefNumber'), 11);
  const line = (l: El) => {
    const acct = c.account(refOf(l, 'AccountRef'));
    if (!acct) throw new Refusal(3140, `There is an invalid reference to QuickBooks Account "${JSON.stringify(refOf(l, 'AccountRef'))}" in the JournalEntry.`);
    const entity = c.customer(refOf(l, 'EntityRef'));
    if (acct.type === 'AccountsReceivable' && !entity)
      throw new Refusal(3180, 'There was an error when saving a JournalEntry. QuickBooks error message: a line to Accounts Receivable needs a customer.');
    return {
      account: acct.fullName,
      amount: cents(str(l, 'Amount')),
      memo: str(l, 'Memo') ?? '',
      entityListId: entity?.listId,
      className: classOn(c, l, 'JournalEntry'),
    };
  };
  const debits = arr(a['JournalDebitLine']).map(line);
  const credits = arr(a['JournalCreditLine']).map(line);
  const sum = (ls: { amount: bigint }[]) => ls.reduce((s, l) => s + l.amount, 0n);
  if (sum(debits) !== sum(credits))
    throw new Refusal(3180, 'There was an error when saving a JournalEntry. QuickBooks error message: Transaction not in balance.');
  const j = {
    txnId: c.txnId(),
    txnDate: str(a, 'TxnDate') ?? '',
    refNumber: str(a, 'RefNumber') ?? '',
    externalGuid: str(a, 'ExternalGUID'),
    debits,
    credits,
    timeModified: c.timeModified(),
  };
  c.journals.push(j);
  return j;
}
