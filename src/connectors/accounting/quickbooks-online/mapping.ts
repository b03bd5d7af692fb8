// Pure QuickBooks Online ↔ Settle translation: fault classification, requestid derivation, query
// literals, and the Payment / Deposit bodies (Finance.xsd › Payment, Deposit, Line, LinkedTxn,
// DepositLineDetail). No I/O here.
import { createHash } from 'node:crypto';
import type { VendorFailureKind } from '../../http.ts';
import { classifyStatus } from '../../http.ts';
import {
  add,
  isNegative,
  isZero,
  MoneyError,
  money,
  negate,
  parseCurrency,
  parseDecimal,
  subtract,
  sum,
  toVendorNumber,
  type Currency,
  type Money,
} from '../../../domain/money.ts';
import type { BooksInvoice, PostDepositInput, PostPaymentInput } from '../types.ts';
import { QBO_CATALOGUE } from './catalogue.ts';
import { depositLineTracking, headerTracking, type QboTracking } from './tracking.ts';

const LIMITS = QBO_CATALOGUE.fieldLimits;
const IDEMPOTENCY = QBO_CATALOGUE.idempotency;

// ---- faults -------------------------------------------------------------------------------------------

/** Fault.type values QBO sends (service faults and the gateway's upper-case variants). */
export type QboFaultType = 'ValidationFault' | 'SystemFault' | 'AuthenticationFault' | 'AuthorizationFault' | 'AUTHENTICATION' | 'AUTHORIZATION' | 'SERVICE';

const FAULT_TYPES: readonly QboFaultType[] = [
  'ValidationFault',
  'SystemFault',
  'AuthenticationFault',
  'AuthorizationFault',
  'AUTHENTICATION',
  'AUTHORIZATION',
  'SERVICE',
];

export interface QboFaultInfo {
  readonly type: string | null;
  readonly code: string | null;
  readonly message: string | null;
}

/** Reads `{"Fault":{"Error":[…],"type"}}` and the gateway's lower-case `{"fault":{"error":[…]}}`. */
export function readFault(body: unknown): QboFaultInfo | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  const fault = (b['Fault'] ?? b['fault']) as Record<string, unknown> | undefined;
  if (!fault || typeof fault !== 'object') return null;
  const errors = (fault['Error'] ?? fault['error']) as Record<string, unknown>[] | undefined;
  const first = Array.isArray(errors) ? errors[0] : undefined;
  const message = first ? [first['Message'] ?? first['message'], first['Detail'] ?? first['detail']].filter((x) => x != null && x !== '').join(': ') : null;
  return {
    type: typeof fault['type'] === 'string' ? fault['type'] : null,
    code: first && first['code'] != null ? String(first['code']) : null,
    message: message || null,
  };
}

/**
 * Intuit error codes that decide a different kind than the HTTP status or fault type alone
 * (Intuit's error-code list): 3200/3100 authentication/authorisation, 3001 throttled, 5010 stale
 * SyncToken, 610 object not found, 6140/6240 duplicates, 10000 system failure.
 */
const CODE_KINDS: Readonly<Record<string, VendorFailureKind>> = {
  '3200': 'auth',
  '3100': 'auth',
  '3001': 'rate_limited',
  '5010': 'conflict',
  '610': 'not_found',
  '6140': 'conflict',
  '6240': 'conflict',
  '10000': 'server',
};

export function faultKind(fault: QboFaultInfo, status: number | null): VendorFailureKind {
  const code = fault.code?.replace(/^0+(?=\d)/, '') ?? null; // "003001" and "3001" are the same code
  const byCode = code === null ? undefined : CODE_KINDS[code];
  if (byCode) return byCode;
  const type = FAULT_TYPES.find((t) => t === fault.type);
  if (type === undefined) return (status === null ? null : classifyStatus(status)) ?? 'invalid';
  switch (type) {
    case 'ValidationFault':
      return 'invalid';
    case 'SystemFault':
      return 'server';
    case 'AuthenticationFault':
    case 'AUTHENTICATION':
    case 'AuthorizationFault':
    case 'AUTHORIZATION':
      return 'auth';
    case 'SERVICE':
      return status === 429 ? 'rate_limited' : 'server';
    default: {
      const _: never = type;
      return _;
    }
  }
}

/** Whether a failure of this kind may succeed if the same call is made again later. */
export function isRetryableKind(kind: VendorFailureKind): boolean {
  switch (kind) {
    case 'rate_limited':
    case 'server':
    case 'timeout':
    case 'network':
      return true;
    case 'auth': // needs the MSP to reconnect first
    case 'not_found':
    case 'conflict':
    case 'invalid':
      return false;
    default: {
      const _: never = kind;
      return _;
    }
  }
}

