// Every shared NACHA fixture (../shared/fixtures/ach, explained in its README.md), table-driven:
// valid/, format/, returns/ and noc/ must parse with the counts and totals the README lists;
// invalid/ must be rejected for the reason the README gives (issue code, line, record type, field).
import { describe, expect, it } from 'vitest';
import { parseAch } from '../../src/connectors/payments/bank-ach/nacha/parse.ts';
import { listNocs, listReturns } from '../../src/connectors/payments/bank-ach/nacha/returns.ts';
import type { AchFile, AchIssueCode, AchParseOptions } from '../../src/connectors/payments/bank-ach/nacha/types.ts';
import { contentFixture, contentFixtureNames, fixture, fixtureNames } from './fixtures.ts';

interface Expected {
  batches: number;
  entries: number;
  debit: bigint;
  credit: bigint;
  entryAddendaCount?: number;
  entryHash?: bigint;
  blockCount?: number;
  fillerLines?: number;
  warnings?: AchIssueCode[];
  returns?: string[];
  nocs?: string[];
  options?: AchParseOptions;
}

const ACCEPTED: Record<string, Expected> = {
  'valid/ppd-debit.ach': { batches: 1, entries: 1, debit: 100000000n, credit: 0n, fillerLines: 5, warnings: ['no_final_newline'] },
  'valid/ppd-credit.ach': { batches: 1, entries: 1, debit: 0n, credit: 100000000n },
  'valid/ccd-debit.ach': { batches: 1, entries: 2, debit: 500125n, credit: 0n },
  'valid/ccd-debit-savings-credit.ach': { batches: 1, entries: 2, debit: 342400n, credit: 342400n },
  'valid/web-credit.ach': { batches: 1, entries: 2, debit: 0n, credit: 10799n, entryAddendaCount: 4 },
  'valid/web-debit.ach': { batches: 3, entries: 6, debit: 15000n, credit: 26820n },
  'valid/ppd-mixedDebitCredit.ach': { batches: 1, entries: 3, debit: 200000000n, credit: 200000000n },
  'valid/two-micro-deposits.ach': { batches: 2, entries: 6, debit: 120n, credit: 120n, entryAddendaCount: 12 },
  'valid/ctx-debit.ach': { batches: 1, entries: 1, debit: 100000000n, credit: 0n, entryAddendaCount: 3 },
  'valid/flattenBatchesMultipleBatchHeaders.ach': {
    batches: 4,
    entries: 12,
    debit: 0n,
    credit: 1200000n,
    entryHash: 277656120n,
    blockCount: 4,
    fillerLines: 6,
    warnings: [],
  },
  'valid/same-day-ach-ppd-credit.ach': { batches: 1, entries: 1, debit: 0n, credit: 100000000n },
  'valid/201805101354.ach': {
    batches: 4,
    entries: 5000,
    debit: 0n,
    credit: 500000000n,
    entryHash: 5690050000n,
    blockCount: 1001,
    fillerLines: 0,
    warnings: [],
  },
  'format/ppd-debit-trimmed.ach': { batches: 1, entries: 1, debit: 100000000n, credit: 0n, warnings: ['no_final_newline', 'line_padded'] },
  'format/ppd-debit-fixedLength.ach': { batches: 1, entries: 1, debit: 10500n, credit: 0n, blockCount: 1, fillerLines: 0, warnings: ['records_unbroken'] },
  'format/short-line.ach': { batches: 1, entries: 1, debit: 100000000n, credit: 0n, warnings: ['line_padded'] },
  'format/long-line.ach': { batches: 1, entries: 1, debit: 100000000n, credit: 0n, warnings: ['line_trimmed'] },
  'format/employers_test.txt': {
    batches: 5,
    entries: 18,
    debit: 12706891n,
    credit: 12706891n,
    entryHash: 132692966n,
    blockCount: 3,
    fillerLines: 0,
    warnings: ['line_padded'],
  },
  'returns/return-WEB.ach': {
    batches: 2,
    entries: 2,
    debit: 12354n,
    credit: 4565n,
    returns: ['R01', 'R03'],
    warnings: ['no_final_newline', 'company_identification_padding', 'company_identification_padding'],
  },
  'returns/issue702.ach': {
    batches: 3,
    entries: 3,
    debit: 10102n,
    credit: 102n,
    returns: ['R04', 'R03', 'R01'],
    warnings: ['crlf', 'line_padded', 'not_routing_number'],
  },
  'returns/issue1620_return.ach': { batches: 1, entries: 1, debit: 0n, credit: 1n, returns: ['R03'], warnings: ['addenda_trace'] },
  'returns/contested_addenda.txt': { batches: 1, entries: 1, debit: 0n, credit: 1560n, returns: ['R72'], warnings: [] },
  'returns/return-PPD-custom-reason-code.ach': {
    batches: 1,
    entries: 1,
    debit: 0n,
    credit: 106161n,
    returns: ['R97'],
    options: { customReturnCodes: ['R97'] },
  },
  'returns/return_noc.txt': { batches: 3, entries: 3, debit: 4953n, credit: 0n, returns: ['R07', 'R03'], nocs: ['C05'], warnings: ['not_routing_number'] },
  'returns/single_debit_return.ACH': { batches: 1, entries: 1, debit: 2832n, credit: 0n, returns: ['R20'] },
  'returns/single_originated_return.ACH': {
    batches: 1,
    entries: 1,
    debit: 2212340n,
    credit: 0n,
    returns: ['R03'],
    warnings: ['no_final_newline', 'addenda_trace'],
  },
  'returns/FISERV-ZEROFILE-PIMRET825324_032720_110221.ach': {
    batches: 0,
    entries: 0,
    debit: 0n,
    credit: 0n,
    blockCount: 1,
    fillerLines: 8,
    returns: [],
    warnings: ['crlf', 'line_padded', 'blank_file_id_modifier', 'not_routing_number'],
  },
  'noc/cor-example.ach': { batches: 1, entries: 1, debit: 0n, credit: 0n, nocs: ['C01'], returns: [], warnings: ['addenda_trace'] },
};

