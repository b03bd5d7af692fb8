// Money is an integer count of minor units (cents) plus an ISO 4217 currency. No floats ever touch
// an amount: vendor decimals are parsed from their text form, and every division names its rounding
// (payments-rules.md §5.2: surcharge = floor, splits give the remainder to the last part).

export type Currency = 'USD' | 'CAD' | 'GBP' | 'EUR' | 'AUD' | 'NZD';

/** Minor-unit exponent per currency (ISO 4217). All supported currencies use 2 today. */
const MINOR_DIGITS: Record<Currency, number> = { USD: 2, CAD: 2, GBP: 2, EUR: 2, AUD: 2, NZD: 2 };

export const SUPPORTED_CURRENCIES = Object.keys(MINOR_DIGITS) as Currency[];

/** The largest amount Settle accepts on any single money value: 1 trillion major units. */
export const MAX_MINOR = 10n ** 14n;

export interface Money {
  readonly amountMinor: bigint;
  readonly currency: Currency;
}

export class MoneyError extends Error {
  override readonly name = 'MoneyError';
}

export function isCurrency(code: string): code is Currency {
  return Object.hasOwn(MINOR_DIGITS, code);
}

export function parseCurrency(code: string): Currency {
  const upper = code.trim().toUpperCase();
  if (!isCurrency(upper)) {
    throw new MoneyError(`unsupported currency "${code}"; Settle supports ${SUPPORTED_CURRENCIES.join(', ')}`);
  }
  return upper;
}

export function money(amountMinor: bigint | number, currency: Currency): Money {
  const minor = typeof amountMinor === 'number' ? toBigIntStrict(amountMinor) : amountMinor;
  if (minor > MAX_MINOR || minor < -MAX_MINOR) {
    throw new MoneyError(`amount ${minor} ${currency} is larger than Settle accepts (${MAX_MINOR} minor units)`);
  }
  return Object.freeze({ amountMinor: minor, currency });
}

function toBigIntStrict(n: number): bigint {
  if (!Number.isSafeInteger(n)) throw new MoneyError(`minor-unit amount must be a whole number, got ${n}`);
  return BigInt(n);
}

export const zero = (currency: Currency): Money => money(0n, currency);

function sameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw new MoneyError(`cannot combine ${a.currency} with ${b.currency}`);
  }
}

export function add(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return money(a.amountMinor + b.amountMinor, a.currency);
}

export function subtract(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return money(a.amountMinor - b.amountMinor, a.currency);
}

export function negate(a: Money): Money {
  return money(-a.amountMinor, a.currency);
}

export function sum(items: readonly Money[], currency: Currency): Money {
  return items.reduce((acc, m) => add(acc, m), zero(currency));
}

export function compare(a: Money, b: Money): -1 | 0 | 1 {
  sameCurrency(a, b);
  return a.amountMinor < b.amountMinor ? -1 : a.amountMinor > b.amountMinor ? 1 : 0;
}

export const isZero = (a: Money): boolean => a.amountMinor === 0n;
export const isPositive = (a: Money): boolean => a.amountMinor > 0n;
export const isNegative = (a: Money): boolean => a.amountMinor < 0n;
export const equals = (a: Money, b: Money): boolean => a.currency === b.currency && a.amountMinor === b.amountMinor;

export type Rounding = 'floor' | 'half-even' | 'half-up';

/**
 * amount × numerator / denominator with a named rounding. Rates are passed as integer fractions
 * (basis points: 300/10000 = 3 %), never as floats.
 */
export function multiplyRatio(a: Money, numerator: bigint, denominator: bigint, rounding: Rounding): Money {
  if (denominator <= 0n) throw new MoneyError('ratio denominator must be positive');
  return money(divideRounded(a.amountMinor * numerator, denominator, rounding), a.currency);
}

export function divideRounded(n: bigint, d: bigint, rounding: Rounding): bigint {
  const q = n / d; // truncates toward zero
  const r = n % d;
  if (r === 0n) return q;
  const negative = n < 0n !== d < 0n;
  switch (rounding) {
    case 'floor':
      return negative ? q - 1n : q;
    case 'half-up': {
      const twice = 2n * (r < 0n ? -r : r);
      const dd = d < 0n ? -d : d;
      return twice >= dd ? (negative ? q - 1n : q + 1n) : q;
    }
    case 'half-even': {
      const twice = 2n * (r < 0n ? -r : r);
      const dd = d < 0n ? -d : d;
      if (twice > dd || (twice === dd && q % 2n !== 0n)) return negative ? q - 1n : q + 1n;
      return q;
    }
  }
}

