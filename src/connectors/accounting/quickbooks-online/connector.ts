// QuickBooks Online as Settle's books (AccountingConnector): find the PSA's invoice by number, post
// payments against it (batched), and post each payout as one Deposit that equals the bank line
// (payments − fees ± adjustments; payments-rules.md §5.3 via types.ts).
//
// Idempotency has two layers: `requestid` on every write (QBO replays the original answer to a
// repeat), and check-before-write — every record carries `[settle:<idempotencyKey>]` in PrivateNote
// and is looked up before posting, so even a retry days later (past any replay window, or with a
// different batch composition) finds the earlier record instead of writing a second one.
import { VendorError } from '../../http.ts';
import { MoneyError, parseCurrency, parseDecimal, type Currency } from '../../../domain/money.ts';
import type {
  BankWithdrawalInput,
  AccountingConnector,
  BooksRecordRef,
  GoneRecord,
  BooksInvoice,
  DepositResult,
  LinkDepositPaymentsInput,
  PostDepositInput,
  PostPaymentInput,
  PostResult,
  ReversePaymentInput,
} from '../types.ts';
import { reverseQboPayment } from './reversal.ts';
import { findGoneRecords } from './gone-records.ts';
import { readQboLedgerChanges } from './ledger-copy.ts';
import type { LedgerChanges } from '../ledger-copy.ts';
import { postQboBankWithdrawal } from './bank-withdrawal.ts';
import { clearingKeysOn, linkQboDepositPayments } from './deposit-clearing.ts';
import { QboApi, type QboApiOptions } from './api.ts';
import { QBO_CATALOGUE } from './catalogue.ts';
import {
  batchRequestIdFor,
  carriesMarker,
  depositBody,
  faultKind,
  isRetryableKind,
  paymentBody,
  paymentRefNum,
  queryLiteral,
  readFault,
  requestIdFor,
  paymentRequestKey,
  requestKey,
  toBooksInvoice,
} from './mapping.ts';
import type { TokenStore } from './tokens.ts';
import { readTrackingLists, trackingProblemIfKnown, withProblem, type QboTracking, type TrackingLists } from './tracking.ts';

/** Values per `IN (…)` look-up: keeps each query well inside QuickBooks' query-length limit. */
const LOOKUP_REFS_PER_QUERY = 40;
const LOOKUP_NUMBERS_PER_QUERY = 100;

export interface QboConfig {
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly realmId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Name Undeposited Funds explicitly on payments; absent ⇒ QBO's default, which is Undeposited Funds. */
  readonly undepositedFundsAccountId?: string;
  /** The bank account payouts land in. */
  readonly bankAccountId: string;
  /** Expense account for processing fees (the negative deposit line). */
  readonly feeExpenseAccountId: string;
  /** Account for other payout movements (refunds, adjustments); defaults to the fee account. */
  readonly adjustmentAccountId?: string;
  /** Income account for card surcharges (kept apart from fees, payments-rules.md §5.3); absent ⇒ the adjustments line. */
  readonly surchargeIncomeAccountId?: string;
  /** Income account for installment-plan fees (not surcharges); absent ⇒ the adjustments line. */
  readonly planFeeIncomeAccountId?: string;
  /**
   * Other Current Asset clearing account for clients' credit: overpayments land in it with the payout's
   * deposit, and a payment made from credit is drawn from it. Absent ⇒ the adjustments line / Undeposited Funds.
   */
  readonly clientCreditAccountId?: string;
  /**
   * Clearing account (Other Current Asset, e.g. "Payments awaiting invoice") for a payout's payments whose
   * invoice is not in the books yet; absent ⇒ the adjustments account (the account reversals clear through).
   */
  readonly clearingAccountId?: string;
  /** Accounts Receivable, debited by a reversal's journal entry; looked up by AccountType when absent. */
  readonly accountsReceivableAccountId?: string;
  /** QuickBooks Class Id put on deposit and journal lines (tracking.ts); absent ⇒ none. */
  readonly classId?: string;
  /** QuickBooks Department (Location) Id put on payments, deposits and journal entries; absent ⇒ none. */
  readonly departmentId?: string;
  readonly minorVersion: number;
  /** The company's home currency, used for records without CurrencyRef. Default USD. */
  readonly homeCurrency?: Currency;
}