// ---- requestid and query literals ---------------------------------------------------------------------

const SAFE_ID = /^[A-Za-z0-9._:-]+$/;

/** requestid from our idempotency key: the key itself when it fits QBO's limit, else a hash of it. */
export function requestIdFor(idempotencyKey: string, maxLength: number = IDEMPOTENCY.maxLength): string {
  if (idempotencyKey.length <= maxLength && SAFE_ID.test(idempotencyKey)) return idempotencyKey;
  return `h-${createHash('sha256')
    .update(idempotencyKey)
    .digest('hex')
    .slice(0, maxLength - 2)}`;
}

/** The key a request id is derived from: the idempotency key, plus the generation after a refusal. */
export function requestKey(idempotencyKey: string, generation: number | undefined): string {
  return generation ? `${idempotencyKey}#${generation}` : idempotencyKey;
}

/**
 * A payment's request key: a payment applied differently than at its last attempt (a reversal came in
 * between) is a new request, not the earlier one replayed — QuickBooks answers a repeated requestid with
 * the first answer, a refusal included. The marker in PrivateNote stays the idempotency key.
 */
export function paymentRequestKey(input: {
  idempotencyKey: string;
  requestGeneration?: number | undefined;
  amount: Money;
  appliedAmount?: Money | undefined;
}): string {
  const partly = input.appliedAmount && input.appliedAmount.amountMinor !== input.amount.amountMinor;
  return requestKey(partly ? `${input.idempotencyKey}:applied:${input.appliedAmount!.amountMinor}` : input.idempotencyKey, input.requestGeneration);
}

/** One requestid for a batch, from all its items' keys in order (≤ 36 characters). */
export function batchRequestIdFor(keys: readonly string[]): string {
  const digest = createHash('sha256').update(keys.join('\n')).digest('hex');
  return `b-${digest.slice(0, IDEMPOTENCY.batchMaxLength - 2)}`;
}

/** A single-quoted QBO query literal; quotes and backslashes are backslash-escaped (data-queries docs). */
export function queryLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

// ---- our reference inside QBO records ------------------------------------------------------------------

/** The marker written into PrivateNote so a later run can find what an earlier run posted. */
export function settleMarker(idempotencyKey: string): string {
  return `[settle:${idempotencyKey}]`;
}

export function privateNote(memo: string, idempotencyKey: string): string {
  const marker = settleMarker(idempotencyKey);
  const room = LIMITS.privateNote - marker.length - 1;
  return memo ? `${memo.slice(0, Math.max(0, room))} ${marker}` : marker;
}

/**
 * Whether `record` is what an earlier run posted under this key. A record voided in QuickBooks since (its
 * amounts zero, PrivateNote starting "Voided") does not count: the books no longer hold that posting, and a
 * person who retries it (after the reconciliation check reported the void) means a new one.
 */
export function carriesMarker(record: Record<string, unknown>, idempotencyKey: string): boolean {
  const note = record['PrivateNote'];
  return typeof note === 'string' && note.includes(settleMarker(idempotencyKey)) && !isVoided(record);
}

/** QuickBooks keeps a voided transaction with its amounts zero and "Voided" at the start of PrivateNote. */
export function isVoided(record: Record<string, unknown>): boolean {
  const note = record['PrivateNote'];
  return typeof note === 'string' && /^Voided\b/.test(note) && Number(record['TotalAmt'] ?? 0) === 0;
}

/** PaymentRefNum holds 21 characters; longer references keep their end (where ids differ). */
export function paymentRefNum(reference: string): string {
  return reference.length <= LIMITS.paymentRefNum ? reference : reference.slice(-LIMITS.paymentRefNum);
}

// ---- entities -----------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

export function refValue(ref: unknown): string | null {
  if (ref && typeof ref === 'object' && 'value' in ref) return String((ref as Json)['value']);
  return null;
}

export function currencyOf(entity: Json, homeCurrency: Currency): Currency {
  const c = refValue(entity['CurrencyRef']);
  return c === null ? homeCurrency : parseCurrency(c);
}

export function toBooksInvoice(invoice: Json, homeCurrency: Currency): BooksInvoice {
  const currency = currencyOf(invoice, homeCurrency);
  const customer = refValue(invoice['CustomerRef']);
  if (typeof invoice['Id'] !== 'string' || customer === null) throw new MoneyError('QBO invoice without Id or CustomerRef');
  return {
    remoteId: invoice['Id'],
    number: String(invoice['DocNumber'] ?? ''),
    customerRemoteId: customer,
    total: parseDecimal(invoice['TotalAmt'] as number | string, currency),
    balance: parseDecimal((invoice['Balance'] ?? invoice['TotalAmt']) as number | string, currency),
  };
}

