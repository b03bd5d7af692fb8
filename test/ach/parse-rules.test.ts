// One rule at a time: take a valid generated file (or a return/NOC fixture), break exactly one thing,
// and check the parser names the right issue code, line, record type and field.
import { describe, expect, it } from 'vitest';
import { generateAchFile } from '../../src/connectors/payments/bank-ach/nacha/generate.ts';
import { parseAch } from '../../src/connectors/payments/bank-ach/nacha/parse.ts';
import {
  ADDENDA_05,
  BATCH_CONTROL,
  BATCH_HEADER,
  ENTRY_DETAIL,
  fieldSpec,
  FILE_CONTROL,
  FILE_HEADER,
  type RecordLayout,
} from '../../src/connectors/payments/bank-ach/nacha/records.ts';
import type { AchIssueCode } from '../../src/connectors/payments/bank-ach/nacha/types.ts';
import { fixture } from './fixtures.ts';

// Lines: 1 header · 2 CCD batch · 3 debit (+4 addenda) · 5 debit · 6 prenote · 7 control ·
// 8 WEB batch · 9 debit · 10 credit · 11 control · 12 file control · 13-20 filler.
const BASE = generateAchFile({
  immediateDestination: '231380104',
  immediateOrigin: '121042882',
  fileCreationDate: '2026-03-20',
  fileIdModifier: 'A',
  batches: [
    {
      companyName: 'ACME MSP',
      companyIdentification: '1234567890',
      secCode: 'CCD',
      companyEntryDescription: 'INVOICES',
      effectiveEntryDate: '2026-03-23',
      odfi: '12104288',
      entries: [
        { transactionCode: 27, routingNumber: '231380104', accountNumber: '111', amountCents: 1000n, receiverName: 'A', addenda: ['RMR*IV*1**\\'] },
        { transactionCode: 27, routingNumber: '021000021', accountNumber: '222', amountCents: 2000n, receiverName: 'B' },
        { transactionCode: 28, routingNumber: '231380104', accountNumber: '333', amountCents: 0n, receiverName: 'C' },
      ],
    },
    {
      companyName: 'ACME MSP',
      companyIdentification: '1234567890',
      secCode: 'WEB',
      companyEntryDescription: 'PURCHASE',
      effectiveEntryDate: '2026-03-23',
      odfi: '12104288',
      entries: [
        { transactionCode: 27, routingNumber: '231380104', accountNumber: '444', amountCents: 500n, receiverName: 'D', paymentType: 'R' },
        { transactionCode: 22, routingNumber: '231380104', accountNumber: '555', amountCents: 100n, receiverName: 'E' },
      ],
    },
  ],
}).text;

const lines = (text: string): string[] => text.split('\n').slice(0, -1);
const join = (ls: string[]): string => ls.join('\n') + '\n';

/** Set one field of one line (1-based), padded the way its type is written. */
function edit(text: string, line: number, layout: RecordLayout, field: string, value: string | number): string {
  const ls = lines(text);
  const spec = fieldSpec(layout, field);
  const width = spec.end - spec.start + 1;
  const v = String(value);
  const padded = v.length === width ? v : spec.type === 'numeric' ? v.padStart(width, '0') : v.padEnd(width, ' ');
  const l = ls[line - 1]!;
  ls[line - 1] = l.slice(0, spec.start - 1) + padded + l.slice(spec.end);
  return join(ls);
}
const drop = (text: string, ...nums: number[]): string => join(lines(text).filter((_, i) => !nums.includes(i + 1)));
const insert = (text: string, at: number, line: string): string => {
  const ls = lines(text);
  ls.splice(at - 1, 0, line);
  return join(ls);
};

interface Case {
  code: AchIssueCode;
  line: number | null;
  recordType: string | null;
  field: string | null;
}

