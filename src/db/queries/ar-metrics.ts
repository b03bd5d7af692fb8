// The MSP's A/R figures for a period, one set per currency (never summed across currencies): what is owed,
// DSO, days to pay, aging, cash per week, method mix, autopay coverage, failures and recoveries, fees vs
// surcharges. Sums stay bigint minor units; ratios (DSO, averages, rates) are computed here, last, as plain
// numbers for display. The dashboard page and GET /api/v1/reports/ar both read this, so they agree.
import { addDays } from '../../domain/rules/calendar-date.ts';
import { localDate, type ReportPeriod } from '../../domain/report-period.ts';
import { workspaceTimezone } from '../../domain/timezone.ts';
import type { Tx } from '../tenant.ts';
import { collected, daysToPay, failures, invoiced, positions, type MethodGroup, type MetricsWindow, type PositionRow } from './ar-metrics-sql.ts';

export const DSO_FORMULA = 'DSO = open A/R at the end of the period ÷ amount invoiced in the period × days in the period';

export const AGING_BUCKETS = ['current', '1_30', '31_60', '61_90', '90_plus'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];
export const AGING_LABELS: Record<AgingBucket, string> = {
  current: 'Current',
  '1_30': '1–30 days',
  '31_60': '31–60 days',
  '61_90': '61–90 days',
  '90_plus': 'Over 90 days',
};

export const METHOD_GROUPS: readonly MethodGroup[] = ['card', 'ach', 'bank_ach', 'other'];
export const METHOD_LABELS: Record<MethodGroup, string> = { card: 'Card', ach: 'ACH (processor)', bank_ach: 'Bank ACH (NACHA)', other: 'Other' };

export interface CountAndAmount {
  readonly count: number;
  readonly amountMinor: bigint;
}

export interface CurrencyFigures {
  readonly currency: string;
  readonly openNow: CountAndAmount;
  readonly openAtEndMinor: bigint;
  readonly overdue: CountAndAmount;
  readonly invoiced: CountAndAmount;
  /** Days, one decimal; null when nothing was invoiced in the period. */
  readonly dso: number | null;
  readonly daysToPay: { readonly invoices: number; readonly byCount: number | null; readonly byAmount: number | null; readonly paidMinor: bigint };
  readonly aging: ReadonlyArray<{ readonly bucket: AgingBucket; readonly label: string } & CountAndAmount>;
  readonly cashPerWeek: ReadonlyArray<{ readonly weekStart: string } & CountAndAmount>;
  readonly collected: CountAndAmount;
  readonly methodMix: ReadonlyArray<{ readonly method: MethodGroup; readonly label: string } & CountAndAmount>;
  readonly autopay: {
    readonly openInvoices: number;
    readonly openInvoicesOnAutopay: number;
    readonly openMinorOnAutopay: bigint;
    /** Shares 0..1 (null when nothing is open). */
    readonly invoiceShare: number | null;
    readonly amountShare: number | null;
    readonly clientsWithOpen: number;
    readonly clientsOnAutopay: number;
    readonly clientShare: number | null;
  };
  readonly failures: {
    readonly attempted: number;
    readonly failed: number;
    readonly failedMinor: bigint;
    readonly recovered: number;
    readonly recoveredMinor: bigint;
    readonly failureRate: number | null;
    readonly recoveryRate: number | null;
  };
  readonly fees: { readonly feesMinor: bigint; readonly feesUnknown: number; readonly surchargesMinor: bigint; readonly achDiscountsMinor: bigint };
}

export interface ArMetrics {
  readonly period: ReportPeriod;
  readonly timeZone: string;
  readonly generatedAt: Date;
  readonly currencies: readonly CurrencyFigures[];
}

/** a / b as a number rounded to `digits` decimals; null when b is 0. Only for display: sums stay bigint. */
export function ratio(a: bigint, b: bigint, digits = 4): number | null {
  if (b === 0n) return null;
  const scale = 10n ** BigInt(digits);
  // round half away from zero in integers, then one division into a float for display
  const scaled = (a * scale * 2n + (a >= 0n === b > 0n ? b : -b)) / (2n * b);
  return Number(scaled) / Number(scale);
}

