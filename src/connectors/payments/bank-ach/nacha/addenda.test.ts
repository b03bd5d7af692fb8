import { describe, expect, it } from 'vitest';
import { parseAddenda, parseCorrectedData } from './addenda.ts';
import { IssueSink } from './issues.ts';

describe('NOC corrected data per change code', () => {
  it.each([
    ['C01', '1918171614', { kind: 'account_number', accountNumber: '1918171614' }],
    ['C02', '231380104', { kind: 'routing_number', routingNumber: '231380104' }],
    // Nacha: routing 1-9, three blanks, account 13-29
    ['C03', '231380104   12345678901234567', { kind: 'routing_and_account', routingNumber: '231380104', accountNumber: '12345678901234567' }],
    // moov-io/ach right-aligns the account instead
    ['C03', '231380104' + '98765'.padStart(20), { kind: 'routing_and_account', routingNumber: '231380104', accountNumber: '98765' }],
    ['C04', 'JANE Q PUBLIC', { kind: 'name', name: 'JANE Q PUBLIC' }],
    ['C05', '32', { kind: 'transaction_code', transactionCode: 32 }],
    // Nacha: account 1-17, three blanks, transaction code 21-22
    ['C06', '12345'.padEnd(20) + '37', { kind: 'account_and_transaction_code', accountNumber: '12345', transactionCode: 37 }],
    ['C06', '12345' + '27'.padStart(24), { kind: 'account_and_transaction_code', accountNumber: '12345', transactionCode: 27 }],
    // Nacha: routing 1-9, account 10-26, transaction code 27-28
    [
      'C07',
      '231380104' + '555'.padEnd(17) + '32',
      { kind: 'routing_account_and_transaction_code', routingNumber: '231380104', accountNumber: '555', transactionCode: 32 },
    ],
    [
      'C07',
      '231380104' + '12345678901234567' + '22',
      { kind: 'routing_account_and_transaction_code', routingNumber: '231380104', accountNumber: '12345678901234567', transactionCode: 22 },
    ],
    ['C09', 'EMP-0042', { kind: 'individual_id', identificationNumber: 'EMP-0042' }],
    ['C10', 'ACME MSP LLC', { kind: 'company_name', companyName: 'ACME MSP LLC' }],
    ['C11', '1234567890', { kind: 'company_identification', companyIdentification: '1234567890' }],
    [
      'C12',
      'ACME MSP LLC'.padEnd(16) + '1234567890',
      { kind: 'company_name_and_identification', companyName: 'ACME MSP LLC', companyIdentification: '1234567890' },
    ],
    ['C13', 'SOMETHING', { kind: 'other', text: 'SOMETHING' }],
    ['C14', 'IAT', { kind: 'sec_code', secCode: 'IAT' }],
  ])('%s %j', (code, data, expected) => {
    expect(parseCorrectedData(code, data.padEnd(29))).toEqual(expected);
  });

  it.each([
    ['C02', '231380105'], // bad check digit
    ['C03', '231380104'], // no account
    ['C05', '99'], // not a transaction code
    ['C06', '12345'], // no transaction code
    ['C07', '12345678912345'], // bad routing
    ['C01', ''],
  ])('%s %j is malformed (refuse with C65), not a crash', (code, data) => {
    expect(parseCorrectedData(code, data.padEnd(29)).kind).toBe('malformed');
  });
});

describe('addenda 98/99 layouts', () => {
  const parse = (line: string, custom: string[] = []) => {
    const issues = new IssueSink();
    expect(line).toHaveLength(94);
    return { addenda: parseAddenda(line, 7, issues, { customReturnCodes: custom, unknownAsWarnings: false }), issues };
  };

  it('return with date of death (R15)', () => {
    const { addenda, issues } = parse('799R15121042880000001240105' + '23138010' + 'DECEASED'.padEnd(44) + '121042880000001');
    expect(issues.errors).toEqual([]);
    expect(addenda).toMatchObject({
      type: '99',
      layout: 'return',
      returnReasonCode: 'R15',
      originalEntryTraceNumber: '121042880000001',
      dateOfDeath: '240105',
      originalReceivingDfi: '23138010',
      addendaInformation: 'DECEASED',
      dishonor: null,
    });
  });

  it('dishonored return (R69) reads the return trace and original reason', () => {
    const line = '799R69121042880000001' + ' '.repeat(6) + '23138010' + '   ' + '231380100000009' + '045' + '01' + 'FIELD ERROR'.padEnd(21) + '121042880000005';
    const { addenda, issues } = parse(line);
    expect(issues.errors).toEqual([]);
    expect(addenda).toMatchObject({
      layout: 'dishonored',
      dishonor: { returnTraceNumber: '231380100000009', returnSettlementDate: '045', originalReturnReasonCode: '01', dishonoredReturnTraceNumber: null },
      addendaInformation: 'FIELD ERROR',
    });
  });

  it('refused NOC (C61) reads the refused change code and trace sequence', () => {
    const line = '798C61121042880000001' + ' '.repeat(6) + '23138010' + '1918171614'.padEnd(29) + 'C01' + '0000001' + ' '.repeat(5) + '121042880000007';
    const { addenda, issues } = parse(line);
    expect(issues.errors).toEqual([]);
    expect(addenda).toMatchObject({ type: '98', refused: true, refusedChangeCode: 'C01', traceSequenceNumber: '0000001', correction: { kind: 'other' } });
  });

  it('unknown return and change codes are errors; custom return codes are opt-in', () => {
    const r96 = '799R96121042880000001      23138010'.padEnd(79) + '121042880000001';
    expect(parse(r96).issues.errors[0]).toMatchObject({ code: 'return_code', field: 'returnReasonCode', line: 7, recordType: '7' });
    expect(parse(r96, ['R96']).issues.errors).toEqual([]);
    // The bank-file reader's policy: the unknown code is a warning and the addenda is still read in full.
    const issues = new IssueSink();
    const read = parseAddenda(r96, 7, issues, { customReturnCodes: [], unknownAsWarnings: true });
    expect(issues.errors).toEqual([]);
    expect(issues.warnings[0]).toMatchObject({ code: 'return_code', field: 'returnReasonCode', line: 7 });
    expect(read).toMatchObject({ type: '99', returnReasonCode: 'R96', originalEntryTraceNumber: '121042880000001', originalReceivingDfi: '23138010' });
    const c92 = '798C92121042880000001      23138010' + 'X'.padEnd(44) + '121042880000001';
    expect(parse(c92).issues.errors[0]).toMatchObject({ code: 'change_code', field: 'changeCode' });
  });

  it('unsupported addenda types (02 POS, 10-18 IAT) are errors', () => {
    expect(parse('702'.padEnd(94)).issues.errors[0]).toMatchObject({ code: 'addenda_type', field: 'addendaTypeCode' });
  });
});