const CASES: [string, string, Case][] = [
  [
    'batch entry/addenda count',
    edit(BASE, 7, BATCH_CONTROL, 'entryAddendaCount', 5),
    { code: 'entry_addenda_count', line: 7, recordType: '8', field: 'entryAddendaCount' },
  ],
  ['batch entry hash', edit(BASE, 7, BATCH_CONTROL, 'entryHash', 1), { code: 'entry_hash', line: 7, recordType: '8', field: 'entryHash' }],
  ['batch total debit', edit(BASE, 7, BATCH_CONTROL, 'totalDebit', 2999), { code: 'total_debit', line: 7, recordType: '8', field: 'totalDebit' }],
  ['batch total credit', edit(BASE, 11, BATCH_CONTROL, 'totalCredit', 101), { code: 'total_credit', line: 11, recordType: '8', field: 'totalCredit' }],
  [
    'batch control service class',
    edit(BASE, 7, BATCH_CONTROL, 'serviceClassCode', 200),
    { code: 'batch_service_class', line: 7, recordType: '8', field: 'serviceClassCode' },
  ],
  [
    'batch control company ID',
    edit(BASE, 7, BATCH_CONTROL, 'companyIdentification', '1234567891'),
    { code: 'company_identification', line: 7, recordType: '8', field: 'companyIdentification' },
  ],
  [
    'batch control ODFI',
    edit(BASE, 7, BATCH_CONTROL, 'odfiIdentification', '12104289'),
    { code: 'batch_odfi', line: 7, recordType: '8', field: 'odfiIdentification' },
  ],
  ['batch control number', edit(BASE, 7, BATCH_CONTROL, 'batchNumber', 9), { code: 'batch_number', line: 7, recordType: '8', field: 'batchNumber' }],
  ['file batch count', edit(BASE, 12, FILE_CONTROL, 'batchCount', 3), { code: 'batch_count', line: 12, recordType: '9', field: 'batchCount' }],
  ['file block count', edit(BASE, 12, FILE_CONTROL, 'blockCount', 1), { code: 'block_count', line: 12, recordType: '9', field: 'blockCount' }],
  [
    'file entry/addenda count',
    edit(BASE, 12, FILE_CONTROL, 'entryAddendaCount', 7),
    { code: 'entry_addenda_count', line: 12, recordType: '9', field: 'entryAddendaCount' },
  ],
  ['file entry hash', edit(BASE, 12, FILE_CONTROL, 'entryHash', 42), { code: 'entry_hash', line: 12, recordType: '9', field: 'entryHash' }],
  ['file total debit', edit(BASE, 12, FILE_CONTROL, 'totalDebit', 1), { code: 'total_debit', line: 12, recordType: '9', field: 'totalDebit' }],
  ['file total credit', edit(BASE, 12, FILE_CONTROL, 'totalCredit', 1), { code: 'total_credit', line: 12, recordType: '9', field: 'totalCredit' }],
  [
    'debits in a credits-only batch',
    edit(edit(BASE, 2, BATCH_HEADER, 'serviceClassCode', 220), 7, BATCH_CONTROL, 'serviceClassCode', 220),
    { code: 'transaction_code_service_class', line: 3, recordType: '6', field: 'transactionCode' },
  ],
  ['service class 280', edit(BASE, 2, BATCH_HEADER, 'serviceClassCode', 280), { code: 'service_class', line: 2, recordType: '5', field: 'serviceClassCode' }],
  [
    'unknown transaction code',
    edit(BASE, 5, ENTRY_DETAIL, 'transactionCode', 99),
    { code: 'transaction_code', line: 5, recordType: '6', field: 'transactionCode' },
  ],
  [
    'return code 26 on a forward entry',
    edit(BASE, 5, ENTRY_DETAIL, 'transactionCode', 26),
    { code: 'transaction_code', line: 5, recordType: '6', field: 'transactionCode' },
  ],
  ['prenote with an amount', edit(BASE, 6, ENTRY_DETAIL, 'amount', 1), { code: 'zero_amount_required', line: 6, recordType: '6', field: 'amount' }],
  [
    'addenda with indicator 0',
    edit(BASE, 3, ENTRY_DETAIL, 'addendaRecordIndicator', 0),
    { code: 'addenda_indicator', line: 3, recordType: '6', field: 'addendaRecordIndicator' },
  ],
  [
    'indicator 1 without addenda',
    edit(BASE, 5, ENTRY_DETAIL, 'addendaRecordIndicator', 1),
    { code: 'addenda_indicator', line: 5, recordType: '6', field: 'addendaRecordIndicator' },
  ],
  ['descending trace', edit(BASE, 5, ENTRY_DETAIL, 'traceNumber', '121042880000000'), { code: 'trace_order', line: 5, recordType: '6', field: 'traceNumber' }],
  [
    'trace not from the ODFI',
    edit(BASE, 9, ENTRY_DETAIL, 'traceNumber', '999999990000004'),
    { code: 'trace_odfi', line: 9, recordType: '6', field: 'traceNumber' },
  ],
  [
    'addenda sequence',
    edit(BASE, 4, ADDENDA_05, 'addendaSequenceNumber', 2),
    { code: 'addenda_sequence', line: 4, recordType: '7', field: 'addendaSequenceNumber' },
  ],
  [
    'addenda entry sequence',
    edit(BASE, 4, ADDENDA_05, 'entryDetailSequenceNumber', 2),
    { code: 'addenda_sequence', line: 4, recordType: '7', field: 'entryDetailSequenceNumber' },
  ],
  ['two addenda on a CCD entry', insert(BASE, 5, lines(BASE)[3]!), { code: 'addenda_count', line: 5, recordType: '7', field: 'addendaTypeCode' }],
  [
    'WEB debit without payment type',
    edit(BASE, 9, ENTRY_DETAIL, 'discretionaryData', '  '),
    { code: 'payment_type', line: 9, recordType: '6', field: 'paymentTypeCode' },
  ],
  [
    'batch numbers not ascending',
    edit(edit(BASE, 8, BATCH_HEADER, 'batchNumber', 1), 11, BATCH_CONTROL, 'batchNumber', 1),
    { code: 'batch_number_order', line: 8, recordType: '5', field: 'batchNumber' },
  ],
  [
    'lowercase file ID modifier',
    edit(BASE, 1, FILE_HEADER, 'fileIdModifier', 'a'),
    { code: 'file_id_modifier', line: 1, recordType: '1', field: 'fileIdModifier' },
  ],
  ['record size', edit(BASE, 1, FILE_HEADER, 'recordSize', '095'), { code: 'constant', line: 1, recordType: '1', field: 'recordSize' }],
  [
    'originator status 5',
    edit(BASE, 2, BATCH_HEADER, 'originatorStatusCode', '5'),
    { code: 'originator_status', line: 2, recordType: '5', field: 'originatorStatusCode' },
  ],
  ['IAT batch', edit(BASE, 2, BATCH_HEADER, 'standardEntryClassCode', 'IAT'), { code: 'sec_code', line: 2, recordType: '5', field: 'standardEntryClassCode' }],
  [
    'unknown SEC code',
    edit(BASE, 2, BATCH_HEADER, 'standardEntryClassCode', 'XYZ'),
    { code: 'sec_code', line: 2, recordType: '5', field: 'standardEntryClassCode' },
  ],
  ['blank company name', edit(BASE, 2, BATCH_HEADER, 'companyName', ''), { code: 'required', line: 2, recordType: '5', field: 'companyName' }],
  [
    'letters in a date',
    edit(BASE, 2, BATCH_HEADER, 'effectiveEntryDate', 'MAR 23'),
    { code: 'not_numeric', line: 2, recordType: '5', field: 'effectiveEntryDate' },
  ],
  ['unknown record type', edit(BASE, 5, ENTRY_DETAIL, 'recordType', '3'), { code: 'unknown_record_type', line: 5, recordType: null, field: 'recordType' }],
  ['entry outside a batch', drop(BASE, 8), { code: 'misplaced_record', line: 8, recordType: '6', field: 'recordType' }],
  ['missing batch control', drop(BASE, 7), { code: 'misplaced_record', line: 7, recordType: '5', field: 'recordType' }],
  ['addenda without an entry', insert(BASE, 3, lines(BASE)[3]!), { code: 'misplaced_record', line: 3, recordType: '7', field: 'recordType' }],
  ['second file header', insert(BASE, 8, lines(BASE)[0]!), { code: 'misplaced_record', line: 8, recordType: '1', field: 'recordType' }],
  ['missing file control', drop(BASE, 12, 13, 14, 15, 16, 17, 18, 19, 20), { code: 'missing_file_control', line: 11, recordType: '8', field: 'recordType' }],
  ['empty batch', drop(BASE, 9, 10), { code: 'empty_batch', line: 8, recordType: '5', field: null }],
  ['record after the file control', BASE + lines(BASE)[1]! + '\n', { code: 'record_after_file_control', line: 21, recordType: '5', field: 'recordType' }],
];

