// Update, void and delete, as Intuit documents them per entity (API reference, "Sparse update", "Void",
// "Delete"). Every one names Id and the record's current SyncToken; a stale token is refused with 5010
// (Stale Object Error) and changes nothing.
//   - update: `POST /{entity}` or `POST /{entity}?operation=update` with Id + SyncToken. `sparse: true`
//     changes only the properties sent; without it (a full update) every writable property not sent is
//     cleared — modelled for the name lists (Customer, Vendor, Account, Item); for transactions only the
//     sparse update of the properties listed below (and Payment / Deposit lines: journal.ts, deposit.ts).
//   - void: Payment (`?operation=update&include=void`, sparse, as the reference shows; `?operation=void` too,
//     the batch OperationEnum's word) and Invoice (`?operation=void`). The record stays, amounts go to zero,
//     PrivateNote starts "Voided". A deposited payment cannot be voided, nor an invoice with payments.
//   - delete: `?operation=delete` for Invoice, Payment, Deposit, JournalEntry, Purchase; the answer is
//     `{"<Entity>": {"domain": "QBO", "status": "Deleted", "Id": …}}` and CDC reports the id as Deleted.
//     Name lists cannot be deleted (QuickBooks makes them inactive: update Active=false) — refused, 4004.
import { checkFields, faults, type CheckedType } from './faults.ts';
import { nameTaken } from './purchase.ts';
import type { Entity, EntityName, QboStore } from './store.ts';
import { checkDate, checkLength, depositOf, DOC_NUMBER_MAX, PRIVATE_NOTE_MAX } from './transactions.ts';

type Body = Record<string, unknown>;

/** The record named by Id, with SyncToken checked. */
export function current(store: QboStore, entity: EntityName, body: Body): Entity {
  if (body['Id'] === undefined) throw faults.requiredParam('Id');
  const e = store.get(entity, String(body['Id']));
  if (body['SyncToken'] === undefined) throw faults.requiredParam('SyncToken');
  if (String(body['SyncToken']) !== e.SyncToken) throw faults.staleObject(entity, e.Id, String(body['SyncToken']));
  return e;
}

const isSparse = (b: Body): boolean => b['sparse'] === true || b['sparse'] === 'true';

// ---- update of name lists and transaction headers -------------------------------------------------------

/** Computed by QuickBooks; a value sent is ignored, never stored. */
const READ_ONLY = new Set([
  'Id',
  'SyncToken',
  'MetaData',
  'domain',
  'status',
  'sparse',
  'Balance',
  'BalanceWithJobs',
  'CurrentBalance',
  'CurrentBalanceWithSubAccounts',
  'FullyQualifiedName',
  'Classification',
  'CurrencyRef',
  'Job',
  'Level',
]);

const NAME_LISTS: readonly EntityName[] = ['Customer', 'Vendor', 'Account', 'Item'];

/** Transactions: what a sparse update may change (money-bearing properties are not modelled). */
const HEADER_FIELDS: Partial<Record<EntityName, ReadonlySet<string>>> = {
  Invoice: new Set(['DocNumber', 'TxnDate', 'DueDate', 'PrivateNote', 'CustomerMemo', 'BillEmail', 'EmailStatus', 'PrintStatus', 'SalesTermRef']),
  Purchase: new Set(['DocNumber', 'TxnDate', 'PrivateNote']),
  JournalEntry: new Set(['DocNumber', 'TxnDate', 'PrivateNote']),
};

