// Posts to the books: reversals on invoices a payment is waiting for, every pending payment posting of the tenant in
// one go (the connector batches them, up to 30 per QuickBooks batch call), then the other reversals, then every payout deposit that is due — at once,
// with any payment not in the books yet on a clearing line — then moves clearing lines onto payments
// posted since. A payment whose invoice is not in the books waits for it (books-posting-outcome.ts, the
// look-up in watch-books-invoices.ts). Runs in the tenant's accounting queue, so two flushes never
// overlap; the idempotency keys make a re-run after a crash safe.
import { sql } from 'kysely';
import { money, parseCurrency, type Money } from '../domain/money.ts';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { AccountingConnector, PostResult } from '../connectors/accounting/types.ts';
import type { Posting } from '../db/schema.ts';
import type { EngineContext } from './context.ts';
import { today } from './context.ts';
import { audit } from './audit.ts';
import { crashPoint } from './crash-points.ts';
import { enqueue } from './enqueue.ts';
import { CREDIT_PROCESSOR } from './client-credit.ts';
import { postPendingReversals } from './post-accounting-reversals.ts';
import { recordBooksAttempt } from './books-posting-outcome.ts';
import { linkWaitingPayments, postDepositPlan } from './books-deposit.ts';
import { planPayoutDeposit } from './payout-deposit-plan.ts';
import { scheduleInvoiceWatch } from './watch-books-invoices.ts';
import { postBankWithdrawals } from './ach-bank-money.ts';
import { booksInvoiceNumber } from './remap-books-invoice.ts';
import { trackingForInvoices } from './gl-mapping.ts';
import { postCreditMemos } from './credit-memos.ts';

const BACKLOG_LIMIT = 1000;

export interface FlushSummary {
  payments: number;
  deposits: number;
  failed: number;
  deferred: number;
  /** Payment postings waiting for their invoice to appear in the books. */
  waiting: number;
  /** Clearing lines of earlier deposits moved onto their payments. */
  linked: number;
}

export async function flushAccounting(ctx: EngineContext, tenantId: string): Promise<FlushSummary> {
  const books = await ctx.connectors.accounting(tenantId);
  const summary: FlushSummary = { payments: 0, deposits: 0, failed: 0, deferred: 0, waiting: 0, linked: 0 };
  if (!books) return summary;
  // Refunds, returns and lost disputes on an invoice a payment is waiting for go first: each re-opens its
  // invoice there, and a new payment on the same invoice (the client paying again what was refunded) is
  // refused by QuickBooks as "more than its open balance" until it has (seen in the soak). Only those: all
  // of them first kept the payments waiting behind a backlog of reversals (soak16).
  const earlier = await postPendingReversals(ctx, tenantId, books, { blockingPayments: true });
  await postPendingPayments(ctx, tenantId, books, summary);
  // Credit memos applied in the PSA, applied in the books to the same invoices (credit-memos.ts).
  await postCreditMemos(ctx, tenantId, books);
  // Then those whose payment this flush just posted: after the payments they undo, before the deposits (lifecycle).
  const reversals = await postPendingReversals(ctx, tenantId, books);
  summary.failed += earlier.failed + reversals.failed;
  summary.deferred += reversals.waiting;
  await postDueDeposits(ctx, tenantId, books, summary);
  // Bank ACH returns' debits: the bank line taking a returned debit's money back, against clearing.
  await postBankWithdrawals(ctx, tenantId, books);
  summary.linked = await linkWaitingPayments(ctx, tenantId, books);
  if (summary.waiting > 0) await withTenant(ctx.db, tenantId, (tx) => scheduleInvoiceWatch(ctx, tx, tenantId));
  // Anything still pending gets one flush at its next attempt time, under a key of its own: that time may
  // be a day away (a posting waiting for its invoice), and under the shared key `flush-accounting:<tenant>`
  // preserve_run_at would then hold back the flush a new payment or payout asks for in ~150 ms.
  const next = await withTenant(ctx.db, tenantId, (tx) => nextBooksAttemptAt(tx));
  if (next) {
    await withTenant(ctx.db, tenantId, (tx) =>
      enqueue(
        tx,
        'flush-accounting',
        { tenantId },
        {
          queueName: `accounting:${tenantId}`,
          jobKey: `flush-accounting-next:${tenantId}`,
          jobKeyMode: 'replace',
          runAt: new Date(Math.max(next.getTime(), ctx.now().getTime() + 1000)),
        },
      ),
    );
  }
  return summary;
}

