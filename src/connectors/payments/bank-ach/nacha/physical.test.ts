import { describe, expect, it } from 'vitest';
import { IssueSink } from './issues.ts';
import { splitRecords } from './physical.ts';

const rec = (c: string): string => c.repeat(94);

function split(input: string): { records: string[] | null; issues: IssueSink } {
  const issues = new IssueSink();
  const out = splitRecords(input, issues);
  return { records: out?.map((r) => r.text) ?? null, issues };
}

describe('physical layout', () => {
  it('reads LF, CRLF and a missing final newline alike', () => {
    const lf = split(`${rec('1')}\n${rec('9')}\n`);
    const crlf = split(`${rec('1')}\r\n${rec('9')}\r\n`);
    const bare = split(`${rec('1')}\n${rec('9')}`);
    expect(lf.records).toEqual([rec('1'), rec('9')]);
    expect(crlf.records).toEqual(lf.records);
    expect(bare.records).toEqual(lf.records);
    expect(lf.issues.warnings).toEqual([]);
    expect(crlf.issues.warnings.map((w) => w.code)).toEqual(['crlf']);
    expect(bare.issues.warnings.map((w) => w.code)).toEqual(['no_final_newline']);
  });

  it('pads trimmed lines and cuts trailing blanks beyond 94', () => {
    const { records, issues } = split(`1abc\n${rec('5')}    \n`);
    expect(records).toEqual(['1abc'.padEnd(94), rec('5')]);
    expect(issues.warnings.map((w) => w.code)).toEqual(['line_padded', 'line_trimmed']);
  });

  it('splits a file without line breaks every 94 characters, numbering records', () => {
    const issues = new IssueSink();
    const out = splitRecords(rec('1') + rec('5') + rec('9'), issues);
    expect(out?.map((r) => [r.line, r.text[0]])).toEqual([
      [1, '1'],
      [2, '5'],
      [3, '9'],
    ]);
    expect(issues.warnings.map((w) => w.code)).toContain('records_unbroken');
  });

  it('rejects a long line that is neither blank-padded nor a multiple of 94', () => {
    const { records, issues } = split('1' + rec('1') + rec('5'));
    expect(records).toBeNull();
    expect(issues.errors[0]).toMatchObject({ code: 'record_length', line: 1 });
  });

  it('rejects non-ASCII and control characters with the line they are on', () => {
    const a = split(`${rec('1')}\n${'5é'.padEnd(94)}\n`);
    expect(a.issues.errors[0]).toMatchObject({ code: 'invalid_character', line: 2 });
    const b = split(`${rec('1')}\n${'5\t'.padEnd(94)}\n`);
    expect(b.issues.errors[0]).toMatchObject({ code: 'invalid_character', line: 2 });
    const c = split(`${rec('1')}\r${rec('9')}\n`);
    expect(c.issues.errors[0]).toMatchObject({ code: 'invalid_character', line: 1 });
  });

  it('rejects empty files and blank lines between records, ignores blank lines at the end', () => {
    expect(split('').issues.errors[0]?.code).toBe('empty_file');
    expect(split(`${rec('1')}\n\n${rec('9')}\n`).issues.errors[0]).toMatchObject({ code: 'record_length', line: 2 });
    expect(split(`${rec('1')}\n${rec('9')}\n\n\n`).records).toHaveLength(2);
  });
});