export interface PaymentAccounts {
  /** Set only when the MSP's Undeposited Funds is to be named explicitly; absent ⇒ QBO's default (UF). */
  readonly undepositedFundsAccountId?: string | undefined;
  /** Clearing account (Other Current Asset) for clients' credit; a payment made from credit is drawn from it. */
  readonly clientCreditAccountId?: string | undefined;
  /** The mapped location: a Payment takes a DepartmentRef (and no ClassRef: Finance.xsd). */
  readonly tracking?: QboTracking | undefined;
}

/** A Payment applying `input.amount` to one invoice; left in Undeposited Funds for the payout's Deposit. */
export function paymentBody(input: PostPaymentInput, invoice: BooksInvoice, accounts: PaymentAccounts): Json {
  if (input.amount.currency !== invoice.total.currency) {
    throw new MoneyError(`payment in ${input.amount.currency} cannot apply to invoice ${invoice.number} in ${invoice.total.currency}`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.paidOn)) throw new MoneyError(`paidOn must be YYYY-MM-DD, got ${input.paidOn}`);
  const amount = toVendorNumber(input.amount);
  const applied = input.appliedAmount ?? input.amount;
  if (applied.currency !== input.amount.currency || applied.amountMinor < 0n || applied.amountMinor > input.amount.amountMinor) {
    throw new MoneyError(`the amount applied to invoice ${invoice.number} must be between 0 and the payment's ${input.amount.amountMinor} minor units`);
  }
  return {
    CustomerRef: { value: invoice.customerRemoteId },
    TotalAmt: amount,
    TxnDate: input.paidOn,
    PaymentRefNum: paymentRefNum(input.reference),
    PrivateNote: privateNote(input.memo, input.idempotencyKey),
    ...headerTracking(accounts.tracking),
    // A payment out of the client's credit moved no new money: it comes out of the clearing account the
    // overpayment was deposited to (the deposit's client-credit line), which then nets to zero.
    ...(input.fromClientCredit && accounts.clientCreditAccountId
      ? { DepositToAccountRef: { value: accounts.clientCreditAccountId } }
      : accounts.undepositedFundsAccountId
        ? { DepositToAccountRef: { value: accounts.undepositedFundsAccountId } }
        : {}),
    // All of it on the invoice, or what is left of it after a reversal on its way (input.appliedAmount);
    // QuickBooks keeps the rest as the payment's UnappliedAmt.
    Line: applied.amountMinor > 0n ? [{ Amount: toVendorNumber(applied), LinkedTxn: [{ TxnId: invoice.remoteId, TxnType: 'Invoice' }] }] : [],
  };
}

export interface DepositAccounts {
  readonly bankAccountId: string;
  readonly feeExpenseAccountId: string;
  readonly adjustmentAccountId: string;
  /** Income account for card surcharges; absent ⇒ surcharges stay in the adjustments line. */
  readonly surchargeIncomeAccountId?: string | undefined;
  /** Income account for installment-plan fees; absent ⇒ they stay in the adjustments line. */
  readonly planFeeIncomeAccountId?: string | undefined;
  /** Clearing account for clients' credit; absent ⇒ overpayments stay in the adjustments line. */
  readonly clientCreditAccountId?: string | undefined;
  /** Where a payment not yet in the books is carried until it is (input.awaiting); absent ⇒ the adjustments account. */
  readonly clearingAccountId?: string | undefined;
  /** Account for ACH discounts given (§1.5); absent ⇒ they stay in the adjustments line (input.achDiscounts). */
  readonly achDiscountAccountId?: string | undefined;
  /** Class on each DepositLineDetail line, location on the deposit (a linked payment line takes neither). */
  readonly tracking?: QboTracking | undefined;
}

/** The marker on a deposit's clearing line: the payment posting's key, found again when the payment is linked. */
export function clearingLineMarker(key: string): string {
  return `[settle-line:${key}]`;
}

