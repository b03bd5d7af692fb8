// Response elements the simulated company file writes (the *Ret shapes of qbxml130.xsd, the fields Settle reads).
import type { DeletedTxn } from './deletions.ts';
import type { QbClass } from './store.ts';
import type { Account, CompanyFile, CreditMemo, Customer, Deposit, Invoice, Journal, Payment } from './store.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const el = (name: string, v: string | undefined) => (v === undefined ? '' : `<${name}>${esc(v)}</${name}>`);
export const amt = (c: bigint) => `${c < 0n ? '-' : ''}${(c < 0n ? -c : c) / 100n}.${((c < 0n ? -c : c) % 100n).toString().padStart(2, '0')}`;

function attrs(a: Record<string, string | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${esc(v!)}"`)
    .join('');
}

export function status(type: string, requestID: string | undefined, code: number, message: string): string {
  return `<${type}${attrs({ requestID, statusCode: String(code), statusSeverity: code === 0 || code === 1 ? 'Info' : 'Error', statusMessage: message })} />`;
}

export function list(type: string, requestID: string | undefined, rets: readonly string[], extra: Record<string, string> = {}): string {
  const isQuery = type.includes('Query');
  if (isQuery && rets.length === 0 && !extra['iteratorID']) return status(type, requestID, 1, 'A query request did not find a matching object in QuickBooks');
  const a = attrs({
    requestID,
    statusCode: '0',
    statusSeverity: 'Info',
    statusMessage: 'Status OK',
    ...(isQuery ? { retCount: String(rets.length) } : {}),
    ...extra,
  });
  return `<${type}${a}>${rets.join('')}</${type}>`;
}

const ref = (name: string, listId: string, fullName: string) => `<${name}><ListID>${esc(listId)}</ListID><FullName>${esc(fullName)}</FullName></${name}>`;
const customerRef = (c: CompanyFile, listId: string) => ref('CustomerRef', listId, c.customers.find((x) => x.listId === listId)?.fullName ?? '');
const accountRef = (c: CompanyFile, name: string, tag = 'AccountRef') => ref(tag, c.accounts.find((a) => a.fullName === name)?.listId ?? '', name);

export function customerRet(x: Customer): string {
  return `<CustomerRet>${el('ListID', x.listId)}${el('TimeModified', x.timeModified)}${el('EditSequence', '1')}${el('Name', x.fullName)}${el('FullName', x.fullName)}${el('IsActive', 'true')}</CustomerRet>`;
}

export function invoiceRet(c: CompanyFile, i: Invoice): string {
  return (
    `<InvoiceRet>${el('TxnID', i.txnId)}${el('TimeModified', i.timeModified)}${el('EditSequence', '1')}${el('TxnNumber', '1')}${customerRef(c, i.customerListId)}` +
    `${el('TxnDate', i.txnDate)}${el('RefNumber', i.refNumber)}${el('Subtotal', amt(i.subtotal))}${el('AppliedAmount', amt(i.balance - i.subtotal))}` +
    `${el('BalanceRemaining', amt(i.balance))}${el('IsPaid', String(i.balance === 0n))}</InvoiceRet>`
  );
}

export function accountRet(a: Account): string {
  const special = a.fullName === 'Undeposited Funds' ? el('SpecialAccountType', 'UndepositedFunds') : '';
  return `<AccountRet>${el('ListID', a.listId)}${el('EditSequence', '1')}${el('Name', a.fullName)}${el('FullName', a.fullName)}${el('IsActive', String(a.active ?? true))}${el('AccountType', a.type)}${special}</AccountRet>`;
}

export function creditMemoRet(c: CompanyFile, m: CreditMemo): string {
  return (
    `<CreditMemoRet>${el('TxnID', m.txnId)}${el('TimeModified', m.timeModified)}${el('EditSequence', '1')}${customerRef(c, m.customerListId)}` +
    `${el('TxnDate', m.txnDate)}${el('RefNumber', m.refNumber)}${el('TotalAmount', amt(m.total))}${el('CreditRemaining', amt(m.remaining))}</CreditMemoRet>`
  );
}

