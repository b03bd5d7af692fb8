// The three-way reconciliation's "deposit edited by hand" fix on QuickBooks Desktop (AccountingConnector.
// restoreDeposit; engine/reconciliation-deposit-restore.ts): the deposit Settle posted for a payout is put back
// in place — same TxnID, so a bank reconciliation it is part of stays — with every line as Settle posts it
// today (each payment linked, the fee line, any payment not in the books yet on the clearing line), as
// QuickBooks Online's restore does (quickbooks-online/deposit-restore.ts).
//
// QuickBooks Desktop cannot be called, so the restore is one item of the Web Connector's queue ('deposit-mod'):
//   check — DepositQuery by TxnID: not there (deleted) or without Settle's marker (not Settle's, or voided) ⇒
//           refused with the reason; its total is the payout's already ⇒ done, nothing written; else its
//           EditSequence is kept for
//   add   — DepositMod with that EditSequence, restating every line. QuickBooks refuses a stale EditSequence
//           (3200: someone changed it since our read): read again and redo. A Mod whose answer was lost is read
//           again first (the check flag is dropped on a re-queue), so it is never applied on an old reading.
// A person's click queues it and is told it waits for the Web Connector; the next click after the run reports
// the outcome, and that outcome is then forgotten (the row deleted), so a later edit can be restored again.
import { sql } from 'kysely';
import type { Tx } from '../../../db/tenant.ts';
import { money, parseCurrency, parseDecimal } from '../../../domain/money.ts';
import type { QbdStep } from '../../../db/schema/quickbooks-desktop.ts';
import type { DepositResult } from '../types.ts';
import { depositModRequest as modRequest, depositQueryByTxnId } from './qbxml/deposit-mod.ts';
import { settleMarker } from './qbxml/xml.ts';
import { describeStatus, statusKind, text, type QbResponse } from './qbxml/responses.ts';
import type { DepositIntent, WorkContext } from './work-intent.ts';
import type { Outcome, WorkItem } from './work-steps.ts';

export interface DepositModIntent extends DepositIntent {
  /** The deposit in QuickBooks (the deposit posting's remote id). */
  readonly depositTxnId: string;
  /** The deposit posting's idempotency key: the marker its memo carries. */
  readonly depositKey: string;
  /** What the deposit totals when it is as Settle posts it: the payout, the bank line. */
  readonly expectedTotalMinor: string;
}

const STALE_EDIT_SEQUENCE = 3200;

export const restoreKey = (depositTxnId: string): string => `restore:${depositTxnId}`;

export function depositModStep(item: WorkItem): QbdStep {
  return item.context.checked && item.context.editSequence ? 'add' : 'check';
}

export function depositModRequest(item: WorkItem, step: QbdStep, requestID: string): string {
  const d = item.intent as unknown as DepositModIntent;
  if (step !== 'add') return depositQueryByTxnId(requestID, d.depositTxnId);
  const currency = parseCurrency(d.currency);
  return modRequest(requestID, {
    txnId: d.depositTxnId,
    editSequence: item.context.editSequence!,
    idempotencyKey: d.depositKey,
    txnDate: d.depositedOn,
    depositTo: d.accounts.bank,
    memo: d.memo,
    paymentTxnIds: d.paymentTxnIds,
    paymentClasses: d.paymentClasses,
    otherLines: d.otherLines.map((l) => ({ account: l.account, amount: money(BigInt(l.amountMinor), currency), memo: l.memo })),
  });
}

export function depositModOutcome(item: WorkItem, step: QbdStep, rs: QbResponse): Outcome {
  const d = item.intent as unknown as DepositModIntent;
  const kind = statusKind(rs);
  if (kind === 'retry') return { state: 'queued', context: item.context, error: describeStatus(rs), statusCode: rs.statusCode };
  if (step === 'add') {
    // Changed in QuickBooks between our read and our Mod: read it again (the next run of this item).
    if (rs.statusCode === STALE_EDIT_SEQUENCE) return { state: 'queued', context: {}, error: describeStatus(rs) };
    if (kind === 'refused') return { state: 'refused', error: describeStatus(rs), statusCode: rs.statusCode };
    return { state: 'done', remoteId: text(rs.rets[0] ?? {}, 'TxnID') ?? d.depositTxnId };
  }
  if (kind === 'refused') return { state: 'refused', error: describeStatus(rs), statusCode: rs.statusCode };
  const ret = rs.rets.find((r) => text(r, 'TxnID') === d.depositTxnId);
  if (!ret)
    return {
      state: 'refused',
      error: `deposit ${d.depositTxnId} is no longer in the QuickBooks company file (deleted): Settle cannot restore it`,
      statusCode: 1,
    };
  if (!(text(ret, 'Memo') ?? '').includes(settleMarker(d.depositKey)))
    return {
      state: 'refused',
      error: `QuickBooks deposit ${d.depositTxnId} does not carry Settle's note for this payout (voided, or its memo edited): restore it by hand, or delete it and let Settle post it again`,
      statusCode: 0,
    };
  const total = parseDecimal(text(ret, 'DepositTotal') ?? '0', parseCurrency(d.currency)).amountMinor;
  if (total === BigInt(d.expectedTotalMinor)) return { state: 'done', remoteId: d.depositTxnId };
  const editSequence = text(ret, 'EditSequence');
  if (!editSequence) return { state: 'refused', error: `QuickBooks returned deposit ${d.depositTxnId} without an EditSequence`, statusCode: 0 };
  return { state: 'queued', context: { checked: true, editSequence } as WorkContext };
}

/**
 * Queue the restore (once), or report how it ended and forget it. Not ended yet: retryable, with when the Web
 * Connector is expected to take it.
 */
export async function restoreThroughQueue(tx: Tx, tenantId: string, intent: DepositModIntent, notYet: string): Promise<DepositResult> {
  const key = restoreKey(intent.depositTxnId);
  await sql`INSERT INTO qbd_work (tenant_id, key, kind, intent) VALUES (${tenantId}, ${key}, 'deposit-mod', ${JSON.stringify(intent)}::jsonb)
    ON CONFLICT (tenant_id, key) DO NOTHING`.execute(tx);
  const row = await tx.selectFrom('qbd_work').select(['id', 'state', 'remote_id', 'last_error']).where('key', '=', key).executeTakeFirstOrThrow();
  if (row.state !== 'done' && row.state !== 'refused')
    return { ok: false, retryable: true, error: row.last_error ? `${notYet}; last time: ${row.last_error}` : notYet };
  await tx.deleteFrom('qbd_work').where('id', '=', row.id).execute();
  if (row.state === 'refused') return { ok: false, retryable: false, error: row.last_error ?? 'QuickBooks refused the DepositMod' };
  return { ok: true, remoteId: row.remote_id ?? intent.depositTxnId, onClearing: intent.clearingKeys };
}
