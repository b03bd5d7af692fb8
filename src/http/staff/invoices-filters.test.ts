import { describe, expect, it } from 'vitest';
import { chipsOf, decodeCursor, encodeCursor, parseListQuery, todayIn } from './invoices-filters.ts';

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('invoice list query string', () => {
  it('keeps valid filters and says what is wrong with the others', () => {
    const r = parseListQuery({
      q: ' INV-10 ',
      status: 'paid',
      overdue: 'yes',
      from: '2026-02-31',
      to: '2026-01-01',
      autopay: 'maybe',
      method: 'cash',
      sort: 'colour',
    });
    expect(r.filter).toEqual({ q: 'INV-10', status: 'paid', overdue: true, issuedTo: '2026-01-01' });
    expect(r.errors.map((e) => e.field)).toEqual(['from', 'autopay', 'method', 'sort']);
    expect(r.errors[0]!.message).toBe('Enter the first issue date as a date, for example 2026-03-01');
    expect(parseListQuery({ from: '2026-03-02', to: '2026-03-01' }).errors).toEqual([
      { field: 'to', message: 'The last issue date must be on or after the first' },
    ]);
    expect(parseListQuery({ client: 'not-a-uuid' }).errors).toHaveLength(1);
  });

  it('sorts by issue date, newest first, unless asked; numbers read lowest first', () => {
    expect(parseListQuery({})).toMatchObject({ sort: 'issued', dir: 'desc', given: {} });
    expect(parseListQuery({ sort: 'number' })).toMatchObject({ sort: 'number', dir: 'asc' });
    expect(parseListQuery({ sort: 'amount', dir: 'asc' })).toMatchObject({ sort: 'amount', dir: 'asc', given: { sort: 'amount', dir: 'asc' } });
  });

  it('a cursor only works for the sort it was made for, and a tampered one is ignored', () => {
    const c = encodeCursor({ key: '2026-01-05', id: ID }, 'issued', 'desc');
    expect(decodeCursor(c, 'issued', 'desc')).toEqual({ key: '2026-01-05', id: ID });
    expect(decodeCursor(c, 'issued', 'asc')).toBeNull();
    expect(decodeCursor(c, 'amount', 'desc')).toBeNull();
    expect(decodeCursor(encodeCursor({ key: '2026-02-30', id: ID }, 'issued', 'desc'), 'issued', 'desc')).toBeNull();
    expect(decodeCursor(encodeCursor({ key: '1e9', id: ID }, 'amount', 'desc'), 'amount', 'desc')).toBeNull();
    expect(decodeCursor(encodeCursor({ key: 'infinity', id: ID }, 'due', 'asc'), 'due', 'asc')).toEqual({ key: 'infinity', id: ID });
    expect(decodeCursor('not base64 json', 'issued', 'desc')).toBeNull();
    expect(decodeCursor(Buffer.from('["issued","desc","2026-01-05","x"]').toString('base64url'), 'issued', 'desc')).toBeNull();
  });

  it('each chip removes its own filter and keeps the rest and the sort', () => {
    const { given } = parseListQuery({ q: 'acme', status: 'open', client: ID, sort: 'due' });
    const chips = chipsOf(given, 'Acme Dental');
    expect(chips.map((c) => c.label)).toEqual(['Search: acme', 'Status: Open', 'Client: Acme Dental']);
    expect(chips[1]!.href).toBe(`/app/invoices?q=acme&client=${ID}&sort=due`);
  });

  it("today is the workspace's date", () => {
    const late = new Date('2026-03-01T03:00:00Z');
    expect(todayIn('UTC', late)).toBe('2026-03-01');
    expect(todayIn('America/Chicago', late)).toBe('2026-02-28');
  });
});