export interface QboConnectorOptions extends QboApiOptions {
  /** Payments per batch call; at most 30 (catalogue). */
  readonly batchSize?: number;
  /** Look for an earlier posting by our marker before writing. Default true. */
  readonly checkBeforeWrite?: boolean;
}

type Json = Record<string, unknown>;

function failure(e: unknown): Extract<PostResult, { ok: false }> {
  if (e instanceof VendorError) return { ok: false, retryable: isRetryableKind(e.kind), error: e.message };
  if (e instanceof MoneyError) return { ok: false, retryable: false, error: e.message };
  return { ok: false, retryable: false, error: e instanceof Error ? e.message : String(e) };
}

export class QuickBooksOnlineConnector implements AccountingConnector {
  readonly vendor = 'quickbooks-online' as const;
  readonly api: QboApi;
  private readonly home: Currency;
  private readonly batchSize: number;
  private readonly checkBeforeWrite: boolean;

  constructor(
    readonly config: QboConfig,
    store: TokenStore,
    options: QboConnectorOptions = {},
  ) {
    this.api = new QboApi(config, store, options);
    this.home = config.homeCurrency ? parseCurrency(config.homeCurrency) : 'USD';
    this.batchSize = Math.min(options.batchSize ?? QBO_CATALOGUE.limits.batchItemsMax, QBO_CATALOGUE.limits.batchItemsMax);
    this.checkBeforeWrite = options.checkBeforeWrite ?? true;
  }

  private get tracking(): QboTracking | undefined {
    const { classId, departmentId } = this.config;
    return classId || departmentId ? { classId, departmentId } : undefined;
  }

  /** Whether class / location tracking is on, and the active classes and locations (the settings pickers). */
  async trackingLists(): Promise<TrackingLists> {
    return readTrackingLists(this.api);
  }

  /**
   * A refusal of a posting that carried the mapped class or location, explained when that mapping is the
   * cause (inactive, deleted, tracking turned off): QuickBooks' own 610 does not say which reference it
   * means, and a person must know to change Settings → Accounts rather than retry as is.
   */
  private async explained<R extends PostResult>(r: R): Promise<R> {
    if (r.ok || r.retryable || !this.tracking) return r;
    return withProblem(r, await trackingProblemIfKnown(this.api, this.tracking));
  }

  async findInvoiceByNumber(invoiceNumber: string): Promise<BooksInvoice | null> {
    const page = await this.api.query(`SELECT * FROM Invoice WHERE DocNumber = ${queryLiteral(invoiceNumber)}`);
    if (page.rows.length > 1) {
      throw new VendorError(QBO_CATALOGUE.vendor, 'conflict', `${page.rows.length} invoices are numbered ${invoiceNumber} in QuickBooks`);
    }
    return page.rows[0] ? toBooksInvoice(page.rows[0], this.home) : null;
  }

