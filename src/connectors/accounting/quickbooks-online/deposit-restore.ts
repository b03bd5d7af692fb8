// A Deposit edited by hand in QuickBooks Online put back as Settle posted it (the three-way reconciliation's
// "deposit edited by hand" fix, engine/reconciliation-deposit-restore.ts): a sparse update of the same Deposit
// — Id, SyncToken, the bank account, the date, Settle's note and the whole Line list (a Line list sent replaces
// every line) — with the lines Settle posts for the payout today: each payment linked, the fee line, and any
// payment not in the books yet on the clearing line. The total is the payout's again, so it equals the bank line.
//
// Why restore in place and not void-and-post-again: the Deposit keeps its id, so a bank-feed match or a bank
// reconciliation it is already part of stays as it is, and QuickBooks' audit log shows one edit back; a void
// and a new Deposit leave a zero deposit in the bank register and move the payout to a new record a finance
// lead would have to re-match by hand.
//
// Safe to repeat: the Deposit is read first; when it already totals the payout there is nothing to do. The
// requestid is derived from the Deposit and its SyncToken, so a repeat after a lost answer is replayed, and a
// stale SyncToken (5010: someone changed it between our read and write) reads again and redoes, a few times.
// A Deposit without Settle's marker is not Settle's to change: refused.
import { VendorError } from '../../http.ts';
import { parseDecimal, toDecimalString, type Money } from '../../../domain/money.ts';
import type { DepositResult, RestoreDepositInput } from '../types.ts';
import type { QboApi } from './api.ts';
import { clearingKeysOn } from './deposit-clearing.ts';
import { carriesMarker, readFault, requestIdFor } from './mapping.ts';

type Json = Record<string, unknown>;

const STALE_RETRIES = 3;

export async function restoreQboDeposit(api: QboApi, input: RestoreDepositInput, built: { body: Json; expectedTotal: Money }): Promise<DepositResult> {
  const expected = built.expectedTotal;
  for (let attempt = 1; ; attempt++) {
    const deposit = await api.read('Deposit', input.depositRemoteId);
    if (!carriesMarker(deposit, input.idempotencyKey))
      return {
        ok: false,
        retryable: false,
        error: `QuickBooks Deposit ${input.depositRemoteId} does not carry Settle's note for this payout (voided, or not Settle's): restore it by hand, or delete it and let Settle post it again`,
      };
    const total = (d: Json) => parseDecimal(d['TotalAmt'] as number, expected.currency).amountMinor;
    if (total(deposit) === expected.amountMinor) return { ok: true, remoteId: String(deposit['Id']), onClearing: clearingKeysOn(deposit) };
    const syncToken = String(deposit['SyncToken']);
    const body = {
      Id: deposit['Id'],
      SyncToken: syncToken,
      sparse: true,
      DepositToAccountRef: built.body['DepositToAccountRef'],
      TxnDate: built.body['TxnDate'],
      PrivateNote: built.body['PrivateNote'],
      Line: built.body['Line'],
    };
    try {
      const updated = await api.create('Deposit', body, requestIdFor(`restore:${String(deposit['Id'])}:${syncToken}`));
      if (total(updated) !== expected.amountMinor)
        return {
          ok: false,
          retryable: false,
          error: `QuickBooks Deposit ${String(updated['Id'])} totals ${String(updated['TotalAmt'])} after the restore, not ${toDecimalString(expected)}`,
        };
      return { ok: true, remoteId: String(updated['Id']), onClearing: clearingKeysOn(updated) };
    } catch (e) {
      if (e instanceof VendorError && readFault(e.body)?.code === '5010' && attempt < STALE_RETRIES) continue;
      throw e;
    }
  }
}
