// The cash forecast (issue #12): when each open invoice is expected to be paid and what that adds up to over
// the next 30 / 60 / 90 days, per currency, with the forecast's own past accuracy. Computed on demand from
// five set-based statements in one read-only transaction (cash-forecast-sql.ts); the decisions are the
// domain's (domain/forecast/). "Today" is the workspace's day (tenants.settings.timezone).
import { sql } from 'kysely';
import { workspaceClock } from '../db/queries/ar-metrics.ts';
import { withTenant } from '../db/tenant.ts';
import { forecastAccuracy, type Accuracy } from '../domain/forecast/accuracy.ts';
import { forecastBuckets, type CurrencyForecast } from '../domain/forecast/buckets.ts';
import { HistoryIndex, type PaidRecord } from '../domain/forecast/history.ts';
import { predictInvoice, type Commitment, type InvoicePrediction } from '../domain/forecast/predict.ts';
import { money, parseCurrency } from '../domain/money.ts';
import { addDays } from '../domain/rules/calendar-date.ts';
import { achInFlight, autopaySchedules, installmentParts, openInvoices, paidHistory, type OpenInvoiceRow } from './cash-forecast-sql.ts';
import type { EngineContext } from './context.ts';

/** How far back the paid history is read: two years (older behaviour weighs under 1/16 of today's anyway). */
export const HISTORY_DAYS = 730;

export interface ForecastInvoice extends InvoicePrediction {
  readonly number: string;
  readonly clientName: string;
  readonly dueOn: string;
}

export interface CashForecast {
  readonly today: string;
  readonly timeZone: string;
  readonly generatedAt: Date;
  readonly currencies: readonly CurrencyForecast[];
  readonly accuracy: Accuracy;
  /** Paid invoices the history read (the last HISTORY_DAYS days). */
  readonly historyInvoices: number;
  /** Every open invoice's prediction, earliest expected first (undatable last). */
  readonly invoices: readonly ForecastInvoice[];
}

function commitmentsByInvoice(
  inFlight: Awaited<ReturnType<typeof achInFlight>>,
  parts: Awaited<ReturnType<typeof installmentParts>>,
  autopay: Awaited<ReturnType<typeof autopaySchedules>>,
  currencyOf: Map<string, OpenInvoiceRow>,
): Map<string, Commitment[]> {
  const out = new Map<string, Commitment[]>();
  const push = (invoiceId: string, c: (cur: ReturnType<typeof parseCurrency>) => Commitment) => {
    const inv = currencyOf.get(invoiceId);
    if (!inv) return; // not open any more (or not an invoice the forecast counts)
    const list = out.get(invoiceId) ?? [];
    list.push(c(parseCurrency(inv.currency)));
    out.set(invoiceId, list);
  };
  for (const f of inFlight)
    push(f.invoice_id, (cur) => ({
      kind: 'ach_in_flight',
      via: f.via,
      startedOn: f.started_on,
      effectiveOn: f.effective_on,
      amount: money(BigInt(f.amount_minor), cur),
    }));
  for (const p of parts) push(p.invoice_id, (cur) => ({ kind: 'installment_part', dueOn: p.due_on, amount: money(BigInt(p.amount_minor), cur) }));
  for (const a of autopay) push(a.invoice_id, () => ({ kind: 'autopay', chargeOn: a.charge_on, methodKind: a.method_kind }));
  return out;
}

const toRecord = (r: Awaited<ReturnType<typeof paidHistory>>[number]): PaidRecord => ({
  invoiceId: r.id,
  clientId: r.client_id,
  dueOn: r.due_on,
  paidOn: r.paid_on,
  reminders: (r.reminders ?? []).map(([sentOn, offsetDays]) => ({ sentOn, offsetDays })),
});

export async function cashForecast(ctx: EngineContext, tenantId: string): Promise<CashForecast> {
  return withTenant(ctx.db, tenantId, async (tx) => {
    await sql`SET TRANSACTION READ ONLY`.execute(tx);
    const { timeZone, today, now } = await workspaceClock(tx, tenantId, ctx.now());
    const since = await sql<{ at: Date }>`SELECT (${addDays(today, -HISTORY_DAYS)}::date::timestamp AT TIME ZONE ${timeZone}::text) AS at`.execute(tx);
    const open = await openInvoices(tx);
    const paid = await paidHistory(tx, since.rows[0]!.at, timeZone);
    const inFlight = await achInFlight(tx, timeZone);
    const parts = await installmentParts(tx);
    const autopay = await autopaySchedules(tx);

    const history = new HistoryIndex(paid.map(toRecord));
    const byId = new Map(open.map((o) => [o.id, o]));
    const commitments = commitmentsByInvoice(inFlight, parts, autopay, byId);
    const invoices: ForecastInvoice[] = open.map((o) => {
      const p = predictInvoice(
        {
          invoiceId: o.id,
          clientId: o.client_id,
          open: money(BigInt(o.open_minor), parseCurrency(o.currency)),
          dueOn: o.due_on,
          remindersActive: o.reminders_active,
        },
        commitments.get(o.id) ?? [],
        history,
        today,
      );
      return { ...p, number: o.number, clientName: o.client_name, dueOn: o.due_on };
    });
    // earliest expected first, undatable last; each invoice's first day worked out once, not per comparison
    const firstDay = new Map(invoices.map((p) => [p.invoiceId, p.slices.reduce<string>((m, x) => (x.on !== null && x.on < m ? x.on : m), '9999-12-31')]));
    const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0); // not localeCompare: 100,000 rows
    invoices.sort((a, b) => cmp(firstDay.get(a.invoiceId)!, firstDay.get(b.invoiceId)!) || cmp(a.number, b.number));
    return {
      today,
      timeZone,
      generatedAt: now,
      currencies: forecastBuckets(invoices, today),
      accuracy: forecastAccuracy(history, today),
      historyInvoices: history.size,
      invoices,
    };
  });
}
