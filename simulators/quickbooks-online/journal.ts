// JournalEntry create and the sparse update of a Payment's applications: what Settle needs to book a
// reversal (refund, ACH return, lost dispute) against a payment that may already sit in a Deposit.
// Field names per Finance.xsd › JournalEntry / JournalEntryLineDetail / EntityTypeRef and Payment.
// Rules modelled (QBO's documented behaviour, codes from Intuit's error list; details are ours):
//   - a journal entry balances (debits = credits) and an A/R line names its customer (code 6000);
//   - an A/R debit is owed by the customer like an invoice and a Payment line can apply to it
//     (LinkedTxn TxnType JournalEntry);
//   - a sparse update changes only the properties sent; a deposited payment keeps its TotalAmt.
import { checkFields, faults } from './faults.ts';
import { refTo, type Entity, type QboStore } from './store.ts';
import { checkTrackingRefs } from './tracking.ts';

type Body = Record<string, unknown>;

function lines(body: Body): Body[] {
  const l = body['Line'];
  if (l === undefined) return [];
  if (!Array.isArray(l)) throw faults.invalidValue('Line', 'Line must be a list');
  return l as Body[];
}

function adjustCustomerBalance(store: QboStore, customer: Entity, delta: bigint): void {
  customer['Balance'] = store.amount(store.minor(customer['Balance'] ?? 0, 'Balance') + delta);
  customer['BalanceWithJobs'] = customer['Balance'];
  store.touch(customer);
}

// ---- JournalEntry -------------------------------------------------------------------------------------

export function createJournalEntry(store: QboStore, body: Body): Entity {
  checkFields('JournalEntry', body);
  checkTrackingRefs(store, body); // DepartmentRef on the entry; ClassRef and DepartmentRef per line
  const c = body['CurrencyRef'] as { value?: unknown } | undefined;
  if (c !== undefined && c.value !== store.homeCurrency) throw faults.business(`currency ${String(c.value)} is not enabled for this company`, 'CurrencyRef');
  const note = body['PrivateNote'];
  if (note !== undefined && (typeof note !== 'string' || note.length > 4000)) throw faults.stringLength('PrivateNote', 4000, String(note).length);
  const txnDate = body['TxnDate'] === undefined ? store.today() : String(body['TxnDate']);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(txnDate)) throw faults.invalidValue('TxnDate', `TxnDate must be a date (yyyy-MM-dd), got ${JSON.stringify(body['TxnDate'])}`);
  const input = lines(body);
  if (input.length < 2) throw faults.requiredParam('Line');
  let debits = 0n;
  let credits = 0n;
  const receivable = new Map<string, bigint>(); // customer id → debit − credit on A/R
  const outLines = input.map((l, i) => {
    if (l['DetailType'] !== 'JournalEntryLineDetail')
      throw faults.invalidValue('Line.DetailType', 'journal entry lines have DetailType JournalEntryLineDetail');
    if (l['Amount'] === undefined) throw faults.requiredParam('Line.Amount');
    const amt = store.minor(l['Amount'], 'Line.Amount');
    if (amt < 0n) throw faults.business('a journal entry line amount cannot be negative; use the other PostingType', 'Line.Amount');
    const detail = (l['JournalEntryLineDetail'] as Body | undefined) ?? {};
    const posting = detail['PostingType'];
    if (posting !== 'Debit' && posting !== 'Credit') throw faults.invalidValue('Line.JournalEntryLineDetail.PostingType', 'PostingType is Debit or Credit');
    const account = store.ref('Account', 'Line.JournalEntryLineDetail.AccountRef', detail['AccountRef'])!;
    const entity = detail['Entity'] as { Type?: unknown; EntityRef?: unknown } | undefined;
    let customer: Entity | undefined;
    if (entity !== undefined) {
      if (entity.Type !== 'Customer')
        throw faults.invalidValue('Line.JournalEntryLineDetail.Entity.Type', 'the simulator supports Customer entities on journal lines');
      customer = store.ref('Customer', 'Line.JournalEntryLineDetail.Entity.EntityRef', entity.EntityRef)!;
    }
    if (account['AccountType'] === 'Accounts Receivable') {
      if (!customer)
        throw faults.business('When you use Accounts Receivable, you must choose a customer in the Name field.', 'Line.JournalEntryLineDetail.Entity');
      receivable.set(customer.Id, (receivable.get(customer.Id) ?? 0n) + (posting === 'Debit' ? amt : -amt));
    }
    if (posting === 'Debit') debits += amt;
    else credits += amt;
    return {
      Id: String(i),
      ...(l['Description'] === undefined ? {} : { Description: l['Description'] }),
      Amount: store.amount(amt),
      DetailType: 'JournalEntryLineDetail',
      JournalEntryLineDetail: {
        PostingType: posting,
        AccountRef: refTo(account),
        ...(customer ? { Entity: { Type: 'Customer', EntityRef: refTo(customer, 'DisplayName') } } : {}),
        ...(detail['ClassRef'] === undefined ? {} : { ClassRef: detail['ClassRef'] }),
        ...(detail['DepartmentRef'] === undefined ? {} : { DepartmentRef: detail['DepartmentRef'] }),
      },
    };
  });
  if (debits !== credits)
    throw faults.business(`You can't save an unbalanced transaction: debits ${store.amount(debits)}, credits ${store.amount(credits)}`, 'Line');
  if (receivable.size > 1) throw faults.business('the simulator supports one customer per journal entry on A/R', 'Line');
  const je = store.insert('JournalEntry', {
    ...body,
    TxnDate: txnDate,
    Adjustment: false,
    TotalAmt: store.amount(debits),
    CurrencyRef: store.currencyRef(),
    Line: outLines,
  });
  for (const [customerId, delta] of receivable) {
    adjustCustomerBalance(store, store.get('Customer', customerId), delta);
    store.journalOpen.set(je.Id, delta);
  }
  return je;
}

