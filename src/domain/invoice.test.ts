import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  changesAmountOwed,
  contentHash,
  diffVersions,
  invoiceStatus,
  normalizeQuantity,
  openBalance,
  type InvoiceLineVersion,
  type InvoiceVersion,
} from './invoice.ts';
import { MoneyError, money, type Money } from './money.ts';

const usd = (n: bigint | number): Money => money(n, 'USD');
const applied = (...amounts: number[]) => amounts.map((a) => ({ invoiceId: 'i1', amount: usd(a) }));
const totals = (total: number, voided = false) => ({ invoiceId: 'i1', total: usd(total), voided });

describe('invoiceStatus / openBalance', () => {
  it('derives the status from total and collected amounts', () => {
    expect(invoiceStatus(totals(10_000), [])).toBe('open');
    expect(invoiceStatus(totals(10_000), applied(2_500))).toBe('partially_paid');
    expect(invoiceStatus(totals(10_000), applied(2_500, 7_500))).toBe('paid');
    expect(invoiceStatus(totals(10_000), applied(12_000))).toBe('credit'); // PSA lowered a paid invoice
    expect(invoiceStatus(totals(-5_000), [])).toBe('credit'); // credit memo
    expect(invoiceStatus(totals(0), [])).toBe('paid');
    expect(invoiceStatus(totals(10_000, true), applied(10_000))).toBe('void');
  });

  it('counts only the allocations of this invoice', () => {
    const allocs = [...applied(1_000), { invoiceId: 'other', amount: usd(9_000) }];
    expect(openBalance(totals(10_000), allocs)).toEqual(usd(9_000));
    expect(invoiceStatus(totals(10_000), allocs)).toBe('partially_paid');
  });

  it('a void invoice owes nothing; what was applied comes back as a negative balance', () => {
    expect(openBalance(totals(10_000, true), [])).toEqual(usd(0));
    expect(openBalance(totals(10_000, true), applied(4_000))).toEqual(usd(-4_000));
  });

  it('refuses allocations in another currency', () => {
    expect(() => openBalance(totals(100), [{ invoiceId: 'i1', amount: money(1, 'CAD') }])).toThrow(MoneyError);
  });

  it('open balance + applied == total, and status agrees with the balance', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.array(fc.bigInt({ min: 1n, max: 10n ** 8n }), { maxLength: 6 }), (total, parts) => {
        const inv = { invoiceId: 'i1', total: usd(total), voided: false };
        const allocs = parts.map((p) => ({ invoiceId: 'i1', amount: usd(p) }));
        const bal = openBalance(inv, allocs).amountMinor;
        expect(bal + parts.reduce((s, p) => s + p, 0n)).toBe(total);
        const status = invoiceStatus(inv, allocs);
        if (bal < 0n) expect(status).toBe('credit');
        else if (bal === 0n) expect(status).toBe('paid');
        else expect(status).toBe(parts.length === 0 ? 'open' : 'partially_paid');
      }),
    );
  });
});

const line = (externalId: string, amount: number, quantity = '1', description = 'Managed services'): InvoiceLineVersion => ({
  externalId,
  description,
  quantity,
  amount: usd(amount),
});
const version = (over: Partial<InvoiceVersion> = {}): InvoiceVersion => ({
  number: 'INV-1001',
  currency: 'USD',
  total: usd(15_000),
  dueOn: '2026-04-30',
  voided: false,
  lines: [line('product:1', 10_000), line('time:7', 5_000, '2.5', 'Onsite')],
  ...over,
});

