// A payout in Xero. Payments were paid into the BANK-type clearing account as they happened (connector.ts);
// the payout then becomes, on its day:
//   - a RECEIVE bank transaction into clearing for money in the payout that is no invoice payment
//     (card surcharges, installment-plan fees, clients' credit), lines to their income/liability accounts;
//   - a SPEND bank transaction from clearing for the processor's fees, to the fee expense account;
//     both bank transactions' lines carry the tracking options mapped in Settings → Accounts (tracking.ts:
//     the only records Settle writes to Xero that take Tracking);
//   - one BankTransfer clearing → bank of exactly the payout (bank → clearing when the payout is negative):
//     the bank line in Xero's bank feed matches this one transfer.
// Clearing then nets to zero per payout: +payments +income −fees −transfer = 0, because the transfer is
// payments + income − fees + adjustments, and adjustments (refunds, returns) left clearing already when
// their reversal deleted or reduced the payment (reversal.ts). Payments whose invoice is not in Xero yet
// need no stand-in line: they reach clearing when posted, so `onClearing` is always empty.
// Each of the three records is found by its marker before it is written (check-before-write) and written
// with its own Idempotency-Key.
import { add, money, negate, subtract, sum, type Money } from '../../../domain/money.ts';
import type { BankWithdrawalInput, DepositResult, PostDepositInput, PostResult } from '../types.ts';
import type { Json } from './api.ts';
import type { XeroConnector } from './connector.ts';
import { amountOf, carries, idempotencyKeyFor, itemErrors, marker, moneyOf } from './mapping.ts';
import { lineTracking, readXeroTracking, xeroTrackingProblems } from './tracking.ts';

/**
 * Why Xero refused a fee or income line that carried the mapped tracking: the option or its category
 * archived or deleted (Xero's own message names neither the setting nor the fix). Null: not the cause, or
 * the look-up itself failed (Xero's answer is then all there is).
 */
async function trackingCause(x: XeroConnector): Promise<string | null> {
  if (!lineTracking(x.config).Tracking) return null;
  try {
    const problems = xeroTrackingProblems(x.config, await readXeroTracking(x.api));
    return problems.length ? problems.join('; ') : null;
  } catch {
    return null;
  }
}

async function refusal(x: XeroConnector, what: string, xeroSaid: string): Promise<DepositResult> {
  const cause = await trackingCause(x);
  const error = cause ? `${cause[0]!.toUpperCase()}${cause.slice(1)} (Xero refused ${what}: ${xeroSaid})` : `Xero refused ${what}: ${xeroSaid}`;
  return { ok: false, retryable: false, error };
}

async function existing(x: XeroConnector, path: '/BankTransfers' | '/BankTransactions', mark: string): Promise<Json | null> {
  const key = path.slice(1);
  const res = await x.api.call({ method: 'GET', path, params: { where: `Reference.Contains("${mark}")` } });
  return ((res[key] as Json[] | undefined) ?? []).find((r) => carries(r, mark) && r['Status'] !== 'DELETED') ?? null;
}

/** PUT one record (after looking for it by marker); its id, or the refusal. */
async function putOnce(
  x: XeroConnector,
  path: '/BankTransfers' | '/BankTransactions',
  idKey: string,
  mark: string,
  body: Json,
): Promise<{ row: Json } | { refused: string }> {
  const key = path.slice(1);
  const found = await existing(x, path, mark);
  if (found) return { row: found };
  const params: Record<string, string> = path === '/BankTransactions' ? { summarizeErrors: 'false' } : {};
  const res = await x.api.call({ method: 'PUT', path, params, body: { [key]: [body] }, idempotencyKey: idKey });
  const row = ((res[key] as Json[] | undefined) ?? [])[0];
  const err = itemErrors(row);
  return err === null ? { row: row! } : { refused: err };
}

