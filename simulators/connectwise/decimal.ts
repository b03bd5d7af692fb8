// Exact decimal helpers for the simulator's bookkeeping: ConnectWise speaks JSON numbers, the
// simulator keeps cents as bigint so that its totals, payments and balances never drift.
import { divideRounded, money, parseDecimal, toVendorNumber } from '../../src/domain/money.ts';

const SCALED = /^(-)?(\d+)(?:\.(\d+))?$/;

/** A decimal (any number of places) as an integer and its scale: "1.25" → [125n, 2]. */
export function scaled(value: string | number): [bigint, number] {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const m = SCALED.exec(text);
  if (!m) throw new Error(`"${text}" is not a decimal`);
  const frac = m[3] ?? '';
  const n = BigInt((m[2] ?? '0') + frac);
  return [m[1] ? -n : n, frac.length];
}

/** a × b in cents, rounded half-up (a quantity times a unit price). */
export function productCents(a: string | number, b: string | number): bigint {
  const [x, sx] = scaled(a);
  const [y, sy] = scaled(b);
  const scale = sx + sy;
  if (scale <= 2) return x * y * 10n ** BigInt(2 - scale);
  return divideRounded(x * y, 10n ** BigInt(scale - 2), 'half-up');
}

export const cents = (value: string | number): bigint => parseDecimal(value, 'USD').amountMinor;

/** Cents → the JSON number ConnectWise would send. */
export const amount = (minor: bigint): number => toVendorNumber(money(minor, 'USD'));