// ---- Payment: sparse update of what it applies to ------------------------------------------------------

type Target = { kind: 'Invoice' | 'JournalEntry'; id: string };
const key = (t: Target): string => `${t.kind}:${t.id}`;

function openOf(store: QboStore, t: Target): bigint {
  if (t.kind === 'Invoice') return store.minor(store.get('Invoice', t.id)['Balance'], 'Balance');
  store.get('JournalEntry', t.id);
  return store.journalOpen.get(t.id) ?? 0n;
}

function moveOpen(store: QboStore, t: Target, delta: bigint, paymentId: string, linked: boolean): void {
  if (t.kind === 'JournalEntry') {
    store.journalOpen.set(t.id, (store.journalOpen.get(t.id) ?? 0n) + delta);
    return;
  }
  const invoice = store.get('Invoice', t.id);
  invoice['Balance'] = store.amount(store.minor(invoice['Balance'], 'Balance') + delta);
  const others = (invoice['LinkedTxn'] as Body[]).filter((x) => x['TxnId'] !== paymentId);
  invoice['LinkedTxn'] = linked ? [...others, { TxnId: paymentId, TxnType: 'Payment' }] : others;
  store.touch(invoice);
}

/**
 * `POST /payment` with `Id`, `SyncToken` and `"sparse": true`: Line (what the payment applies to) and
 * PrivateNote may change; TotalAmt may be sent only unchanged (a deposited payment's amount is fixed by
 * its deposit line, and Settle never changes it). Atomic: every line is checked before any balance moves.
 */
