import { describe, expect, it } from 'vitest';
import { QboFault } from './faults.ts';
import { compareDecimal, executeQuery, parseQuery } from './query.ts';

const rows = [
  {
    Id: '10',
    DocNumber: '1001',
    TotalAmt: 100.5,
    TxnDate: '2025-01-02',
    CustomerRef: { value: '3' },
    Active: true,
    MetaData: { LastUpdatedTime: '2025-01-02T10:00:00-08:00' },
  },
  {
    Id: '9',
    DocNumber: "O'B-1",
    TotalAmt: 20,
    TxnDate: '2025-01-05',
    CustomerRef: { value: '4' },
    Active: false,
    MetaData: { LastUpdatedTime: '2025-01-05T09:00:00-08:00' },
  },
  {
    Id: '11',
    DocNumber: '1003',
    TotalAmt: 100.49,
    TxnDate: '2025-01-03',
    CustomerRef: { value: '3' },
    Active: true,
    MetaData: { LastUpdatedTime: '2025-01-02T19:30:00Z' },
  },
];
const ids = (sql: string) => executeQuery(parseQuery(sql), rows).rows.map((r) => r['Id']);
const faultCode = (sql: string): string | undefined => {
  try {
    parseQuery(sql);
  } catch (e) {
    if (e instanceof QboFault) return e.errors[0]!.code;
    throw e;
  }
  return undefined;
};

describe('QBO query parser', () => {
  it('parses the clauses, case-insensitively, with ORDERBY and paging', () => {
    expect(parseQuery("select * from Invoice where DocNumber = '1001' and TotalAmt > '10' orderby TxnDate desc, Id startposition 2 maxresults 50")).toEqual({
      select: { kind: 'all' },
      entity: 'Invoice',
      where: [
        { field: 'DocNumber', op: '=', value: '1001' },
        { field: 'TotalAmt', op: '>', value: '10' },
      ],
      orderBy: [
        { field: 'TxnDate', desc: true },
        { field: 'Id', desc: false },
      ],
      startPosition: 2,
      maxResults: 50,
    });
    expect(parseQuery('SELECT COUNT(*) FROM Payment').select).toEqual({ kind: 'count' });
    expect(parseQuery('SELECT Id, DocNumber FROM Invoice ORDER BY Id').select).toEqual({ kind: 'fields', fields: ['Id', 'DocNumber'] });
  });

  it("unescapes \\' inside strings and reads IN lists", () => {
    expect(ids("SELECT * FROM Invoice WHERE DocNumber = 'O\\'B-1'")).toEqual(['9']);
    expect(ids("SELECT * FROM Invoice WHERE DocNumber IN ('1001', 'O\\'B-1', 'zzz')")).toEqual(['9', '10']);
  });

  it('compares numbers exactly, date-times as instants, refs by id, booleans and LIKE', () => {
    expect(ids('SELECT * FROM Invoice WHERE TotalAmt >= 100.5')).toEqual(['10']);
    expect(ids("SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2025-01-02T11:00:00-08:00'")).toEqual(['9', '11']);
    expect(ids("SELECT * FROM Invoice WHERE CustomerRef = '3' AND Active = true")).toEqual(['10', '11']);
    expect(ids("SELECT * FROM Invoice WHERE DocNumber LIKE '10%'")).toEqual(['10', '11']);
    expect(compareDecimal('100.49', '100.5')).toBe(-1);
  });

  it('orders by Id numerically by default and pages from STARTPOSITION 1', () => {
    expect(ids('SELECT * FROM Invoice')).toEqual(['9', '10', '11']);
    expect(ids('SELECT * FROM Invoice ORDERBY TxnDate DESC STARTPOSITION 2 MAXRESULTS 1')).toEqual(['11']);
    expect(executeQuery(parseQuery('SELECT * FROM Invoice MAXRESULTS 1'), rows).totalCount).toBe(3);
  });

  it('rejects what QBO rejects: OR, unterminated strings, junk, MAXRESULTS over 1000', () => {
    expect(faultCode("SELECT * FROM Invoice WHERE DocNumber = '1' OR DocNumber = '2'")).toBe('4000');
    expect(faultCode("SELECT * FROM Invoice WHERE DocNumber = '1")).toBe('4000');
    expect(faultCode('SELECT * FROM Invoice WHERE DocNumber ~ 1')).toBe('4000');
    expect(faultCode('SELECT * FROM Invoice MAXRESULTS 1001')).toBe('4001');
    expect(faultCode('SELECT * FROM Invoice extra')).toBe('4000');
  });
});
