import { describe, expect, it } from 'vitest';
import { money } from '../money.ts';
import { addDays } from '../rules/calendar-date.ts';
import { forecastAccuracy } from './accuracy.ts';
import { forecastBuckets } from './buckets.ts';
import { HistoryIndex, type PaidRecord } from './history.ts';
import type { InvoicePrediction } from './predict.ts';

const rec = (id: string, client: string, due: string, late: number): PaidRecord => ({
  invoiceId: id,
  clientId: client,
  dueOn: due,
  paidOn: addDays(due, late),
  reminders: [],
});

describe('forecastAccuracy', () => {
  it('predicts each invoice paid in the window as of its due date and averages the errors (by hand)', () => {
    // Old history of client a: 4, 6, 8 days late -> weighted median 6 (equal-ish weights, middle value).
    const old = [rec('a1', 'a', '2026-01-05', 4), rec('a2', 'a', '2026-01-10', 6), rec('a3', 'a', '2026-01-15', 8)];
    // Paid in the window (today 2026-06-01, window from 2026-03-03):
    //  a4 due 2026-04-01, paid +10: as of 04-01 the history is a1..a3 -> predicted +6 -> error 4
    //  a5 due 2026-05-01, paid +2: as of 05-01 history a1..a4 (4,6,8,10): weights favour a4 (recent) -> median 8?
    const a4 = rec('a4', 'a', '2026-04-01', 10);
    const a5 = rec('a5', 'a', '2026-05-01', 2);
    const h = new HistoryIndex([...old, a4, a5]);
    const acc = forecastAccuracy(h, '2026-06-01', 90, 1);
    // a5 by hand: ages on 05-01 of a1 (paid 01-09) 112, a2 (01-16) 105, a3 (01-23) 98, a4 (04-11) 20 days;
    // weights 0.5^(age/180): .650, .667, .686, .926; total 2.929, half 1.464; by value 4 (.650), 6 (1.317), 8 (2.003) -> 8.
    // error |8 - 2| = 6. MAE = (4 + 6) / 2 = 5.0
    expect(acc).toMatchObject({ from: '2026-03-03', to: '2026-06-01', paid: 2, count: 2, maeDays: 5 });
    expect(acc.byBasis).toEqual([{ basis: 'client_history', count: 2, maeDays: 5 }]);
  });

  it('never reads what was paid on or after the due date it predicts from (no look-ahead)', () => {
    const old = [rec('a1', 'a', '2026-01-05', 0), rec('a2', 'a', '2026-01-10', 0), rec('a3', 'a', '2026-01-15', 0)];
    // b is due 04-01 and paid 04-21; later invoices of the same client paid 60 days late (after 04-01) must not
    // move b's prediction: as of 04-01 the client paid on time, so b is predicted 04-01, error 20.
    const later = [rec('a6', 'a', '2026-03-20', 60), rec('a7', 'a', '2026-03-25', 60), rec('a8', 'a', '2026-03-28', 60)];
    const b = rec('b', 'a', '2026-04-01', 20);
    const acc = forecastAccuracy(new HistoryIndex([...old, ...later, b]), '2026-06-01', 90, 1);
    // later ones paid 05-19, 05-24, 05-27 are in the window too, each predicted from what preceded its own due date
    const onlyB = forecastAccuracy(new HistoryIndex([...old, b]), '2026-06-01', 90, 1);
    expect(onlyB).toMatchObject({ count: 1, maeDays: 20 });
    expect(acc.count).toBe(4);
    // with look-ahead, b would have read the 60-days-late ones; its own error stays 20: a6..a8 as of 03-20..03-28
    // read only a1..a3 (paid on time) -> each error 60. MAE = (20 + 60 * 3) / 4 = 50
    expect(acc.maeDays).toBe(50);
  });

  it('says nothing as a figure below the minimum count', () => {
    const acc = forecastAccuracy(new HistoryIndex([rec('x', 'a', '2026-05-01', 3)]), '2026-06-01');
    expect(acc).toMatchObject({ paid: 1, count: 1, maeDays: null });
  });
});

describe('forecastBuckets', () => {
  const usd = (n: bigint) => money(n, 'USD');
  const pred = (id: string, currency: 'USD' | 'CAD', parts: Array<[string | null, bigint]>): InvoicePrediction => ({
    invoiceId: id,
    clientId: 'c',
    open: money(
      parts.reduce((s, [, a]) => s + a, 0n),
      currency,
    ),
    slices: parts.map(([on, a]) => ({ on, amount: money(a, currency), basis: 'terms', detail: '' })),
  });
  it('sums exact minor units per currency into 30/60/90/later/beyond, day 30 in the first', () => {
    const f = forecastBuckets(
      [
        pred('1', 'USD', [
          ['2026-06-01', 1n],
          ['2026-07-01', 10n],
        ]),
        pred('2', 'USD', [['2026-07-02', 100n]]),
        pred('3', 'USD', [
          ['2026-08-30', 1000n],
          ['2026-08-31', 10000n],
        ]),
        pred('4', 'USD', [[null, 100000n]]),
        pred('5', 'CAD', [['2026-06-02', 7n]]),
      ],
      '2026-06-01',
    );
    expect(f.map((c) => c.currency)).toEqual(['CAD', 'USD']);
    const u = f[1]!;
    expect(u.open).toEqual(usd(111111n));
    expect(u.buckets.map((b) => [b.key, b.amount.amountMinor, b.invoices])).toEqual([
      ['d0_30', 11n, 1],
      ['d31_60', 100n, 1],
      ['d61_90', 1000n, 1],
      ['later', 10000n, 1],
      ['beyond', 100000n, 1],
    ]);
    expect(f[0]!.buckets[0]!.amount).toEqual(money(7n, 'CAD'));
  });
});
