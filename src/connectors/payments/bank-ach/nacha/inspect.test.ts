import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectAchFile, maskAccount, runInspect } from './inspect.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../../shared/fixtures/ach');
const fixture = (rel: string): Buffer => fs.readFileSync(path.join(fixtures, rel));

function sink(): { write(s: string): void; text: () => string } {
  let buf = '';
  return { write: (s: string) => void (buf += s), text: () => buf };
}

describe('inspectAchFile', () => {
  it('lists batches, entries, totals and hashes with amounts as cents and decimal strings', () => {
    const r = inspectAchFile(fixture('valid/ppd-debit.ach'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const json = JSON.parse(JSON.stringify(r.json)); // must be plain JSON: no bigint left anywhere
    expect(json.totals).toMatchObject({
      batchCount: 1,
      blockCount: 1,
      entryCount: 1,
      entryAddendaCount: 1,
      entryHash: '0023138010',
      totalDebit: { cents: '100000000', decimal: '1000000.00' },
      totalCredit: { cents: '0', decimal: '0.00' },
      fillerLines: 5,
    });
    expect(json.batches[0]).toMatchObject({
      batchNumber: 1,
      secCode: 'PPD',
      serviceClassCode: 225,
      companyEntryDescription: 'REG.SALARY',
      entryHash: '0023138010',
    });
    expect(json.batches[0].entries[0]).toMatchObject({
      transactionCode: 27,
      direction: 'debit',
      routingNumber: '231380104',
      accountNumber: '****5678',
      amount: { cents: '100000000', decimal: '1000000.00' },
      traceNumber: '121042880000001',
    });
    expect(json.returns).toEqual([]);
    expect(json.warnings.map((w: { code: string }) => w.code)).toEqual(['no_final_newline']);
  });

  it('shows full account numbers only when asked', () => {
    const r = inspectAchFile(fixture('valid/ppd-debit.ach'), { showAccountNumbers: true });
    expect(r.ok && JSON.parse(JSON.stringify(r.json)).batches[0].entries[0].accountNumber).toBe('12345678');
    expect(maskAccount('1918171614')).toBe('******1614');
    expect(maskAccount('123')).toBe('***');
  });

  it('lists returns and NOCs, masking corrected account numbers too', () => {
    const ret = inspectAchFile(fixture('returns/return-WEB.ach'));
    const rj = ret.ok ? JSON.parse(JSON.stringify(ret.json)) : null;
    expect(rj.returns.map((x: Record<string, unknown>) => [x.returnReasonCode, x.originalEntryTraceNumber, x.amount])).toEqual([
      ['R01', '091400600000001', { cents: '12354', decimal: '123.54' }],
      ['R03', '091400600000003', { cents: '4565', decimal: '45.65' }],
    ]);
    const noc = inspectAchFile(fixture('noc/cor-example.ach'));
    const nj = noc.ok ? JSON.parse(JSON.stringify(noc.json)) : null;
    expect(nj.nocs[0]).toMatchObject({ changeCode: 'C01', correction: { kind: 'account_number', accountNumber: '******1614' } });
  });

  it('reports the first error with line, record type, field and code', () => {
    const r = inspectAchFile(fixture('invalid/ppd-debit-invalid-entryDetail-checkDigit.ach'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ line: 3, recordType: '6', field: 'checkDigit', code: 'check_digit' });
  });
});

describe('runInspect (settle ach inspect FILE)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-ach-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, bytes: Buffer): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, bytes);
    return p;
  };

  it('prints JSON and exits 0 for a valid file', () => {
    const out = sink();
    const err = sink();
    expect(runInspect([write('ok.ach', fixture('valid/web-credit.ach'))], out, err)).toBe(0);
    expect(JSON.parse(out.text()).totals.totalCredit).toEqual({ cents: '10799', decimal: '107.99' });
    expect(err.text()).toBe('');
  });

  it('exits 1 and names line, record and field for an invalid file', () => {
    const out = sink();
    const err = sink();
    expect(runInspect([write('bad.ach', fixture('invalid/issue1620.ach'))], out, err)).toBe(1);
    expect(JSON.parse(out.text()).error).toMatchObject({ line: 5, recordType: '9', field: 'batchCount', code: 'batch_count' });
    expect(err.text()).toMatch(/line 5, record 9, field batchCount/);
  });

  it('reports a content rule (required field per SEC code) with line, record and field', () => {
    const out = sink();
    const err = sink();
    const content = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../test/ach/content/ppd-blank-individual-name.ach');
    expect(runInspect([write('noname.ach', fs.readFileSync(content))], out, err)).toBe(1);
    expect(JSON.parse(out.text()).error).toMatchObject({ line: 3, recordType: '6', field: 'receiverName', code: 'required' });
    expect(err.text()).toMatch(/line 3, record 6, field receiverName.*Individual Name.*PPD/);
  });

  it('accepts bank-specific return codes with --return-codes', () => {
    const p = write('r97.ach', fixture('returns/return-PPD-custom-reason-code.ach'));
    expect(runInspect([p], sink(), sink())).toBe(1);
    expect(runInspect([p, '--return-codes', 'R97'], sink(), sink())).toBe(0);
    expect(runInspect([p, '--return-codes=r97'], sink(), sink())).toBe(0);
  });

  it('applies the strict record-length reading with --strict-length', () => {
    const p = write('trimmed.ach', fixture('format/ppd-debit-trimmed.ach'));
    expect(runInspect([p], sink(), sink())).toBe(0);
    expect(runInspect([p, '--strict-length'], sink(), sink())).toBe(1);
  });

  it('exits 2 on usage and read errors', () => {
    const err = sink();
    expect(runInspect([], sink(), err)).toBe(2);
    expect(err.text()).toMatch(/usage/);
    expect(runInspect([path.join(dir, 'missing.ach')], sink(), sink())).toBe(2);
    expect(runInspect(['a', 'b'], sink(), sink())).toBe(2);
    expect(runInspect(['--bogus', 'a'], sink(), sink())).toBe(2);
    expect(runInspect(['--return-codes'], sink(), sink())).toBe(2);
    const out = sink();
    expect(runInspect(['--help'], out, sink())).toBe(0);
    expect(out.text()).toMatch(/settle ach inspect/);
  });
});