async function postPendingPayments(ctx: EngineContext, tenantId: string, books: AccountingConnector, summary: FlushSummary): Promise<void> {
  const rows = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('postings as po')
      .innerJoin('invoices as i', 'i.id', 'po.invoice_id')
      .innerJoin('payments as p', 'p.id', 'po.payment_id')
      .selectAll('po')
      // The books' number for the invoice: the PSA's, unless a person mapped another (remap-books-invoice.ts).
      .select([booksInvoiceNumber('po').as('invoice_number'), 'p.succeeded_at', 'p.processor_payment_id', 'p.processor'])
      // Refunded or returned in Settle before it reached the books: that part is not applied to the invoice
      // (PostPaymentInput.appliedAmount); the reversal's own posting, waiting for this one, moves it.
      .select((eb) =>
        eb
          .selectFrom('postings as r')
          .select(sql<bigint>`coalesce(sum(r.amount_minor), 0)::bigint`.as('s'))
          .whereRef('r.reverses_posting_id', '=', 'po.id')
          .where('r.target', '=', 'accounting')
          .where('r.kind', 'in', ['refund', 'payment_reversal'])
          .where('r.status', '=', 'pending')
          .as('reversed_before_books'),
      )
      .where('po.target', '=', 'accounting')
      .where('po.kind', '=', 'payment')
      .where('po.status', '=', 'pending')
      .where('po.next_attempt_at', '<=', ctx.now())
      .orderBy('po.created_at')
      .limit(BACKLOG_LIMIT)
      .execute(),
  );
  if (rows.length === 0) return;
  // Each write recorded as soon as it is answered: a backlog of hundreds took minutes to post and was
  // recorded only at the end, so a process killed meanwhile (the soak kills one every ~9 s) lost every
  // answer and the next flush began again from the first — the backlog never shrank. A connector that
  // reports each write (answersEachWrite) gets the whole backlog in one call, so its look-ups are shared
  // (QuickBooks: 1,000 payments ≈ 2 look-up calls + 34 batches, not 3 calls per 30); others get 30 at a time.
  if (books.answersEachWrite) {
    await postPaymentChunk(ctx, tenantId, books, rows, summary);
    return;
  }
  for (let i = 0; i < rows.length; i += POST_CHUNK) {
    const chunk = rows.slice(i, i + POST_CHUNK);
    await postPaymentChunk(ctx, tenantId, books, chunk, summary);
  }
}

/** The part of a payment posting to apply to its invoice when some of it was reversed before it reached the books. */
function appliedPart(r: { amount_minor: bigint; currency: string; reversed_before_books: bigint | string | null }): { appliedAmount?: Money } {
  const reversed = BigInt(r.reversed_before_books ?? 0);
  if (reversed <= 0n) return {};
  const applied = r.amount_minor > reversed ? r.amount_minor - reversed : 0n;
  return { appliedAmount: money(applied, parseCurrency(r.currency)) };
}

/** Payment postings per books call and per record: one QuickBooks batch (30 operations). */
const POST_CHUNK = 30;

async function postPaymentChunk(
  ctx: EngineContext,
  tenantId: string,
  books: AccountingConnector,
  rows: readonly (Posting & {
    invoice_number: string;
    succeeded_at: Date | null;
    processor_payment_id: string | null;
    processor: string;
    reversed_before_books: bigint | string | null;
  })[],
  summary: FlushSummary,
): Promise<void> {
  const recorded = new Set<number>();
  const record = async (answered: ReadonlyMap<number, PostResult>): Promise<void> => {
    const at = [...answered.keys()].filter((i) => !recorded.has(i) && rows[i] !== undefined);
    if (at.length === 0) return;
    crashPoint('after-accounting-payments-sent');
    await recordResults(
      ctx,
      tenantId,
      books.vendor,
      at.map((i) => rows[i]!),
      at.map((i) => answered.get(i)!),
      summary,
    );
    for (const i of at) recorded.add(i);
  };
  // Class / location per invoice by the GL mapping's rules (gl-mapping.ts); none ⇒ the workspace-wide choice.
  const tracking = await withTenant(ctx.db, tenantId, (tx) =>
    trackingForInvoices(
      tx,
      rows.flatMap((r) => (r.invoice_id ? [r.invoice_id] : [])),
    ),
  );
  const first = await markFirstSends(ctx, tenantId, rows);
  const results = await books.postPayments(
    rows.map((r) => ({
      idempotencyKey: r.idempotency_key,
      ...(first.has(r.id) ? { firstSend: true } : {}),
      invoiceNumber: r.invoice_number,
      amount: money(r.amount_minor, parseCurrency(r.currency)),
      ...appliedPart(r),
      paidOn: today(r.succeeded_at ?? ctx.now()),
      reference: r.processor_payment_id ?? r.payment_id!,
      memo: `Settle payment ${r.payment_id}`,
      requestGeneration: r.request_generation,
      // An application of the client's credit (engine/client-credit.ts) moved no new money.
      ...(r.processor === CREDIT_PROCESSOR ? { fromClientCredit: true } : {}),
      ...(r.invoice_id && tracking.has(r.invoice_id) ? { tracking: tracking.get(r.invoice_id)! } : {}),
    })),
    { onAnswered: record },
  );
  // Whatever the connector did not report on the way (all of it, for one that reports nothing).
  await record(new Map(results.map((r, i) => [i, r])));
}

