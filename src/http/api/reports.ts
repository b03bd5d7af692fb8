// GET /api/v1/reports/ar: the A/R dashboard's figures (db/queries/ar-metrics.ts) as JSON, so the API and the
// page agree. Same period rules as the page: a preset, or `from` and `to` as the first and last day (both
// included) in the workspace's timezone. Amounts are strings of minor units; ratios are numbers.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { arMetrics, DSO_FORMULA, lastDayOf, workspaceClock, type ArMetrics } from '../../db/queries/ar-metrics.ts';
import { withTenant } from '../../db/tenant.ts';
import { PERIOD_PRESETS, PeriodError, resolvePeriod } from '../../domain/report-period.ts';
import { UseCaseError } from '../../engine/context.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { errorBody, minor } from './schemas.ts';

const countAndAmount = z.object({ count: z.number(), amount_minor: minor });
const rate = z.number().nullable();

const currencyFigures = z.object({
  currency: z.string(),
  open_now: countAndAmount,
  open_at_end_minor: minor,
  overdue: countAndAmount,
  invoiced: countAndAmount,
  dso_days: rate,
  days_to_pay: z.object({ invoices: z.number(), by_count: rate, by_amount: rate, paid_minor: minor }),
  aging: z.array(z.object({ bucket: z.string(), label: z.string(), count: z.number(), amount_minor: minor })),
  cash_per_week: z.array(z.object({ week_start: z.string(), count: z.number(), amount_minor: minor })),
  collected: countAndAmount,
  method_mix: z.array(z.object({ method: z.string(), label: z.string(), count: z.number(), amount_minor: minor })),
  autopay: z.object({
    open_invoices: z.number(),
    open_invoices_on_autopay: z.number(),
    open_minor_on_autopay: minor,
    invoice_share: rate,
    amount_share: rate,
    clients_with_open: z.number(),
    clients_on_autopay: z.number(),
    client_share: rate,
  }),
  failures: z.object({
    attempted: z.number(),
    failed: z.number(),
    failed_minor: minor,
    recovered: z.number(),
    recovered_minor: minor,
    failure_rate: rate,
    recovery_rate: rate,
  }),
  fees: z.object({ fees_minor: minor, fees_unknown: z.number(), surcharges_minor: minor, ach_discounts_minor: minor }),
});

const report = z.object({
  period: z.object({
    preset: z.enum(PERIOD_PRESETS),
    from: z.string(),
    last_day: z.string(),
    measured_until: z.string().describe('first day not measured: the day after the last day, or tomorrow for a period reaching past today'),
    days: z.number(),
    as_of: z.string().describe('the day aging and overdue are judged on'),
    time_zone: z.string(),
  }),
  dso_formula: z.string(),
  currencies: z.array(currencyFigures),
});

const s = (v: bigint): string => v.toString();
const ca = (v: { count: number; amountMinor: bigint }) => ({ count: v.count, amount_minor: s(v.amountMinor) });

export function arReportJson(m: ArMetrics): z.infer<typeof report> {
  return {
    period: {
      preset: m.period.preset,
      from: m.period.from,
      last_day: lastDayOf(m.period),
      measured_until: m.period.measuredTo,
      days: m.period.days,
      as_of: m.period.asOf,
      time_zone: m.timeZone,
    },
    dso_formula: DSO_FORMULA,
    currencies: m.currencies.map((c) => ({
      currency: c.currency,
      open_now: ca(c.openNow),
      open_at_end_minor: s(c.openAtEndMinor),
      overdue: ca(c.overdue),
      invoiced: ca(c.invoiced),
      dso_days: c.dso,
      days_to_pay: { invoices: c.daysToPay.invoices, by_count: c.daysToPay.byCount, by_amount: c.daysToPay.byAmount, paid_minor: s(c.daysToPay.paidMinor) },
      aging: c.aging.map((a) => ({ bucket: a.bucket, label: a.label, ...ca(a) })),
      cash_per_week: c.cashPerWeek.map((w) => ({ week_start: w.weekStart, ...ca(w) })),
      collected: ca(c.collected),
      method_mix: c.methodMix.map((x) => ({ method: x.method, label: x.label, ...ca(x) })),
      autopay: {
        open_invoices: c.autopay.openInvoices,
        open_invoices_on_autopay: c.autopay.openInvoicesOnAutopay,
        open_minor_on_autopay: s(c.autopay.openMinorOnAutopay),
        invoice_share: c.autopay.invoiceShare,
        amount_share: c.autopay.amountShare,
        clients_with_open: c.autopay.clientsWithOpen,
        clients_on_autopay: c.autopay.clientsOnAutopay,
        client_share: c.autopay.clientShare,
      },
      failures: {
        attempted: c.failures.attempted,
        failed: c.failures.failed,
        failed_minor: s(c.failures.failedMinor),
        recovered: c.failures.recovered,
        recovered_minor: s(c.failures.recoveredMinor),
        failure_rate: c.failures.failureRate,
        recovery_rate: c.failures.recoveryRate,
      },
      fees: {
        fees_minor: s(c.fees.feesMinor),
        fees_unknown: c.fees.feesUnknown,
        surcharges_minor: s(c.fees.surchargesMinor),
        ach_discounts_minor: s(c.fees.achDiscountsMinor),
      },
    })),
  };
}

export function registerReportRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/reports/ar',
    {
      schema: {
        tags: ['reports'],
        summary: "A/R figures per currency for a period in the workspace's timezone (the staff dashboard's figures)",
        querystring: z.object({
          period: z.enum(PERIOD_PRESETS).optional().describe('default this_month; custom when from/to are given'),
          from: z.string().optional().describe('first day of the period, YYYY-MM-DD'),
          to: z.string().optional().describe('last day of the period, YYYY-MM-DD, included'),
        }),
        response: { 200: report, 422: errorBody },
      },
    },
    async (req) => {
      const caller = callerOf(req);
      const m = await withTenant(deps.ctx.db, caller.tenantId, async (tx) => {
        const { timeZone, today, now } = await workspaceClock(tx, caller.tenantId, deps.ctx.now());
        let period;
        try {
          period = resolvePeriod({ preset: req.query.period, from: req.query.from, lastDay: req.query.to }, today);
        } catch (e) {
          if (e instanceof PeriodError) throw new UseCaseError('invalid', `${e.field}: ${e.message}`);
          throw e;
        }
        return arMetrics(tx, period, timeZone, now);
      });
      return arReportJson(m);
    },
  );
}