describe('parser rules, one broken thing at a time', () => {
  it('the unbroken base file parses without warnings', () => {
    const r = parseAch(BASE);
    expect(r.ok && r.file.warnings).toEqual([]);
  });

  it.each(CASES)('%s', (_name, text, expected) => {
    const r = parseAch(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toContainEqual(expect.objectContaining(expected));
  });
});

describe('return and NOC batch rules', () => {
  const cor = fixture('noc/cor-example.ach').toString('latin1');
  const returns = fixture('returns/return-WEB.ach').toString('latin1');

  it('a COR entry must carry a zero amount', () => {
    const r = parseAch(edit(cor, 3, ENTRY_DETAIL, 'amount', 5));
    expect(!r.ok && r.errors).toContainEqual(expect.objectContaining({ code: 'zero_amount_required', line: 3, field: 'amount' }));
  });

  it('NOC addenda belong in COR batches, and COR entries need one', () => {
    const r = parseAch(edit(cor, 2, BATCH_HEADER, 'standardEntryClassCode', 'PPD'));
    expect(!r.ok && r.errors).toContainEqual(expect.objectContaining({ code: 'addenda_type', line: 4, recordType: '7' }));
    const noAddenda = parseAch(edit(drop(cor, 4), 3, ENTRY_DETAIL, 'addendaRecordIndicator', 0));
    expect(!noAddenda.ok && noAddenda.errors).toContainEqual(expect.objectContaining({ code: 'addenda_type', line: 3, recordType: '6' }));
  });

  it('a return carries exactly one addenda 99', () => {
    const r = parseAch(insert(returns, 5, returns.split('\n')[3]!));
    expect(!r.ok && r.errors).toContainEqual(expect.objectContaining({ code: 'addenda_count', line: 5, recordType: '7' }));
  });

  it('return batches are exempt from the ODFI trace prefix rule, forward batches are not', () => {
    // return_noc.txt: traces 1211403… under ODFI 99222222, accepted because they are returns.
    expect(parseAch(fixture('returns/return_noc.txt')).ok).toBe(true);
  });
});