/**
 * Split an amount into `parts` near-equal parts; the remainder goes to the last part
 * (installment rule, payments-rules.md §5.2). Sum of parts always equals the amount.
 */
export function splitEvenly(a: Money, parts: number): Money[] {
  if (!Number.isSafeInteger(parts) || parts < 1) throw new MoneyError('parts must be a positive whole number');
  const n = BigInt(parts);
  const base = a.amountMinor / n;
  const out: Money[] = [];
  for (let i = 0n; i < n - 1n; i++) out.push(money(base, a.currency));
  out.push(money(a.amountMinor - base * (n - 1n), a.currency));
  return out;
}

/**
 * Split by integer weights with the largest-remainder method (allocation rule, payments-rules.md §5.2):
 * each part gets floor(share), and the leftover cents go one by one to the largest remainders
 * (ties: earliest index). Sum of parts always equals the amount.
 */
export function allocateByWeights(a: Money, weights: readonly bigint[]): Money[] {
  if (weights.length === 0) throw new MoneyError('at least one weight is needed');
  if (weights.some((w) => w < 0n)) throw new MoneyError('weights must not be negative');
  const total = weights.reduce((s, w) => s + w, 0n);
  if (total === 0n) throw new MoneyError('weights must not all be zero');
  const sign = a.amountMinor < 0n ? -1n : 1n;
  const abs = a.amountMinor * sign;
  const shares = weights.map((w) => (abs * w) / total);
  const remainders = weights.map((w, i) => ({ i, r: (abs * w) % total }));
  let left = abs - shares.reduce((s, x) => s + x, 0n);
  remainders.sort((x, y) => (x.r === y.r ? x.i - y.i : x.r > y.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left === 0n) break;
    shares[i] = (shares[i] ?? 0n) + 1n;
    left -= 1n;
  }
  return shares.map((s) => money(s * sign, a.currency));
}

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/**
 * Parse a decimal amount as vendors send it ("123.45", or a JSON number such as 123.45) into
 * minor units without floating-point arithmetic. A JSON number is read through its shortest
 * round-trip text, which is exact for every amount with at most 15 significant digits; anything
 * with more decimals than the currency allows is rejected rather than silently rounded.
 */
export function parseDecimal(value: string | number, currency: Currency): Money {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new MoneyError(`amount ${value} is not a finite number`);
    text = String(value);
    if (/e/i.test(text)) throw new MoneyError(`amount ${text} is out of range`);
  } else {
    text = value.trim();
  }
  const m = DECIMAL.exec(text);
  if (!m) throw new MoneyError(`"${String(value)}" is not a decimal amount (expected e.g. 1234.56)`);
  const digits = MINOR_DIGITS[currency];
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > digits) {
    throw new MoneyError(`amount ${text} has more than ${digits} decimal places for ${currency}`);
  }
  const minor = BigInt((m[2] ?? '0') + frac.padEnd(digits, '0'));
  return money(m[1] ? -minor : minor, currency);
}

/** "1234.56" — the vendor-facing decimal text of an amount. */
export function toDecimalString(a: Money): string {
  const digits = BigInt(MINOR_DIGITS[a.currency]);
  const scale = 10n ** digits;
  const neg = a.amountMinor < 0n;
  const abs = neg ? -a.amountMinor : a.amountMinor;
  const whole = abs / scale;
  const frac = (abs % scale).toString().padStart(Number(digits), '0');
  return `${neg ? '-' : ''}${whole}.${frac}`;
}

/**
 * A JSON number for vendors whose APIs only take numbers (QuickBooks, ConnectWise). The decimal
 * text is exact; JSON.stringify of the resulting number prints the same digits back.
 */
export function toVendorNumber(a: Money): number {
  return Number(toDecimalString(a));
}

/** "$1,234.56" for people. */
export function format(a: Money): string {
  const symbol: Record<Currency, string> = { USD: '$', CAD: 'CA$', GBP: '£', EUR: '€', AUD: 'A$', NZD: 'NZ$' };
  const [whole, frac] = toDecimalString(a).replace('-', '').split('.');
  const grouped = (whole ?? '0').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${a.amountMinor < 0n ? '-' : ''}${symbol[a.currency]}${grouped}.${frac}`;
}

export function abs(a: Money): Money {
  return a.amountMinor < 0n ? negate(a) : a;
}

export function min(a: Money, b: Money): Money {
  return compare(a, b) <= 0 ? a : b;
}

export function max(a: Money, b: Money): Money {
  return compare(a, b) >= 0 ? a : b;
}
