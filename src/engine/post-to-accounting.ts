// Posts to the books: every pending payment posting of the tenant in one go (the connector batches them,
// up to 30 per QuickBooks batch call), then any payout deposit whose payments are all in the books. Runs
// in the tenant's accounting queue, so two flushes never overlap; the idempotency keys make a re-run after
// a crash safe.
import { sql } from 'kysely';
import { money, parseCurrency, toDecimalString } from '../domain/money.ts';
import { withTenant } from '../db/tenant.ts';
import type { AccountingConnector, PostResult } from '../connectors/accounting/types.ts';
import type { Posting } from '../db/schema.ts';
import type { EngineContext } from './context.ts';
import { today } from './context.ts';
import { audit } from './audit.ts';
import { crashPoint } from './crash-points.ts';
import { enqueue } from './enqueue.ts';
import { CREDIT_PROCESSOR } from './client-credit.ts';
import { postPendingReversals } from './post-accounting-reversals.ts';

const BACKLOG_LIMIT = 1000;

export interface FlushSummary {
  payments: number;
  deposits: number;
  failed: number;
  deferred: number;
}

export async function flushAccounting(ctx: EngineContext, tenantId: string): Promise<FlushSummary> {
  const books = await ctx.connectors.accounting(tenantId);
  const summary: FlushSummary = { payments: 0, deposits: 0, failed: 0, deferred: 0 };
  if (!books) return summary;
  await postPendingPayments(ctx, tenantId, books, summary);
  // Refunds, returns and lost disputes: after the payments they undo, before the deposits (lifecycle).
  const reversals = await postPendingReversals(ctx, tenantId, books);
  summary.failed += reversals.failed;
  summary.deferred += reversals.waiting;
  await postReadyDeposits(ctx, tenantId, books, summary);
  // Anything still pending gets one flush at its next attempt time. preserve_run_at: a payment that
  // succeeded while this flush ran has already queued its own flush ~150 ms out (our running job is
  // locked, so graphile-worker made a new one); replacing its run_at with now+1 s delayed it by a second.
  const next = await withTenant(ctx.db, tenantId, (tx) =>
    tx
      .selectFrom('postings')
      .select((eb) => eb.fn.min('next_attempt_at').as('at'))
      .where('target', '=', 'accounting')
      .where('status', '=', 'pending')
      .executeTakeFirst(),
  );
  if (next?.at) {
    await withTenant(ctx.db, tenantId, (tx) =>
      enqueue(
        tx,
        'flush-accounting',
        { tenantId },
        {
          queueName: `accounting:${tenantId}`,
          jobKey: `flush-accounting:${tenantId}`,
          jobKeyMode: 'preserve_run_at',
          runAt: new Date(Math.max(new Date(next.at as Date).getTime(), ctx.now().getTime() + 1000)),
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
      .select(['i.number as invoice_number', 'p.succeeded_at', 'p.processor_payment_id', 'p.processor'])
      .where('po.target', '=', 'accounting')
      .where('po.kind', '=', 'payment')
      .where('po.status', '=', 'pending')
      .where('po.next_attempt_at', '<=', ctx.now())
      .orderBy('po.created_at')
      .limit(BACKLOG_LIMIT)
      .execute(),
  );
  if (rows.length === 0) return;
  const results = await books.postPayments(
    rows.map((r) => ({
      idempotencyKey: r.idempotency_key,
      invoiceNumber: r.invoice_number,
      amount: money(r.amount_minor, parseCurrency(r.currency)),
      paidOn: today(r.succeeded_at ?? ctx.now()),
      reference: r.processor_payment_id ?? r.payment_id!,
      memo: `Settle payment ${r.payment_id}`,
      // An application of the client's credit (engine/client-credit.ts) moved no new money.
      ...(r.processor === CREDIT_PROCESSOR ? { fromClientCredit: true } : {}),
    })),
  );
  crashPoint('after-accounting-payments-sent');
  await recordResults(ctx, tenantId, books.vendor, rows, results, summary, 'payments');
}

async function recordResults(
  ctx: EngineContext,
  tenantId: string,
  vendor: string,
  rows: readonly Posting[],
  results: readonly PostResult[],
  summary: FlushSummary,
  what: 'payments' | 'deposits',
): Promise<void> {
  await withTenant(ctx.db, tenantId, async (tx) => {
    for (const [i, row] of rows.entries()) {
      const r = results[i];
      if (!r) continue;
      if (r.ok) {
        await tx
          .updateTable('postings')
          .set((eb) => ({ status: 'posted', remote_id: r.remoteId, posted_at: new Date(), attempts: eb('attempts', '+', 1), last_error: null }))
          .where('id', '=', row.id)
          .where('status', '=', 'pending')
          .execute();
        summary[what]++;
      } else {
        const attempts = row.attempts + 1;
        const giveUp = !r.retryable || attempts >= 12;
        await tx
          .updateTable('postings')
          .set({
            attempts,
            last_error: r.error.slice(0, 2000),
            status: giveUp ? 'failed' : 'pending',
            next_attempt_at: new Date(ctx.now().getTime() + Math.min(3_600_000, 1000 * 2 ** attempts)),
          })
          .where('id', '=', row.id)
          .execute();
        if (giveUp) {
          summary.failed++;
          await audit(tx, tenantId, 'system:post-to-accounting', 'posting.failed', { type: 'posting', id: row.id }, { vendor, error: r.error });
        } else summary.deferred++;
      }
    }
    if (summary[what] > 0) {
      await audit(tx, tenantId, 'system:post-to-accounting', `accounting.${what}_posted`, { type: 'tenant', id: tenantId }, { vendor, count: summary[what] });
    }
  });
}

/** Deposits wait until every payment in the payout has its Payment in the books (they link to them). */
async function postReadyDeposits(ctx: EngineContext, tenantId: string, books: AccountingConnector, summary: FlushSummary): Promise<void> {
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
    const plan = await withTenant(ctx.db, tenantId, async (tx) => {
      const payout = await tx.selectFrom('payouts').selectAll().where('id', '=', d.payout_id!).executeTakeFirstOrThrow();
      const lines = await tx
        .selectFrom('payout_items as it')
        .innerJoin('postings as po', (j) => j.onRef('po.payment_id', '=', 'it.payment_id').on('po.target', '=', 'accounting').on('po.kind', '=', 'payment'))
        // Only the charge itself links its payment; a refund or dispute item of the same payment is an
        // adjustment (it would otherwise link the payment a second time).
        .where('it.type', 'in', ['charge', 'payment'])
        .select(['po.status', 'po.remote_id', 'po.amount_minor'])
        .where('it.payout_id', '=', payout.id)
        .execute();
      // Of the payout's charges: the surcharges (income of their own) and what no invoice needed (clients' credit).
      // An ACH discount (§1.5) pays invoices in full with less money: it is not credit, and the deposit
      // carries it as a negative "ACH discounts" adjustment so the deposit still equals the payout.
      const extra = await sql<{ surcharges: string; credit: string; discounts: string }>`
        SELECT coalesce(sum(p.surcharge_minor), 0)::text AS surcharges,
               coalesce(sum(p.discount_minor), 0)::text AS discounts,
               coalesce(sum(p.amount_minor - p.surcharge_minor + p.discount_minor - coalesce((SELECT sum(a.amount_minor) FROM allocations a WHERE a.payment_id = p.id), 0)), 0)::text AS credit
          FROM payments p
         WHERE p.id IN (SELECT it.payment_id FROM payout_items it WHERE it.payout_id = ${payout.id} AND it.type IN ('charge', 'payment') AND it.payment_id IS NOT NULL)`.execute(
        tx,
      );
      return {
        payout,
        lines,
        surcharges: BigInt(extra.rows[0]?.surcharges ?? 0),
        credit: BigInt(extra.rows[0]?.credit ?? 0),
        discounts: BigInt(extra.rows[0]?.discounts ?? 0),
      };
    });
    if (plan.lines.some((l) => l.status !== 'posted' || !l.remote_id)) continue; // next flush
    const currency = parseCurrency(plan.payout.currency);
    const paymentsTotal = plan.lines.reduce((s, l) => s + l.amount_minor, 0n);
    // Whatever in the payout is not a booked payment, a fee, a surcharge or clients' credit (refunds,
    // adjustments) goes on its own line, so the deposit always equals the bank line. The connector books
    // surcharges and credit on their own lines where the MSP named accounts for them.
    const adjustments = plan.payout.amount_minor - (paymentsTotal - plan.payout.fees_minor) - plan.surcharges - plan.credit;
    const [r] = await books
      .postDeposit({
        idempotencyKey: d.idempotency_key,
        payoutId: plan.payout.processor_payout_id,
        depositedOn: plan.payout.arrival_date,
        payments: plan.lines.map((l) => ({ paymentRemoteId: l.remote_id!, amount: money(l.amount_minor, currency) })),
        fees: money(plan.payout.fees_minor, currency),
        adjustments: money(adjustments, currency),
        surcharges: money(plan.surcharges, currency),
        clientCredit: money(plan.credit, currency),
        memo:
          `${plan.payout.processor} payout ${plan.payout.processor_payout_id}` +
          (plan.discounts > 0n ? `; adjustments include ACH discounts of ${toDecimalString(money(plan.discounts, currency))}` : ''),
      })
      .then((x) => [x]);
    await recordResults(ctx, tenantId, books.vendor, [d], [r!], summary, 'deposits');
  }
}
