// Deposit: create, and the sparse update Settle uses to move a clearing line onto a payment once that
// payment is in the books. Field names per Finance.xsd › Deposit / Line / LinkedTxn / DepositLineDetail.
// Rules modelled (QBO's documented behaviour; messages are ours):
//   - a deposit goes to a bank account; a linked line links one Payment held in Undeposited Funds, at the
//     payment's full amount, and a payment is in at most one deposit;
//   - TotalAmt is computed from the lines (Finance.xsd: "Non QB-writable"), and may not be negative;
//   - an update names Id and the current SyncToken (else 5010, stale object); a sparse update must repeat
//     DepositToAccountRef; a Line list sent replaces every line: payments no longer linked go back to
//     Undeposited Funds, payments newly linked leave it; a full update (sparse absent/false) is not modelled.
// Each request validates everything before changing anything (QBO requests are atomic).
import { checkFields, faults } from './faults.ts';
import { refTo, type Entity, type QboStore } from './store.ts';
import { checkTrackingRefs } from './tracking.ts';
import { checkCurrency, checkDate, checkLength, depositOf, lines, PRIVATE_NOTE_MAX } from './transactions.ts';

type Body = Record<string, unknown>;

interface DepositLines {
  readonly out: Body[];
  readonly linked: Entity[];
  readonly total: bigint;
}

/** Validate a Line list; `self` is the deposit being updated (its own payments may stay linked). */
function depositLines(store: QboStore, input: Body[], self: Entity | null): DepositLines {
  if (input.length === 0) throw faults.requiredParam('Line');
  const linked: Entity[] = [];
  let total = 0n;
  const out = input.map((l, i) => {
    checkFields('Line', l, 'Deposit');
    if (l['Amount'] === undefined) throw faults.requiredParam('Line.Amount');
    const amt = store.minor(l['Amount'], 'Line.Amount');
    total += amt;
    const base = { Id: String(i + 1), LineNum: i + 1, ...(l['Description'] === undefined ? {} : { Description: l['Description'] }), Amount: store.amount(amt) };
    const link = l['LinkedTxn'] as Body[] | undefined;
    if (link !== undefined && link.length > 0) {
      if (link.length !== 1 || link[0]!['TxnType'] !== 'Payment') {
        throw faults.invalidValue('Line.LinkedTxn', 'the simulator links deposit lines to one Payment each');
      }
      const payment = store.find('Payment', String(link[0]!['TxnId']));
      if (!payment) throw faults.invalidReference('Line.LinkedTxn.TxnId', String(link[0]!['TxnId']));
      if ((payment['DepositToAccountRef'] as { value: string }).value !== store.defaults.undepositedFunds) {
        throw faults.business(`Payment ${payment.Id} is not in Undeposited Funds, so it cannot be deposited`, 'Line.LinkedTxn');
      }
      const earlier = depositOf(payment);
      if ((earlier !== undefined && earlier !== self?.Id) || linked.includes(payment)) {
        throw faults.business(`Payment ${payment.Id} has already been deposited${earlier ? ` (Deposit ${earlier})` : ''}`, 'Line.LinkedTxn');
      }
      if (amt !== store.minor(payment['TotalAmt'], 'TotalAmt')) {
        throw faults.business(`the deposit line for Payment ${payment.Id} must equal its amount ${String(payment['TotalAmt'])}`, 'Line.Amount');
      }
      linked.push(payment);
      return { ...base, LinkedTxn: [{ TxnId: payment.Id, TxnType: 'Payment', TxnLineId: '0' }] };
    }
    if (l['DetailType'] !== 'DepositLineDetail') throw faults.requiredParam('Line.DetailType');
    const detail = (l['DepositLineDetail'] as Body | undefined) ?? {};
    const acct = store.ref('Account', 'Line.DepositLineDetail.AccountRef', detail['AccountRef'])!;
    const entity = store.ref('Customer', 'Line.DepositLineDetail.Entity', detail['Entity'], false);
    return {
      ...base,
      DetailType: 'DepositLineDetail',
      DepositLineDetail: { ...detail, AccountRef: refTo(acct), ...(entity ? { Entity: refTo(entity, 'DisplayName') } : {}) },
    };
  });
  if (total < 0n) throw faults.business('The deposit total cannot be negative', 'TotalAmt');
  return { out, linked, total };
}

