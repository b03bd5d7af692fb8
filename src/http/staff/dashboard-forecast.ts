// Staff → Dashboard → Cash forecast (engine/cash-forecast.ts): the open money expected in the next 30 / 60 /
// 90 days per currency, what is overdue beyond what history can date, how each was predicted, and how far off
// the forecast has been. The dashboard loads the panel after the page (hx-get on load: the forecast reads the
// whole open book, and the page must not wait for it); without JavaScript the panel's link opens it as a page.
// The CSV has one row per slice of an invoice's money, with its expected day and basis.
//   GET /app/forecast        the panel (htmx) or the page      (viewer)
//   GET /app/forecast.csv    every open invoice's prediction    (viewer)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MIN_ACCURACY_COUNT } from '../../domain/forecast/accuracy.ts';
import { BUCKETS } from '../../domain/forecast/buckets.ts';
import { BASES, BASIS_LABELS, mainBasis, type Basis } from '../../domain/forecast/predict.ts';
import { format, toDecimalString } from '../../domain/money.ts';
import { cashForecast, type CashForecast } from '../../engine/cash-forecast.ts';
import { callerOf } from '../api/caller.ts';
import type { HttpDeps } from '../deps.ts';
import { csvText } from './invoices-csv.ts';
import { renderStaff } from './view.ts';

const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export interface ForecastView {
  readonly today: string;
  readonly timeZone: string;
  readonly currencies: ReadonlyArray<{
    readonly currency: string;
    readonly open: string;
    readonly invoices: string;
    readonly rows: ReadonlyArray<{ readonly key: string; readonly label: string; readonly days: string; readonly amount: string; readonly invoices: number }>;
  }>;
  /** The accuracy as a sentence: a figure with its count, or plainly that there is too little history. */
  readonly accuracy: { readonly figure: string | null; readonly text: string };
  readonly bases: ReadonlyArray<{ readonly label: string; readonly invoices: number }>;
}

export function forecastView(f: CashForecast): ForecastView {
  const a = f.accuracy;
  const paidText = `${plural(a.count, 'invoice')} paid from ${a.from} to yesterday, each predicted as of its due date from what was known before it`;
  const accuracy =
    a.maeDays === null
      ? {
          figure: null,
          text: `Too little history to measure the forecast's accuracy yet: ${plural(a.count, 'invoice')} paid in the last 90 days could be predicted, and at least ${MIN_ACCURACY_COUNT} are needed.`,
        }
      : { figure: `${a.maeDays.toFixed(1)} days`, text: `Mean absolute error over ${paidText}.` };
  const counts = new Map<Basis, number>();
  for (const p of f.invoices) counts.set(mainBasis(p), (counts.get(mainBasis(p)) ?? 0) + 1);
  return {
    today: f.today,
    timeZone: f.timeZone,
    currencies: f.currencies.map((c) => ({
      currency: c.currency,
      open: format(c.open),
      invoices: plural(c.invoices, 'open invoice'),
      rows: c.buckets.map((b) => ({
        key: b.key,
        label: b.label,
        days: b.from && b.to ? `${b.from} to ${b.to}` : b.from ? `from ${b.from}` : 'no day predicted',
        amount: format(b.amount),
        invoices: b.invoices,
      })),
    })),
    accuracy,
    bases: BASES.filter((b) => counts.has(b)).map((b) => ({ label: BASIS_LABELS[b], invoices: counts.get(b)! })),
  };
}

export const FORECAST_CSV_HEADER = ['Invoice', 'Client', 'Currency', 'Due', 'Open', 'Expected on', 'Amount', 'Basis', 'Why'] as const;

/** One line per slice of each invoice's open money; amounts as decimals beside their currency. */
export function forecastCsv(f: CashForecast): string {
  const lines = [FORECAST_CSV_HEADER.join(',')];
  for (const p of f.invoices)
    for (const s of p.slices)
      lines.push(
        [
          csvText(p.number),
          csvText(p.clientName),
          p.open.currency,
          p.dueOn,
          toDecimalString(p.open),
          s.on ?? 'overdue beyond history',
          toDecimalString(s.amount),
          csvText(BASIS_LABELS[s.basis]),
          csvText(s.detail),
        ].join(','),
      );
  return `${lines.join('\r\n')}\r\n`;
}

async function panel(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps): Promise<FastifyReply> {
  const f = await cashForecast(deps.ctx, callerOf(req).tenantId);
  const fragment = req.headers['hx-request'] === 'true';
  return renderStaff(req, reply, fragment ? 'forecast-panel' : 'forecast', {
    title: 'Cash forecast',
    forecast: forecastView(f),
    buckets: BUCKETS,
    asPage: !fragment,
  });
}

async function csv(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps): Promise<FastifyReply> {
  const f = await cashForecast(deps.ctx, callerOf(req).tenantId);
  return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="cash-forecast-${f.today}.csv"`).send(forecastCsv(f));
}

export function registerForecastRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/app/forecast', { schema: { hide: true } }, (req, reply) => panel(req, reply, deps));
  app.get('/app/forecast.csv', { schema: { hide: true } }, (req, reply) => csv(req, reply, deps));
}
