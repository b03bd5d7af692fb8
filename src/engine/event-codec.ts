// Mapped vendor events are stored in the inbox as JSON. Money holds a bigint, which JSON cannot carry:
// amounts are written as {"amountMinor":"123","currency":"USD"} and revived on the way out.
import { money, parseCurrency, type Money } from '../domain/money.ts';

export function encodeEvent(event: unknown): unknown {
  return JSON.parse(JSON.stringify(event, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}

export function decodeEvent<T>(json: unknown): T {
  return revive(json) as T;
}

function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.amountMinor === 'string' && typeof o.currency === 'string' && Object.keys(o).length === 2) {
      return money(BigInt(o.amountMinor), parseCurrency(o.currency)) satisfies Money;
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
  }
  return v;
}