function bankOf(store: QboStore, body: Body): Entity {
  const bank = store.ref('Account', 'DepositToAccountRef', body['DepositToAccountRef'])!;
  if (!['Bank', 'Other Current Asset'].includes(String(bank['AccountType'])) || bank.Id === store.defaults.undepositedFunds) {
    throw faults.business(`a deposit must go to a bank account, not ${String(bank['Name'])}`, 'DepositToAccountRef');
  }
  return bank;
}

function linkPayments(store: QboStore, deposit: Entity, payments: readonly Entity[]): void {
  for (const p of payments) {
    (p['LinkedTxn'] as Body[]).push({ TxnId: deposit.Id, TxnType: 'Deposit' });
    store.touch(p);
  }
}

export function createDeposit(store: QboStore, body: Body): Entity {
  checkFields('Deposit', body);
  checkTrackingRefs(store, body); // DepartmentRef on the deposit, ClassRef per DepositLineDetail
  checkCurrency(store, body);
  checkLength(body, 'PrivateNote', PRIVATE_NOTE_MAX);
  const bank = bankOf(store, body);
  const txnDate = checkDate(body, 'TxnDate') ?? store.today();
  const { out, linked, total } = depositLines(store, lines(body), null);
  // TotalAmt is computed by QBO from the lines; a client-sent value is ignored.
  const deposit = store.insert('Deposit', {
    ...body,
    DepositToAccountRef: refTo(bank),
    TxnDate: txnDate,
    CurrencyRef: store.currencyRef(),
    Line: out,
    TotalAmt: store.amount(total),
  });
  linkPayments(store, deposit, linked);
  return deposit;
}

const UPDATABLE = new Set(['Id', 'SyncToken', 'sparse', 'DepositToAccountRef', 'Line', 'PrivateNote', 'TxnDate', 'DocNumber']);

/** `POST /deposit` with Id, SyncToken and `"sparse": true`. */
export function updateDeposit(store: QboStore, body: Body): Entity {
  checkFields('Deposit', body);
  checkTrackingRefs(store, body);
  const deposit = store.get('Deposit', String(body['Id']));
  if (body['SyncToken'] === undefined) throw faults.requiredParam('SyncToken');
  if (String(body['SyncToken']) !== deposit.SyncToken) throw faults.staleObject('Deposit', deposit.Id, String(body['SyncToken']));
  if (body['sparse'] !== true && body['sparse'] !== 'true') throw faults.unsupportedOperation('full update', 'Deposit');
  // A client may send the whole record back: a value unchanged is no change.
  for (const [k, v] of Object.entries(body)) {
    if (!UPDATABLE.has(k) && k !== 'MetaData' && k !== 'domain' && JSON.stringify(v) !== JSON.stringify(deposit[k]))
      throw faults.unsupportedOperation(`update of ${k}`, 'Deposit');
  }
  if (body['DepositToAccountRef'] === undefined) throw faults.requiredParam('DepositToAccountRef');
  const bank = bankOf(store, body);
  checkLength(body, 'PrivateNote', PRIVATE_NOTE_MAX);
  checkLength(body, 'DocNumber', 21);
  const txnDate = checkDate(body, 'TxnDate');
  const next = body['Line'] === undefined ? null : depositLines(store, lines(body), deposit);
  // Validated; now change the company.
  deposit['DepositToAccountRef'] = refTo(bank);
  if (txnDate !== undefined) deposit['TxnDate'] = txnDate;
  if (body['PrivateNote'] !== undefined) deposit['PrivateNote'] = body['PrivateNote'];
  if (body['DocNumber'] !== undefined) deposit['DocNumber'] = body['DocNumber'];
  if (next) {
    const before = store.list('Payment').filter((p) => depositOf(p) === deposit.Id);
    for (const p of before) {
      if (next.linked.includes(p)) continue;
      // Taken out of the deposit: back in Undeposited Funds.
      p['LinkedTxn'] = (p['LinkedTxn'] as Body[]).filter((t) => !(t['TxnType'] === 'Deposit' && t['TxnId'] === deposit.Id));
      store.touch(p);
    }
    linkPayments(
      store,
      deposit,
      next.linked.filter((p) => !before.includes(p)),
    );
    deposit['Line'] = next.out;
    deposit['TotalAmt'] = store.amount(next.total);
  }
  store.touch(deposit);
  return deposit;
}
