import { describe, expect, it } from 'vitest';
import { ConditionSyntaxError, evaluate, parseConditions, pinnedIds } from './conditions.ts';

const invoice = {
  id: 42,
  invoiceNumber: 'INV-10042',
  type: 'Standard',
  total: 1250.5,
  company: { id: 7, identifier: 'AcmeDental', name: 'Acme Dental' },
  closedFlag: false,
  reference: null,
  _info: { lastUpdated: '2024-03-05T10:15:00Z' },
};

const matches = (c: string): boolean => evaluate(parseConditions(c), invoice);

describe('ConnectWise conditions', () => {
  it('compares numbers, strings (case-insensitively), booleans and null', () => {
    expect(matches('id = 42')).toBe(true);
    expect(matches('id != 42')).toBe(false);
    expect(matches('total > 1250 and total <= 1250.5')).toBe(true);
    expect(matches('type = "standard"')).toBe(true);
    expect(matches("type = 'Agreement'")).toBe(false);
    expect(matches('closedFlag = false')).toBe(true);
    expect(matches('reference = null')).toBe(true);
    expect(matches('reference != null')).toBe(false);
  });

  it('reads nested fields with / and compares [dates]', () => {
    expect(matches('company/id = 7')).toBe(true);
    expect(matches('company/identifier like "acme%"')).toBe(true);
    expect(matches('_info/lastUpdated > [2024-03-05T10:14:59Z]')).toBe(true);
    expect(matches('_info/lastUpdated > [2024-03-05T10:15:00Z]')).toBe(false);
    expect(matches('_info/lastUpdated >= [2024-03-05T10:15:00Z]')).toBe(true);
    expect(matches('_info/lastUpdated = [2024-03-05T10:15:00Z] and id > 41')).toBe(true);
  });

  it('supports like, not like, contains, in and not in', () => {
    expect(matches('invoiceNumber like "INV-100%"')).toBe(true);
    expect(matches('invoiceNumber like "INV-_0042"')).toBe(true);
    expect(matches('invoiceNumber not like "CM%"')).toBe(true);
    expect(matches('company/name contains "dent"')).toBe(true);
    expect(matches('id in (1, 42, 99)')).toBe(true);
    expect(matches('id not in (1, 99)')).toBe(true);
    expect(matches('type in ("Agreement", "CreditMemo")')).toBe(false);
  });

  it('gives and precedence over or, honours parentheses and not', () => {
    expect(matches('id = 1 or id = 42 and type = "Standard"')).toBe(true);
    expect(matches('(id = 1 or id = 42) and type = "Agreement"')).toBe(false);
    expect(matches('not (id = 1) AND TYPE = "Standard"')).toBe(true);
    expect(matches('_info/lastUpdated > [2024-03-05T10:15:00Z] or (_info/lastUpdated = [2024-03-05T10:15:00Z] and id > 42)')).toBe(false);
  });

  it('unescapes quotes inside strings', () => {
    expect(evaluate(parseConditions('name = "Bob \\"The\\" Builder"'), { name: 'Bob "The" Builder' })).toBe(true);
  });

  it.each([
    ['id = ', 'expected a value'],
    ['id == 4', 'expected a value'],
    ['(id = 4', 'expected ")"'],
    ['id = "open', 'unterminated string'],
    ['date > [not a date]', 'invalid date'],
    ['id 4', 'expected an operator'],
    ['id = 4 id = 5', 'unexpected'],
    ['id in 4', 'expected "("'],
    ['id = 4 & id = 5', 'unexpected character'],
  ])('rejects %s with a clear message', (src, message) => {
    expect(() => parseConditions(src)).toThrow(ConditionSyntaxError);
    expect(() => parseConditions(src)).toThrow(message);
  });

  it('finds ids pinned by the top level of a condition (for index lookups)', () => {
    expect(pinnedIds(parseConditions('invoice/id in (3, 4) and billableOption = "Billable"'), 'invoice/id')).toEqual([3, 4]);
    expect(pinnedIds(parseConditions('invoice/id = 9'), 'invoice/id')).toEqual([9]);
    expect(pinnedIds(parseConditions('invoice/id = 9 or id = 1'), 'invoice/id')).toBeNull();
    expect(pinnedIds(parseConditions('invoice/id not in (9)'), 'invoice/id')).toBeNull();
  });
});
