// The A/R dashboard's figures over a small book whose every figure is worked out by hand below: two
// currencies, a workspace in Chicago (a payment at 23:30 on the last evening of February is February's), an
// invoice paid in two parts, a failed card charge recovered by its retry, a failure never recovered, an
// invoice paid only in the PSA and one voided after the period, a payment allocated but not yet written back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import { insertInvoice, insertPayment, type InvoiceSpec, type PaymentSpec } from '../helpers/ar-book.ts';
import { arMetrics, type CurrencyFigures } from '../../src/db/queries/ar-metrics.ts';
import { resolvePeriod } from '../../src/domain/report-period.ts';

const TZ = 'America/Chicago';
const NOW = new Date('2026-03-10T18:00:00Z'); // 13:00 in Chicago, 2026-03-10

let t: TestDatabase;
let tenant: string;
const invoice = (tx: Tx, spec: InvoiceSpec) => insertInvoice(tx, tenant, spec);
const payment = (tx: Tx, spec: PaymentSpec) => insertPayment(tx, tenant, spec);

beforeAll(async () => {
  t = await createTestDatabase();
  tenant = (
    await t.db
      .insertInto('tenants')
      .values({ slug: 'ar-book', name: 'AR Book MSP', settings: JSON.stringify({ timezone: TZ }) as never })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  await withTenant(t.db, tenant, async (tx) => {
    const [a, b] = await tx
      .insertInto('clients')
      .values([
        { tenant_id: tenant, name: 'Autopay Dental', identifier: 'AUTO', autopay_enabled: true },
        { tenant_id: tenant, name: 'Manual Law', identifier: 'MANU' },
      ])
      .returning('id')
      .execute()
      .then((rows) => rows.map((x) => x.id));
    const A = a!;
    const B = b!;

    // I1: paid in two parts in February, the second completing it (41 days after issue).
    const i1 = await invoice(tx, {
      client: A,
      number: 'I1',
      total: 100000n,
      psaBalance: 0n,
      paid: 100000n,
      status: 'paid',
      issued: '2026-01-10',
      due: '2026-01-25',
      psaUpdatedAt: '2026-02-20T17:00:00Z',
    });
    await payment(tx, { client: A, amount: 50000n, state: 'succeeded', at: '2026-02-05T16:00:00Z', kind: 'card', fee: 1480n, pays: [[i1, 50000n]] });
    await payment(tx, {
      client: A,
      amount: 51500n,
      surcharge: 1500n,
      state: 'succeeded',
      at: '2026-02-20T16:00:00Z',
      kind: 'card',
      fee: 1525n,
      pays: [[i1, 50000n]],
    });

    // I2: open, 11 days late at the end of February; a bank debit on it failed and nothing recovered it.
    const i2 = await invoice(tx, {
      client: A,
      number: 'I2',
      total: 40000n,
      psaBalance: 40000n,
      status: 'open',
      issued: '2026-02-03',
      due: '2026-02-17',
      psaUpdatedAt: '2026-02-03T15:00:00Z',
    });
    await payment(tx, {
      client: A,
      amount: 40000n,
      state: 'failed',
      at: '2026-02-18T15:00:00Z',
      kind: 'us_bank_account',
      failureCode: 'insufficient_funds',
      pays: [[i2, 40000n]],
    });

    // I3: issued in February, paid on 2 March (after the period): owed in full at the end of February.
    const i3 = await invoice(tx, {
      client: A,
      number: 'I3',
      total: 60000n,
      psaBalance: 60000n,
      paid: 60000n,
      status: 'paid',
      issued: '2026-02-10',
      due: '2026-03-12',
      psaUpdatedAt: '2026-02-10T15:00:00Z',
    });
    await payment(tx, { client: A, amount: 60000n, state: 'succeeded', at: '2026-03-02T10:00:00Z', kind: 'card', fee: 1770n, pays: [[i3, 60000n]] });

    // I4: from November, partly paid in February by a Stripe bank debit not yet written back to the PSA
    // (the PSA still says 250.00; 150.00 is owed). 105 days late at the end of February.
    const i4 = await invoice(tx, {
      client: B,
      number: 'I4',
      total: 25000n,
      psaBalance: 25000n,
      paid: 10000n,
      status: 'partially_paid',
      issued: '2025-11-01',
      due: '2025-11-15',
      psaUpdatedAt: '2025-11-01T15:00:00Z',
    });
    await payment(tx, { client: B, amount: 10000n, state: 'succeeded', at: '2026-02-25T12:00:00Z', kind: 'us_bank_account', fee: 80n, pays: [[i4, 10000n]] });

    // I5: issued on the last day of February and paid by bank ACH at 23:30 that evening in Chicago
    // (05:30 UTC on 1 March): February's cash, 0 days to pay.
    const i5 = await invoice(tx, {
      client: B,
      number: 'I5',
      total: 30000n,
      psaBalance: 0n,
      paid: 30000n,
      status: 'paid',
      issued: '2026-02-28',
      due: '2026-03-30',
      psaUpdatedAt: '2026-03-01T07:00:00Z',
    });
    await payment(tx, {
      client: B,
      amount: 30000n,
      state: 'succeeded',
      at: '2026-03-01T05:30:00Z',
      processor: 'bank-ach',
      kind: 'us_bank_account',
      fee: null,
      pays: [[i5, 30000n]],
    });

    // I6: voided in January's PSA changes (before the period's end): never owed at the end.
    await invoice(tx, {
      client: A,
      number: 'I6',
      total: 20000n,
      psaBalance: 0n,
      status: 'void',
      issued: '2026-01-05',
      due: '2026-01-20',
      psaUpdatedAt: '2026-02-10T15:00:00Z',
    });
    // I7: issued in February, voided on 5 March: owed at the end of February, but not a sale.
    await invoice(tx, {
      client: B,
      number: 'I7',
      total: 5000n,
      psaBalance: 0n,
      status: 'void',
      issued: '2026-02-12',
      due: '2026-03-14',
      psaUpdatedAt: '2026-03-05T15:00:00Z',
    });

    // I8: a card charge declined on the 16th, its retry succeeded on the 19th (4 days to pay).
    const i8 = await invoice(tx, {
      client: A,
      number: 'I8',
      total: 50000n,
      psaBalance: 0n,
      paid: 50000n,
      status: 'paid',
      issued: '2026-02-15',
      due: '2026-03-01',
      psaUpdatedAt: '2026-02-19T16:00:00Z',
    });
    await payment(tx, { client: A, amount: 50000n, state: 'failed', at: '2026-02-16T15:00:00Z', kind: 'card', pays: [[i8, 50000n]] });
    await payment(tx, { client: A, amount: 50000n, state: 'succeeded', at: '2026-02-19T15:00:00Z', kind: 'card', fee: 1480n, pays: [[i8, 50000n]] });

    // I9: paid by cheque recorded only in the PSA on 3 March: owed at the end of February (8 days late).
    await invoice(tx, {
      client: B,
      number: 'I9',
      total: 10000n,
      psaBalance: 0n,
      status: 'paid',
      issued: '2026-02-05',
      due: '2026-02-20',
      psaUpdatedAt: '2026-03-03T15:00:00Z',
    });

    // A portal checkout the client replaced before paying: not an attempt.
    await payment(tx, {
      client: B,
      amount: 30000n,
      state: 'failed',
      at: '2026-02-22T15:00:00Z',
      kind: 'card',
      failureCode: 'checkout_canceled',
      pays: [[i5, 30000n]],
    });

    // CAD: C1 open and not yet due; C2 paid by card 21 days after issue.
    await invoice(tx, {
      client: B,
      number: 'C1',
      currency: 'CAD',
      total: 80000n,
      psaBalance: 80000n,
      status: 'open',
      issued: '2026-02-02',
      due: '2026-03-04',
      psaUpdatedAt: '2026-02-02T15:00:00Z',
    });
    const c2 = await invoice(tx, {
      client: A,
      number: 'C2',
      currency: 'CAD',
      total: 20000n,
      psaBalance: 0n,
      paid: 20000n,
      status: 'paid',
      issued: '2026-01-20',
      due: '2026-02-19',
      psaUpdatedAt: '2026-02-10T21:00:00Z',
    });
    await payment(tx, {
      client: A,
      currency: 'CAD',
      amount: 20000n,
      state: 'succeeded',
      at: '2026-02-10T20:00:00Z',
      kind: 'card',
      fee: 610n,
      pays: [[c2, 20000n]],
    });
  });
});
afterAll(async () => t?.drop());

async function figures(period: Parameters<typeof resolvePeriod>[0]): Promise<Map<string, CurrencyFigures>> {
  const p = resolvePeriod(period, '2026-03-10');
  const m = await withTenant(t.db, tenant, (tx) => arMetrics(tx, p, TZ, NOW));
  return new Map(m.currencies.map((c) => [c.currency, c]));
}

describe('A/R figures for February 2026 (last month, seen on 10 March in Chicago)', () => {
  let usd: CurrencyFigures;
  let cad: CurrencyFigures;
  beforeAll(async () => {
    const f = await figures({ preset: 'last_month' });
    expect([...f.keys()]).toEqual(['CAD', 'USD']);
    usd = f.get('USD')!;
    cad = f.get('CAD')!;
  });

  it('open A/R now: open invoices less a payment allocated but not yet in the PSA', () => {
    expect(usd.openNow).toEqual({ count: 2, amountMinor: 55000n }); // I2 400.00 + I4 150.00
    expect(cad.openNow).toEqual({ count: 1, amountMinor: 80000n });
  });

  it('open A/R at the end of February, rolled back from now', () => {
    // I2 400 + I4 150 + I3 600 (paid 2 March) + I9 100 (paid in the PSA 3 March) + I7 50 (voided 5 March)
    expect(usd.openAtEndMinor).toBe(130000n);
    expect(cad.openAtEndMinor).toBe(80000n);
  });

  it('overdue and aging on 28 February', () => {
    expect(usd.overdue).toEqual({ count: 3, amountMinor: 65000n });
    expect(usd.aging.map((a) => [a.bucket, a.count, a.amountMinor])).toEqual([
      ['current', 2, 65000n], // I3, I7
      ['1_30', 2, 50000n], // I2 (11 days), I9 (8 days)
      ['31_60', 0, 0n],
      ['61_90', 0, 0n],
      ['90_plus', 1, 15000n], // I4 (105 days)
    ]);
    expect(cad.overdue).toEqual({ count: 0, amountMinor: 0n });
    expect(cad.aging[0]).toMatchObject({ bucket: 'current', count: 1, amountMinor: 80000n });
  });

  it('invoiced in the period and DSO = open at end ÷ invoiced × days', () => {
    expect(usd.invoiced).toEqual({ count: 5, amountMinor: 190000n }); // I2, I3, I5, I8, I9 (not the voided I7)
    expect(usd.dso).toBe(19.2); // 1300 / 1900 × 28 = 19.157…
    expect(cad.invoiced).toEqual({ count: 1, amountMinor: 80000n });
    expect(cad.dso).toBe(28);
  });

  it('days to pay, to the payment that completed the invoice, by count and by amount', () => {
    // I1 41 days (second part), I5 0 days (23:30 Chicago on the day of issue), I8 4 days
    expect(usd.daysToPay).toEqual({ invoices: 3, byCount: 15, byAmount: 23.9, paidMinor: 180000n });
    expect(cad.daysToPay).toEqual({ invoices: 1, byCount: 21, byAmount: 21, paidMinor: 20000n });
  });

  it('cash collected per week (Mondays, Chicago), with the evening payment in February', () => {
    expect(usd.cashPerWeek.map((w) => [w.weekStart, w.count, w.amountMinor])).toEqual([
      ['2026-01-26', 0, 0n],
      ['2026-02-02', 1, 50000n],
      ['2026-02-09', 0, 0n],
      ['2026-02-16', 2, 101500n],
      ['2026-02-23', 2, 40000n],
    ]);
    expect(usd.collected).toEqual({ count: 5, amountMinor: 191500n });
    expect(cad.cashPerWeek.find((w) => w.weekStart === '2026-02-09')).toMatchObject({ count: 1, amountMinor: 20000n });
  });

  it('payment-method mix', () => {
    expect(usd.methodMix.map((m) => [m.method, m.count, m.amountMinor])).toEqual([
      ['card', 3, 151500n],
      ['ach', 1, 10000n],
      ['bank_ach', 1, 30000n],
      ['other', 0, 0n],
    ]);
  });

  it('autopay coverage of what is open now', () => {
    expect(usd.autopay).toEqual({
      openInvoices: 2,
      openInvoicesOnAutopay: 1,
      openMinorOnAutopay: 40000n,
      invoiceShare: 0.5,
      amountShare: 0.7273, // 400 / 550
      clientsWithOpen: 2,
      clientsOnAutopay: 1,
      clientShare: 0.5,
    });
    expect(cad.autopay).toMatchObject({ openInvoices: 1, openInvoicesOnAutopay: 0, invoiceShare: 0, clientShare: 0 });
  });

  it('failure and recovery: the declined card recovered by its retry, the failed debit not', () => {
    expect(usd.failures).toEqual({
      attempted: 7, // five successes in February, two failures (the replaced checkout is not an attempt)
      failed: 2,
      failedMinor: 90000n,
      recovered: 1,
      recoveredMinor: 50000n,
      failureRate: 0.2857,
      recoveryRate: 0.5,
    });
    expect(cad.failures).toMatchObject({ attempted: 1, failed: 0, failureRate: 0, recoveryRate: null });
  });

  it('processing fees paid vs surcharges collected', () => {
    expect(usd.fees).toEqual({ feesMinor: 4565n, feesUnknown: 1, surchargesMinor: 1500n, achDiscountsMinor: 0n });
    expect(cad.fees).toEqual({ feesMinor: 610n, feesUnknown: 0, surchargesMinor: 0n, achDiscountsMinor: 0n });
  });
});

describe('a period that reaches today', () => {
  it('is measured up to now: open at the end is what is open now', async () => {
    const f = await figures({ preset: 'this_month' });
    const usd = f.get('USD')!;
    expect(usd.openAtEndMinor).toBe(usd.openNow.amountMinor);
    expect(usd.invoiced.amountMinor).toBe(0n);
    expect(usd.dso).toBeNull();
    expect(usd.collected).toEqual({ count: 1, amountMinor: 60000n }); // I3 on 2 March; the 23:30 payment was February's
    expect(usd.cashPerWeek.map((w) => w.weekStart)).toEqual(['2026-02-23', '2026-03-02', '2026-03-09']);
  });

  it('custom dates count both days given; UTC would put the evening payment in March', async () => {
    const f = await figures({ preset: 'custom', from: '2026-02-28', lastDay: '2026-02-28' });
    expect(f.get('USD')!.collected).toEqual({ count: 1, amountMinor: 30000n });
    expect(f.get('USD')!.invoiced).toEqual({ count: 1, amountMinor: 30000n });
  });
});
