import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_MINOR,
  MoneyError,
  SUPPORTED_CURRENCIES,
  abs,
  add,
  allocateByWeights,
  compare,
  divideRounded,
  format,
  max,
  min,
  money,
  multiplyRatio,
  negate,
  parseCurrency,
  parseDecimal,
  splitEvenly,
  subtract,
  sum,
  toDecimalString,
  toVendorNumber,
  type Currency,
  type Money,
} from './money.ts';

const currencyArb = fc.constantFrom<Currency>(...SUPPORTED_CURRENCIES);
// Half the bound so that a + b never leaves the accepted range.
const amountArb = fc.bigInt({ min: -MAX_MINOR / 2n, max: MAX_MINOR / 2n });
const moneyArb = fc.tuple(amountArb, currencyArb).map(([a, c]) => money(a, c));
const usd = (n: bigint | number): Money => money(n, 'USD');
const total = (parts: readonly Money[]): bigint => parts.reduce((s, p) => s + p.amountMinor, 0n);

describe('add / subtract', () => {
  it('subtract undoes add, and add undoes subtract', () => {
    fc.assert(
      fc.property(amountArb, amountArb, currencyArb, (a, b, c) => {
        const x = money(a, c);
        const y = money(b, c);
        expect(subtract(add(x, y), y)).toEqual(x);
        expect(add(subtract(x, y), y)).toEqual(x);
      }),
    );
  });

  it('add is commutative and sum agrees with repeated add', () => {
    fc.assert(
      fc.property(fc.array(amountArb, { maxLength: 2 }), (amounts) => {
        const items = amounts.map((a) => usd(a));
        expect(sum(items, 'USD').amountMinor).toBe(total(items));
        if (items.length === 2) expect(add(items[0]!, items[1]!)).toEqual(add(items[1]!, items[0]!));
      }),
    );
  });

  it('negate is its own inverse and abs is never negative', () => {
    fc.assert(
      fc.property(moneyArb, (m) => {
        expect(negate(negate(m))).toEqual(m);
        expect(abs(m).amountMinor >= 0n).toBe(true);
      }),
    );
  });

  it('min/max pick one of the two inputs in order', () => {
    fc.assert(
      fc.property(amountArb, amountArb, (a, b) => {
        const lo = min(usd(a), usd(b));
        const hi = max(usd(a), usd(b));
        expect(compare(lo, hi) <= 0).toBe(true);
        expect([lo.amountMinor, hi.amountMinor].sort()).toEqual([a, b].sort());
      }),
    );
  });

  it('refuses to combine different currencies', () => {
    expect(() => add(usd(1), money(1, 'CAD'))).toThrow(MoneyError);
    expect(() => subtract(money(1, 'EUR'), money(1, 'GBP'))).toThrow(/cannot combine EUR with GBP/);
    expect(() => compare(usd(1), money(1, 'AUD'))).toThrow(MoneyError);
    expect(() => sum([usd(1)], 'NZD')).toThrow(MoneyError);
    expect(() => min(usd(1), money(2, 'CAD'))).toThrow(MoneyError);
  });
});

describe('MAX bounds', () => {
  it('accepts ±MAX_MINOR and rejects one beyond', () => {
    expect(money(MAX_MINOR, 'USD').amountMinor).toBe(MAX_MINOR);
    expect(money(-MAX_MINOR, 'USD').amountMinor).toBe(-MAX_MINOR);
    expect(() => money(MAX_MINOR + 1n, 'USD')).toThrow(MoneyError);
    expect(() => money(-MAX_MINOR - 1n, 'USD')).toThrow(MoneyError);
  });

  it('an add that overflows the bound throws instead of wrapping', () => {
    expect(() => add(usd(MAX_MINOR), usd(1))).toThrow(MoneyError);
    expect(() => subtract(usd(-MAX_MINOR), usd(1))).toThrow(MoneyError);
  });

  it('rejects non-integer or unsafe numbers as minor units', () => {
    expect(() => money(1.5, 'USD')).toThrow(MoneyError);
    expect(() => money(Number.MAX_SAFE_INTEGER + 1, 'USD')).toThrow(MoneyError);
    expect(() => money(Number.NaN, 'USD')).toThrow(MoneyError);
  });

  it('parseDecimal rejects amounts beyond the bound', () => {
    expect(() => parseDecimal('1000000000000.01', 'USD')).toThrow(MoneyError);
    expect(parseDecimal('1000000000000.00', 'USD').amountMinor).toBe(MAX_MINOR);
  });
});