export function updateRecord(store: QboStore, entity: EntityName, body: Body): Entity {
  if (NAME_LISTS.includes(entity)) return updateNameList(store, entity, body);
  const allowed = HEADER_FIELDS[entity];
  if (!allowed) throw faults.unsupportedOperation('update', entity);
  checkFields(entity as CheckedType, body);
  const e = current(store, entity, body);
  if (!isSparse(body)) throw faults.unsupportedOperation(`full update (send "sparse": true)`, entity);
  // A client may send the whole record back with one property changed: unchanged values are no changes.
  const changes = Object.entries(body).filter(([k, v]) => !READ_ONLY.has(k) && JSON.stringify(v) !== JSON.stringify(e[k]));
  for (const [k] of changes) if (!allowed.has(k)) throw faults.unsupportedOperation(`update of ${k}`, entity);
  checkLength(body, 'DocNumber', DOC_NUMBER_MAX);
  checkLength(body, 'PrivateNote', PRIVATE_NOTE_MAX);
  checkDate(body, 'TxnDate');
  checkDate(body, 'DueDate');
  if (entity === 'Invoice' && typeof body['DocNumber'] === 'string') {
    const dup = store.list('Invoice').find((i) => i.Id !== e.Id && i['DocNumber'] === body['DocNumber']);
    if (dup) throw faults.duplicateDocNumber(String(body['DocNumber']), 'Invoice', dup.Id);
  }
  for (const [k, v] of changes) e[k] = v;
  store.touch(e);
  return e;
}

function updateNameList(store: QboStore, entity: EntityName, body: Body): Entity {
  checkFields(entity as CheckedType, body);
  const e = current(store, entity, body);
  const name = entity === 'Account' || entity === 'Item' ? 'Name' : 'DisplayName';
  const newName = body[name];
  if (newName !== undefined) {
    if (typeof newName !== 'string' || newName === '') throw faults.requiredParam(name);
    const lower = newName.toLowerCase();
    const dup =
      entity === 'Customer' || entity === 'Vendor'
        ? nameTaken(store, newName, e.Id)
        : store.list(entity).find((x) => x.Id !== e.Id && String(x[name]).toLowerCase() === lower);
    if (dup) throw faults.duplicateName(newName, dup.Id);
  } else if (!isSparse(body)) {
    throw faults.requiredParam(name); // a full update sends the whole record
  }
  if (entity === 'Account' && body['AccountType'] !== undefined && body['AccountType'] !== e['AccountType']) {
    throw faults.business('the simulator does not change an account’s type; create another account instead', 'AccountType');
  }
  if (!isSparse(body)) {
    for (const k of Object.keys(e)) if (!READ_ONLY.has(k) && !(k in body) && k !== name) delete e[k];
  }
  for (const [k, v] of Object.entries(body)) if (!READ_ONLY.has(k)) e[k] = v;
  if (name === 'Name' || entity === 'Vendor') e['FullyQualifiedName'] = e[name];
  if (entity === 'Customer' && !e['ParentRef']) e['FullyQualifiedName'] = e['DisplayName'];
  store.touch(e);
  return e;
}

// ---- void -----------------------------------------------------------------------------------------------

function adjustCustomer(store: QboStore, customerId: string, delta: bigint): void {
  const c = store.get('Customer', customerId);
  c['Balance'] = store.amount(store.minor(c['Balance'] ?? 0, 'Balance') + delta);
  c['BalanceWithJobs'] = c['Balance'];
  store.touch(c);
}

/** Give back what a payment applied (to invoices and journal entries) and what it took off the customer. */
function unapplyPayment(store: QboStore, payment: Entity): void {
  for (const l of (payment['Line'] as Body[] | undefined) ?? []) {
    const link = ((l['LinkedTxn'] as Body[] | undefined) ?? [])[0];
    if (!link) continue;
    const amt = store.minor(l['Amount'], 'Amount');
    if (link['TxnType'] === 'JournalEntry') {
      const id = String(link['TxnId']);
      store.journalOpen.set(id, (store.journalOpen.get(id) ?? 0n) + amt);
      continue;
    }
    const invoice = store.get('Invoice', String(link['TxnId']));
    invoice['Balance'] = store.amount(store.minor(invoice['Balance'], 'Balance') + amt);
    invoice['LinkedTxn'] = (invoice['LinkedTxn'] as Body[]).filter((t) => t['TxnId'] !== payment.Id);
    store.touch(invoice);
  }
  adjustCustomer(store, (payment['CustomerRef'] as { value: string }).value, store.minor(payment['TotalAmt'], 'TotalAmt'));
}

function refuseIfDeposited(payment: Entity, what: string): void {
  const dep = depositOf(payment);
  if (dep) throw faults.business(`Payment ${payment.Id} is part of Deposit ${dep}; remove it from the deposit before you ${what} it`, 'Id');
}

