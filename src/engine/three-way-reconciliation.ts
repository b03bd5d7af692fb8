// The three-way reconciliation report (issue #11): per invoice PSA / Settle / books balance, per payout
// processor payout / books deposit / bank line, every drift with its likely cause (domain/reconciliation.ts)
// and a fix where Settle can make one. It reads Settle's own tables only — the PSA copy, the books copy kept
// by sync-books-copy.ts, the processor's and bank's payout data — so it never waits on a vendor's rate limit;
// the run records how current the books copy was, and postings newer than that count as in flight.
// Every run is kept (reconciliation_runs); a run with no drift is the dated "zero drift" summary for audit.
// Runs nightly (cron reconcile-tick) and on demand (staff page, API).
import type { Selectable } from 'kysely';
import { withTenant, type Tx } from '../db/tenant.ts';
import type { ReconciliationRunsTable } from '../db/schema/reconciliation.ts';
import { money, parseCurrency, toDecimalString, type Currency } from '../domain/money.ts';
import { reconcileAchReturn, reconcileInvoice, reconcilePayout, type Drift } from '../domain/reconciliation.ts';
import { invoiceFacts, payoutFacts } from '../db/queries/reconciliation-facts.ts';
import { achReturnFacts } from '../db/queries/reconciliation-ach.ts';
import { audit, type Actor } from './audit.ts';
import type { EngineContext } from './context.ts';
import { booksCopyState } from './sync-books-copy.ts';

export type RunTrigger = 'nightly' | 'on_demand';

/**
 * Ledgers whose connector can put a deposit edited by hand back as Settle posted it (restoreDeposit): the
 * report offers that fix only there. QuickBooks Online updates the Deposit in place (Id + SyncToken);
 * QuickBooks Desktop too, with DepositMod and the deposit's EditSequence at the Web Connector's next run
 * (quickbooks-desktop/deposit-restore.ts). Xero's BankTransfer cannot be changed through its API: there the
 * drift says what a person does (delete it, and Settle posts it again).
 */
export const RESTORES_DEPOSITS: ReadonlySet<string> = new Set(['quickbooks-online', 'quickbooks-desktop']);
const INSERT_CHUNK = 1000;

export interface RunSummary {
  readonly runId: string;
  readonly invoicesChecked: number;
  readonly payoutsChecked: number;
  readonly driftCount: number;
  readonly zeroDrift: boolean;
  readonly booksCopyAsOf: Date | null;
  readonly byKind: Readonly<Record<string, number>>;
}

export const formatMinor = (currency: Currency) => (minor: bigint) => `${toDecimalString(money(minor, currency))} ${currency}`;

interface DriftRow {
  subject: 'invoice' | 'payout';
  invoice_id: string | null;
  payout_id: string | null;
  reference: string;
  currency: string;
  psa: bigint | null;
  settle: bigint | null;
  books: bigint | null;
  bank: bigint | null;
  drift: Drift;
}

async function booksSide(tx: Tx): Promise<{ vendor: string | null; asOf: Date | null }> {
  const conn = await tx.selectFrom('connections').select('vendor').where('role', '=', 'accounting').where('status', '!=', 'disabled').executeTakeFirst();
  if (!conn) return { vendor: null, asOf: null };
  return booksCopyState(tx, conn.vendor);
}

/** A nightly run's local date and timezone in the workspace (reconciliation-schedule.ts). */
export interface NightlyOf {
  readonly localDate: string;
  readonly timezone: string;
}

/** From a job's payload: the night it is for (absent on a job queued before 0045: a nightly run of no date). */
export const nightlyOf = (p: { localDate?: string | undefined; timezone?: string | undefined }): NightlyOf | undefined =>
  p.localDate ? { localDate: p.localDate, timezone: p.timezone ?? 'UTC' } : undefined;