interface Rejection {
  code: AchIssueCode;
  line: number;
  recordType: string | null;
  field: string | null;
}

const REJECTED: Record<string, Rejection> = {
  'invalid/ppd-debit-invalid-entryDetail-checkDigit.ach': { code: 'check_digit', line: 3, recordType: '6', field: 'checkDigit' },
  'invalid/invalid-two-micro-deposits.ach': { code: 'not_numeric', line: 15, recordType: '6', field: 'amount' },
  'invalid/pos-invalidReturnFile.ach': { code: 'return_code', line: 4, recordType: '7', field: 'returnReasonCode' },
  'invalid/web-invalidNOCFile.ach': { code: 'change_code', line: 4, recordType: '7', field: 'changeCode' },
  'invalid/ppd-debit-fixedLengthInvalid.ach': { code: 'record_length', line: 1, recordType: '1', field: null },
  'invalid/1e5RecordBefore1or8.txt': { code: 'missing_file_header', line: 1, recordType: '5', field: 'recordType' },
  'invalid/1k8RecordFollowing9Record.txt': { code: 'record_after_file_control', line: 11, recordType: '8', field: 'recordType' },
  'invalid/1qFormatCodeIncorrect.txt': { code: 'constant', line: 1, recordType: '1', field: 'formatCode' },
  'invalid/2lCompanyNameAllZeros.txt': { code: 'all_zeros', line: 2, recordType: '5', field: 'companyName' },
  'invalid/issue1620.ach': { code: 'batch_count', line: 5, recordType: '9', field: 'batchCount' },
  'invalid/issue751.ach': { code: 'missing_file_header', line: 1, recordType: '5', field: 'recordType' },
  'invalid/ppd-debit-customTraceNumber.ach': { code: 'trace_odfi', line: 3, recordType: '6', field: 'traceNumber' },
  'invalid/moov-ids.ach': { code: 'entry_hash', line: 10, recordType: '9', field: 'entryHash' },
};