export async function postXeroDeposit(x: XeroConnector, input: PostDepositInput): Promise<DepositResult> {
  const c = x.config;
  const cur = x.currency;
  const z = money(0n, cur);
  const gen = input.requestGeneration ?? 0;
  const payments = sum([...input.payments.map((p) => p.amount), ...(input.awaiting ?? []).map((a) => a.amount)], cur);
  const income: { code: string; amount: Money; what: string }[] = [
    { code: c.surchargeAccountCode ?? c.feeAccountCode, amount: input.surcharges ?? z, what: 'Card surcharges' },
    { code: c.planFeeAccountCode ?? c.feeAccountCode, amount: input.planFees ?? z, what: 'Installment-plan fees' },
    { code: c.clientCreditAccountCode ?? c.feeAccountCode, amount: input.clientCredit ?? z, what: 'Client credit (overpayments)' },
  ].filter((l) => l.amount.amountMinor > 0n);
  const incomeTotal = sum(
    income.map((l) => l.amount),
    cur,
  );
  const total = add(subtract(add(payments, incomeTotal), input.fees), input.adjustments);
  const ref = (part: string): string => `Payout ${input.payoutId} ${marker(input.idempotencyKey, part)}`;
  const contact = { Name: c.processorContactName };
  const tracking = lineTracking(c); // every fee and income line (tracking.ts)
  if (income.length > 0) {
    const r = await putOnce(x, '/BankTransactions', idempotencyKeyFor([input.idempotencyKey, 'income'], gen), marker(input.idempotencyKey, 'income'), {
      Type: 'RECEIVE',
      Contact: contact,
      BankAccount: { Code: c.clearingAccountCode },
      Date: input.depositedOn,
      Reference: ref('income'),
      LineAmountTypes: 'NoTax',
      LineItems: income.map((l) => ({
        Description: `${l.what} in payout ${input.payoutId}`,
        Quantity: 1,
        UnitAmount: amountOf(l.amount),
        AccountCode: l.code,
        ...tracking,
      })),
    });
    if ('refused' in r) return refusal(x, "the payout's income (RECEIVE)", r.refused);
  }
  if (input.fees.amountMinor > 0n) {
    const r = await putOnce(x, '/BankTransactions', idempotencyKeyFor([input.idempotencyKey, 'fees'], gen), marker(input.idempotencyKey, 'fees'), {
      Type: 'SPEND',
      Contact: contact,
      BankAccount: { Code: c.clearingAccountCode },
      Date: input.depositedOn,
      Reference: ref('fees'),
      LineAmountTypes: 'NoTax',
      LineItems: [
        {
          Description: `Processing fees, payout ${input.payoutId}`,
          Quantity: 1,
          UnitAmount: amountOf(input.fees),
          AccountCode: c.feeAccountCode,
          ...tracking,
        },
      ],
    });
    if ('refused' in r) return refusal(x, "the payout's fee SPEND", r.refused);
  }
  if (total.amountMinor === 0n) return { ok: true, remoteId: `payout:${input.payoutId}`, onClearing: [] };
  const outward = total.amountMinor > 0n;
  const r = await putOnce(x, '/BankTransfers', idempotencyKeyFor([input.idempotencyKey, 'transfer'], gen), marker(input.idempotencyKey, 'transfer'), {
    FromBankAccount: { Code: outward ? c.clearingAccountCode : c.bankAccountCode },
    ToBankAccount: { Code: outward ? c.bankAccountCode : c.clearingAccountCode },
    Amount: amountOf(outward ? total : negate(total)),
    Date: input.depositedOn,
    Reference: ref('transfer'),
  });
  if ('refused' in r) return { ok: false, retryable: false, error: `Xero refused the payout's bank transfer: ${r.refused}` };
  const got = moneyOf(r.row['Amount'], cur);
  const want = outward ? total : negate(total);
  if (got.amountMinor !== want.amountMinor) {
    return {
      ok: false,
      retryable: false,
      error: `Xero BankTransfer ${String(r.row['BankTransferID'])} is ${String(r.row['Amount'])}, but the payout is ${want.amountMinor} minor units`,
    };
  }
  return { ok: true, remoteId: String(r.row['BankTransferID']), onClearing: [] };
}

/**
 * A bank ACH return's debit: the money left the bank, and its reversal took the payment out of clearing —
 * so a BankTransfer bank → clearing of the amount books it and leaves both sides matching.
 */
export async function postXeroBankWithdrawal(x: XeroConnector, input: BankWithdrawalInput): Promise<PostResult> {
  const r = await putOnce(x, '/BankTransfers', idempotencyKeyFor([input.idempotencyKey], input.requestGeneration ?? 0), marker(input.idempotencyKey), {
    FromBankAccount: { Code: x.config.bankAccountCode },
    ToBankAccount: { Code: x.config.clearingAccountCode },
    Amount: amountOf(input.amount),
    Date: input.withdrawnOn,
    Reference: `${input.reference} ${marker(input.idempotencyKey)}`.slice(-255),
  });
  return 'refused' in r
    ? { ok: false, retryable: false, error: `Xero refused the bank withdrawal's transfer: ${r.refused}` }
    : { ok: true, remoteId: String(r.row['BankTransferID']) };
}
