// The forecast as the dashboard shows it: per currency (never summed across currencies), the open money
// expected in the next 30 days, days 31–60, days 61–90, later than that, and "overdue beyond history" — money
// already later than any comparable invoice was paid, which no history can date. Exact Money throughout.
import { add, zero, type Currency, type Money } from '../money.ts';
import { addDays, type IsoDate } from '../rules/calendar-date.ts';
import type { InvoicePrediction } from './predict.ts';

export const BUCKETS = ['d0_30', 'd31_60', 'd61_90', 'later', 'beyond'] as const;
export type BucketKey = (typeof BUCKETS)[number];

export const BUCKET_LABELS: Record<BucketKey, string> = {
  d0_30: 'Next 30 days',
  d31_60: 'Days 31–60',
  d61_90: 'Days 61–90',
  later: 'Later than 90 days',
  beyond: 'Overdue beyond history',
};

export interface Bucket {
  readonly key: BucketKey;
  readonly label: string;
  /** First and last day of the bucket (inclusive), workspace-local; null for the open-ended ones. */
  readonly from: IsoDate | null;
  readonly to: IsoDate | null;
  readonly amount: Money;
  /** Invoices with money in the bucket (an invoice paid in parts can count in more than one). */
  readonly invoices: number;
}

export interface CurrencyForecast {
  readonly currency: Currency;
  readonly open: Money;
  readonly invoices: number;
  readonly buckets: readonly Bucket[];
}

/** Which bucket a day falls in, counted from `today` (day 0). Null = no day could be predicted. */
export function bucketOf(on: IsoDate | null, today: IsoDate): BucketKey {
  if (on === null) return 'beyond';
  if (on <= addDays(today, 30)) return 'd0_30';
  if (on <= addDays(today, 60)) return 'd31_60';
  if (on <= addDays(today, 90)) return 'd61_90';
  return 'later';
}

const RANGES: Record<BucketKey, [number, number] | null> = { d0_30: [0, 30], d31_60: [31, 60], d61_90: [61, 90], later: null, beyond: null };

export function forecastBuckets(predictions: readonly InvoicePrediction[], today: IsoDate): CurrencyForecast[] {
  const per = new Map<Currency, { open: Money; invoices: number; amounts: Map<BucketKey, Money>; ids: Map<BucketKey, Set<string>> }>();
  for (const p of predictions) {
    const c = p.open.currency;
    let acc = per.get(c);
    if (!acc) per.set(c, (acc = { open: zero(c), invoices: 0, amounts: new Map(), ids: new Map() }));
    acc.open = add(acc.open, p.open);
    acc.invoices += 1;
    for (const s of p.slices) {
      const k = bucketOf(s.on, today);
      acc.amounts.set(k, add(acc.amounts.get(k) ?? zero(c), s.amount));
      const ids = acc.ids.get(k) ?? new Set<string>();
      ids.add(p.invoiceId);
      acc.ids.set(k, ids);
    }
  }
  return [...per.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([currency, acc]) => ({
      currency,
      open: acc.open,
      invoices: acc.invoices,
      buckets: BUCKETS.map((key) => {
        const r = RANGES[key];
        return {
          key,
          label: BUCKET_LABELS[key],
          from: r ? addDays(today, r[0]) : key === 'later' ? addDays(today, 91) : null,
          to: r ? addDays(today, r[1]) : null,
          amount: acc.amounts.get(key) ?? zero(currency),
          invoices: acc.ids.get(key)?.size ?? 0,
        };
      }),
    }));
}
