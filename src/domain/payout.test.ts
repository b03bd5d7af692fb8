import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { money, type Money } from './money.ts';
import { composeDeposit, depositTotal, reconcilePayout, type PayoutItemType, type PayoutLine } from './payout.ts';

const usd = (n: bigint | number): Money => money(n, 'USD');
const item = (balanceTransactionId: string, type: PayoutItemType, gross: number, fee: number, processorPaymentId: string | null = null): PayoutLine => ({
  balanceTransactionId,
  type,
  processorPaymentId,
  gross: usd(gross),
  fee: usd(fee),
  net: usd(gross - fee),
});

describe('reconcilePayout', () => {
  it('splits a typical payout into payments, fees and adjustments', () => {
    const items = [
      item('txn_1', 'charge', 10_300, 329, 'pi_1'),
      item('txn_2', 'payment', 50_000, 80, 'pi_2'), // ACH
      item('txn_3', 'refund', -2_000, 0, 'pi_0'),
      item('txn_4', 'adjustment', -10_000, 1_500, 'pi_9'), // dispute withdrawal + dispute fee
      item('txn_5', 'fee', -500, 0),
      item('txn_6', 'charge', 700, 50, 'pi_1'), // second charge on the same payment
    ];
    const net = items.reduce((s, i) => s + i.net.amountMinor, 0n);
    const r = reconcilePayout(usd(net), items);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.composition).toEqual({
      payments: [
        { processorPaymentId: 'pi_1', gross: usd(11_000) },
        { processorPaymentId: 'pi_2', gross: usd(50_000) },
      ],
      paymentsGross: usd(61_000),
      fees: usd(329 + 80 + 1_500 + 500 + 50),
      adjustments: usd(-12_000),
    });
  });

  it('reports the exact difference when the payout does not match', () => {
    const items = [item('txn_1', 'charge', 10_000, 320, 'pi_1')];
    const r = reconcilePayout(usd(9_700), items);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(1);
    const p = r.problems[0]!;
    expect(p.kind).toBe('amount_mismatch');
    if (p.kind !== 'amount_mismatch') return;
    expect(p.computed).toEqual(usd(9_680));
    expect(p.difference).toEqual(usd(20));
  });

  it('refuses inconsistent items before comparing amounts', () => {
    const bad: PayoutLine = { ...item('txn_1', 'charge', 10_000, 300, 'pi_1'), net: usd(9_701) };
    const r = reconcilePayout(usd(9_701), [
      bad,
      item('txn_2', 'charge', 100, 0),
      { ...item('txn_3', 'refund', -100, 0), fee: money(0, 'CAD') },
      item('txn_4', 'adjustment', 1, 0),
      item('txn_4', 'adjustment', 1, 0),
    ]);
    expect(!r.ok && r.problems.map((p) => p.kind)).toEqual(['item_arithmetic', 'payment_without_id', 'currency_mismatch', 'duplicate_item']);
  });

  it('an empty payout of zero reconciles', () => {
    expect(reconcilePayout(usd(0), [])).toEqual({
      ok: true,
      composition: { payments: [], paymentsGross: usd(0), fees: usd(0), adjustments: usd(0) },
    });
  });
});

describe('payout properties', () => {
  const typeArb = fc.constantFrom<PayoutItemType>('charge', 'payment', 'refund', 'adjustment', 'fee', 'other');
  const itemsArb = fc
    .array(
      fc.record({
        type: typeArb,
        gross: fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }),
        fee: fc.bigInt({ min: -1000n, max: 10n ** 6n }),
        pi: fc.integer({ min: 0, max: 5 }),
      }),
      { maxLength: 25 },
    )
    .map((rows) =>
      rows.map((r, i): PayoutLine => ({
        balanceTransactionId: `txn_${i}`,
        type: r.type,
        processorPaymentId: `pi_${r.pi}`,
        gross: usd(r.gross),
        fee: usd(r.fee),
        net: usd(r.gross - r.fee),
      })),
    );

  it('consistent items: gross − fees + adjustments == Σ net == payout, and payments sum to their gross', () => {
    fc.assert(
      fc.property(itemsArb, (items) => {
        const payout = usd(items.reduce((s, i) => s + i.net.amountMinor, 0n));
        const r = reconcilePayout(payout, items);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const c = r.composition;
        expect(depositTotal(c)).toEqual(payout);
        expect(c.payments.reduce((s, p) => s + p.gross.amountMinor, 0n)).toBe(c.paymentsGross.amountMinor);
        const paymentItems = items.filter((i) => i.type === 'charge' || i.type === 'payment');
        expect(new Set(c.payments.map((p) => p.processorPaymentId))).toEqual(new Set(paymentItems.map((i) => i.processorPaymentId)));
      }),
    );
  });

  it('any other payout amount is a mismatch carrying exactly the difference', () => {
    fc.assert(
      fc.property(itemsArb, fc.bigInt({ min: -(10n ** 6n), max: 10n ** 6n }), (items, delta) => {
        fc.pre(delta !== 0n);
        const expected = items.reduce((s, i) => s + i.net.amountMinor, 0n);
        const r = reconcilePayout(usd(expected + delta), items);
        expect(r.ok).toBe(false);
        if (r.ok) return;
        const p = r.problems[0]!;
        expect(p.kind === 'amount_mismatch' && p.difference.amountMinor).toBe(delta);
        expect(p.kind === 'amount_mismatch' && depositTotal(p.composition).amountMinor).toBe(expected);
      }),
    );
  });

  it('composition does not depend on item order (except the order of payments)', () => {
    fc.assert(
      fc.property(itemsArb, (items) => {
        const a = composeDeposit('USD', items);
        const b = composeDeposit('USD', [...items].reverse());
        expect([a.paymentsGross, a.fees, a.adjustments]).toEqual([b.paymentsGross, b.fees, b.adjustments]);
        const sorted = (c: typeof a) => [...c.payments].sort((x, y) => x.processorPaymentId.localeCompare(y.processorPaymentId));
        expect(sorted(a)).toEqual(sorted(b));
      }),
    );
  });
});
