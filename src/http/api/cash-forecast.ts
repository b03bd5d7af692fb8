// GET /api/v1/reports/cash-forecast: the dashboard's cash forecast (engine/cash-forecast.ts) as JSON — the
// 30 / 60 / 90-day buckets per currency, the forecast's past accuracy, and each open invoice's prediction with
// the basis of every slice of its money (paged: `limit`, `offset`, earliest expected first). Amounts are strings
// of minor units; days are the workspace's (time_zone).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MIN_ACCURACY_COUNT } from '../../domain/forecast/accuracy.ts';
import { BASES, BASIS_LABELS, mainBasis } from '../../domain/forecast/predict.ts';
import { cashForecast, type CashForecast } from '../../engine/cash-forecast.ts';
import type { HttpDeps } from '../deps.ts';
import { callerOf } from './caller.ts';
import { minor } from './schemas.ts';

const basis = z.enum(BASES);
const forecastBody = z.object({
  today: z.string(),
  time_zone: z.string(),
  generated_at: z.string(),
  history_invoices: z.number().describe('paid invoices the history read (the last two years)'),
  bases: z.record(z.string(), z.string()).describe('what each basis means'),
  currencies: z.array(
    z.object({
      currency: z.string(),
      open_minor: minor,
      invoices: z.number(),
      buckets: z.array(
        z.object({
          key: z.enum(['d0_30', 'd31_60', 'd61_90', 'later', 'beyond']),
          label: z.string(),
          from: z.string().nullable(),
          to: z.string().nullable(),
          amount_minor: minor,
          invoices: z.number(),
        }),
      ),
    }),
  ),
  accuracy: z.object({
    window_from: z.string(),
    window_to: z.string().describe('today, not included'),
    paid: z.number().describe('invoices paid in the window'),
    count: z.number().describe('of them, predicted as of their due date (the error is over these)'),
    min_count: z.number(),
    mae_days: z.number().nullable().describe('mean absolute error in days; null below min_count'),
    by_basis: z.array(z.object({ basis, count: z.number(), mae_days: z.number() })),
  }),
  invoices: z.object({
    total: z.number(),
    offset: z.number(),
    limit: z.number(),
    items: z.array(
      z.object({
        invoice_id: z.string(),
        number: z.string(),
        client_id: z.string(),
        client_name: z.string(),
        currency: z.string(),
        due_on: z.string(),
        open_minor: minor,
        basis: basis.describe('the basis that predicted most of the money'),
        slices: z.array(
          z.object({ expected_on: z.string().nullable().describe('null: overdue beyond history'), amount_minor: minor, basis, detail: z.string() }),
        ),
      }),
    ),
  }),
});

export function cashForecastJson(f: CashForecast, offset: number, limit: number): z.infer<typeof forecastBody> {
  return {
    today: f.today,
    time_zone: f.timeZone,
    generated_at: f.generatedAt.toISOString(),
    history_invoices: f.historyInvoices,
    bases: BASIS_LABELS,
    currencies: f.currencies.map((c) => ({
      currency: c.currency,
      open_minor: c.open.amountMinor.toString(),
      invoices: c.invoices,
      buckets: c.buckets.map((b) => ({
        key: b.key,
        label: b.label,
        from: b.from,
        to: b.to,
        amount_minor: b.amount.amountMinor.toString(),
        invoices: b.invoices,
      })),
    })),
    accuracy: {
      window_from: f.accuracy.from,
      window_to: f.accuracy.to,
      paid: f.accuracy.paid,
      count: f.accuracy.count,
      min_count: MIN_ACCURACY_COUNT,
      mae_days: f.accuracy.maeDays,
      by_basis: f.accuracy.byBasis.map((b) => ({ basis: b.basis, count: b.count, mae_days: b.maeDays })),
    },
    invoices: {
      total: f.invoices.length,
      offset,
      limit,
      items: f.invoices.slice(offset, offset + limit).map((p) => ({
        invoice_id: p.invoiceId,
        number: p.number,
        client_id: p.clientId,
        client_name: p.clientName,
        currency: p.open.currency,
        due_on: p.dueOn,
        open_minor: p.open.amountMinor.toString(),
        basis: mainBasis(p),
        slices: p.slices.map((s) => ({ expected_on: s.on, amount_minor: s.amount.amountMinor.toString(), basis: s.basis, detail: s.detail })),
      })),
    },
  };
}

export function registerCashForecastRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/reports/cash-forecast',
    {
      schema: {
        tags: ['reports'],
        summary: 'Cash forecast: open money expected in the next 30 / 60 / 90 days per currency, its past accuracy, and each open invoice with its basis',
        querystring: z.object({
          limit: z.coerce.number().int().min(0).max(5000).default(500).describe('invoices per page (0 for the totals only)'),
          offset: z.coerce.number().int().min(0).default(0),
        }),
        response: { 200: forecastBody },
      },
    },
    async (req) => {
      const f = await cashForecast(deps.ctx, callerOf(req).tenantId);
      return cashForecastJson(f, req.query.offset, req.query.limit);
    },
  );
}