export function updatePayment(store: QboStore, body: Body): Entity {
  checkFields('Payment', body);
  const payment = store.get('Payment', String(body['Id']));
  if (String(body['SyncToken']) !== payment.SyncToken) throw faults.staleObject('Payment', payment.Id, String(body['SyncToken']));
  if (body['sparse'] !== true && body['sparse'] !== 'true') throw faults.unsupportedOperation('full update', 'Payment');
  for (const [k, v] of Object.entries(body)) {
    // A client may send the whole record back: a value unchanged is no change.
    if (['Id', 'SyncToken', 'sparse', 'Line', 'PrivateNote', 'TotalAmt', 'MetaData', 'domain'].includes(k) || JSON.stringify(v) === JSON.stringify(payment[k]))
      continue;
    throw faults.unsupportedOperation(`update of ${k}`, 'Payment');
  }
  const total = store.minor(payment['TotalAmt'], 'TotalAmt');
  if (body['TotalAmt'] !== undefined && store.minor(body['TotalAmt'], 'TotalAmt') !== total) {
    throw faults.business('the simulator does not change a payment amount; apply it differently instead', 'TotalAmt');
  }
  if (body['PrivateNote'] !== undefined && (typeof body['PrivateNote'] !== 'string' || body['PrivateNote'].length > 4000)) {
    throw faults.stringLength('PrivateNote', 4000, String(body['PrivateNote']).length);
  }
  const customerId = (payment['CustomerRef'] as { value: string }).value;
  if (body['Line'] !== undefined) {
    const before = new Map<string, { t: Target; amt: bigint }>();
    for (const l of payment['Line'] as Body[]) {
      const link = ((l['LinkedTxn'] as Body[] | undefined) ?? [])[0];
      if (!link) continue;
      const t: Target = { kind: link['TxnType'] === 'JournalEntry' ? 'JournalEntry' : 'Invoice', id: String(link['TxnId']) };
      before.set(key(t), { t, amt: (before.get(key(t))?.amt ?? 0n) + store.minor(l['Amount'], 'Amount') });
    }
    const after = new Map<string, { t: Target; amt: bigint }>();
    let applied = 0n;
    for (const l of lines(body)) {
      checkFields('Line', l, 'Payment');
      const amt = store.minor(l['Amount'], 'Line.Amount');
      if (amt <= 0n) throw faults.business('an applied amount must be more than zero', 'Line.Amount');
      const linked = (l['LinkedTxn'] as Body[] | undefined) ?? [];
      const type = linked[0]?.['TxnType'];
      if (linked.length !== 1 || (type !== 'Invoice' && type !== 'JournalEntry'))
        throw faults.invalidValue('Line.LinkedTxn', 'each line applies to one Invoice or JournalEntry');
      const t: Target = { kind: type, id: String(linked[0]!['TxnId']) };
      const target = store.find(t.kind, t.id);
      if (!target) throw faults.invalidReference('Line.LinkedTxn.TxnId', t.id);
      const owner = t.kind === 'Invoice' ? (target['CustomerRef'] as { value: string }).value : customerOfJournal(target);
      if (owner !== customerId) throw faults.business(`${t.kind} ${t.id} belongs to another customer than the payment's`, 'Line.LinkedTxn');
      after.set(key(t), { t, amt: (after.get(key(t))?.amt ?? 0n) + amt });
      applied += amt;
    }
    if (applied > total)
      throw faults.business(`The amounts applied (${store.amount(applied)}) are more than the payment total (${store.amount(total)})`, 'Line');
    for (const [k, { t, amt }] of after) {
      const open = openOf(store, t) + (before.get(k)?.amt ?? 0n);
      if (amt > open)
        throw faults.business(
          `The amount applied to ${t.kind} ${t.id} (${store.amount(amt)}) is more than its open balance (${store.amount(open)})`,
          'Line.Amount',
        );
    }
    for (const [k, { t, amt }] of before) if (!after.has(k)) moveOpen(store, t, amt, payment.Id, false);
    for (const [k, { t, amt }] of after) moveOpen(store, t, (before.get(k)?.amt ?? 0n) - amt, payment.Id, true);
    payment['Line'] = [...after.values()].map(({ t, amt }) => ({ Amount: store.amount(amt), LinkedTxn: [{ TxnId: t.id, TxnType: t.kind }] }));
    payment['UnappliedAmt'] = store.amount(total - applied);
  }
  if (body['PrivateNote'] !== undefined) payment['PrivateNote'] = body['PrivateNote'];
  store.touch(payment);
  return payment;
}

function customerOfJournal(je: Entity): string | null {
  for (const l of (je['Line'] as Body[] | undefined) ?? []) {
    const e = ((l['JournalEntryLineDetail'] as Body | undefined)?.['Entity'] as { EntityRef?: { value?: string } } | undefined)?.EntityRef?.value;
    if (e) return e;
  }
  return null;
}