const voidedNote = (e: Entity): string => `Voided${e['PrivateNote'] ? `: ${String(e['PrivateNote'])}` : ''}`;

export function voidRecord(store: QboStore, entity: EntityName, body: Body): Entity {
  if (entity === 'Payment') {
    const payment = current(store, 'Payment', body);
    refuseIfDeposited(payment, 'void');
    if (payment['PrivateNote'] !== undefined && String(payment['PrivateNote']).startsWith('Voided') && store.minor(payment['TotalAmt'], 'TotalAmt') === 0n) {
      return payment; // voiding twice changes nothing
    }
    unapplyPayment(store, payment);
    payment['TotalAmt'] = 0;
    payment['UnappliedAmt'] = 0;
    payment['Line'] = [];
    payment['PrivateNote'] = voidedNote(payment);
    store.touch(payment);
    return payment;
  }
  if (entity === 'Invoice') {
    const invoice = current(store, 'Invoice', body);
    const paid = (invoice['LinkedTxn'] as Body[]).filter((t) => t['TxnType'] === 'Payment');
    if (paid.length > 0)
      throw faults.business(`Invoice ${invoice.Id} has payments (${paid.map((t) => String(t['TxnId'])).join(', ')}); remove them first`, 'Id');
    adjustCustomer(store, (invoice['CustomerRef'] as { value: string }).value, -store.minor(invoice['Balance'], 'Balance'));
    invoice['Line'] = (invoice['Line'] as Body[]).map((l) => (l['Amount'] === undefined ? l : { ...l, Amount: 0 }));
    invoice['TotalAmt'] = 0;
    invoice['Balance'] = 0;
    invoice['PrivateNote'] = voidedNote(invoice);
    store.touch(invoice);
    return invoice;
  }
  throw faults.unsupportedOperation('void', entity);
}

// ---- delete ---------------------------------------------------------------------------------------------

export function deleteRecord(store: QboStore, entity: EntityName, body: Body): Record<string, unknown> {
  const e = current(store, entity, body);
  switch (entity) {
    case 'Payment':
      refuseIfDeposited(e, 'delete');
      unapplyPayment(store, e);
      break;
    case 'Invoice': {
      const paid = (e['LinkedTxn'] as Body[]).filter((t) => t['TxnType'] === 'Payment');
      if (paid.length > 0) throw faults.business(`Invoice ${e.Id} has payments (${paid.map((t) => String(t['TxnId'])).join(', ')}); remove them first`, 'Id');
      adjustCustomer(store, (e['CustomerRef'] as { value: string }).value, -store.minor(e['Balance'], 'Balance'));
      break;
    }
    case 'Deposit':
      for (const p of store.list('Payment').filter((x) => depositOf(x) === e.Id)) {
        p['LinkedTxn'] = (p['LinkedTxn'] as Body[]).filter((t) => !(t['TxnType'] === 'Deposit' && t['TxnId'] === e.Id));
        store.touch(p); // back in Undeposited Funds
      }
      break;
    case 'JournalEntry': {
      const using = store
        .list('Payment')
        .find((p) =>
          ((p['Line'] as Body[] | undefined) ?? []).some((l) =>
            ((l['LinkedTxn'] as Body[] | undefined) ?? []).some((t) => t['TxnType'] === 'JournalEntry' && t['TxnId'] === e.Id),
          ),
        );
      if (using) throw faults.business(`Payment ${using.Id} applies to JournalEntry ${e.Id}; change the payment first`, 'Id');
      const open = store.journalOpen.get(e.Id);
      const customer = ((e['Line'] as Body[]) ?? [])
        .map((l) => ((l['JournalEntryLineDetail'] as Body | undefined)?.['Entity'] as { EntityRef?: { value?: string } } | undefined)?.EntityRef?.value)
        .find((v) => v !== undefined);
      if (open !== undefined && customer) adjustCustomer(store, customer, -open);
      store.journalOpen.delete(e.Id);
      break;
    }
    case 'Purchase':
      break;
    default:
      throw faults.unsupportedOperation('delete', entity);
  }
  store.remove(entity, e.Id);
  return { domain: 'QBO', status: 'Deleted', Id: e.Id };
}