export function paymentRet(c: CompanyFile, p: Payment): string {
  return (
    `<ReceivePaymentRet>${el('TxnID', p.txnId)}${el('TimeModified', p.timeModified)}${el('EditSequence', '1')}${customerRef(c, p.customerListId)}` +
    `${el('TxnDate', p.txnDate)}${el('RefNumber', p.refNumber)}${el('TotalAmount', amt(p.total))}${el('Memo', p.memo)}` +
    `${accountRef(c, p.depositTo, 'DepositToAccountRef')}${el('ExternalGUID', p.externalGuid)}` +
    p.applied
      .map(
        (a) =>
          `<AppliedToTxnRet>${el('TxnID', a.txnId)}${el('TxnType', c.journals.some((j) => j.txnId === a.txnId) ? 'JournalEntry' : 'Invoice')}${el('Amount', amt(a.amount))}` +
          (a.credits ?? [])
            .map((x) => `<LinkedTxn>${el('TxnID', x.creditTxnId)}${el('TxnType', 'CreditMemo')}${el('Amount', amt(x.amount))}</LinkedTxn>`)
            .join('') +
          `</AppliedToTxnRet>`,
      )
      .join('') +
    `</ReceivePaymentRet>`
  );
}

export function depositRet(c: CompanyFile, d: Deposit): string {
  return (
    `<DepositRet>${el('TxnID', d.txnId)}${el('TimeModified', d.timeModified)}${el('EditSequence', String(d.editSequence ?? 1))}${el('TxnDate', d.txnDate)}` +
    `${accountRef(c, d.account, 'DepositToAccountRef')}${el('Memo', d.memo)}${el('DepositTotal', amt(d.total))}${el('ExternalGUID', d.externalGuid)}` +
    d.lines
      .map(
        (l) =>
          `<DepositLineRet>${el('TxnType', l.paymentTxnId ? 'ReceivePayment' : 'Deposit')}${el('TxnID', l.paymentTxnId)}${l.account ? accountRef(c, l.account) : ''}${el('Memo', l.memo)}${classRef(c, l.className)}${el('Amount', amt(l.amount))}</DepositLineRet>`,
      )
      .join('') +
    `</DepositRet>`
  );
}

export function journalRet(c: CompanyFile, j: Journal): string {
  const line = (tag: string) => (l: Journal['debits'][number]) =>
    `<${tag}>${accountRef(c, l.account)}${el('Amount', amt(l.amount))}${el('Memo', l.memo)}${l.entityListId ? ref('EntityRef', l.entityListId, c.customers.find((x) => x.listId === l.entityListId)?.fullName ?? '') : ''}${classRef(c, l.className)}</${tag}>`;
  return (
    `<JournalEntryRet>${el('TxnID', j.txnId)}${el('TimeModified', j.timeModified)}${el('EditSequence', '1')}${el('TxnDate', j.txnDate)}${el('RefNumber', j.refNumber)}${el('ExternalGUID', j.externalGuid)}` +
    j.debits.map(line('JournalDebitLine')).join('') +
    j.credits.map(line('JournalCreditLine')).join('') +
    `</JournalEntryRet>`
  );
}

const classRef = (c: CompanyFile, name: string | undefined) => (name ? ref('ClassRef', c.classes.find((x) => x.fullName === name)?.listId ?? '', name) : '');

export function classRet(x: QbClass): string {
  const name = x.fullName.split(':').pop()!;
  return `<ClassRet>${el('ListID', x.listId)}${el('EditSequence', '1')}${el('Name', name)}${el('FullName', x.fullName)}${el('IsActive', String(x.active))}</ClassRet>`;
}

export function txnDeletedRet(d: DeletedTxn): string {
  return `<TxnDeletedRet>${el('TxnDelType', d.type)}${el('TxnID', d.txnId)}${el('TimeCreated', d.timeCreated)}${el('TimeDeleted', d.timeDeleted)}${el('RefNumber', d.refNumber)}</TxnDeletedRet>`;
}