/** Mondays from the week holding `from` up to the one holding the last measured day, so empty weeks show as 0. */
export function weeksOf(from: string, measuredTo: string): string[] {
  if (measuredTo <= from) return [];
  const weekday = (new Date(`${from}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
  const out: string[] = [];
  for (let w = addDays(from, -weekday); w < measuredTo; w = addDays(w, 7)) out.push(w);
  return out;
}

const n = (v: bigint | number | string): number => Number(v);

function agingOf(p: PositionRow | undefined): CurrencyFigures['aging'] {
  const pick = (b: AgingBucket): CountAndAmount => {
    if (!p) return { count: 0, amountMinor: 0n };
    const key = b === 'current' ? 'current' : `d${b}`;
    const row = p as unknown as Record<string, bigint>;
    return { count: n(row[`${key}_count`] ?? 0n), amountMinor: BigInt(row[`${key}_minor`] ?? 0n) };
  };
  return AGING_BUCKETS.map((bucket) => ({ bucket, label: AGING_LABELS[bucket], ...pick(bucket) }));
}

export async function arMetrics(tx: Tx, period: ReportPeriod, timeZone: string, now: Date): Promise<ArMetrics> {
  const w: MetricsWindow = { timeZone, from: period.from, measuredTo: period.measuredTo, asOf: period.asOf, now };
  // One statement after another on the one connection of the transaction (a snapshot per statement is fine
  // for a dashboard; no statement depends on another's result).
  const pos = await positions(tx, w);
  const inv = await invoiced(tx, w);
  const dtp = await daysToPay(tx, w);
  const col = period.days > 0 ? await collected(tx, w) : [];
  const fail = period.days > 0 ? await failures(tx, w) : [];

  const currencies = [...new Set([...pos, ...inv, ...dtp, ...col, ...fail].map((r) => r.currency))].sort();
  const weeks = weeksOf(period.from, period.measuredTo);
  const days = BigInt(period.days);

  const figures = currencies.map((currency): CurrencyFigures => {
    const p = pos.find((r) => r.currency === currency);
    const i = inv.find((r) => r.currency === currency);
    const d = dtp.find((r) => r.currency === currency);
    const f = fail.find((r) => r.currency === currency);
    const c = col.filter((r) => r.currency === currency);
    const openAtEnd = p?.open_end_minor ?? 0n;
    const invoicedMinor = i?.invoiced_minor ?? 0n;
    const sumOf = (rows: typeof c): CountAndAmount => ({
      count: rows.reduce((s, r) => s + n(r.payment_count), 0),
      amountMinor: rows.reduce((s, r) => s + r.amount_minor, 0n),
    });
    const openCount = n(p?.open_now_count ?? 0n);
    const openNowMinor = p?.open_now_minor ?? 0n;
    const failed = f?.failed_count ?? 0n;
    return {
      currency,
      openNow: { count: openCount, amountMinor: openNowMinor },
      openAtEndMinor: openAtEnd,
      overdue: { count: n(p?.overdue_end_count ?? 0n), amountMinor: p?.overdue_end_minor ?? 0n },
      invoiced: { count: n(i?.invoiced_count ?? 0n), amountMinor: invoicedMinor },
      dso: ratio(openAtEnd * days, invoicedMinor, 1),
      daysToPay: {
        invoices: n(d?.paid_count ?? 0n),
        byCount: ratio(d?.days_sum ?? 0n, d?.paid_count ?? 0n, 1),
        byAmount: ratio(d?.weighted_days_sum ?? 0n, d?.paid_total_minor ?? 0n, 1),
        paidMinor: d?.paid_total_minor ?? 0n,
      },
      aging: agingOf(p),
      cashPerWeek: weeks.map((weekStart) => ({ weekStart, ...sumOf(c.filter((r) => r.week_start === weekStart)) })),
      collected: sumOf(c),
      methodMix: METHOD_GROUPS.map((method) => ({ method, label: METHOD_LABELS[method], ...sumOf(c.filter((r) => r.method === method)) })),
      autopay: {
        openInvoices: openCount,
        openInvoicesOnAutopay: n(p?.autopay_open_count ?? 0n),
        openMinorOnAutopay: p?.autopay_open_minor ?? 0n,
        invoiceShare: ratio(p?.autopay_open_count ?? 0n, p?.open_now_count ?? 0n),
        amountShare: ratio(p?.autopay_open_minor ?? 0n, openNowMinor > 0n ? openNowMinor : 0n),
        clientsWithOpen: n(p?.clients_open ?? 0n),
        clientsOnAutopay: n(p?.clients_open_autopay ?? 0n),
        clientShare: ratio(p?.clients_open_autopay ?? 0n, p?.clients_open ?? 0n),
      },
      failures: {
        attempted: n(f?.attempted_count ?? 0n),
        failed: n(failed),
        failedMinor: f?.failed_minor ?? 0n,
        recovered: n(f?.recovered_count ?? 0n),
        recoveredMinor: f?.recovered_minor ?? 0n,
        failureRate: ratio(failed, f?.attempted_count ?? 0n),
        recoveryRate: ratio(f?.recovered_count ?? 0n, failed),
      },
      fees: {
        feesMinor: c.reduce((s, r) => s + r.fee_minor, 0n),
        feesUnknown: c.reduce((s, r) => s + n(r.fee_unknown_count), 0),
        surchargesMinor: c.reduce((s, r) => s + r.surcharge_minor, 0n),
        achDiscountsMinor: c.reduce((s, r) => s + r.discount_minor, 0n),
      },
    };
  });
  return { period, timeZone, generatedAt: now, currencies: figures };
}

/** Last day of the period as people say it (the period's `to` is exclusive). */
export function lastDayOf(period: ReportPeriod): string {
  return addDays(period.to, -1);
}

/** The workspace's timezone (tenants.settings.timezone) and what day it is there now. */
export async function workspaceClock(tx: Tx, tenantId: string, now: Date): Promise<{ timeZone: string; today: string; now: Date }> {
  const t = await tx.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirstOrThrow();
  const timeZone = workspaceTimezone(t.settings as Record<string, unknown>);
  return { timeZone, today: localDate(now, timeZone), now };
}