  async postPayments(inputs: readonly PostPaymentInput[]): Promise<readonly PostResult[]> {
    const results: (PostResult | undefined)[] = new Array(inputs.length);
    // The same key twice in one call is one payment: post the first, copy its result.
    const firstByKey = new Map<string, number>();
    const unique: number[] = [];
    inputs.forEach((p, i) => {
      if (!firstByKey.has(p.idempotencyKey)) {
        firstByKey.set(p.idempotencyKey, i);
        unique.push(i);
      }
    });
    // Look-ups for the whole call first, packed into as few requests as possible (a backlog of 1,000
    // payments costs ~2 look-up calls, then one batch call per 30 payments): the published limits are per
    // request, and QuickBooks' quota is the scarce resource, not our CPU.
    let invoices: Json[];
    try {
      if (this.checkBeforeWrite) {
        // PaymentRefNum as a query filter: verify against a sandbox; the marker check is what decides.
        const refs = [...new Set(unique.map((i) => paymentRefNum(inputs[i]!.reference)))];
        const existing = await this.lookup('Payment', 'PaymentRefNum', refs, LOOKUP_REFS_PER_QUERY);
        for (const i of unique) {
          const found = existing.find((p) => carriesMarker(p, inputs[i]!.idempotencyKey));
          if (found) results[i] = { ok: true, remoteId: String(found['Id']) };
        }
      }
      const numbers = [...new Set(unique.filter((i) => results[i] === undefined).map((i) => inputs[i]!.invoiceNumber))];
      invoices = numbers.length ? await this.lookup('Invoice', 'DocNumber', numbers, LOOKUP_NUMBERS_PER_QUERY) : [];
    } catch (e) {
      const f = await this.explained(failure(e));
      for (const i of unique) results[i] ??= f;
      return inputs.map((p, i) => results[i] ?? results[firstByKey.get(p.idempotencyKey)!]!);
    }
    const todo = unique.filter((i) => results[i] === undefined);
    for (let s = 0; s < todo.length; s += this.batchSize) {
      const chunk = todo.slice(s, s + this.batchSize);
      try {
        await this.postPaymentChunk(inputs, chunk, results, invoices);
      } catch (e) {
        const f = failure(e);
        for (const i of chunk) results[i] ??= f;
      }
    }
    // One check of the mapping for the whole call, only when something was refused.
    const refused = (r: PostResult | undefined): boolean => r !== undefined && !r.ok && !r.retryable;
    if (this.tracking && unique.some((i) => refused(results[i]))) {
      const problem = await trackingProblemIfKnown(this.api, this.tracking);
      for (const i of unique) if (refused(results[i])) results[i] = withProblem(results[i]!, problem);
    }
    return inputs.map((p, i) => results[i] ?? results[firstByKey.get(p.idempotencyKey)!]!);
  }

  /**
   * `SELECT * FROM entity WHERE field IN (…)` for many values: one plain query when it fits, otherwise
   * up to 30 queries per batch request (a batch item may be a Query).
   */
  private async lookup(entity: string, field: string, values: readonly string[], perQuery: number): Promise<Json[]> {
    const wheres: string[] = [];
    for (let s = 0; s < values.length; s += perQuery)
      wheres.push(
        `${field} IN (${values
          .slice(s, s + perQuery)
          .map(queryLiteral)
          .join(', ')})`,
      );
    if (wheres.length === 1) return this.api.queryAll(entity, wheres[0]!);
    const max = QBO_CATALOGUE.limits.queryMaxResults;
    const out: Json[] = [];
    for (let s = 0; s < wheres.length; s += this.batchSize) {
      const items = wheres.slice(s, s + this.batchSize).map((w, n) => ({ bId: `q${n}`, query: `SELECT * FROM ${entity} WHERE ${w} MAXRESULTS ${max}` }));
      // A read must never be answered from QuickBooks' requestid replay store: the id is unique per call.
      const answers = await this.api.batch(items, batchRequestIdFor([...items.map((i) => i.query), `read:${Date.now()}:${Math.random()}`]));
      for (const item of items) {
        const a = answers.get(item.bId);
        const fault = readFault(a);
        if (fault || !a) throw new VendorError(QBO_CATALOGUE.vendor, 'server', `look-up in a batch failed: ${fault?.message ?? 'no answer'}`);
        const rows = ((a['QueryResponse'] as Json | undefined)?.[entity] as Json[] | undefined) ?? [];
        out.push(...rows);
      }
    }
    return out;
  }

