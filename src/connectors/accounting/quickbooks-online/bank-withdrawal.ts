// A bank debit that is no payment of ours (a bank ACH return taking a settled debit's money back), booked in
// QuickBooks Online as a JournalEntry dated the bank line's day: Dr the payout-adjustment account — the one
// a return's reversal entry credits (reversal.ts) and a settlement deposit's adjustments line credits for a
// debit returned before it settled — and Cr the bank account, so the bank register shows the bank's line
// and the adjustment account nets to zero. Check-before-write by our marker, like every QBO posting.
import { toVendorNumber } from '../../../domain/money.ts';
import type { BankWithdrawalInput, PostResult } from '../types.ts';
import type { QboApi } from './api.ts';
import { headerTracking, journalLineTracking, type QboTracking } from './tracking.ts';
import { carriesMarker, privateNote, queryLiteral, requestIdFor, requestKey } from './mapping.ts';

type Json = Record<string, unknown>;

export interface WithdrawalAccounts {
  readonly bankAccountId: string;
  readonly clearingAccountId: string;
  readonly tracking?: QboTracking | undefined;
}

export function bankWithdrawalBody(input: BankWithdrawalInput, accounts: WithdrawalAccounts): Json {
  if (input.amount.amountMinor <= 0n) throw new RangeError('a bank withdrawal must be more than zero');
  const amount = toVendorNumber(input.amount);
  const line = (posting: 'Debit' | 'Credit', account: string): Json => ({
    Description: `${input.memo} (${input.reference})`.slice(0, 4000),
    Amount: amount,
    DetailType: 'JournalEntryLineDetail',
    JournalEntryLineDetail: { PostingType: posting, AccountRef: { value: account }, ...journalLineTracking(accounts.tracking) },
  });
  return {
    TxnDate: input.withdrawnOn,
    PrivateNote: privateNote(input.memo, input.idempotencyKey),
    ...headerTracking(accounts.tracking),
    Line: [line('Debit', accounts.clearingAccountId), line('Credit', accounts.bankAccountId)],
  };
}

export async function postQboBankWithdrawal(
  api: QboApi,
  accounts: WithdrawalAccounts,
  input: BankWithdrawalInput,
  checkBeforeWrite: boolean,
): Promise<PostResult> {
  const body = bankWithdrawalBody(input, accounts);
  if (checkBeforeWrite) {
    const sameDay = await api.queryAll('JournalEntry', `TxnDate = ${queryLiteral(input.withdrawnOn)}`);
    const earlier = sameDay.find((j) => carriesMarker(j, input.idempotencyKey));
    if (earlier) return { ok: true, remoteId: String(earlier['Id']) };
  }
  // A retry after a refusal is a new request: QuickBooks replays a requestid's first answer, refusal included.
  const created = await api.create('JournalEntry', body, requestIdFor(requestKey(input.idempotencyKey, input.requestGeneration)));
  return { ok: true, remoteId: String(created['Id']) };
}
