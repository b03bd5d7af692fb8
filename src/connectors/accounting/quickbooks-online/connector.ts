// QuickBooks Online as Settle's books (AccountingConnector): find the PSA's invoice by number, post
// payments against it (batched), and post each payout as one Deposit that equals the bank line
// (payments − fees ± adjustments; payments-rules.md §5.3 via types.ts).
//
// Idempotency has two layers: `requestid` on every write (QBO replays the original answer to a
// repeat), and check-before-write — every record carries `[settle:<idempotencyKey>]` in PrivateNote
// and is looked up before posting, so even a retry days later (past any replay window, or with a
// different batch composition) finds the earlier record instead of writing a second one.
import { VendorError } from '../../http.ts';
import { parseCurrency, parseDecimal, type Currency } from '../../../domain/money.ts';
import type {
  BankWithdrawalInput,
  AccountingConnector,
  BooksRecordRef,
  GoneRecord,
  BooksInvoice,
  DepositResult,
  LinkDepositPaymentsInput,
  PostDepositInput,
  RestoreDepositInput,
  PostPaymentInput,
  PostPaymentsOptions,
  PostResult,
  ReversePaymentInput,
  LedgerChart,
  PostingTracking,
  ApplyCreditMemoInput,
} from '../types.ts';
import { readQboChart } from './chart.ts';
import { applyQboCreditMemo } from './credit-memo.ts';
import { reverseQboPayment } from './reversal.ts';
import { findGoneRecords } from './gone-records.ts';
import { readQboLedgerChanges } from './ledger-copy.ts';
import type { LedgerChanges } from '../ledger-copy.ts';
import { postQboBankWithdrawal } from './bank-withdrawal.ts';
import { clearingKeysOn, linkQboDepositPayments } from './deposit-clearing.ts';
import { restoreQboDeposit } from './deposit-restore.ts';
import { QboApi, type QboApiOptions } from './api.ts';
import { QBO_CATALOGUE } from './catalogue.ts';
import { failure, lookupIn, writePayments } from './payment-writes.ts';
import { byPosition } from '../answered-positions.ts';
import { carriesMarker, depositBody, paymentBody, paymentRefNum, queryLiteral, requestIdFor, requestKey, toBooksInvoice } from './mapping.ts';
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
  /** Account for ACH discounts given (§1.5), a negative line of the deposit; absent ⇒ in the adjustments line. */
  readonly achDiscountAccountId?: string;
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

export class QuickBooksOnlineConnector implements AccountingConnector {
  readonly vendor = 'quickbooks-online' as const;
  /** postPayments reports each write through options.onAnswered (types.ts). */
  readonly answersEachWrite = true;
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

  /** The posting's own class / location (GL mapping rules by PSA field) over the workspace-wide choice. */
  private trackingFor(own: PostingTracking | undefined): QboTracking | undefined {
    if (!own) return this.tracking;
    const classId = own['class'] ?? this.config.classId;
    const departmentId = own['location'] ?? this.config.departmentId;
    return classId || departmentId ? { classId, departmentId } : undefined;
  }

