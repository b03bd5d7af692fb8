// NACHA fixed-width record layouts as data. Every record is 94 characters; positions are 1-based and
// inclusive, as printed in the Nacha Operating Rules (Appendix Three) and in moov-io/ach's
// docs/file-structure.md (payments-rules.md §2.1). The parser and the generator both read these
// tables, so a position is written down exactly once.

export const RECORD_LENGTH = 94;
export const BLOCKING_FACTOR = 10;
/** Entry hash: low 10 digits of the sum of 8-digit RDFI routing numbers (fixtures README, moov docs). */
export const HASH_MODULUS = 10_000_000_000;

/**
 * alpha: any printable ASCII (Nacha "alphanumeric"); numeric: digits only;
 * constant: must equal `value` (record size, blocking factor, format code, addenda type);
 * reserved: not validated (banks put anything there; moov ignores them too).
 */
export type FieldType = 'alpha' | 'numeric' | 'constant' | 'reserved';

export interface FieldSpec {
  readonly name: string;
  readonly start: number; // 1-based, inclusive
  readonly end: number; // 1-based, inclusive
  readonly type: FieldType;
  /** alpha: must not be blank; numeric: must be digits (optional numeric fields may be all blank). */
  readonly required: boolean;
  readonly value?: string;
}

export interface RecordLayout {
  readonly recordType: '1' | '5' | '6' | '7' | '8' | '9';
  readonly name: string;
  readonly fields: readonly FieldSpec[];
}

const f = (name: string, start: number, end: number, type: FieldType, required: boolean, value?: string): FieldSpec =>
  value === undefined ? { name, start, end, type, required } : { name, start, end, type, required, value };

export const FILE_HEADER: RecordLayout = {
  recordType: '1',
  name: 'file header',
  fields: [
    f('recordType', 1, 1, 'constant', true, '1'),
    f('priorityCode', 2, 3, 'numeric', true),
    // Usually " " + a 9-digit routing number, but processors put placeholders or company IDs here
    // (fixtures: YYYYYYYYY, N833219776), so it is alphanumeric and the routing check is a warning.
    f('immediateDestination', 4, 13, 'alpha', true),
    f('immediateOrigin', 14, 23, 'alpha', true),
    f('fileCreationDate', 24, 29, 'numeric', true),
    f('fileCreationTime', 30, 33, 'numeric', false),
    f('fileIdModifier', 34, 34, 'alpha', false),
    f('recordSize', 35, 37, 'constant', true, '094'),
    f('blockingFactor', 38, 39, 'constant', true, '10'),
    f('formatCode', 40, 40, 'constant', true, '1'),
    f('immediateDestinationName', 41, 63, 'alpha', false),
    f('immediateOriginName', 64, 86, 'alpha', false),
    f('referenceCode', 87, 94, 'alpha', false),
  ],
};

export const BATCH_HEADER: RecordLayout = {
  recordType: '5',
  name: 'batch header',
  fields: [
    f('recordType', 1, 1, 'constant', true, '5'),
    f('serviceClassCode', 2, 4, 'numeric', true),
    f('companyName', 5, 20, 'alpha', true),
    f('companyDiscretionaryData', 21, 40, 'alpha', false),
    f('companyIdentification', 41, 50, 'alpha', true),
    f('standardEntryClassCode', 51, 53, 'alpha', true),
    f('companyEntryDescription', 54, 63, 'alpha', true),
    // Free text in practice ("Mar 5 ", "SD1300", "nodate"); same-day files put SDHHMM here.
    f('companyDescriptiveDate', 64, 69, 'alpha', false),
    f('effectiveEntryDate', 70, 75, 'numeric', true),
    // Inserted by the ACH operator: blank in files we originate, filled in on returns.
    f('settlementDate', 76, 78, 'numeric', false),
    f('originatorStatusCode', 79, 79, 'alpha', true),
    f('odfiIdentification', 80, 87, 'numeric', true),
    f('batchNumber', 88, 94, 'numeric', true),
  ],
};

/** Entry detail for PPD, CCD, WEB, TEL, COR and the other single-addenda SEC codes. */
export const ENTRY_DETAIL: RecordLayout = {
  recordType: '6',
  name: 'entry detail',
  fields: [
    f('recordType', 1, 1, 'constant', true, '6'),
    f('transactionCode', 2, 3, 'numeric', true),
    f('rdfiIdentification', 4, 11, 'numeric', true),
    f('checkDigit', 12, 12, 'numeric', true),
    f('dfiAccountNumber', 13, 29, 'alpha', true),
    f('amount', 30, 39, 'numeric', true),
    f('identificationNumber', 40, 54, 'alpha', false),
    f('receiverName', 55, 76, 'alpha', false),
    // WEB: payment type code ("R " recurring / "S " single); others: discretionary data.
    f('discretionaryData', 77, 78, 'alpha', false),
    f('addendaRecordIndicator', 79, 79, 'numeric', true),
    f('traceNumber', 80, 94, 'numeric', true),
  ],
};

