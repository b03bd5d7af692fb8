import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocatePayment, byOldestDue, type InvoiceAllocation, type OpenInvoice } from './allocation.ts';
import { money, type Money } from './money.ts';

const usd = (n: bigint | number): Money => money(n, 'USD');
const inv = (invoiceId: string, open: number, dueOn: string | null, issuedOn = '2026-01-01'): OpenInvoice => ({
  invoiceId,
  openBalance: usd(open),
  dueOn,
  issuedOn,
});
const amounts = (allocs: readonly InvoiceAllocation[]) => allocs.map((a) => [a.invoiceId, a.amount.amountMinor]);

const dateArb = fc.integer({ min: 1, max: 28 }).map((d) => `2026-03-${String(d).padStart(2, '0')}`);
const invoicesArb = fc
  .array(
    fc.record({
      open: fc.bigInt({ min: -5_000n, max: 100_000n }),
      dueOn: fc.option(dateArb, { nil: null }),
      issuedOn: dateArb,
    }),
    { maxLength: 12 },
  )
  .map((rows) => rows.map((r, i): OpenInvoice => ({ invoiceId: `inv-${i}`, openBalance: usd(r.open), dueOn: r.dueOn, issuedOn: r.issuedOn })));
const paymentArb = fc.bigInt({ min: 1n, max: 1_000_000n }).map(usd);

function checkInvariants(payment: Money, invoices: readonly OpenInvoice[], allocations: readonly InvoiceAllocation[], credit: Money) {
  const total = allocations.reduce((s, a) => s + a.amount.amountMinor, 0n);
  expect(total + credit.amountMinor).toBe(payment.amountMinor);
  expect(credit.amountMinor >= 0n).toBe(true);
  const perInvoice = new Map<string, bigint>();
  for (const a of allocations) {
    expect(a.amount.amountMinor > 0n).toBe(true);
    expect(a.amount.currency).toBe(payment.currency);
    perInvoice.set(a.invoiceId, (perInvoice.get(a.invoiceId) ?? 0n) + a.amount.amountMinor);
  }
  for (const [id, sum] of perInvoice) {
    const i = invoices.find((x) => x.invoiceId === id);
    expect(i).toBeDefined();
    expect(sum <= i!.openBalance.amountMinor).toBe(true);
  }
}

describe('oldest due first', () => {
  it('allocations + credit == payment, no invoice over-allocated, nothing negative', () => {
    fc.assert(
      fc.property(paymentArb, invoicesArb, (payment, invoices) => {
        const r = allocatePayment(payment, invoices, { kind: 'oldest_due_first' });
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        checkInvariants(payment, invoices, r.allocations, r.credit);
      }),
    );
  });

  it('pays an invoice only when every earlier-due open invoice is fully paid, and leaves credit only when all are', () => {
    fc.assert(
      fc.property(paymentArb, invoicesArb, (payment, invoices) => {
        const r = allocatePayment(payment, invoices, { kind: 'oldest_due_first' });
        if (!r.ok) throw new Error('unexpected refusal');
        const got = new Map(r.allocations.map((a) => [a.invoiceId, a.amount.amountMinor]));
        const open = [...invoices].filter((i) => i.openBalance.amountMinor > 0n).sort(byOldestDue);
        let sawPartial = false;
        for (const i of open) {
          const paid = got.get(i.invoiceId) ?? 0n;
          if (sawPartial) expect(paid).toBe(0n);
          if (paid < i.openBalance.amountMinor) sawPartial = true;
        }
        if (r.credit.amountMinor > 0n) expect(sawPartial).toBe(false);
      }),
    );
  });

  it('orders by due date, falling back to issue date, then id', () => {
    const invoices = [
      inv('c', 1_000, '2026-03-10'),
      inv('a', 1_000, null, '2026-02-01'), // no due date: due on issue
      inv('b', 1_000, '2026-03-01'),
      inv('paid', 0, '2026-01-01'),
    ];
    const r = allocatePayment(usd(2_500), invoices, { kind: 'oldest_due_first' });
    expect(r.ok && amounts(r.allocations)).toEqual([
      ['a', 1_000n],
      ['b', 1_000n],
      ['c', 500n],
    ]);
    const over = allocatePayment(usd(3_250), invoices, { kind: 'oldest_due_first' });
    expect(over.ok && over.credit.amountMinor).toBe(250n);
  });
});

