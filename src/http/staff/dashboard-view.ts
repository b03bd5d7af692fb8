// What the A/R dashboard's view (views/dashboard.eta) shows, made from the figures (db/queries/ar-metrics.ts):
// money as text with its currency, ratios as days or percentages, and for each chart the Chart.js
// configuration (data only — staff.js draws it) beside the rows of the table that carries the same figures.
import { DSO_FORMULA, lastDayOf, type ArMetrics, type CurrencyFigures } from '../../db/queries/ar-metrics.ts';
import { format, money, parseCurrency, toDecimalString } from '../../domain/money.ts';

export interface Figure {
  readonly label: string;
  readonly value: string;
  readonly detail?: string;
}

export interface ChartView {
  readonly id: string;
  readonly config: unknown;
  readonly rows: ReadonlyArray<{ readonly label: string; readonly count: number; readonly amount: string }>;
}

export interface CurrencyView {
  readonly currency: string;
  readonly key: readonly Figure[];
  readonly dsoExplained: string;
  readonly aging: ChartView;
  readonly weeks: ChartView;
  readonly methods: ReadonlyArray<{ readonly label: string; readonly count: number; readonly amount: string; readonly share: string }>;
  readonly cards: ReadonlyArray<{ readonly title: string; readonly figures: readonly Figure[] }>;
}

const percent = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
const days = (x: number | null): string => (x === null ? '—' : `${x.toFixed(1)} days`);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** A major-unit number for the chart's axis only; the page's figures are the exact text beside it. */
const chartNumber = (minor: bigint, currency: string): number => Number(toDecimalString(money(minor, parseCurrency(currency))));

function currencyView(c: CurrencyFigures, m: ArMetrics): CurrencyView {
  const cur = parseCurrency(c.currency);
  const fmt = (minor: bigint): string => format(money(minor, cur));
  const end = m.period.asOf;
  const id = c.currency.toLowerCase();

  const agingRows = c.aging.map((a) => ({ label: a.label, count: a.count, amount: fmt(a.amountMinor) }));
  const weekRows = c.cashPerWeek.map((w) => ({ label: `Week of ${w.weekStart}`, count: w.count, amount: fmt(w.amountMinor) }));
  const barChart = (label: string, labels: string[], data: number[], colour: string) => ({
    type: 'bar',
    data: { labels, datasets: [{ label: `${label} (${c.currency})`, data, backgroundColor: colour }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
  });
  const totalCollected = c.collected.amountMinor;

  return {
    currency: c.currency,
    key: [
      { label: 'Open A/R now', value: fmt(c.openNow.amountMinor), detail: plural(c.openNow.count, 'open invoice') },
      { label: `Overdue on ${end}`, value: fmt(c.overdue.amountMinor), detail: plural(c.overdue.count, 'invoice') },
      { label: 'DSO', value: days(c.dso), detail: c.dso === null ? 'nothing invoiced in the period' : `over ${plural(m.period.days, 'day')}` },
      {
        label: 'Average days to pay',
        value: days(c.daysToPay.byCount),
        detail: `${days(c.daysToPay.byAmount)} weighted by amount; ${plural(c.daysToPay.invoices, 'invoice')} paid`,
      },
    ],
    dsoExplained:
      c.dso === null
        ? `${DSO_FORMULA}. Nothing was invoiced in ${c.currency} in the period, so there is no DSO.`
        : `${DSO_FORMULA}: ${fmt(c.openAtEndMinor)} open at the end of ${end} ÷ ${fmt(c.invoiced.amountMinor)} invoiced × ${plural(m.period.days, 'day')} = ${days(c.dso)}.`,
    aging: {
      id: `aging-${id}`,
      config: barChart(
        'Owed',
        c.aging.map((a) => a.label),
        c.aging.map((a) => chartNumber(a.amountMinor, c.currency)),
        '#1d4ed8',
      ),
      rows: agingRows,
    },
    weeks: {
      id: `weeks-${id}`,
      config: barChart(
        'Collected',
        c.cashPerWeek.map((w) => w.weekStart),
        c.cashPerWeek.map((w) => chartNumber(w.amountMinor, c.currency)),
        '#047857',
      ),
      rows: weekRows,
    },
    methods: c.methodMix.map((x) => ({
      label: x.label,
      count: x.count,
      amount: fmt(x.amountMinor),
      share: totalCollected > 0n ? percent(Number((x.amountMinor * 1000n) / totalCollected) / 1000) : '—',
    })),
    cards: [
      {
        title: 'Autopay coverage',
        figures: [
          {
            label: 'Open invoices on autopay',
            value: percent(c.autopay.invoiceShare),
            detail: `${c.autopay.openInvoicesOnAutopay} of ${c.autopay.openInvoices}`,
          },
          {
            label: 'Open amount on autopay',
            value: percent(c.autopay.amountShare),
            detail: `${fmt(c.autopay.openMinorOnAutopay)} of ${fmt(c.openNow.amountMinor)}`,
          },
          {
            label: 'Clients owing who are on autopay',
            value: percent(c.autopay.clientShare),
            detail: `${c.autopay.clientsOnAutopay} of ${c.autopay.clientsWithOpen}`,
          },
        ],
      },
      {
        title: 'Failed payments',
        figures: [
          {
            label: 'Failure rate',
            value: percent(c.failures.failureRate),
            detail: `${c.failures.failed} of ${plural(c.failures.attempted, 'payment')} failed (${fmt(c.failures.failedMinor)})`,
          },
          {
            label: 'Recovered',
            value: percent(c.failures.recoveryRate),
            detail: `${c.failures.recovered} of ${c.failures.failed} failed later paid by a retry or another payment (${fmt(c.failures.recoveredMinor)})`,
          },
        ],
      },
      {
        title: 'Fees and surcharges',
        figures: [
          {
            label: 'Processing fees paid',
            value: fmt(c.fees.feesMinor),
            ...(c.fees.feesUnknown > 0 ? { detail: `${plural(c.fees.feesUnknown, 'payment')} without a fee reported yet` } : {}),
          },
          { label: 'Surcharges collected', value: fmt(c.fees.surchargesMinor) },
          { label: 'Net cost of acceptance', value: fmt(c.fees.feesMinor - c.fees.surchargesMinor), detail: 'fees paid less surcharges collected' },
          ...(c.fees.achDiscountsMinor > 0n ? [{ label: 'ACH discounts given', value: fmt(c.fees.achDiscountsMinor) }] : []),
        ],
      },
      {
        title: 'Invoiced and collected',
        figures: [
          { label: 'Invoiced in the period', value: fmt(c.invoiced.amountMinor), detail: plural(c.invoiced.count, 'invoice') },
          { label: 'Cash collected', value: fmt(c.collected.amountMinor), detail: plural(c.collected.count, 'payment') },
          { label: `Open A/R at the end of ${end}`, value: fmt(c.openAtEndMinor) },
        ],
      },
    ],
  };
}

export interface DashboardView {
  readonly periodText: string;
  readonly measuredText: string | null;
  readonly currencies: readonly CurrencyView[];
}

export function dashboardView(m: ArMetrics): DashboardView {
  const last = lastDayOf(m.period);
  return {
    periodText: `${m.period.from} to ${last}`,
    measuredText: m.period.measuredTo !== m.period.to ? `Measured up to now (${m.period.today}, ${m.timeZone}).` : null,
    currencies: m.currencies.map((c) => currencyView(c, m)),
  };
}
