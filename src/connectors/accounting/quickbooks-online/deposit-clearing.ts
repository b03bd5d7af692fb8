// A deposit's clearing lines in QuickBooks Online. A payout lands in the bank before every payment in it
// is in the books (the PSA exports the invoice later): the Deposit is posted that day with such a payment on
// a line to the clearing account, marked `[settle-line:<key>]`, so it equals the bank line. When the
// payment is posted, the line is moved onto it: a sparse update of the Deposit (Id, SyncToken, the same
// DepositToAccountRef, and the whole Line list — a Line list sent replaces every line) where that line
// becomes `{Amount, LinkedTxn: [{TxnId: payment, TxnType: "Payment"}]}` of the same amount. The deposit
// total, its date and every other line stay; the clearing account nets back to zero; the payment leaves
// Undeposited Funds into the bank exactly as if it had been linked from the start.
//
// Why an update and not a balancing pair (a second deposit of +payment −clearing): that leaves a zero
// deposit on another day in the bank register and the payout's deposit never names the payment; the bank
// reconciliation then shows one line split over two deposits.
//
// Safe to repeat: the deposit is read first; a line already linked to the payment counts as done. The
// requestid is derived from the deposit, its SyncToken and the keys, so a repeat after a lost answer is
// replayed, while a retry after someone else changed the deposit is a new request. A stale SyncToken
// (5010) means the deposit changed between our read and write: read again and redo, a few times.
import { VendorError } from '../../http.ts';
import { parseDecimal, type Currency } from '../../../domain/money.ts';
import type { LinkDepositPaymentsInput, PostResult } from '../types.ts';
import type { QboApi } from './api.ts';
import { clearingLineMarker, readFault, requestIdFor } from './mapping.ts';

type Json = Record<string, unknown>;

const STALE_RETRIES = 3;

/** Keys of the clearing lines a deposit still carries. */
export function clearingKeysOn(deposit: Json): string[] {
  const keys: string[] = [];
  for (const l of (deposit['Line'] as Json[] | undefined) ?? []) {
    const m = /\[settle-line:([^\]]+)\]/.exec(String(l['Description'] ?? ''));
    if (m && !linkedPaymentOf(l)) keys.push(m[1]!);
  }
  return keys;
}

function linkedPaymentOf(line: Json): string | null {
  const t = ((line['LinkedTxn'] as Json[] | undefined) ?? []).find((x) => x['TxnType'] === 'Payment');
  return t ? String(t['TxnId']) : null;
}

export type RelinkPlan = { kind: 'done' } | { kind: 'update'; lines: Json[] } | { kind: 'refused'; error: string };

/**
 * The deposit's new Line list with each named clearing line replaced by its payment's link (pure). `done`
 * when every payment is linked already; `refused` when a line is missing or its amount differs.
 */
export function relinkedLines(deposit: Json, input: LinkDepositPaymentsInput, currency: Currency): RelinkPlan {
  const lines = ((deposit['Line'] as Json[] | undefined) ?? []).map((l) => ({ ...l }));
  let changed = false;
  for (const link of input.links) {
    if (lines.some((l) => linkedPaymentOf(l) === link.paymentRemoteId)) continue; // moved already
    const marker = clearingLineMarker(link.key);
    const i = lines.findIndex((l) => String(l['Description'] ?? '').includes(marker) && !linkedPaymentOf(l));
    if (i < 0) {
      return {
        kind: 'refused',
        error: `QuickBooks Deposit ${String(deposit['Id'])} no longer has the clearing line ${marker} for Payment ${link.paymentRemoteId} (edited by hand?); link the payment to the deposit in QuickBooks`,
      };
    }
    const amount = parseDecimal(lines[i]!['Amount'] as number, currency);
    if (amount.amountMinor !== link.amount.amountMinor) {
      return {
        kind: 'refused',
        error: `the clearing line ${marker} on QuickBooks Deposit ${String(deposit['Id'])} is ${String(lines[i]!['Amount'])}, not the payment's amount; fix the deposit in QuickBooks`,
      };
    }
    const id = lines[i]!['Id'];
    lines[i] = { ...(id === undefined ? {} : { Id: id }), Amount: lines[i]!['Amount'], LinkedTxn: [{ TxnId: link.paymentRemoteId, TxnType: 'Payment' }] };
    changed = true;
  }
  return changed ? { kind: 'update', lines } : { kind: 'done' };
}

export async function linkQboDepositPayments(api: QboApi, input: LinkDepositPaymentsInput, currency: Currency): Promise<PostResult> {
  for (let attempt = 1; ; attempt++) {
    const deposit = await api.read('Deposit', input.depositRemoteId);
    const plan = relinkedLines(deposit, input, currency);
    if (plan.kind === 'done') return { ok: true, remoteId: String(deposit['Id']) };
    if (plan.kind === 'refused') return { ok: false, retryable: false, error: plan.error };
    const syncToken = String(deposit['SyncToken']);
    const body = { Id: deposit['Id'], SyncToken: syncToken, sparse: true, DepositToAccountRef: deposit['DepositToAccountRef'], Line: plan.lines };
    try {
      const requestId = requestIdFor(`dl:${String(deposit['Id'])}:${syncToken}:${input.links.map((l) => l.key).join(',')}`);
      const updated = await api.create('Deposit', body, requestId);
      return { ok: true, remoteId: String(updated['Id']) };
    } catch (e) {
      // Someone (or our own earlier, lost attempt) changed the deposit between the read and the write.
      if (e instanceof VendorError && readFault(e.body)?.code === '5010' && attempt < STALE_RETRIES) continue;
      throw e;
    }
  }
}
