// Integrity of every rule table: real dates, a source on every row, unique ids, and no two rows for
// the same thing in force on the same day.
import { describe, expect, it } from 'vitest';
import { ACH_RETURN_CODES } from './ach-return-codes.ts';
import { RETURN_WINDOW_RULES } from './ach-return-window.ts';
import { isoDate } from './calendar-date.ts';
import { MASTERCARD_ADVICE_CODES, STRIPE_ADVICE_CODES, STRIPE_DECLINE_CODES } from './decline-codes.ts';
import { DEFAULT_DUNNING_CADENCE } from './dunning.ts';
import { NOC_CODES } from './noc-codes.ts';
import { RETRY_LIMITS } from './retry-limits.ts';
import { oneInForce, type RuleRow } from './rule-row.ts';
import { BRAND_SURCHARGE_RULES, JURISDICTION_SURCHARGE_RULES } from './surcharge-table.ts';
import { US_BANKING_HOLIDAYS } from './us-banking-calendar.ts';

const tables: Record<string, readonly RuleRow[]> = {
  BRAND_SURCHARGE_RULES,
  JURISDICTION_SURCHARGE_RULES,
  STRIPE_DECLINE_CODES,
  MASTERCARD_ADVICE_CODES,
  STRIPE_ADVICE_CODES,
  RETRY_LIMITS,
  ACH_RETURN_CODES,
  RETURN_WINDOW_RULES,
  NOC_CODES,
  DEFAULT_DUNNING_CADENCE,
  US_BANKING_HOLIDAYS,
};

function noOverlaps<T extends RuleRow>(rows: readonly T[], key: (r: T) => string): void {
  const groups = new Map<string, T[]>();
  for (const r of rows) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  for (const [k, group] of groups) {
    const sorted = [...group].sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom));
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1];
      const cur = sorted[i];
      if (!prev || !cur) continue;
      expect(prev.effectiveTo, `${k}: ${prev.id} has no end but ${cur.id} follows it`).toBeDefined();
      expect((prev.effectiveTo ?? '') < cur.effectiveFrom, `${k}: ${prev.id} overlaps ${cur.id}`).toBe(true);
    }
  }
}

describe('rule data', () => {
  for (const [name, rows] of Object.entries(tables)) {
    it(`${name}: unique ids, a source, a ref and valid effective dates on every row`, () => {
      expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
      for (const r of rows) {
        expect(r.source.length, r.id).toBeGreaterThan(10);
        expect(r.ref, r.id).toMatch(/§\d/);
        expect(() => isoDate(r.effectiveFrom)).not.toThrow();
        if (r.effectiveTo !== undefined) {
          expect(() => isoDate(r.effectiveTo as string)).not.toThrow();
          expect(r.effectiveTo >= r.effectiveFrom, r.id).toBe(true);
        }
      }
    });
  }

  it('no two surcharge rows for the same place or brand are in force on the same day', () => {
    noOverlaps(JURISDICTION_SURCHARGE_RULES, (r) => `${r.country}-${r.region ?? '*'}`);
    noOverlaps(BRAND_SURCHARGE_RULES, (r) => `${r.brand}:${r.countries.join(',')}`);
    noOverlaps(RETRY_LIMITS, (r) => `${r.brand}:${r.windowMinutes}:${r.sameAmountOnly}`);
  });

  it('oneInForce throws on overlapping rows instead of picking one', () => {
    const rows: RuleRow[] = [
      { id: 'a', source: 'x', ref: '§0', effectiveFrom: '2026-01-01' },
      { id: 'b', source: 'x', ref: '§0', effectiveFrom: '2026-03-01' },
    ];
    expect(oneInForce(rows, '2026-02-01', () => true)?.id).toBe('a');
    expect(() => oneInForce(rows, '2026-03-01', () => true)).toThrow(/overlaps/);
  });
});