/** What a posting shows while its first send is on its way, and after a crash that lost the answer. */
export const FIRST_SEND_NOTE = 'sent to the books; the answer is not recorded yet';

/**
 * Marks the postings never sent before (no attempt recorded, no mark) as sent, before they are: the connector
 * may then skip the check-before-write look-up for them (QuickBooks: 2 calls for a payment alone instead of 3,
 * which is what keeps payments arriving 4 a second inside Intuit's 10 a second). The mark is committed before
 * the send, so a send whose answer is lost leaves it and the next attempt looks first; the UPDATE re-reads each
 * row under its lock, so of two flushes that ever ran at once only one can take a posting for a first send.
 */
async function markFirstSends(ctx: EngineContext, tenantId: string, rows: readonly Posting[]): Promise<ReadonlySet<string>> {
  const ids = rows.filter((r) => r.attempts === 0 && r.last_error === null).map((r) => r.id);
  if (ids.length === 0) return new Set();
  const marked = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .updateTable('postings')
      .set({ last_error: FIRST_SEND_NOTE })
      .where('id', 'in', ids)
      .where('status', '=', 'pending')
      .where('attempts', '=', 0)
      .where('last_error', 'is', null)
      .returning('id')
      .execute(),
  );
  return new Set(marked.map((m) => m.id));
}

async function recordResults(
  ctx: EngineContext,
  tenantId: string,
  vendor: string,
  rows: readonly Posting[],
  results: readonly PostResult[],
  summary: FlushSummary,
): Promise<void> {
  let posted = 0;
  await withTenant(ctx.db, tenantId, async (tx) => {
    for (const [i, row] of rows.entries()) {
      const r = results[i];
      if (!r) continue;
      const outcome = await recordBooksAttempt(ctx, tx, tenantId, vendor, row, r);
      if (outcome === 'posted') posted++;
      else if (outcome === 'failed') summary.failed++;
      else if (outcome === 'waiting') summary.waiting++;
      else summary.deferred++;
    }
    summary.payments += posted;
    if (posted > 0) {
      await audit(tx, tenantId, 'system:post-to-accounting', 'accounting.payments_posted', { type: 'tenant', id: tenantId }, { vendor, count: posted });
    }
  });
}

/**
 * Deposits do not wait for their payments: a payout is posted when it lands, so the books match the bank
 * that day; a payment not in the books yet rides on a clearing line until it is (books-deposit.ts).
 */
async function postDueDeposits(ctx: EngineContext, tenantId: string, books: AccountingConnector, summary: FlushSummary): Promise<void> {
  const deposits = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('postings')
      .selectAll()
      .where('target', '=', 'accounting')
      .where('kind', '=', 'deposit')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', ctx.now())
      .execute(),
  );
  for (const d of deposits) {
    if (!d.payout_id) {
      // Every deposit today is a bank line recorded as a payout (processor payouts, bank ACH settlements);
      // one without cannot be planned, and left pending it would wake the flush every second.
      await withTenant(ctx.db, tenantId, (tx) =>
        recordBooksAttempt(ctx, tx, tenantId, books.vendor, d, {
          ok: false,
          retryable: false,
          error: 'a deposit posting without its payout cannot be planned',
        }),
      );
      summary.failed++;
      continue;
    }
    const plan = await withTenant(ctx.db, tenantId, (tx) => planPayoutDeposit(tx, d.payout_id!));
    const outcome = await postDepositPlan(ctx, tenantId, books, d, plan);
    if (outcome === 'posted') summary.deposits++;
    else if (outcome === 'failed') summary.failed++;
    else summary.deferred++;
  }
}

/** When the flush has something to do next: a pending posting's attempt, or a clearing line ready to move. */
export async function nextBooksAttemptAt(tx: Tx): Promise<Date | null> {
  const r = await sql<{ at: Date | null }>`
    SELECT least(
      (SELECT min(next_attempt_at) FROM postings WHERE target = 'accounting' AND status = 'pending'),
      (SELECT min(dl.next_attempt_at) FROM deposit_lines dl JOIN postings p ON p.id = dl.payment_posting_id
        WHERE dl.status = 'clearing' AND p.status = 'posted')
    ) AS at`.execute(tx);
  const at = r.rows[0]?.at;
  return at ? new Date(at) : null;
}