/** The payout as one Deposit: payments linked, fees as a negative line, adjustments signed. */
export function depositBody(input: PostDepositInput, accounts: DepositAccounts): { body: Json; expectedTotal: Money } {
  const awaiting = input.awaiting ?? [];
  if (input.payments.length === 0 && awaiting.length === 0) throw new MoneyError('a deposit needs at least one payment');
  const currency = (input.payments[0] ?? awaiting[0])!.amount.currency;
  if (awaiting.some((a) => a.amount.amountMinor <= 0n)) throw new MoneyError('a clearing line is for a payment: more than zero');
  if (isNegative(input.fees)) throw new MoneyError('fees are given as a positive amount');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.depositedOn)) throw new MoneyError(`depositedOn must be YYYY-MM-DD, got ${input.depositedOn}`);
  const paid = sum([...input.payments.map((p) => p.amount), ...awaiting.map((a) => a.amount)], currency);
  // Surcharges and client credit get lines of their own only where the MSP named an account for them.
  const zero = money(0n, currency);
  const surcharges = accounts.surchargeIncomeAccountId && input.surcharges ? input.surcharges : zero;
  const planFees = accounts.planFeeIncomeAccountId && input.planFees ? input.planFees : zero;
  const credit = accounts.clientCreditAccountId && input.clientCredit ? input.clientCredit : zero;
  const unmapped = add(subtract(input.surcharges ?? zero, surcharges), subtract(input.planFees ?? zero, planFees));
  // ACH discounts are part of input.adjustments (negative there); with an account of their own they leave it.
  const discounts = accounts.achDiscountAccountId && input.achDiscounts ? input.achDiscounts : zero;
  if (isNegative(discounts)) throw new MoneyError('ACH discounts are given as a positive amount');
  const adjustments = add(add(input.adjustments, discounts), add(unmapped, subtract(input.clientCredit ?? zero, credit)));
  const expectedTotal = subtract(add(add(subtract(paid, input.fees), adjustments), add(add(surcharges, planFees), credit)), discounts);
  const lines: Json[] = input.payments.map((p) => ({
    Amount: toVendorNumber(p.amount),
    LinkedTxn: [{ TxnId: p.paymentRemoteId, TxnType: 'Payment' }],
  }));
  // A payment whose invoice is not in the books yet: the money is in the bank today, so it is on the
  // deposit today, credited to the clearing account; the line is replaced by the payment's link later.
  for (const a of awaiting) {
    const marker = clearingLineMarker(a.key);
    lines.push({
      Description: `${a.description.slice(0, LIMITS.lineDescription - marker.length - 1)} ${marker}`,
      Amount: toVendorNumber(a.amount),
      DetailType: 'DepositLineDetail',
      DepositLineDetail: { AccountRef: { value: accounts.clearingAccountId ?? accounts.adjustmentAccountId } },
    });
  }
  if (!isZero(input.fees)) {
    lines.push({
      Description: `Processing fees, payout ${input.payoutId}`,
      Amount: toVendorNumber(negate(input.fees)),
      DetailType: 'DepositLineDetail',
      DepositLineDetail: { AccountRef: { value: accounts.feeExpenseAccountId } },
    });
  }
  if (!isZero(surcharges)) {
    lines.push({
      Description: `Card surcharges, payout ${input.payoutId}`,
      Amount: toVendorNumber(surcharges),
      DetailType: 'DepositLineDetail',
      DepositLineDetail: { AccountRef: { value: accounts.surchargeIncomeAccountId } },
    });
  }
  if (!isZero(planFees)) {
    lines.push({
      Description: `Installment plan fees, payout ${input.payoutId}`,
      Amount: toVendorNumber(planFees),
      DetailType: 'DepositLineDetail',
      DepositLineDetail: { AccountRef: { value: accounts.planFeeIncomeAccountId } },
    });
  }
  if (!isZero(credit)) {
    lines.push({
      Description: `Client credit (overpayments), payout ${input.payoutId}`,
      Amount: toVendorNumber(credit),
      DetailType: 'DepositLineDetail',
      DepositLineDetail: { AccountRef: { value: accounts.clientCreditAccountId } },
    });
  }
  if (!isZero(discounts)) {
    lines.push({
      Description: `ACH discounts, payout ${input.payoutId}`,
      Amount: toVendorNumber(negate(discounts)),
      DetailType: 'DepositLineDetail',
      DepositLineDetail: { AccountRef: { value: accounts.achDiscountAccountId } },
    });
  }
  if (!isZero(adjustments)) {
    lines.push({
      Description: `Adjustments, payout ${input.payoutId}`,
      Amount: toVendorNumber(adjustments),
      DetailType: 'DepositLineDetail',
      DepositLineDetail: { AccountRef: { value: accounts.adjustmentAccountId } },
    });
  }
  const classed = depositLineTracking(accounts.tracking);
  for (const l of lines) if (l['DepositLineDetail']) l['DepositLineDetail'] = { ...(l['DepositLineDetail'] as Json), ...classed };
  return {
    body: {
      DepositToAccountRef: { value: accounts.bankAccountId },
      TxnDate: input.depositedOn,
      PrivateNote: privateNote(input.memo, input.idempotencyKey),
      ...headerTracking(accounts.tracking),
      Line: lines,
    },
    expectedTotal,
  };
}