function mustParse(rel: string, options?: AchParseOptions): AchFile {
  const r = parseAch(fixture(rel), options);
  if (!r.ok) throw new Error(`${rel}: ${r.errors.map((e) => `${e.code} line ${e.line}: ${e.message}`).join('; ')}`);
  return r.file;
}

describe('NACHA fixtures', () => {
  it('the tables cover every fixture file', () => {
    const all = ['valid', 'format', 'returns', 'noc', 'invalid'].flatMap((d) => fixtureNames(d).map((n) => `${d}/${n}`));
    expect(all.length).toBe(40);
    expect([...Object.keys(ACCEPTED), ...Object.keys(REJECTED)].sort()).toEqual(all.sort());
  });

  describe.each(Object.entries(ACCEPTED))('%s parses', (rel, exp) => {
    it('with the README counts, totals and warnings', () => {
      const file = mustParse(rel, exp.options);
      expect(file.batches.length).toBe(exp.batches);
      expect(file.control.batchCount).toBe(exp.batches);
      expect(file.batches.reduce((n, b) => n + b.entries.length, 0)).toBe(exp.entries);
      // Independent sums over the typed entries, not the control records the parser compared.
      const entries = file.batches.flatMap((b) => b.entries);
      const sum = (dir: 'debit' | 'credit'): bigint => entries.filter((e) => e.direction === dir).reduce((s, e) => s + e.amountCents, 0n);
      expect(sum('debit')).toBe(exp.debit);
      expect(sum('credit')).toBe(exp.credit);
      expect(file.control.totalDebitCents).toBe(exp.debit);
      expect(file.control.totalCreditCents).toBe(exp.credit);
      if (exp.entryAddendaCount !== undefined) expect(file.control.entryAddendaCount).toBe(exp.entryAddendaCount);
      if (exp.entryHash !== undefined) expect(file.control.entryHash).toBe(exp.entryHash);
      if (exp.blockCount !== undefined) expect(file.control.blockCount).toBe(exp.blockCount);
      if (exp.fillerLines !== undefined) expect(file.fillerLines).toBe(exp.fillerLines);
      if (exp.warnings !== undefined) expect(file.warnings.map((w) => w.code)).toEqual(exp.warnings);
      if (exp.returns !== undefined) expect(listReturns(file).map((r) => r.returnReasonCode)).toEqual(exp.returns);
      if (exp.nocs !== undefined) expect(listNocs(file).map((n) => n.changeCode)).toEqual(exp.nocs);
    });
  });

  describe.each(Object.entries(REJECTED))('%s is rejected', (rel, exp) => {
    it(`for ${exp.code} (${exp.field ?? 'record'})`, () => {
      const r = parseAch(fixture(rel));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.errors).toContainEqual(expect.objectContaining({ code: exp.code, line: exp.line, recordType: exp.recordType, field: exp.field }));
    });
  });
});