/** CTX entry detail: positions 55-58 carry the number of addenda, 59-74 the receiving company. */
export const ENTRY_DETAIL_CTX: RecordLayout = {
  recordType: '6',
  name: 'entry detail (CTX)',
  fields: [
    f('recordType', 1, 1, 'constant', true, '6'),
    f('transactionCode', 2, 3, 'numeric', true),
    f('rdfiIdentification', 4, 11, 'numeric', true),
    f('checkDigit', 12, 12, 'numeric', true),
    f('dfiAccountNumber', 13, 29, 'alpha', true),
    f('amount', 30, 39, 'numeric', true),
    f('identificationNumber', 40, 54, 'alpha', false),
    f('numberOfAddendaRecords', 55, 58, 'numeric', true),
    f('receiverName', 59, 74, 'alpha', false),
    f('reserved', 75, 76, 'reserved', false),
    f('discretionaryData', 77, 78, 'alpha', false),
    f('addendaRecordIndicator', 79, 79, 'numeric', true),
    f('traceNumber', 80, 94, 'numeric', true),
  ],
};

/** Addenda 05: payment-related information (CCD+ invoice numbers, CTX EDI segments, WEB/PPD notes). */
export const ADDENDA_05: RecordLayout = {
  recordType: '7',
  name: 'addenda 05',
  fields: [
    f('recordType', 1, 1, 'constant', true, '7'),
    f('addendaTypeCode', 2, 3, 'constant', true, '05'),
    f('paymentRelatedInformation', 4, 83, 'alpha', false),
    f('addendaSequenceNumber', 84, 87, 'numeric', true),
    f('entryDetailSequenceNumber', 88, 94, 'numeric', true),
  ],
};

/** Addenda 99: return (R01-R53, R80-R85). */
export const ADDENDA_99_RETURN: RecordLayout = {
  recordType: '7',
  name: 'addenda 99 (return)',
  fields: [
    f('recordType', 1, 1, 'constant', true, '7'),
    f('addendaTypeCode', 2, 3, 'constant', true, '99'),
    f('returnReasonCode', 4, 6, 'alpha', true),
    f('originalEntryTraceNumber', 7, 21, 'numeric', true),
    f('dateOfDeath', 22, 27, 'numeric', false),
    f('originalReceivingDfi', 28, 35, 'numeric', true),
    f('addendaInformation', 36, 79, 'alpha', false),
    // Should repeat the entry's trace; one bank fixture has "    0001000001" here, so it is read as
    // text and checked separately (warning), never used to shift other fields.
    f('traceNumber', 80, 94, 'alpha', false),
  ],
};

/** Addenda 99: dishonored return (R61, R62, R67-R70), sent by the ODFI back to the RDFI. */
export const ADDENDA_99_DISHONORED: RecordLayout = {
  recordType: '7',
  name: 'addenda 99 (dishonored return)',
  fields: [
    f('recordType', 1, 1, 'constant', true, '7'),
    f('addendaTypeCode', 2, 3, 'constant', true, '99'),
    f('returnReasonCode', 4, 6, 'alpha', true),
    f('originalEntryTraceNumber', 7, 21, 'numeric', true),
    f('reserved1', 22, 27, 'reserved', false),
    f('originalReceivingDfi', 28, 35, 'numeric', true),
    f('reserved2', 36, 38, 'reserved', false),
    f('returnTraceNumber', 39, 53, 'numeric', true),
    f('returnSettlementDate', 54, 56, 'numeric', false),
    f('originalReturnReasonCode', 57, 58, 'numeric', true),
    f('addendaInformation', 59, 79, 'alpha', false),
    f('traceNumber', 80, 94, 'alpha', false),
  ],
};