  /** The live chart of accounts and class / location lists, ledger-neutral (chart.ts). */
  async readChart(): Promise<LedgerChart> {
    return readQboChart(this.api);
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

  async postPayments(inputs: readonly PostPaymentInput[], options: PostPaymentsOptions = {}): Promise<readonly PostResult[]> {
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
    // The two look-ups side by side, not one after the other: a payment posted alone waits for one round trip
    // to QuickBooks instead of two (issue #11). The invoices of payments found already posted are read too —
    // the same calls, a few more values.
    let invoices: Json[];
    try {
      // PaymentRefNum as a query filter: verify against a sandbox; the marker check is what decides.
      // A first send (types.ts: firstSend) has no earlier write to find: a payment alone then costs 2 calls, not 3.
      const refs = [...new Set(unique.filter((i) => !inputs[i]!.firstSend).map((i) => paymentRefNum(inputs[i]!.reference)))];
      const numbers = [...new Set(unique.map((i) => inputs[i]!.invoiceNumber))];
      const [existing, books] = await Promise.allSettled([
        this.checkBeforeWrite && refs.length ? this.lookup('Payment', 'PaymentRefNum', refs, LOOKUP_REFS_PER_QUERY) : Promise.resolve([]),
        numbers.length ? this.lookup('Invoice', 'DocNumber', numbers, LOOKUP_NUMBERS_PER_QUERY) : Promise.resolve([]),
      ]);
      if (existing.status === 'rejected') throw existing.reason;
      if (books.status === 'rejected') throw books.reason;
      for (const i of unique) {
        const found = existing.value.find((p) => carriesMarker(p, inputs[i]!.idempotencyKey));
        if (found) results[i] = { ok: true, remoteId: String(found['Id']) };
      }
      invoices = books.value;
    } catch (e) {
      const f = await this.explained(failure(e));
      for (const i of unique) results[i] ??= f;
      return inputs.map((p, i) => results[i] ?? results[firstByKey.get(p.idempotencyKey)!]!);
    }
    const todo = unique.filter((i) => results[i] === undefined);
    // One check of the mapping for the whole call, only when something was refused (before it is reported).
    const refused = (r: PostResult | undefined): boolean => r !== undefined && !r.ok && !r.retryable;
    let problem: string | null | undefined;
    const explainRefusals = async (at: readonly number[]): Promise<void> => {
      if (!this.tracking || !at.some((i) => refused(results[i]))) return;
      if (problem === undefined) problem = await trackingProblemIfKnown(this.api, this.tracking);
      for (const i of at) if (refused(results[i])) results[i] = withProblem(results[i]!, problem);
    };
    // Each write's answers (and, with the first, those found already posted) go to the caller at once.
    let answered = unique.filter((i) => results[i] !== undefined);
    for (let s = 0; s < todo.length; s += this.batchSize) {
      const chunk = todo.slice(s, s + this.batchSize);
      try {
        await this.postPaymentChunk(inputs, chunk, results, invoices);
      } catch (e) {
        const f = failure(e);
        for (const i of chunk) results[i] ??= f;
      }
      answered.push(...chunk);
      await explainRefusals(chunk);
      if (options.onAnswered) await options.onAnswered(byPosition(inputs, answered, results, firstByKey));
      answered = [];
    }
    return inputs.map((p, i) => results[i] ?? results[firstByKey.get(p.idempotencyKey)!]!);
  }

  /** `SELECT * FROM entity WHERE field IN (…)` for many values, in as few requests as fit (payment-writes.ts). */
  private async lookup(entity: string, field: string, values: readonly string[], perQuery: number): Promise<Json[]> {
    return lookupIn(this.api, this.batchSize, entity, field, values, perQuery);
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
            tracking: this.trackingFor(input.tracking),
          }),
        );
      } catch (e) {
        results[i] = failure(e);
      }
    }
    // 3. Write: a few as separate POST /payment calls, more as one POST /batch (payment-writes.ts).
    await writePayments(this.api, inputs, bodies, results);
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

  private depositBody(input: PostDepositInput): ReturnType<typeof depositBody> {
    return depositBody(input, {
      bankAccountId: this.config.bankAccountId,
      feeExpenseAccountId: this.config.feeExpenseAccountId,
      adjustmentAccountId: this.config.adjustmentAccountId ?? this.config.feeExpenseAccountId,
      surchargeIncomeAccountId: this.config.surchargeIncomeAccountId,
      planFeeIncomeAccountId: this.config.planFeeIncomeAccountId,
      clientCreditAccountId: this.config.clientCreditAccountId,
      clearingAccountId: this.config.clearingAccountId ?? this.config.adjustmentAccountId ?? this.config.feeExpenseAccountId,
      achDiscountAccountId: this.config.achDiscountAccountId,
      tracking: this.tracking,
    });
  }

  /** A Deposit edited by hand put back as Settle posts it (deposit-restore.ts). */
  async restoreDeposit(input: RestoreDepositInput): Promise<DepositResult> {
    try {
      return await this.explained(await restoreQboDeposit(this.api, input, this.depositBody(input)));
    } catch (e) {
      return this.explained(failure(e));
    }
  }

  async postDeposit(input: PostDepositInput): Promise<DepositResult> {
    let built: ReturnType<typeof depositBody>;
    try {
      built = this.depositBody(input);
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
          tracking: this.trackingFor(input.tracking),
        },
        input,
        this.checkBeforeWrite,
      );
    } catch (e) {
      return this.explained(failure(e));
    }
  }

  /** A credit memo the PSA exported, applied to the same invoice (credit-memo.ts); never creates one. */
  async applyCreditMemo(input: ApplyCreditMemoInput): Promise<PostResult> {
    try {
      return await this.explained(await applyQboCreditMemo(this.api, input, this.checkBeforeWrite, this.trackingFor(input.tracking)));
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