describe('fixture details the README calls out', () => {
  it('201805101354: each batch hash is the low 10 digits of 28922512500', () => {
    const file = mustParse('valid/201805101354.ach');
    for (const b of file.batches) expect(b.control.entryHash).toBe(8922512500n);
  });

  it('ctx-debit: CTX layout puts the addenda count in 55-58 and the company in 59-74', () => {
    const e = mustParse('valid/ctx-debit.ach').batches[0]?.entries[0];
    expect(e?.numberOfAddendaRecords).toBe(2);
    expect(e?.receiverName).toBe('Receiver Company');
    expect(e?.addenda.map((a) => (a.type === '05' ? a.addendaSequenceNumber : -1))).toEqual([1, 2]);
  });

  it('web-credit / web-debit: WEB payment type codes, left- or right-aligned', () => {
    expect(mustParse('valid/web-credit.ach').batches[0]?.entries.map((e) => e.discretionaryData)).toEqual(['S ', 'R ']);
    expect(mustParse('valid/web-debit.ach').batches[0]?.entries[0]?.discretionaryData).toBe(' S');
  });

  it('same-day: SD1300 descriptive date and effective date = creation date', () => {
    const file = mustParse('valid/same-day-ach-ppd-credit.ach');
    expect(file.batches[0]?.header.companyDescriptiveDate).toBe('SD1300');
    expect(file.batches[0]?.header.effectiveEntryDate).toBe(file.header.fileCreationDate);
  });

  it('two-micro-deposits: digit file ID modifier and a short company identification', () => {
    const file = mustParse('valid/two-micro-deposits.ach');
    expect(file.header.fileIdModifier).toBe('1');
    expect(file.batches[0]?.header.companyIdentification).toBe('001');
  });

  it('fixedLength: split every 94 characters, ODFI 07640125', () => {
    expect(mustParse('format/ppd-debit-fixedLength.ach').batches[0]?.header.odfi).toBe('07640125');
  });

  it('employers_test: alphanumeric immediate origin and a zero-amount prenote batch', () => {
    const file = mustParse('format/employers_test.txt');
    expect(file.header.immediateOrigin).toBe('N833219776');
    expect(file.batches[3]?.entries.map((e) => [e.transactionCode, e.purpose, e.amountCents])).toEqual([
      [23, 'prenote', 0n],
      [23, 'prenote', 0n],
      [33, 'prenote', 0n],
    ]);
  });

  it('return-WEB: original trace and RDFI from each addenda 99', () => {
    const rs = listReturns(mustParse('returns/return-WEB.ach'));
    expect(rs.map((r) => [r.returnReasonCode, r.transactionCode, r.amountCents, r.originalEntryTraceNumber, r.originalReceivingDfi])).toEqual([
      ['R01', 26, 12354n, '091400600000001', '09100001'],
      ['R03', 21, 4565n, '091400600000003', '02100002'],
    ]);
  });

  it('issue702: processor file with placeholder destination, batch numbers 2607-2609, addenda info', () => {
    const file = mustParse('returns/issue702.ach');
    expect(file.header.immediateDestination).toBe('YYYYYYYYY');
    expect(file.header.fileIdModifier).toBe('B');
    expect(file.batches.map((b) => b.header.batchNumber)).toEqual([2607, 2608, 2609]);
    expect(file.batches[0]?.header.settlementDate).toBe('091');
    expect(listReturns(file).map((r) => [r.returnReasonCode, r.transactionCode, r.amountCents, r.addendaInformation])).toEqual([
      ['R04', 21, 102n, 'PSEUDORETN'],
      ['R03', 26, 101n, 'PSEUDORETN'],
      ['R01', 26, 10001n, 'PSEUDORETN'],
    ]);
  });

  it('contested_addenda: R72 contested dishonored layout, every field', () => {
    const [r] = listReturns(mustParse('returns/contested_addenda.txt'));
    expect(r?.layout).toBe('contested');
    expect(r?.originalEntryTraceNumber).toBe('123456780000069');
    expect(r?.originalReceivingDfi).toBe('75639218');
    expect(r?.dishonor).toEqual({
      returnTraceNumber: '756392180000001',
      returnSettlementDate: '067',
      originalReturnReasonCode: '01',
      dateOriginalEntryReturned: null,
      originalSettlementDate: null,
      dishonoredReturnTraceNumber: '123456780000070',
      dishonoredReturnSettlementDate: '218',
      dishonoredReturnReasonCode: '68',
    });
  });

  it('return-PPD-custom-reason-code: R97 is rejected unless the bank names it', () => {
    const strict = parseAch(fixture('returns/return-PPD-custom-reason-code.ach'));
    expect(strict.ok).toBe(false);
    if (!strict.ok) expect(strict.errors).toContainEqual(expect.objectContaining({ code: 'return_code', line: 4, field: 'returnReasonCode' }));
    // Naming R97 must not open the door to other unknown codes.
    const other = parseAch(fixture('invalid/pos-invalidReturnFile.ach'), { customReturnCodes: ['R97'] });
    expect(other.ok).toBe(false);
    // The bank-file reader reads it with the unknown code as a warning, so the return is still seen.
    const reader = parseAch(fixture('returns/return-PPD-custom-reason-code.ach'), { unknownReturnCodesAsWarnings: true });
    if (!reader.ok) expect.unreachable(JSON.stringify(reader.errors));
    expect(reader.file.warnings).toContainEqual(expect.objectContaining({ code: 'return_code', line: 4, field: 'returnReasonCode' }));
    expect(listReturns(reader.file).map((r) => [r.returnReasonCode, r.line, r.addendaLine])).toEqual([['R97', 3, 4]]);
  });

  it('return_noc: a NOC (C05 → savings 32) and two returns in one bank file', () => {
    const file = mustParse('returns/return_noc.txt');
    const [noc] = listNocs(file);
    expect(noc?.correction).toEqual({ kind: 'transaction_code', transactionCode: 32 });
    expect(noc?.originalEntryTraceNumber).toBe('992222220280489');
    expect(listReturns(file).map((r) => [r.returnReasonCode, r.addendaInformation])).toEqual([
      ['R07', 'INVALID'],
      ['R03', ''],
    ]);
  });

  it('single_debit_return / single_originated_return: bank layout, odd addenda trace tolerated without shifting', () => {
    const [a] = listReturns(mustParse('returns/single_debit_return.ACH'));
    expect([a?.returnReasonCode, a?.originalEntryTraceNumber, a?.originalReceivingDfi]).toEqual(['R20', '021000021000001', '01200012']);
    const [b] = listReturns(mustParse('returns/single_originated_return.ACH'));
    expect([b?.returnReasonCode, b?.originalEntryTraceNumber, b?.originalReceivingDfi]).toEqual(['R03', '012000123404321', '01200012']);
  });

  it('FISERV zero file: a heartbeat with nothing to do, not a failure', () => {
    const file = mustParse('returns/FISERV-ZEROFILE-PIMRET825324_032720_110221.ach');
    expect(file.batches).toEqual([]);
    expect(listReturns(file)).toEqual([]);
  });

  it('cor-example: C01 corrected account number', () => {
    const [noc] = listNocs(mustParse('noc/cor-example.ach'));
    expect(noc?.correction).toEqual({ kind: 'account_number', accountNumber: '1918171614' });
    expect([noc?.originalEntryTraceNumber, noc?.originalReceivingDfi]).toEqual(['121042880000001', '12104288']);
  });

  it('invalid-two-micro-deposits: no partial result, and the bad trace is reported too', () => {
    const r = parseAch(fixture('invalid/invalid-two-micro-deposits.ach'));
    expect(r).not.toHaveProperty('file');
    if (!r.ok) expect(r.errors).toContainEqual(expect.objectContaining({ code: 'not_numeric', line: 15, field: 'traceNumber' }));
  });

  it('moov-ids: the foreign trace prefix is reported beside the bad file hash', () => {
    const r = parseAch(fixture('invalid/moov-ids.ach'));
    if (!r.ok) expect(r.errors.filter((e) => e.code === 'trace_odfi').map((e) => e.line)).toEqual([3, 4, 7, 8]);
    else expect.unreachable();
  });
});

