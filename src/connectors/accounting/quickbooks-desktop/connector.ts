// QuickBooks Desktop as Settle's books (AccountingConnector). QuickBooks Desktop cannot be called; the MSP's
// Web Connector calls Settle on its schedule (web-connector.ts). So every posting becomes one row of the
// durable queue qbd_work, keyed by the posting's idempotency key, and this connector answers the posting
// engine from that row: not yet (retryable — the engine asks again; a person is told if the Web Connector
// stays away for long), posted (QuickBooks' TxnID), waiting for the invoice, or refused (QuickBooks' own
// statusCode and message). However often the engine asks, the key makes it one row, and the row one write:
// ExternalGUID carries the key, the memo its marker, and any re-send after an error is checked first.
import { createHash, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../../db/pool.ts';
import { withTenant, type Tx } from '../../../db/tenant.ts';
import { add, isZero, money, negate, type Currency, type Money } from '../../../domain/money.ts';
import type { QbdWorkKind } from '../../../db/schema/quickbooks-desktop.ts';
import type { LedgerChanges } from '../ledger-copy.ts';
import type {
  AccountingConnector,
  ApplyCreditMemoInput,
  BooksInvoice,
  LedgerChart,
  DepositResult,
  LinkDepositPaymentsInput,
  PostDepositInput,
  PostPaymentInput,
  PostResult,
  RestoreDepositInput,
  ReversePaymentInput,
} from '../types.ts';
import { restoreThroughQueue, type DepositModIntent } from './deposit-restore.ts';
import type { QbRef } from './qbxml/xml.ts';
import { chartOrWhyNot, CLASS_DIMENSION, loadChart, nextPoll, queueRead, WaitingForWebConnector } from './chart.ts';
import type { CreditMemoIntent } from './credit-memo.ts';
import { LEDGER_KEY, type LedgerReadContext } from './ledger-read.ts';
import type { DepositIntent, PaymentIntent, QbdAccounts, ReversalIntent } from './work-intent.ts';

export interface QbdConfig {
  readonly accounts: QbdAccounts;
  readonly home: Currency;
  /** The company file the Web Connector should open; absent ⇒ the one open in QuickBooks. */
  readonly companyFile?: string;
  /** The .qwc schedule (settle doctor judges the Web Connector's last run by it). */
  readonly runEveryMinutes?: number;
}

const NOT_YET = 'queued for QuickBooks Desktop: written when the Web Connector next runs (the .qwc schedule)';

interface Row {
  kind: string;
  state: string;
  remote_id: string | null;
  last_error: string | null;
  intent: Record<string, unknown>;
  context: Record<string, unknown>;
}

export class QuickBooksDesktopConnector implements AccountingConnector {
  readonly vendor = 'quickbooks-desktop' as const;

  constructor(
    readonly config: QbdConfig,
    private readonly maybeDb: Db | null,
    private readonly tenantId: string,
    private readonly webConnectorPassword: string,
  ) {}

  private get db(): Db {
    if (!this.maybeDb) throw new Error('QuickBooks Desktop needs the database: its work is queued for the Web Connector');
    return this.maybeDb;
  }

  /** The Web Connector's password (the connection's sealed secret; the MSP types it into the Web Connector). */
  acceptsPassword(password: string): boolean {
    const digest = (s: string) => createHash('sha256').update(s).digest();
    return this.webConnectorPassword.length > 0 && timingSafeEqual(digest(password), digest(this.webConnectorPassword));
  }

  async findInvoiceByNumber(invoiceNumber: string): Promise<BooksInvoice | null> {
    return withTenant(this.db, this.tenantId, async (tx) => {
      const row = await tx.selectFrom('qbd_invoices').selectAll().where('ref_number', '=', invoiceNumber).orderBy('seen_at', 'desc').executeTakeFirst();
      if (!row) {
        await lookUp(tx, this.tenantId, invoiceNumber);
        return null;
      }
      const currency = row.currency as Currency;
      return {
        remoteId: row.txn_id,
        number: row.ref_number,
        customerRemoteId: row.customer_list_id,
        total: money(BigInt(row.total_minor), currency),
        balance: money(BigInt(row.balance_minor), currency),
      };
    });
  }

  async invoicesInBooks(invoiceNumbers: readonly string[]): Promise<ReadonlySet<string>> {
    if (invoiceNumbers.length === 0) return new Set();
    return withTenant(this.db, this.tenantId, async (tx) => {
      const rows = await tx
        .selectFrom('qbd_invoices')
        .select('ref_number')
        .where('ref_number', 'in', [...invoiceNumbers])
        .execute();
      const found = new Set(rows.map((r) => r.ref_number));
      for (const n of invoiceNumbers) if (!found.has(n)) await lookUp(tx, this.tenantId, n);
      return found;
    });
  }

  async postPayments(inputs: readonly PostPaymentInput[]): Promise<readonly PostResult[]> {
    const { accounts } = this.config;
    return withTenant(this.db, this.tenantId, async (tx) => {
      const out: PostResult[] = [];
      for (const p of inputs) {
        const intent: PaymentIntent = {
          invoiceNumber: p.invoiceNumber,
          currency: p.amount.currency,
          amountMinor: p.amount.amountMinor.toString(),
          appliedMinor: (p.appliedAmount ?? p.amount).amountMinor.toString(),
          paidOn: p.paidOn,
          reference: p.reference,
          memo: p.memo,
          fromClientCredit: p.fromClientCredit ?? false,
          accounts,
        };
        out.push(resultOf(await queue(tx, this.tenantId, p.idempotencyKey, 'payment', intent, p.requestGeneration ?? 0)));
      }
      return out;
    });
  }

  async postDeposit(input: PostDepositInput): Promise<DepositResult> {
    const intent = this.depositIntent(input);
    const row = await withTenant(this.db, this.tenantId, (tx) =>
      queue(tx, this.tenantId, input.idempotencyKey, 'deposit', intent, input.requestGeneration ?? 0),
    );
    const r = resultOf(row);
    return r.ok ? { ...r, onClearing: (row.intent as unknown as DepositIntent).clearingKeys } : r;
  }

  /**
   * A deposit edited by hand put back as Settle posts it (deposit-restore.ts): queued for the Web Connector
   * (DepositQuery by TxnID, then DepositMod with its EditSequence); until it has run, a retryable "not yet".
   */
  async restoreDeposit(input: RestoreDepositInput): Promise<DepositResult> {
    const d = this.depositIntent(input);
    const total = [...input.payments.map((p) => p.amount.amountMinor), ...d.otherLines.map((l) => BigInt(l.amountMinor))].reduce((s, x) => s + x, 0n);
    const intent: DepositModIntent = { ...d, depositTxnId: input.depositRemoteId, depositKey: input.idempotencyKey, expectedTotalMinor: total.toString() };
    return withTenant(this.db, this.tenantId, (tx) => restoreThroughQueue(tx, this.tenantId, intent, NOT_YET));
  }

  /**
   * The deposit as Settle posts it: the payments by TxnID and every other line mapped to its account.
   * Class: each payment's line carries its invoice's class by the GL mapping's rules (OverrideClassRef), so
   * the money lands under the same class as the payment. The fee, surcharge, credit, adjustment and clearing
   * lines belong to the payout, not to one invoice, and QuickBooks Desktop has no workspace-wide class in
   * Settle's settings, so they carry none (their ClassRef stays empty).
   */
  private depositIntent(input: PostDepositInput): DepositIntent {
    const a = this.config.accounts;
    const currency = (input.payments[0]?.amount ?? input.awaiting?.[0]?.amount ?? input.fees).currency;
    const adjustments = a.adjustments ?? a.fees;
    const lines: { account: QbRef; amount: Money; memo: string }[] = [];
    const line = (account: QbRef, amount: Money | undefined, memo: string) => {
      if (amount && !isZero(amount)) lines.push({ account, amount, memo });
    };
    for (const w of input.awaiting ?? []) line(a.clearing ?? adjustments, w.amount, `${w.description} [settle-line:${w.key}]`);
    line(a.fees, negate(input.fees), `Processing fees, payout ${input.payoutId}`);
    line(a.surchargeIncome ?? adjustments, input.surcharges, `Card surcharges, payout ${input.payoutId}`);
    line(a.planFeeIncome ?? adjustments, input.planFees, `Installment plan fees, payout ${input.payoutId}`);
    line(a.clientCredit ?? adjustments, input.clientCredit, `Client credit (overpayments), payout ${input.payoutId}`);
    // ACH discounts are part of input.adjustments (negative there); with an account of their own they leave it.
    const discounts = a.achDiscounts && input.achDiscounts && !isZero(input.achDiscounts) ? input.achDiscounts : null;
    if (discounts && discounts.amountMinor < 0n) throw new Error('ACH discounts are given as a positive amount');
    if (discounts && a.achDiscounts) line(a.achDiscounts, negate(discounts), `ACH discounts given, payout ${input.payoutId}`);
    line(adjustments, discounts ? add(input.adjustments, discounts) : input.adjustments, `Refunds and adjustments, payout ${input.payoutId}`);
    return {
      payoutId: input.payoutId,
      currency,
      depositedOn: input.depositedOn,
      memo: input.memo,
      paymentTxnIds: input.payments.map((p) => p.paymentRemoteId),
      ...paymentClasses(input),
      otherLines: lines.map((l) => ({ account: l.account, amountMinor: l.amount.amountMinor.toString(), memo: l.memo })),
      clearingKeys: (input.awaiting ?? []).map((w) => w.key),
      accounts: a,
    };
  }

  /**
   * Moving a deposit's clearing line onto a payment needs DepositMod with the deposit's EditSequence and every
   * line restated; Settle does not do that on QuickBooks Desktop yet, so a person links it (the exception says so).
   */
  async linkDepositPayments(input: LinkDepositPaymentsInput): Promise<PostResult> {
    return {
      ok: false,
      retryable: false,
      error: `QuickBooks Desktop: Settle does not move clearing lines of deposit ${input.depositRemoteId} onto payments; in QuickBooks, edit the deposit and replace each "[settle-line:…]" line by its payment`,
    };
  }

  async reversePayment(input: ReversePaymentInput): Promise<PostResult> {
    const intent: ReversalIntent = {
      invoiceNumber: input.invoiceNumber,
      paymentRemoteId: input.paymentRemoteId,
      currency: input.amount.currency,
      amountMinor: input.amount.amountMinor.toString(),
      reversedOn: input.reversedOn,
      memo: input.memo,
      accounts: this.config.accounts,
      ...(input.tracking?.[CLASS_DIMENSION] ? { classRef: { listId: input.tracking[CLASS_DIMENSION] } } : {}),
    };
    const row = await withTenant(this.db, this.tenantId, (tx) =>
      queue(tx, this.tenantId, input.idempotencyKey, 'reversal', intent, input.requestGeneration ?? 0),
    );
    return resultOf(row);
  }

  /**
   * Queued like a posting: the invoice by number, the credit memo by number, then the zero payment that applies
   * it (credit-memo.ts). Not there yet ⇒ waitingForInvoice / waitingForCreditMemo; refused by QuickBooks (another
   * customer's credit memo, more than is left on it) ⇒ final, with QuickBooks' message.
   */
  async applyCreditMemo(input: ApplyCreditMemoInput): Promise<PostResult> {
    const intent: CreditMemoIntent = {
      invoiceNumber: input.invoiceNumber,
      creditMemoNumber: input.creditMemoNumber,
      currency: input.amount.currency,
      amountMinor: input.amount.amountMinor.toString(),
      appliedOn: input.appliedOn,
      memo: input.memo,
      accounts: this.config.accounts,
    };
    const row = await withTenant(this.db, this.tenantId, (tx) =>
      queue(tx, this.tenantId, input.idempotencyKey, 'credit-memo', intent, input.requestGeneration ?? 0),
    );
    return resultOf(row);
  }

  /** The chart the Web Connector last brought (chart.ts); a read is queued when there is none or it is old. */
  async readChart(): Promise<LedgerChart> {
    const loaded = await withTenant(this.db, this.tenantId, (tx) => loadChart(tx, this.tenantId));
    return chartOrWhyNot(this.db, this.tenantId, this.config.runEveryMinutes ?? 5, loaded);
  }

  /**
   * The books copy is stored page by page as the Web Connector brings it (ledger-read.ts), so this only reports
   * how current it is — the last completed read's asOf — and queues the next read. No read completed yet: a
   * WaitingForWebConnector error (the sync job retries; the report says the copy could not be refreshed).
   */
  async readLedgerChanges(_cursor: string | null): Promise<LedgerChanges> {
    const row = await withTenant(this.db, this.tenantId, async (tx) => {
      await queueRead(tx, this.tenantId, LEDGER_KEY, 'ledger-read');
      return tx.selectFrom('qbd_work').select(['state', 'context', 'last_error']).where('key', '=', LEDGER_KEY).executeTakeFirstOrThrow();
    });
    const asOf = (row.context as LedgerReadContext).asOf;
    if (!asOf) {
      const why = row.last_error ? `; last time QuickBooks said: ${row.last_error}` : '';
      throw new WaitingForWebConnector(
        `Settle's copy of the QuickBooks Desktop books has not been read yet: waiting for the Web Connector's next poll (${await nextPoll(this.db, this.tenantId, this.config.runEveryMinutes ?? 5)})${why}`,
      );
    }
    return { full: false, invoices: [], payments: [], deposits: [], deleted: [], cursor: asOf, complete: true, asOf: new Date(asOf) };
  }
}

/**
 * One row per key. A row QuickBooks refused is queued again only for a newer generation (a person's retry),
 * with the intent as the engine gives it now; anything else is left as it is.
 */
async function queue(tx: Tx, tenantId: string, key: string, kind: QbdWorkKind, intent: object, generation: number): Promise<Row> {
  await sql`INSERT INTO qbd_work (tenant_id, key, kind, intent, generation) VALUES (${tenantId}, ${key}, ${kind}, ${JSON.stringify(intent)}::jsonb, ${generation})
    ON CONFLICT (tenant_id, key) DO UPDATE SET state = 'queued', generation = EXCLUDED.generation, intent = EXCLUDED.intent,
      context = qbd_work.context - 'checked' - 'applyTo', last_error = NULL, status_code = NULL, done_at = NULL, updated_at = now()
    WHERE qbd_work.state = 'refused' AND qbd_work.generation < EXCLUDED.generation`.execute(tx);
  return tx.selectFrom('qbd_work').select(['kind', 'state', 'remote_id', 'last_error', 'intent', 'context']).where('key', '=', key).executeTakeFirstOrThrow();
}

async function lookUp(tx: Tx, tenantId: string, invoiceNumber: string): Promise<void> {
  await sql`INSERT INTO qbd_work (tenant_id, key, kind, intent) VALUES (${tenantId}, ${`invoice:${invoiceNumber}`}, 'invoice-lookup', ${JSON.stringify({ invoiceNumber })}::jsonb)
    ON CONFLICT (tenant_id, key) DO UPDATE SET state = 'queued', updated_at = now() WHERE qbd_work.state = 'done'`.execute(tx);
}

/** Payment TxnID → class ListID, for the payments whose invoice has a class rule (none ⇒ the key is absent). */
function paymentClasses(input: PostDepositInput): Pick<DepositIntent, 'paymentClasses'> {
  const classed = input.payments.flatMap((p) => (p.tracking?.[CLASS_DIMENSION] ? [[p.paymentRemoteId, p.tracking[CLASS_DIMENSION]] as const] : []));
  return classed.length ? { paymentClasses: Object.fromEntries(classed) } : {};
}

function resultOf(row: Row): PostResult {
  if (row.state === 'done' && row.remote_id) return { ok: true, remoteId: row.remote_id };
  if (row.state === 'refused') return { ok: false, retryable: false, error: row.last_error ?? 'QuickBooks refused the request' };
  if (row.state === 'waiting_invoice' && row.kind === 'credit-memo' && row.context['invoice']) {
    const n = String(row.intent['creditMemoNumber'] ?? '');
    return { ok: false, retryable: true, error: row.last_error ?? `credit memo ${n} is not in QuickBooks yet`, waitingForCreditMemo: n };
  }
  if (row.state === 'waiting_invoice') {
    const n = String(row.intent['invoiceNumber'] ?? '');
    return { ok: false, retryable: true, error: row.last_error ?? `invoice ${n} is not in QuickBooks yet`, waitingForInvoice: n };
  }
  return { ok: false, retryable: true, error: row.last_error ? `${NOT_YET}; last time: ${row.last_error}` : NOT_YET };
}