describe('splitEvenly', () => {
  it('parts sum to the input and differ by at most one cent (remainder on the last part)', () => {
    fc.assert(
      fc.property(amountArb, fc.integer({ min: 1, max: 60 }), (a, n) => {
        const parts = splitEvenly(usd(a), n);
        expect(parts).toHaveLength(n);
        expect(total(parts)).toBe(a);
        const first = parts[0]!.amountMinor;
        for (const p of parts.slice(0, -1)) expect(p.amountMinor).toBe(first);
        const last = parts[n - 1]!.amountMinor;
        // Truncating division: the last part carries |remainder| < n extra cents, same sign as a.
        const extra = last - first;
        expect(extra < 0n ? -extra : extra).toBeLessThan(BigInt(n));
      }),
    );
  });

  it('gives the remainder to the last installment (payments-rules §5.2)', () => {
    expect(splitEvenly(usd(1000), 3).map((p) => p.amountMinor)).toEqual([333n, 333n, 334n]);
    expect(() => splitEvenly(usd(1), 0)).toThrow(MoneyError);
    expect(() => splitEvenly(usd(1), 1.5)).toThrow(MoneyError);
  });
});

describe('allocateByWeights', () => {
  const weightsArb = fc.array(fc.bigInt({ min: 0n, max: 1_000_000n }), { minLength: 1, maxLength: 12 });

  it('parts sum to the input, keep its sign and each is within one cent of the exact share', () => {
    fc.assert(
      fc.property(amountArb, weightsArb, (a, weights) => {
        fc.pre(weights.some((w) => w > 0n));
        const parts = allocateByWeights(usd(a), weights);
        expect(total(parts)).toBe(a);
        const wsum = weights.reduce((s, w) => s + w, 0n);
        parts.forEach((p, i) => {
          const w = weights[i]!;
          if (w === 0n) expect(p.amountMinor).toBe(0n);
          // |part × W − a × w| < W  ⇔  the part is within one cent of the exact share.
          const err = p.amountMinor * wsum - a * w;
          expect((err < 0n ? -err : err) < wsum).toBe(true);
          if (a > 0n) expect(p.amountMinor >= 0n).toBe(true);
          if (a < 0n) expect(p.amountMinor <= 0n).toBe(true);
        });
      }),
    );
  });

  it('equal weights get amounts that differ by at most one cent', () => {
    fc.assert(
      fc.property(amountArb, fc.integer({ min: 1, max: 30 }), fc.bigInt({ min: 1n, max: 1000n }), (a, n, w) => {
        const parts = allocateByWeights(
          usd(a),
          Array.from({ length: n }, () => w),
        );
        const amounts = parts.map((p) => p.amountMinor);
        const hi = amounts.reduce((m, x) => (x > m ? x : m));
        const lo = amounts.reduce((m, x) => (x < m ? x : m));
        expect(hi - lo <= 1n).toBe(true);
      }),
    );
  });

  it('breaks ties toward the earliest index and rejects bad weights', () => {
    expect(allocateByWeights(usd(100), [1n, 1n, 1n]).map((p) => p.amountMinor)).toEqual([34n, 33n, 33n]);
    expect(allocateByWeights(usd(-100), [1n, 1n, 1n]).map((p) => p.amountMinor)).toEqual([-34n, -33n, -33n]);
    expect(() => allocateByWeights(usd(1), [])).toThrow(MoneyError);
    expect(() => allocateByWeights(usd(1), [0n, 0n])).toThrow(MoneyError);
    expect(() => allocateByWeights(usd(1), [1n, -1n])).toThrow(MoneyError);
  });
});