export async function runReconciliation(ctx: EngineContext, tenantId: string, trigger: RunTrigger, actor: Actor, nightly?: NightlyOf): Promise<RunSummary> {
  const started = ctx.now();
  return withTenant(ctx.db, tenantId, async (tx) => {
    const { vendor, asOf } = await booksSide(tx);
    const run = await tx
      .insertInto('reconciliation_runs')
      .values({
        tenant_id: tenantId,
        trigger,
        requested_by: actor,
        started_at: started,
        books_vendor: vendor,
        books_copy_as_of: asOf,
        local_date: nightly?.localDate ?? null,
        timezone: nightly?.timezone ?? null,
      })
      // One nightly run per local date (0045): a second job for the same night waits here for the first to
      // commit, then does nothing.
      .onConflict((oc) => oc.columns(['tenant_id', 'local_date']).where('trigger', '=', 'nightly').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!run)
      return summaryOf(
        await tx
          .selectFrom('reconciliation_runs')
          .selectAll()
          .where('trigger', '=', 'nightly')
          .where('local_date', '=', nightly!.localDate)
          .executeTakeFirstOrThrow(),
      );
    const rows: DriftRow[] = [];
    /** One row per drift of a subject, with the figures compared (PSA or payout / Settle / books / bank). */
    const add = (drifts: Drift[], subject: Omit<DriftRow, 'drift'>) => {
      for (const drift of drifts) rows.push({ ...subject, drift });
    };
    const invoices = await invoiceFacts(tx, vendor, asOf);
    for (const f of invoices)
      add(reconcileInvoice(f, formatMinor(f.currency)), {
        subject: 'invoice',
        invoice_id: f.invoiceId,
        payout_id: null,
        reference: `#${f.number}`,
        currency: f.currency,
        psa: f.psaBalance,
        settle: f.psaTotal - f.settleNet,
        books: f.books ? f.books.balance : null,
        bank: null,
      });
    const payouts = await payoutFacts(tx, vendor, asOf, started, vendor !== null && RESTORES_DEPOSITS.has(vendor));
    for (const f of payouts)
      add(reconcilePayout(f, formatMinor(f.currency)), {
        subject: 'payout',
        invoice_id: null,
        payout_id: f.payoutId,
        reference: f.reference,
        currency: f.currency,
        psa: f.amount,
        settle: f.itemsNet,
        books: f.booksDeposit && f.booksDeposit.state === 'present' ? f.booksDeposit.total : f.booksDeposit ? 0n : null,
        bank: f.bank.amount,
      });
    // Bank ACH returns: what the return took back, the books reversal of the payment, the books' bank debit, the statement line.
    const returns = await achReturnFacts(tx, vendor, asOf, started);
    for (const f of returns)
      add(reconcileAchReturn(f, formatMinor(f.currency)), {
        subject: 'payout',
        invoice_id: null,
        payout_id: f.payoutId,
        reference: f.reference,
        currency: f.currency,
        psa: f.amount,
        settle: f.reversals.length > 0 ? f.reversals.reduce((a, r) => a + r.amount, 0n) : null,
        books: f.withdrawal?.status === 'posted' ? f.withdrawal.amount : f.withdrawal ? 0n : null,
        bank: f.bank.amount,
      });
    for (let s = 0; s < rows.length; s += INSERT_CHUNK) {
      await tx
        .insertInto('reconciliation_drifts')
        .values(
          rows.slice(s, s + INSERT_CHUNK).map((r) => ({
            tenant_id: tenantId,
            run_id: run.id,
            subject: r.subject,
            invoice_id: r.invoice_id,
            payout_id: r.payout_id,
            reference: r.reference,
            kind: r.drift.kind,
            currency: r.currency,
            psa_minor: r.psa,
            settle_minor: r.settle,
            books_minor: r.books,
            bank_minor: r.bank,
            difference_minor: r.drift.difference,
            cause: r.drift.cause,
            advice: r.drift.advice,
            fix: r.drift.fix ? JSON.stringify({ action: r.drift.fix.action, posting_id: r.drift.fix.postingId }) : null,
          })),
        )
        .execute();
    }
    const byKind: Record<string, number> = {};
    for (const r of rows) byKind[r.drift.kind] = (byKind[r.drift.kind] ?? 0) + 1;
    const driftMinor = rows.reduce((a, r) => a + (r.drift.difference < 0n ? -r.drift.difference : r.drift.difference), 0n);
    const summary = { by_kind: byKind, books_vendor: vendor, books_copy_as_of: asOf?.toISOString() ?? null };
    await tx
      .updateTable('reconciliation_runs')
      .set({
        finished_at: ctx.now(),
        invoices_checked: invoices.length,
        payouts_checked: payouts.length + returns.length,
        drift_count: rows.length,
        drift_minor: driftMinor,
        zero_drift: rows.length === 0,
        summary: JSON.stringify(summary),
      })
      .where('id', '=', run.id)
      .execute();
    await audit(
      tx,
      tenantId,
      actor,
      rows.length === 0 ? 'reconciliation.zero_drift' : 'reconciliation.drift_found',
      { type: 'reconciliation_run', id: run.id },
      {
        trigger,
        invoices_checked: invoices.length,
        payouts_checked: payouts.length + returns.length,
        drift_count: rows.length,
        ...summary,
      },
    );
    return {
      runId: run.id,
      invoicesChecked: invoices.length,
      payoutsChecked: payouts.length + returns.length,
      driftCount: rows.length,
      zeroDrift: rows.length === 0,
      booksCopyAsOf: asOf,
      byKind,
    };
  });
}

function summaryOf(r: Selectable<ReconciliationRunsTable>): RunSummary {
  return {
    runId: r.id,
    invoicesChecked: r.invoices_checked,
    payoutsChecked: r.payouts_checked,
    driftCount: r.drift_count,
    zeroDrift: r.zero_drift === true,
    booksCopyAsOf: r.books_copy_as_of,
    byKind: (r.summary as { by_kind?: Record<string, number> }).by_kind ?? {},
  };
}

/** A drift's figures formatted, for the page and the CSV. */
export function driftAmounts(d: {
  currency: string;
  psa_minor: bigint | null;
  settle_minor: bigint | null;
  books_minor: bigint | null;
  bank_minor: bigint | null;
  difference_minor: bigint;
}) {
  const f = formatMinor(parseCurrency(d.currency));
  const o = (v: bigint | null) => (v === null ? '' : f(v));
  return { psa: o(d.psa_minor), settle: o(d.settle_minor), books: o(d.books_minor), bank: o(d.bank_minor), difference: f(d.difference_minor) };
}