describe('explicit allocations', () => {
  const invoices = [inv('a', 10_000, '2026-03-01'), inv('b', 5_000, '2026-04-01')];

  it('accepts valid choices and sends the rest to credit', () => {
    const r = allocatePayment(usd(12_000), invoices, {
      kind: 'explicit',
      allocations: [
        { invoiceId: 'b', amount: usd(5_000) },
        { invoiceId: 'a', amount: usd(4_000) },
      ],
    });
    expect(r).toEqual({
      ok: true,
      allocations: [
        { invoiceId: 'b', amount: usd(5_000) },
        { invoiceId: 'a', amount: usd(4_000) },
      ],
      credit: usd(3_000),
    });
  });

  it('reports every problem at once', () => {
    const r = allocatePayment(usd(6_000), invoices, {
      kind: 'explicit',
      allocations: [
        { invoiceId: 'a', amount: usd(10_001) },
        { invoiceId: 'b', amount: usd(0) },
        { invoiceId: 'zzz', amount: usd(1) },
        { invoiceId: 'a', amount: usd(1) },
        { invoiceId: 'b', amount: money(1, 'CAD') },
      ],
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.map((p) => p.code)).toEqual([
      'exceeds_open_balance',
      'amount_not_positive',
      'unknown_invoice',
      'duplicate_invoice',
      'duplicate_invoice',
    ]);
  });

  it('refuses allocations beyond the payment and payments in another currency', () => {
    const r = allocatePayment(usd(9_000), invoices, {
      kind: 'explicit',
      allocations: [
        { invoiceId: 'a', amount: usd(5_000) },
        { invoiceId: 'b', amount: usd(5_000) },
      ],
    });
    expect(!r.ok && r.problems).toEqual([{ code: 'exceeds_payment', allocated: usd(10_000), payment: usd(9_000) }]);
    const cad = allocatePayment(money(100, 'CAD'), invoices, { kind: 'oldest_due_first' });
    expect(!cad.ok && cad.problems.map((p) => p.code)).toEqual(['currency_mismatch', 'currency_mismatch']);
    expect(allocatePayment(usd(0), invoices, { kind: 'oldest_due_first' }).ok).toBe(false);
    const badDate = allocatePayment(usd(1), [inv('x', 1, '03/01/2026')], { kind: 'oldest_due_first' });
    expect(!badDate.ok && badDate.problems[0]?.code).toBe('invalid_date');
  });

  it('accepts every request within open balances and the payment, with the rest as credit', () => {
    fc.assert(
      fc.property(
        invoicesArb,
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 12, maxLength: 12 }),
        fc.bigInt({ min: 0n, max: 50_000n }),
        (invoices, permilles, spare) => {
          const allocations = invoices
            .filter((i) => i.openBalance.amountMinor > 0n)
            .map((i, k) => ({ invoiceId: i.invoiceId, amount: usd((i.openBalance.amountMinor * BigInt(permilles[k]!)) / 1000n) }))
            .filter((a) => a.amount.amountMinor > 0n);
          const total = allocations.reduce((s, a) => s + a.amount.amountMinor, 0n);
          fc.pre(total + spare > 0n);
          const payment = usd(total + spare);
          const r = allocatePayment(payment, invoices, { kind: 'explicit', allocations });
          expect(r.ok).toBe(true);
          if (r.ok) {
            checkInvariants(payment, invoices, r.allocations, r.credit);
            expect(r.credit.amountMinor).toBe(spare);
          }
        },
      ),
    );
  });

  it('any accepted explicit request keeps the invariants', () => {
    fc.assert(
      fc.property(paymentArb, invoicesArb, fc.array(fc.tuple(fc.nat(12), fc.bigInt({ min: -10n, max: 100_000n }))), (payment, invoices, picks) => {
        const allocations = picks.map(([i, amount]) => ({ invoiceId: `inv-${i}`, amount: usd(amount) }));
        const r = allocatePayment(payment, invoices, { kind: 'explicit', allocations });
        if (r.ok) checkInvariants(payment, invoices, r.allocations, r.credit);
        else expect(r.problems.length).toBeGreaterThan(0);
      }),
    );
  });
});
