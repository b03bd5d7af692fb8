// Xero as Settle's books (AccountingConnector). Payments go against the PSA's invoice (found by number)
// INTO A CLEARING ACCOUNT of type BANK — Xero accepts payments only into bank accounts (or accounts with
// payments enabled) and has no Undeposited Funds. Each payout then leaves clearing as one BankTransfer to
// the real bank account equal to the bank line, its fees as a SPEND bank transaction from clearing
// (deposit.ts; docs/architecture.md "Xero" says why not BatchPayments). Reversals: reversal.ts; the PSA's
// credit notes allocated to their invoice: credit-note.ts.
//
// Every write has two guards: `Idempotency-Key` (Xero replays the first answer to a repeat) and
// check-before-write — each record carries `[settle:<hash of our key>]` in its Reference and is looked up
// first, so a retry days later, or a batch of another composition, finds the earlier record.
import { parseCurrency, type Currency } from '../../../domain/money.ts';
import type {
  AccountingConnector,
  ApplyCreditMemoInput,
  LedgerChart,
  BankWithdrawalInput,
  BooksInvoice,
  DepositResult,
  LinkDepositPaymentsInput,
  PostDepositInput,
  PostPaymentInput,
  PostPaymentsOptions,
  PostResult,
  ReversePaymentInput,
} from '../types.ts';
import { XeroApi, type Json, type XeroApiOptions } from './api.ts';
import { readXeroChart } from './chart.ts';
import { readXeroLedgerChanges } from './ledger-copy.ts';
import type { LedgerChanges } from '../ledger-copy.ts';
import { postXeroBankWithdrawal, postXeroDeposit } from './deposit.ts';
import { amountOf, carries, chunks, failure, idempotencyKeyFor, marker, moneyOf, referenceWhere } from './mapping.ts';
import { paymentAnswer, settleNotAuthorised } from './payment-answers.ts';
import { reverseXeroPayment } from './reversal.ts';
import { applyXeroCreditNote, xeroCreditNotesInBooks } from './credit-note.ts';
import { byPosition } from '../answered-positions.ts';
import type { TokenStore } from './tokens.ts';
import { WebhookRejected } from '../../webhook-rejected.ts';
import { readXeroTracking, type XeroTrackingCategory } from './tracking.ts';
import { verifyXeroSignature, xeroEvents, type XeroWebhookEvent } from './webhook.ts';

/** Payments per PUT /Payments (Xero advises batches of at most 50 for creates). */
const PAYMENTS_PER_CALL = 50;
/** Markers per `where` look-up and invoice numbers per InvoiceNumbers look-up (URL length). */
const MARKS_PER_QUERY = 25;
const NUMBERS_PER_QUERY = 40;

export interface XeroConfig {
  readonly apiUrl: string;
  readonly tokenUrl: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Code of the BANK account payouts land in (the real bank feed). */
  readonly bankAccountCode: string;
  /** Code of the BANK-type clearing account payments are paid into. */
  readonly clearingAccountCode: string;
  /** Expense account for processing fees (the SPEND line). */
  readonly feeAccountCode: string;
  /** Contact on the fee SPEND and income RECEIVE transactions (Xero requires one), e.g. "Stripe". */
  readonly processorContactName: string;
  readonly surchargeAccountCode?: string;
  readonly planFeeAccountCode?: string;
  /** An account with payments enabled holding clients' credit (overpayments; payments made from credit). */
  readonly clientCreditAccountCode?: string;
  readonly currency?: Currency;
  /** The app's webhook key (x-xero-signature); absent ⇒ every delivery is refused. */
  readonly webhookKey?: string;
  /** Tracking options on the payout's fee and income lines, "<TrackingCategoryID>:<TrackingOptionID>" (tracking.ts). */
  readonly tracking1?: string;
  readonly tracking2?: string;
}

export class XeroConnector implements AccountingConnector {
  readonly vendor = 'xero' as const;
  readonly api: XeroApi;
  readonly currency: Currency;

  constructor(
    readonly config: XeroConfig,
    store: TokenStore,
    options: XeroApiOptions = {},
  ) {
    this.api = new XeroApi(config, store, options);
    this.currency = config.currency ? parseCurrency(config.currency) : 'USD';
  }

  private toInvoice(r: Json): BooksInvoice {
    return {
      remoteId: String(r['InvoiceID']),
      number: String(r['InvoiceNumber']),
      customerRemoteId: String((r['Contact'] as Json | undefined)?.['ContactID'] ?? ''),
      total: moneyOf(r['Total'], this.currency),
      balance: moneyOf(r['AmountDue'], this.currency),
    };
  }

  /** Sales invoices with these numbers (deleted and voided ones left out). */
  private async invoicesNumbered(numbers: readonly string[]): Promise<Json[]> {
    const out: Json[] = [];
    for (const part of chunks([...new Set(numbers)], NUMBERS_PER_QUERY)) {
      const res = await this.api.call({
        method: 'GET',
        path: '/Invoices',
        params: { InvoiceNumbers: part.join(','), Statuses: 'DRAFT,SUBMITTED,AUTHORISED,PAID' },
      });
      out.push(...((res['Invoices'] as Json[] | undefined) ?? []).filter((i) => i['Type'] === 'ACCREC'));
    }
    return out;
  }