  private async postPaymentChunk(
    inputs: readonly PostPaymentInput[],
    chunk: readonly number[],
    results: (PostResult | undefined)[],
    invoices: readonly Json[],
  ): Promise<void> {
    const bodies = new Map<number, Json>();
    for (const i of chunk) {
      const input = inputs[i]!;
      const matches = invoices.filter((inv) => inv['DocNumber'] === input.invoiceNumber);
      if (matches.length === 0) {
        // Not mirrored into the books yet (the PSA's accounting export runs on its own schedule).
        results[i] = {
          ok: false,
          retryable: true,
          error: `invoice ${input.invoiceNumber} is not in QuickBooks (yet)`,
          waitingForInvoice: input.invoiceNumber,
        };
        continue;
      }
      if (matches.length > 1) {
        results[i] = { ok: false, retryable: false, error: `${matches.length} invoices are numbered ${input.invoiceNumber} in QuickBooks` };
        continue;
      }
      try {
        bodies.set(
          i,
          paymentBody(input, toBooksInvoice(matches[0]!, this.home), {
            undepositedFundsAccountId: this.config.undepositedFundsAccountId,
            clientCreditAccountId: this.config.clientCreditAccountId,
            tracking: this.tracking,
          }),
        );
      } catch (e) {
        results[i] = failure(e);
      }
    }
    // 3. Write: one → POST /payment; several → POST /batch (≤ 30 items, bIds ≤ 10 chars with a requestid).
    const ready = [...bodies.keys()];
    if (ready.length === 1) {
      const i = ready[0]!;
      try {
        const payment = await this.api.create('Payment', bodies.get(i)!, requestIdFor(paymentRequestKey(inputs[i]!)));
        results[i] = { ok: true, remoteId: String(payment['Id']) };
      } catch (e) {
        results[i] = failure(e);
      }
      return;
    }
    if (ready.length === 0) return;
    const items = ready.map((i, n) => ({ bId: `p${n}`, operation: 'create' as const, entity: 'Payment', body: bodies.get(i)! }));
    const answers = await this.api.batch(items, batchRequestIdFor(ready.map((i) => paymentRequestKey(inputs[i]!))));
    ready.forEach((i, n) => {
      const a = answers.get(`p${n}`);
      const payment = a?.['Payment'] as Json | undefined;
      if (payment) {
        results[i] = { ok: true, remoteId: String(payment['Id']) };
        return;
      }
      const fault = readFault(a);
      if (!fault) {
        results[i] = { ok: false, retryable: true, error: 'QuickBooks returned no answer for this batch item; outcome unknown' };
        return;
      }
      const kind = faultKind(fault, null);
      results[i] = { ok: false, retryable: isRetryableKind(kind), error: `QuickBooks ${fault.code ?? ''} ${fault.message ?? ''}`.trim() };
    });
  }

  async invoicesInBooks(invoiceNumbers: readonly string[]): Promise<ReadonlySet<string>> {
    const numbers = [...new Set(invoiceNumbers)];
    if (numbers.length === 0) return new Set();
    const rows = await this.lookup('Invoice', 'DocNumber', numbers, LOOKUP_NUMBERS_PER_QUERY);
    return new Set(rows.map((r) => String(r['DocNumber'])));
  }

  async linkDepositPayments(input: LinkDepositPaymentsInput): Promise<PostResult> {
    try {
      // The deposit's lines go back as read, the mapped class with them: an inactive class refuses this too.
      return await this.explained(await linkQboDepositPayments(this.api, input, input.links[0]?.amount.currency ?? this.home));
    } catch (e) {
      return this.explained(failure(e));
    }
  }

