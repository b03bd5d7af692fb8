// Fuzzing the parser with mutations of the shared fixtures (flip a byte, drop / duplicate / swap a
// line, change a digit, truncate): it must never throw, and whenever it accepts a file, an
// independent recomputation (independent.ts) must find every control in agreement with the entries.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAch } from '../../src/connectors/payments/bank-ach/nacha/parse.ts';
import type { AchParseOptions } from '../../src/connectors/payments/bank-ach/nacha/types.ts';
import { fixture, fixtureNames } from './fixtures.ts';
import { controlProblems, normalizeRecords } from './independent.ts';

const OPTIONS: Record<string, AchParseOptions> = { 'returns/return-PPD-custom-reason-code.ach': { customReturnCodes: ['R97'] } };
// The 10,010-line file is left out to keep the run fast; it is covered by fixtures.test.ts.
const SOURCES = ['valid', 'format', 'returns', 'noc']
  .flatMap((d) => fixtureNames(d).map((n) => `${d}/${n}`))
  .filter((rel) => rel !== 'valid/201805101354.ach')
  .map((rel) => ({ rel, bytes: fixture(rel), options: OPTIONS[rel] ?? {} }));
const BY_NAME = new Map(SOURCES.map((s) => [s.rel, s]));
// Arbitraries pick fixture names so that counterexamples stay readable; bytes are looked up.
const sourceArb = (list: typeof SOURCES) => fc.constantFrom(...list.map((s) => s.rel));
const source = (rel: string) => BY_NAME.get(rel)!;

type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'drop'; line: number }
  | { kind: 'dup'; line: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'digit'; line: number; col: number; digit: number }
  | { kind: 'truncate'; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.oneof(fc.integer({ min: 32, max: 126 }), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ kind: fc.constant('drop' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('dup' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('digit' as const), line: fc.nat(), col: fc.nat({ max: 93 }), digit: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(bytes: Buffer, m: Mutation): Buffer {
  if (m.kind === 'flip') {
    const out = Buffer.from(bytes);
    out[m.at % out.length] = m.byte;
    return out;
  }
  if (m.kind === 'truncate') return bytes.subarray(0, m.at % bytes.length);
  const lines = bytes.toString('latin1').split('\n');
  const n = lines.length;
  switch (m.kind) {
    case 'drop':
      lines.splice(m.line % n, 1);
      break;
    case 'dup':
      lines.splice(m.line % n, 0, lines[m.line % n]!);
      break;
    case 'swap': {
      const a = lines[m.a % n]!;
      lines[m.a % n] = lines[m.b % n]!;
      lines[m.b % n] = a;
      break;
    }
    case 'digit': {
      const l = lines[m.line % n]!;
      const col = m.col % Math.max(1, l.length);
      if (/\d/.test(l[col] ?? '')) lines[m.line % n] = l.slice(0, col) + String(m.digit) + l.slice(col + 1);
      break;
    }
  }
  return Buffer.from(lines.join('\n'), 'latin1');
}

/** Replace the digit at `col` (0-based) of the `nth` record of a type with a different digit. */
function changeDigit(bytes: Buffer, recordType: string, nth: number, col: number, bump: number): Buffer | null {
  const lines = bytes.toString('latin1').split('\n');
  const idx = lines.map((l, i) => (l[0] === recordType && !/^9+\r?$/.test(l) ? i : -1)).filter((i) => i >= 0);
  if (idx.length === 0) return null;
  const i = idx[nth % idx.length]!;
  const l = lines[i]!;
  const c = l[col];
  if (c === undefined || !/\d/.test(c)) return null;
  lines[i] = l.slice(0, col) + String((Number(c) + bump) % 10) + l.slice(col + 1);
  return Buffer.from(lines.join('\n'), 'latin1');
}

describe('parser fuzzing over fixture mutations', () => {
  it('the independent recomputation agrees with every unmutated fixture', () => {
    for (const s of SOURCES) expect(controlProblems(normalizeRecords(s.bytes)), s.rel).toEqual([]);
  });

  it('never throws, and never accepts a file whose controls do not add up', () => {
    fc.assert(
      fc.property(sourceArb(SOURCES), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (rel, mutations) => {
        const src = source(rel);
        const bytes = mutations.reduce(mutate, src.bytes);
        const r = parseAch(bytes, src.options);
        if (!r.ok) {
          expect(r.errors.length).toBeGreaterThan(0);
          for (const e of r.errors) expect(typeof e.message).toBe('string');
          return;
        }
        const records = normalizeRecords(bytes);
        expect(controlProblems(records)).toEqual([]);
        const entries = r.file.batches.reduce((n, b) => n + b.entries.length, 0);
        expect(entries).toBe(records.slice(0, r.file.recordCount).filter((l) => l[0] === '6').length);
      }),
      { numRuns: 1500 },
    );
  });

  it('rejects any change to an entry amount (positions 30-39)', () => {
    const withEntries = SOURCES.filter((s) => s.bytes.includes('\n6') || s.bytes[0] === 0x36);
    fc.assert(
      fc.property(sourceArb(withEntries), fc.nat(), fc.integer({ min: 29, max: 38 }), fc.integer({ min: 1, max: 9 }), (rel, nth, col, bump) => {
        const src = source(rel);
        const bytes = changeDigit(src.bytes, '6', nth, col, bump);
        if (bytes) expect(parseAch(bytes, src.options).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects any change to an RDFI routing digit (positions 4-12)', () => {
    const withEntries = SOURCES.filter((s) => s.bytes.includes('\n6'));
    fc.assert(
      fc.property(sourceArb(withEntries), fc.nat(), fc.integer({ min: 3, max: 11 }), fc.integer({ min: 1, max: 9 }), (rel, nth, col, bump) => {
        const src = source(rel);
        const bytes = changeDigit(src.bytes, '6', nth, col, bump);
        if (bytes) expect(parseAch(bytes, src.options).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects any change to a control total, count or hash (8 and 9 records)', () => {
    fc.assert(
      fc.property(
        sourceArb(SOURCES),
        fc.constantFrom('8', '9'),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        (rel, type, nth, col0, bump) => {
          const src = source(rel);
          // 8: positions 2-44 (service class, count, hash, debit, credit); 9: positions 2-55.
          const col = type === '8' ? 1 + ((col0 * 4 + nth) % 43) : 1 + ((col0 * 6 + nth) % 54);
          const bytes = changeDigit(src.bytes, type, nth, col, bump);
          if (bytes) expect(parseAch(bytes, src.options).ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