  async findInvoiceByNumber(invoiceNumber: string): Promise<BooksInvoice | null> {
    const rows = (await this.invoicesNumbered([invoiceNumber])).filter((r) => r['InvoiceNumber'] === invoiceNumber);
    if (rows.length > 1) throw new Error(`${rows.length} invoices are numbered ${invoiceNumber} in Xero`);
    return rows[0] ? this.toInvoice(rows[0]) : null;
  }

  async invoicesInBooks(invoiceNumbers: readonly string[]): Promise<ReadonlySet<string>> {
    if (invoiceNumbers.length === 0) return new Set();
    const rows = await this.invoicesNumbered(invoiceNumbers);
    return new Set(rows.filter((r) => r['Status'] === 'AUTHORISED' || r['Status'] === 'PAID').map((r) => String(r['InvoiceNumber'])));
  }

  /** Payments whose Reference carries any of these markers (any status: a deleted one was posted, then reversed). */
  async paymentsMarked(marks: readonly string[]): Promise<Json[]> {
    const out: Json[] = [];
    for (const part of chunks(marks, MARKS_PER_QUERY)) {
      const res = await this.api.call({ method: 'GET', path: '/Payments', params: { where: referenceWhere(part) } });
      out.push(...((res['Payments'] as Json[] | undefined) ?? []));
    }
    return out;
  }

  /** postPayments reports each write through options.onAnswered (types.ts): the flush hands it a whole backlog. */
  readonly answersEachWrite = true;

  async postPayments(inputs: readonly PostPaymentInput[], options: PostPaymentsOptions = {}): Promise<readonly PostResult[]> {
    const results: (PostResult | undefined)[] = new Array(inputs.length);
    const firstByKey = new Map<string, number>();
    inputs.forEach((p, i) => firstByKey.has(p.idempotencyKey) || firstByKey.set(p.idempotencyKey, i));
    const unique = [...firstByKey.values()];
    try {
      // A first send (types.ts: firstSend) has no earlier write to find. No send looks its invoice up either:
      // the payment names it by InvoiceNumber (Xero accepts either InvoiceID or InvoiceNumber there) and, with
      // summarizeErrors=false, a missing or unapproved invoice is refused for that item alone (payment-answers.ts).
      // A backlog's first flush costs one PUT per 50 payments — the batch minimum.
      const sentBefore = unique.filter((i) => !inputs[i]!.firstSend);
      const found = sentBefore.length ? await this.paymentsMarked(sentBefore.map((i) => marker(inputs[i]!.idempotencyKey))) : [];
      for (const i of sentBefore) {
        const p = found.find((r) => carries(r, marker(inputs[i]!.idempotencyKey)));
        if (p) results[i] = { ok: true, remoteId: String(p['PaymentID']) };
      }
    } catch (e) {
      const f = failure(e);
      for (const i of unique) results[i] ??= f;
      return inputs.map((p, i) => results[i] ?? results[firstByKey.get(p.idempotencyKey)!]!);
    }
    const ready: { i: number; body: Json }[] = [];
    for (const i of unique.filter((n) => !results[n])) {
      const r = this.paymentBody(inputs[i]!);
      if ('body' in r) ready.push({ i, body: r.body });
      else results[i] = r.result;
    }
    // Each write's answers (and, with the first, those decided without a write) go to the caller at once.
    let answered = unique.filter((i) => results[i] !== undefined);
    for (const part of chunks(ready, PAYMENTS_PER_CALL)) {
      const key = idempotencyKeyFor(
        part.map((x) => inputs[x.i]!.idempotencyKey),
        Math.max(0, ...part.map((x) => inputs[x.i]!.requestGeneration ?? 0)),
      );
      try {
        const res = await this.api.call({
          method: 'PUT',
          path: '/Payments',
          params: { summarizeErrors: 'false' },
          body: { Payments: part.map((x) => x.body) },
          idempotencyKey: key,
        });
        const rows = (res['Payments'] as Json[] | undefined) ?? [];
        const notAuthorised: { i: number; error: string }[] = [];
        part.forEach((x, n) => {
          const a = paymentAnswer(rows[n], inputs[x.i]!.invoiceNumber);
          if (a.kind === 'done') results[x.i] = a.result;
          else notAuthorised.push({ i: x.i, error: a.error });
        });
        if (notAuthorised.length) {
          // Only now is an invoice read: draft (wait) and paid by hand (a person looks) read the same in Xero's words.
          const invoices = await this.invoicesNumbered(notAuthorised.map((x) => inputs[x.i]!.invoiceNumber));
          for (const x of notAuthorised) {
            const n = inputs[x.i]!.invoiceNumber;
            results[x.i] = settleNotAuthorised(
              invoices.find((r) => r['InvoiceNumber'] === n),
              n,
              x.error,
            );
          }
        }
      } catch (e) {
        const f = failure(e);
        for (const x of part) results[x.i] ??= f; // a look-up that failed after the PUT keeps the PUT's answers
      }
      answered.push(...part.map((x) => x.i));
      if (options.onAnswered) await options.onAnswered(byPosition(inputs, answered, results, firstByKey));
      answered = [];
    }
    return inputs.map((p, i) => results[i] ?? results[firstByKey.get(p.idempotencyKey)!]!);
  }

