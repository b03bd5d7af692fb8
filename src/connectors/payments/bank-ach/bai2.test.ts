import { describe, expect, it } from 'vitest';
import { writeBai2Statement } from '../../../../simulators/bank-sftp/bai2-statement.ts';
import { parseBai2 } from './bai2.ts';

const statement = writeBai2Statement(
  {
    sender: '231380104',
    receiver: 'ORIGINATOR',
    createdAt: new Date('2026-03-24T06:00:00Z'),
    fileId: '7',
    asOfDate: '2026-03-23',
    accountNumber: '000123456789',
    openingLedgerCents: 1_000_000n,
  },
  [
    {
      direction: 'credit',
      typeCode: '165',
      amountCents: 250_000n,
      bankReference: 'B1',
      customerReference: 'SETTLE_20260320_A.ach',
      text: 'ACH SETTLEMENT, EFF 2026-03-23',
    },
    { direction: 'debit', typeCode: '455', amountCents: 12_500n, bankReference: 'B2', customerReference: 'SETTLE_20260318_A.ach', text: 'ACH RETURN R01' },
  ],
);

const breakLine = (text: string, code: string, edit: (fields: string[]) => void): string =>
  text
    .split('\n')
    .map((l) => {
      if (!l.startsWith(`${code},`)) return l;
      const f = l.replace(/\/$/, '').split(',');
      edit(f);
      return `${f.join(',')}/`;
    })
    .join('\n');

describe('BAI2 statement reader', () => {
  it('reads what the writer wrote: group date, account, credit and debit details with references and text', () => {
    const r = parseBai2(statement);
    if (!r.ok) expect.unreachable(JSON.stringify(r.error));
    expect(r.file.groups).toHaveLength(1);
    const g = r.file.groups[0]!;
    expect([g.asOfDate, g.currency, r.file.sender]).toEqual(['2026-03-23', 'USD', '231380104']);
    const a = g.accounts[0]!;
    expect(a.accountNumber).toBe('000123456789');
    expect(a.summaries.get('100')).toBe(250_000n);
    expect(a.summaries.get('015')).toBe(1_000_000n + 250_000n - 12_500n);
    expect(a.transactions.map((t) => [t.line, t.typeCode, t.direction, t.amountCents, t.customerReference, t.text])).toEqual([
      [4, '165', 'credit', 250_000n, 'SETTLE_20260320_A.ach', 'ACH SETTLEMENT, EFF 2026-03-23'],
      [5, '455', 'debit', 12_500n, 'SETTLE_20260318_A.ach', 'ACH RETURN R01'],
    ]);
  });

  it('joins 88 continuations and counts them as records', () => {
    const lines = statement.split('\n');
    const i = lines.findIndex((l) => l.startsWith('16,165'));
    lines.splice(i, 1, '16,165,250000,0,B1,SETTLE_20260320_A.ach,ACH SETTLEMENT', '88,EFF 2026-03-23');
    const fixed = lines.map((l) =>
      l
        .replace(/^49,(\d+),(\d+)\//, (_m, t: string, n: string) => `49,${t},${Number(n) + 1}/`)
        .replace(/^98,(\d+),1,(\d+)\//, (_m, t: string, n: string) => `98,${t},1,${Number(n) + 1}/`)
        .replace(/^99,(\d+),1,(\d+)\//, (_m, t: string, n: string) => `99,${t},1,${Number(n) + 1}/`),
    );
    const r = parseBai2(fixed.join('\n'));
    if (!r.ok) expect.unreachable(JSON.stringify(r.error));
    expect(r.file.groups[0]!.accounts[0]!.transactions[0]!.text).toBe('ACH SETTLEMENT,EFF 2026-03-23');
  });

  it.each<[string, string, string, string, RegExp]>([
    ['account control total', breakLine(statement, '49', (f) => (f[1] = String(Number(f[1]) + 1))), '49', 'accountControlTotal', /add up to/],
    ['account record count', breakLine(statement, '49', (f) => (f[2] = '9')), '49', 'numberOfRecords', /the account has 4/],
    ['group control total', breakLine(statement, '98', (f) => (f[1] = '1')), '98', 'groupControlTotal', /accounts add up/],
    ['file record count', breakLine(statement, '99', (f) => (f[3] = '3')), '99', 'numberOfRecords', /the file has 8/],
    ['summary disagreeing with its details', breakLine(statement, '03', (f) => (f[12] = '250001')), '03', 'amount(100)', /credit details add up/],
    ['not BAI2', breakLine(statement, '01', (f) => (f[8] = '1')), '01', 'versionNumber', /not BAI2/],
    ['a bad as-of date', breakLine(statement, '02', (f) => (f[4] = '260230')), '02', 'asOfDate', /calendar date/],
    ['an amount with decimals', statement.replace('16,165,250000,', '16,165,2500.00,'), '16', 'amount', /whole number of cents/],
    ['a summary type code in a detail', statement.replace('16,455,', '16,015,'), '16', 'typeCode', /not a credit/],
    ['an unknown record', statement.replace('49,', '47,'), '47', 'recordCode', /not a BAI2 record code/],
    [
      'a missing file trailer',
      statement
        .split('\n')
        .filter((l) => !l.startsWith('99,'))
        .join('\n'),
      '99',
      'recordCode',
      /file trailer/,
    ],
  ])('refuses %s, naming line, record and field', (_name, text, record, field, message) => {
    const r = parseBai2(text);
    if (r.ok) expect.unreachable('accepted');
    expect(r.error).toMatchObject({ record, field });
    expect(r.error.line).toBeGreaterThan(0);
    expect(r.error.message).toMatch(message);
  });
});