/** Addenda 99: contested dishonored return (R71-R77), sent by the RDFI. */
export const ADDENDA_99_CONTESTED: RecordLayout = {
  recordType: '7',
  name: 'addenda 99 (contested dishonored return)',
  fields: [
    f('recordType', 1, 1, 'constant', true, '7'),
    f('addendaTypeCode', 2, 3, 'constant', true, '99'),
    f('returnReasonCode', 4, 6, 'alpha', true),
    f('originalEntryTraceNumber', 7, 21, 'numeric', true),
    f('dateOriginalEntryReturned', 22, 27, 'numeric', false),
    f('originalReceivingDfi', 28, 35, 'numeric', true),
    f('originalSettlementDate', 36, 38, 'numeric', false),
    f('returnTraceNumber', 39, 53, 'numeric', true),
    f('returnSettlementDate', 54, 56, 'numeric', false),
    f('originalReturnReasonCode', 57, 58, 'numeric', true),
    f('dishonoredReturnTraceNumber', 59, 73, 'numeric', true),
    f('dishonoredReturnSettlementDate', 74, 76, 'numeric', false),
    f('dishonoredReturnReasonCode', 77, 78, 'numeric', true),
    f('reserved', 79, 79, 'reserved', false),
    f('traceNumber', 80, 94, 'alpha', false),
  ],
};

/** Addenda 98: notification of change (C01-C14). */
export const ADDENDA_98: RecordLayout = {
  recordType: '7',
  name: 'addenda 98 (notification of change)',
  fields: [
    f('recordType', 1, 1, 'constant', true, '7'),
    f('addendaTypeCode', 2, 3, 'constant', true, '98'),
    f('changeCode', 4, 6, 'alpha', true),
    f('originalEntryTraceNumber', 7, 21, 'numeric', true),
    f('reserved1', 22, 27, 'reserved', false),
    f('originalReceivingDfi', 28, 35, 'numeric', true),
    f('correctedData', 36, 64, 'alpha', true),
    f('reserved2', 65, 79, 'reserved', false),
    f('traceNumber', 80, 94, 'alpha', false),
  ],
};

/** Addenda 98: refused notification of change (C61-C69), originator → RDFI. */
export const ADDENDA_98_REFUSED: RecordLayout = {
  recordType: '7',
  name: 'addenda 98 (refused notification of change)',
  fields: [
    f('recordType', 1, 1, 'constant', true, '7'),
    f('addendaTypeCode', 2, 3, 'constant', true, '98'),
    f('changeCode', 4, 6, 'alpha', true),
    f('originalEntryTraceNumber', 7, 21, 'numeric', true),
    f('reserved1', 22, 27, 'reserved', false),
    f('originalReceivingDfi', 28, 35, 'numeric', true),
    f('correctedData', 36, 64, 'alpha', true),
    f('refusedChangeCode', 65, 67, 'alpha', true),
    f('traceSequenceNumber', 68, 74, 'numeric', true),
    f('reserved2', 75, 79, 'reserved', false),
    f('traceNumber', 80, 94, 'alpha', false),
  ],
};

export const BATCH_CONTROL: RecordLayout = {
  recordType: '8',
  name: 'batch control',
  fields: [
    f('recordType', 1, 1, 'constant', true, '8'),
    f('serviceClassCode', 2, 4, 'numeric', true),
    f('entryAddendaCount', 5, 10, 'numeric', true),
    f('entryHash', 11, 20, 'numeric', true),
    f('totalDebit', 21, 32, 'numeric', true),
    f('totalCredit', 33, 44, 'numeric', true),
    f('companyIdentification', 45, 54, 'alpha', false),
    f('messageAuthenticationCode', 55, 73, 'alpha', false),
    f('reserved', 74, 79, 'reserved', false),
    f('odfiIdentification', 80, 87, 'numeric', true),
    f('batchNumber', 88, 94, 'numeric', true),
  ],
};

export const FILE_CONTROL: RecordLayout = {
  recordType: '9',
  name: 'file control',
  fields: [
    f('recordType', 1, 1, 'constant', true, '9'),
    f('batchCount', 2, 7, 'numeric', true),
    f('blockCount', 8, 13, 'numeric', true),
    f('entryAddendaCount', 14, 21, 'numeric', true),
    f('entryHash', 22, 31, 'numeric', true),
    f('totalDebit', 32, 43, 'numeric', true),
    f('totalCredit', 44, 55, 'numeric', true),
    f('reserved', 56, 94, 'reserved', false),
  ],
};

export const ALL_LAYOUTS: readonly RecordLayout[] = [
  FILE_HEADER,
  BATCH_HEADER,
  ENTRY_DETAIL,
  ENTRY_DETAIL_CTX,
  ADDENDA_05,
  ADDENDA_99_RETURN,
  ADDENDA_99_DISHONORED,
  ADDENDA_99_CONTESTED,
  ADDENDA_98,
  ADDENDA_98_REFUSED,
  BATCH_CONTROL,
  FILE_CONTROL,
];

export function fieldSpec(layout: RecordLayout, name: string): FieldSpec {
  const spec = layout.fields.find((x) => x.name === name);
  if (!spec) throw new Error(`no field ${name} in ${layout.name}`);
  return spec;
}