  async postDeposit(input: PostDepositInput): Promise<DepositResult> {
    let built: ReturnType<typeof depositBody>;
    try {
      built = depositBody(input, {
        bankAccountId: this.config.bankAccountId,
        feeExpenseAccountId: this.config.feeExpenseAccountId,
        adjustmentAccountId: this.config.adjustmentAccountId ?? this.config.feeExpenseAccountId,
        surchargeIncomeAccountId: this.config.surchargeIncomeAccountId,
        planFeeIncomeAccountId: this.config.planFeeIncomeAccountId,
        clientCreditAccountId: this.config.clientCreditAccountId,
        clearingAccountId: this.config.clearingAccountId ?? this.config.adjustmentAccountId ?? this.config.feeExpenseAccountId,
        tracking: this.tracking,
      });
    } catch (e) {
      return failure(e);
    }
    try {
      if (this.checkBeforeWrite) {
        const sameDay = await this.api.queryAll('Deposit', `TxnDate = ${queryLiteral(input.depositedOn)}`);
        const earlier = sameDay.find((d) => carriesMarker(d, input.idempotencyKey));
        if (earlier) return this.checkedDeposit(earlier, built.expectedTotal);
      }
      const deposit = await this.api.create('Deposit', built.body, requestIdFor(requestKey(input.idempotencyKey, input.requestGeneration)));
      return this.checkedDeposit(deposit, built.expectedTotal);
    } catch (e) {
      return this.explained(failure(e));
    }
  }

  /**
   * A journal entry re-opening the customer's A/R against the payout-adjustment account, and the original
   * payment re-applied from the invoice to it (reversal.ts explains why not a void or a RefundReceipt).
   */
  async reversePayment(input: ReversePaymentInput): Promise<PostResult> {
    try {
      return await reverseQboPayment(
        this.api,
        {
          clearingAccountId: this.config.adjustmentAccountId ?? this.config.feeExpenseAccountId,
          accountsReceivableAccountId: this.config.accountsReceivableAccountId,
          tracking: this.tracking,
        },
        input,
        this.checkBeforeWrite,
      );
    } catch (e) {
      return this.explained(failure(e));
    }
  }

  /** A bank ACH return's debit: Dr the payout-adjustment account / Cr the bank (bank-withdrawal.ts). */
  async postBankWithdrawal(input: BankWithdrawalInput): Promise<PostResult> {
    try {
      const accounts = {
        bankAccountId: this.config.bankAccountId,
        clearingAccountId: this.config.adjustmentAccountId ?? this.config.feeExpenseAccountId,
        tracking: this.tracking,
      };
      return await postQboBankWithdrawal(this.api, accounts, input, this.checkBeforeWrite);
    } catch (e) {
      return this.explained(failure(e));
    }
  }

  /** Payments and deposits voided or deleted in QuickBooks since Settle posted them (gone-records.ts). */
  async goneRecords(refs: readonly BooksRecordRef[]): Promise<ReadonlyMap<string, GoneRecord>> {
    return findGoneRecords((entity, field, values) => this.lookup(entity, field, values, LOOKUP_NUMBERS_PER_QUERY), refs);
  }

  /** Changes for Settle's copy of the ledger: CDC since the cursor, or a full read (ledger-copy.ts). */
  async readLedgerChanges(cursor: string | null): Promise<LedgerChanges> {
    return readQboLedgerChanges(this.api, this.home, cursor);
  }

  /** QBO computes TotalAmt; a deposit that does not equal the payout would not match the bank line. */
  private checkedDeposit(deposit: Json, expected: ReturnType<typeof depositBody>['expectedTotal']): DepositResult {
    const total = parseDecimal(deposit['TotalAmt'] as number, expected.currency);
    if (total.amountMinor !== expected.amountMinor) {
      return {
        ok: false,
        retryable: false,
        error: `QuickBooks Deposit ${String(deposit['Id'])} totals ${String(deposit['TotalAmt'])}, but the payout is ${expected.amountMinor} minor units`,
      };
    }
    // As found: an earlier run's deposit may carry a payment on clearing that this run would have linked.
    return { ok: true, remoteId: String(deposit['Id']), onClearing: clearingKeysOn(deposit) };
  }
}