describe('record-length policy, both ways (fixtures README, format/)', () => {
  it.each(fixtureNames('format'))('format/%s is repaired by default and rejected with strictRecordLength', (name) => {
    expect(parseAch(fixture(`format/${name}`)).ok).toBe(true);
    const strict = parseAch(fixture(`format/${name}`), { strictRecordLength: true });
    expect(strict.ok).toBe(false);
    if (!strict.ok) expect(strict.errors[0]?.code).toBe('record_length');
  });

  it.each(fixtureNames('valid'))('valid/%s passes the strict reading too', (name) => {
    expect(parseAch(fixture(`valid/${name}`), { strictRecordLength: true }).ok).toBe(true);
  });
});

// Content rules (content-rules.ts): required alphanumeric fields per SEC code must not be blank or all zeros.
// The shared fixtures are read-only, so the cases are the repository's own (test/ach/content/README.md): each
// is a shared valid/ or returns/ file with exactly one field emptied or zeroed (controls still add up).
const CONTENT_REJECTED: Record<string, Rejection> = {
  'ppd-blank-individual-name.ach': { code: 'required', line: 3, recordType: '6', field: 'receiverName' },
  'web-zero-individual-name.ach': { code: 'all_zeros', line: 4, recordType: '6', field: 'receiverName' },
  'ccd-blank-receiving-company-name.ach': { code: 'required', line: 4, recordType: '6', field: 'receiverName' },
  'ctx-blank-receiving-company-name.ach': { code: 'required', line: 3, recordType: '6', field: 'receiverName' },
  'ppd-zero-account-number.ach': { code: 'all_zeros', line: 3, recordType: '6', field: 'dfiAccountNumber' },
  'ppd-zero-company-entry-description.ach': { code: 'all_zeros', line: 2, recordType: '5', field: 'companyEntryDescription' },
  'ppd-blank-company-entry-description.ach': { code: 'required', line: 2, recordType: '5', field: 'companyEntryDescription' },
  'ccd-zero-company-identification.ach': { code: 'all_zeros', line: 2, recordType: '5', field: 'companyIdentification' },
};
/** Accepted with a warning: a return copies the original entry, and the return must still be applied. */
const CONTENT_WARNED: Record<string, { warning: Rejection; returns: string[] }> = {
  'return-blank-receiver-name.ach': { warning: { code: 'required', line: 3, recordType: '6', field: 'receiverName' }, returns: ['R20'] },
};