  private paymentBody(input: PostPaymentInput): { body: Json } | { result: PostResult } {
    if (input.fromClientCredit && !this.config.clientCreditAccountCode) {
      return {
        result: {
          ok: false,
          retryable: false,
          error: 'a payment from client credit needs clientCreditAccountCode (an account with payments enabled) in the Xero connection',
        },
      };
    }
    const applied = input.appliedAmount ?? input.amount;
    // Refunded in full before it reached the books: nothing of it is Xero's to record (the payout nets the
    // charge and its refund); the reversal of a `none:` payment has nothing to do either (reversal.ts).
    if (applied.amountMinor === 0n) return { result: { ok: true, remoteId: `none:${marker(input.idempotencyKey)}` } };
    return {
      body: {
        Invoice: { InvoiceNumber: input.invoiceNumber },
        Account: { Code: input.fromClientCredit ? this.config.clientCreditAccountCode : this.config.clearingAccountCode },
        Date: input.paidOn,
        Amount: amountOf(applied),
        // The part refunded before it reached the books is not paid in; reversal.ts reads the tag.
        Reference:
          `${input.reference} ${marker(input.idempotencyKey)}${applied.amountMinor < input.amount.amountMinor ? ` [unapplied:${input.amount.amountMinor - applied.amountMinor}]` : ''}`.slice(
            -255,
          ),
      },
    };
  }

  async postDeposit(input: PostDepositInput): Promise<DepositResult> {
    try {
      return await postXeroDeposit(this, input);
    } catch (e) {
      return failure(e);
    }
  }

  /** Nothing to move: in Xero a payment lands in clearing itself, whenever it is posted (deposit.ts). */
  async linkDepositPayments(input: LinkDepositPaymentsInput): Promise<PostResult> {
    return { ok: true, remoteId: input.depositRemoteId };
  }

  async reversePayment(input: ReversePaymentInput): Promise<PostResult> {
    try {
      return await reverseXeroPayment(this, input);
    } catch (e) {
      return failure(e);
    }
  }

  /**
   * A delivery to Settle's webhook URL: its events when x-xero-signature is right (an intent-to-receive
   * delivery has none), WebhookRejected otherwise — the route answers 401, as Xero's check expects.
   */
  verifyWebhook(headers: Readonly<Record<string, string | string[] | undefined>>, raw: Buffer): XeroWebhookEvent[] {
    const sig = headers['x-xero-signature'];
    if (!this.config.webhookKey) throw new WebhookRejected('bad_signature', 'no webhook key is set for this Xero connection');
    if (!verifyXeroSignature(raw, typeof sig === 'string' ? sig : undefined, this.config.webhookKey)) {
      throw new WebhookRejected('bad_signature', 'x-xero-signature does not match the body signed with the webhook key');
    }
    try {
      return xeroEvents(raw).filter((e) => e.tenantId === this.config.tenantId);
    } catch {
      throw new WebhookRejected('malformed', 'the body is not a Xero webhook payload');
    }
  }

  /** Changes since the cursor for Settle's copy of the ledger (ledger-copy.ts: If-Modified-Since). */
  async readLedgerChanges(cursor: string | null): Promise<LedgerChanges> {
    return readXeroLedgerChanges(this.api, this.currency, this.config.clearingAccountCode, cursor);
  }

  /** Active accounts with the roles Xero lets them take (chart.ts). */
  async readChart(): Promise<LedgerChart> {
    return readXeroChart(this.api);
  }

  /** The tracking categories and their options, archived ones marked (tracking.ts: the settings pickers). */
  async trackingCategories(): Promise<XeroTrackingCategory[]> {
    return readXeroTracking(this.api);
  }

  /** Allocate the PSA's exported credit note to the same invoice (credit-note.ts); never creates one. */
  async applyCreditMemo(input: ApplyCreditMemoInput): Promise<PostResult> {
    try {
      return await applyXeroCreditNote(this, input);
    } catch (e) {
      return failure(e);
    }
  }

  /** Which of these credit notes are in Xero, approved (credit-note.ts): the watch wakes applications waiting for them. */
  async creditMemosInBooks(numbers: readonly string[]): Promise<ReadonlySet<string>> {
    return numbers.length ? xeroCreditNotesInBooks(this, numbers) : new Set();
  }

  async postBankWithdrawal(input: BankWithdrawalInput): Promise<PostResult> {
    try {
      return await postXeroBankWithdrawal(this, input);
    } catch (e) {
      return failure(e);
    }
  }
}
