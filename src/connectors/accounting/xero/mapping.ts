// Small pure pieces of the Xero connector: our marker in a record's Reference (check-before-write), the
// Idempotency-Key for a request, money to and from Xero's decimal numbers, and a result from an error.
import { createHash } from 'node:crypto';
import { VendorError } from '../../http.ts';
import { MoneyError, parseDecimal, toVendorNumber, type Currency, type Money } from '../../../domain/money.ts';
import type { PostResult } from '../types.ts';
import type { Json } from './api.ts';

const h = (s: string, n: number): string => createHash('sha256').update(s).digest('hex').slice(0, n);

/**
 * `[settle:<20 hex>]` — a hash of our idempotency key, short enough for Xero's Reference and searchable with
 * `Reference.Contains(…)`. `part` tells apart the several records one posting makes (a deposit's transfer
 * and fee spend).
 */
export function marker(idempotencyKey: string, part = ''): string {
  return `[settle:${h(`${idempotencyKey}${part ? `#${part}` : ''}`, 20)}]`;
}

/** Xero's Idempotency-Key (≤ 128 characters): our key(s), with the retry generation after a refusal. */
export function idempotencyKeyFor(keys: readonly string[], generation = 0): string {
  return `settle-${h(`${keys.join('\n')}\ng${generation}`, 48)}`;
}

export function carries(row: Json, mark: string): boolean {
  return String(row['Reference'] ?? '').includes(mark);
}

/** `Reference.Contains("…") OR …` for a where clause. */
export function referenceWhere(marks: readonly string[]): string {
  return marks.map((m) => `Reference.Contains("${m}")`).join(' OR ');
}

export const amountOf = (m: Money): number => toVendorNumber(m);

export function moneyOf(v: unknown, currency: Currency): Money {
  return parseDecimal(typeof v === 'number' || typeof v === 'string' ? v : 0, currency);
}

/** Xero's "/Date(1573755038314+0000)/" → ms. */
export function xeroDateMs(v: unknown): number {
  const m = /\/Date\((-?\d+)/.exec(String(v ?? ''));
  return m ? Number(m[1]) : 0;
}

export function failure(e: unknown): Extract<PostResult, { ok: false }> {
  if (e instanceof VendorError) {
    const retryable = e.kind === 'rate_limited' || e.kind === 'server' || e.kind === 'timeout' || e.kind === 'network';
    const fix = e.kind === 'auth' ? ' — reconnect Xero: settle connect accounting xero (or Connections → Xero in the staff app)' : '';
    return { ok: false, retryable, error: `${e.message}${fix}` };
  }
  if (e instanceof MoneyError) return { ok: false, retryable: false, error: e.message };
  return { ok: false, retryable: false, error: e instanceof Error ? e.message : String(e) };
}

export function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Validation messages of one item of a summarizeErrors=false answer. */
export function itemErrors(row: Json | undefined): string | null {
  if (!row) return 'Xero returned no answer for this item; outcome unknown';
  if (row['StatusAttributeString'] !== 'ERROR' && row['HasValidationErrors'] !== true) return null;
  const msgs = ((row['ValidationErrors'] as Json[] | undefined) ?? []).map((v) => String(v['Message']));
  return msgs.join('; ') || 'Xero refused this item';
}