describe('NACHA content rules (repository cases in test/ach/content)', () => {
  it('the tables cover every case file', () => {
    expect([...Object.keys(CONTENT_REJECTED), ...Object.keys(CONTENT_WARNED)].sort()).toEqual(contentFixtureNames());
  });

  describe.each(Object.entries(CONTENT_REJECTED))('%s is rejected', (name, exp) => {
    it(`for ${exp.code} (${exp.field}) with record, field and line`, () => {
      const r = parseAch(contentFixture(name));
      if (r.ok) expect.unreachable(`${name} was accepted`);
      // The content rule is the only thing wrong with the file.
      expect(r.errors).toEqual([expect.objectContaining({ code: exp.code, line: exp.line, recordType: exp.recordType, field: exp.field })]);
      expect(r.errors[0]!.message).toMatch(exp.code === 'all_zeros' ? /all zeros/ : /required/);
    });
  });

  describe.each(Object.entries(CONTENT_WARNED))('%s is read, with a warning', (name, exp) => {
    it(`and its returns are listed (${exp.warning.field})`, () => {
      const r = parseAch(contentFixture(name));
      if (!r.ok) expect.unreachable(JSON.stringify(r.errors));
      expect(r.file.warnings).toContainEqual(expect.objectContaining({ ...exp.warning, severity: 'warning' }));
      expect(listReturns(r.file).map((x) => x.returnReasonCode)).toEqual(exp.returns);
    });
  });

  it.each(['valid', 'format', 'returns', 'noc'].flatMap((d) => fixtureNames(d).map((n) => `${d}/${n}`)))('shared %s breaks no content rule', (rel) => {
    const r = parseAch(fixture(rel), { customReturnCodes: ['R97'] });
    if (!r.ok) expect.unreachable(JSON.stringify(r.errors));
    expect(r.file.warnings.filter((w) => w.code === 'required' || w.code === 'all_zeros')).toEqual([]);
  });
});