describe('contentHash', () => {
  it('is the same for an unchanged re-delivery, whatever the line order and number formatting', () => {
    const a = version();
    const b = version({
      number: ' INV-1001 ',
      lines: [line('time:7', 5_000, '2.50', 'Onsite '), line('product:1', 10_000, '1.0')],
    });
    expect(contentHash(b)).toBe(contentHash(a));
    expect(diffVersions(a, b)).toEqual([]);
  });

  it('changes when a field that matters changes', () => {
    const base = contentHash(version());
    expect(contentHash(version({ total: usd(15_001) }))).not.toBe(base);
    expect(contentHash(version({ dueOn: '2026-05-01' }))).not.toBe(base);
    expect(contentHash(version({ dueOn: null }))).not.toBe(base);
    expect(contentHash(version({ voided: true }))).not.toBe(base);
    expect(contentHash(version({ currency: 'CAD', total: money(15_000, 'CAD') }))).not.toBe(base);
    expect(contentHash(version({ lines: [line('product:1', 10_000)] }))).not.toBe(base);
    expect(contentHash(version({ lines: [line('product:1', 10_000), line('time:7', 5_000, '3', 'Onsite')] }))).not.toBe(base);
  });

  it('is canonical JSON text with a layout version', () => {
    const parsed = JSON.parse(contentHash(version())) as { v: number; total: string; lines: string[][] };
    expect(parsed.v).toBe(1);
    expect(parsed.total).toBe('15000 USD');
    expect(parsed.lines.map((l) => l[0])).toEqual(['product:1', 'time:7']);
  });
});

describe('diffVersions', () => {
  it('lists each changed field, with added / removed / changed lines', () => {
    const a = version();
    const b = version({
      total: usd(17_500),
      dueOn: '2026-05-15',
      lines: [line('product:1', 12_500), line('expense:3', 5_000)],
    });
    expect(diffVersions(a, b)).toEqual([
      { field: 'total', before: usd(15_000), after: usd(17_500) },
      { field: 'dueOn', before: '2026-04-30', after: '2026-05-15' },
      { field: 'lines', added: ['expense:3'], removed: ['time:7'], changed: ['product:1'] },
    ]);
    expect(changesAmountOwed(diffVersions(a, b))).toBe(true);
    expect(changesAmountOwed(diffVersions(a, version({ dueOn: null })))).toBe(false);
    expect(diffVersions(a, version({ voided: true, number: 'INV-1002' })).map((c) => c.field)).toEqual(['number', 'voided']);
  });

  const lineArb = fc.record({
    externalId: fc.constantFrom('product:1', 'product:2', 'time:1', 'expense:1'),
    description: fc.constantFrom('A', 'B', ' A'),
    quantity: fc.constantFrom('1', '1.0', '2', '02.50', '2.5'),
    amount: fc.bigInt({ min: -1000n, max: 1000n }).map(usd),
  });
  const versionArb = fc.record({
    number: fc.constantFrom('INV-1', 'INV-1 ', 'INV-2'),
    currency: fc.constant('USD' as const),
    total: fc.bigInt({ min: 0n, max: 3n }).map(usd),
    dueOn: fc.constantFrom(null, '2026-01-01', '2026-02-01'),
    voided: fc.boolean(),
    lines: fc.array(lineArb, { maxLength: 4 }),
  });

  it('property: equal hashes ⇔ no differences', () => {
    fc.assert(
      fc.property(versionArb, versionArb, (a, b) => {
        expect(contentHash(a) === contentHash(b)).toBe(diffVersions(a, b).length === 0);
        expect(diffVersions(a, a)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('property: shuffling the lines never changes the hash', () => {
    fc.assert(
      fc.property(versionArb, fc.func(fc.integer()), (v, rank) => {
        const shuffled = { ...v, lines: [...v.lines].sort((x, y) => rank(x.externalId, x.quantity) - rank(y.externalId, y.quantity)) };
        expect(contentHash(shuffled)).toBe(contentHash(v));
      }),
    );
  });
});

describe('normalizeQuantity', () => {
  it('drops insignificant zeros and keeps anything else as written', () => {
    expect(normalizeQuantity('1.50')).toBe('1.5');
    expect(normalizeQuantity('002')).toBe('2');
    expect(normalizeQuantity('2.000')).toBe('2');
    expect(normalizeQuantity('0.25')).toBe('0.25');
    expect(normalizeQuantity('00.5')).toBe('0.5');
    expect(normalizeQuantity('100')).toBe('100');
    expect(normalizeQuantity('-0.0')).toBe('0');
    expect(normalizeQuantity('-1.10')).toBe('-1.1');
    expect(normalizeQuantity(' 3 ')).toBe('3');
    expect(normalizeQuantity('1e3')).toBe('1e3');
  });
});