describe('multiplyRatio / divideRounded', () => {
  const ratioArb = fc.tuple(fc.bigInt({ min: -100_000n, max: 100_000n }), fc.bigInt({ min: 1n, max: 100_000n }));
  const smallAmountArb = fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n });

  it('floor never exceeds the exact product and is within one cent below it', () => {
    fc.assert(
      fc.property(smallAmountArb, ratioArb, (a, [num, den]) => {
        const r = multiplyRatio(usd(a), num, den, 'floor').amountMinor;
        const exact = a * num; // compare r against exact/den without dividing: r·den ≤ exact < (r+1)·den
        expect(r * den <= exact).toBe(true);
        expect(exact < (r + 1n) * den).toBe(true);
      }),
    );
  });

  it('half-up and half-even are within half a cent of the exact product', () => {
    fc.assert(
      fc.property(smallAmountArb, ratioArb, fc.constantFrom('half-up' as const, 'half-even' as const), (a, [num, den], mode) => {
        const r = multiplyRatio(usd(a), num, den, mode).amountMinor;
        const err = 2n * (r * den - a * num);
        expect((err < 0n ? -err : err) <= den).toBe(true);
      }),
    );
  });

  it('rounds ties as named: half-up away from zero, half-even to the even neighbour', () => {
    expect(divideRounded(25n, 10n, 'half-up')).toBe(3n);
    expect(divideRounded(-25n, 10n, 'half-up')).toBe(-3n);
    expect(divideRounded(25n, 10n, 'half-even')).toBe(2n);
    expect(divideRounded(35n, 10n, 'half-even')).toBe(4n);
    expect(divideRounded(-25n, 10n, 'half-even')).toBe(-2n);
    expect(divideRounded(-21n, 10n, 'floor')).toBe(-3n);
    expect(divideRounded(29n, 10n, 'floor')).toBe(2n);
  });

  it('a 3 % surcharge floors to the cent (payments-rules §1.7)', () => {
    // $123.45 × 3 % = $3.7035 → $3.70
    expect(multiplyRatio(usd(12345), 300n, 10_000n, 'floor').amountMinor).toBe(370n);
    expect(() => multiplyRatio(usd(1), 1n, 0n, 'floor')).toThrow(MoneyError);
  });
});

describe('parseDecimal / toDecimalString', () => {
  it('round-trips every amount through its decimal text', () => {
    fc.assert(
      fc.property(moneyArb, (m) => {
        expect(parseDecimal(toDecimalString(m), m.currency)).toEqual(m);
      }),
    );
  });

  it('round-trips through the vendor JSON number for amounts up to 15 significant digits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -MAX_MINOR, max: MAX_MINOR }), (a) => {
        const m = usd(a);
        const wire = JSON.parse(JSON.stringify({ v: toVendorNumber(m) })) as { v: number };
        expect(parseDecimal(wire.v, 'USD')).toEqual(m);
      }),
    );
  });

  it('parses vendor decimals exactly and rejects what it cannot represent', () => {
    expect(parseDecimal('0.1', 'USD').amountMinor).toBe(10n);
    expect(parseDecimal(0.3, 'USD').amountMinor).toBe(30n);
    expect(() => parseDecimal('.30', 'USD')).toThrow(MoneyError);
    expect(parseDecimal(1234.5, 'USD').amountMinor).toBe(123450n);
    expect(parseDecimal(' -7.00 ', 'CAD')).toEqual(money(-700n, 'CAD'));
    expect(parseDecimal('12.3400', 'USD').amountMinor).toBe(1234n);
    expect(() => parseDecimal('1.005', 'USD')).toThrow(/more than 2 decimal places/);
    expect(() => parseDecimal('1e3', 'USD')).toThrow(MoneyError);
    expect(() => parseDecimal(1e21, 'USD')).toThrow(MoneyError);
    expect(() => parseDecimal(Number.NaN, 'USD')).toThrow(MoneyError);
    expect(() => parseDecimal('', 'USD')).toThrow(MoneyError);
    expect(() => parseDecimal('1,000.00', 'USD')).toThrow(MoneyError);
  });

  it('formats and parses currencies for people', () => {
    expect(toDecimalString(usd(-5))).toBe('-0.05');
    expect(format(usd(123456789))).toBe('$1,234,567.89');
    expect(format(money(-100, 'GBP'))).toBe('-£1.00');
    expect(parseCurrency(' usd ')).toBe('USD');
    expect(() => parseCurrency('JPY')).toThrow(MoneyError);
  });
});
