// Addenda records (type 7): 05 payment-related information, 98 notification of change, 99 return.
// The 98/99 layouts depend on the code in positions 4-6, so the code is read first and picks the layout.
import { changeCodeInfo, returnCodeInfo, transactionCodeInfo } from './codes.ts';
import { get, isDigits, readFields, trimmed, type Fields } from './fields.ts';
import type { IssueSink } from './issues.ts';
import { ADDENDA_05, ADDENDA_98, ADDENDA_98_REFUSED, ADDENDA_99_CONTESTED, ADDENDA_99_DISHONORED, ADDENDA_99_RETURN } from './records.ts';
import { isValidRoutingNumber } from './routing.ts';
import type { AchAddenda, Addenda05, NocAddenda, NocCorrection, ReturnAddenda } from './types.ts';

export interface ReturnCodePolicy {
  readonly customReturnCodes: readonly string[];
  /** Unknown codes are warnings (the bank-file reader applies the rest of the file), not errors. */
  readonly unknownAsWarnings: boolean;
}

export function parseAddenda(text: string, line: number, issues: IssueSink, codes: ReturnCodePolicy): AchAddenda | null {
  const typeCode = text.slice(1, 3);
  switch (typeCode) {
    case '05':
      return parseAddenda05(text, line, issues);
    case '98':
      return parseAddenda98(text, line, issues);
    case '99':
      return parseAddenda99(text, line, issues, codes);
    default:
      // 02 (POS/SHR/MTE terminal data) and 10-18 (IAT) have layouts Settle neither sends nor receives.
      issues.error('addenda_type', line, '7', 'addendaTypeCode', `addenda type "${typeCode}" is not supported (expected 05, 98 or 99)`);
      return null;
  }
}

function parseAddenda05(text: string, line: number, issues: IssueSink): Addenda05 {
  const f = readFields(text, ADDENDA_05, line, issues);
  const seq = get(f, 'addendaSequenceNumber');
  return {
    type: '05',
    line,
    paymentRelatedInformation: get(f, 'paymentRelatedInformation').trimEnd(),
    addendaSequenceNumber: isDigits(seq) ? Number(seq) : -1,
    entryDetailSequenceNumber: get(f, 'entryDetailSequenceNumber'),
  };
}

function parseAddenda99(text: string, line: number, issues: IssueSink, codes: ReturnCodePolicy): ReturnAddenda {
  const code = text.slice(3, 6);
  const custom = codes.customReturnCodes;
  const info = returnCodeInfo(code, custom);
  if (!info) {
    const message = `return reason code "${code}" is not a Nacha return code${custom.length ? ` nor one of this bank's (${custom.join(', ')})` : ''}`;
    if (codes.unknownAsWarnings) issues.warn('return_code', line, '7', 'returnReasonCode', message);
    else issues.error('return_code', line, '7', 'returnReasonCode', message);
  }
  const layout = info?.layout ?? 'return';
  const f = readFields(text, layout === 'dishonored' ? ADDENDA_99_DISHONORED : layout === 'contested' ? ADDENDA_99_CONTESTED : ADDENDA_99_RETURN, line, issues);
  const dateOfDeath = layout === 'return' ? trimmed(f, 'dateOfDeath') : '';
  return {
    type: '99',
    line,
    layout,
    returnReasonCode: code,
    description: info?.description ?? 'Unknown return code',
    originalEntryTraceNumber: get(f, 'originalEntryTraceNumber'),
    dateOfDeath: dateOfDeath === '' ? null : dateOfDeath,
    originalReceivingDfi: get(f, 'originalReceivingDfi'),
    addendaInformation: trimmed(f, 'addendaInformation'),
    traceNumber: trimmed(f, 'traceNumber'),
    dishonor: layout === 'return' ? null : dishonorDetails(f, layout === 'contested'),
  };
}

function dishonorDetails(f: Fields, contested: boolean): ReturnAddenda['dishonor'] {
  const opt = (name: string): string | null => (contested && trimmed(f, name) !== '' ? trimmed(f, name) : null);
  return {
    returnTraceNumber: get(f, 'returnTraceNumber'),
    returnSettlementDate: trimmed(f, 'returnSettlementDate'),
    originalReturnReasonCode: get(f, 'originalReturnReasonCode'),
    dateOriginalEntryReturned: opt('dateOriginalEntryReturned'),
    originalSettlementDate: opt('originalSettlementDate'),
    dishonoredReturnTraceNumber: opt('dishonoredReturnTraceNumber'),
    dishonoredReturnSettlementDate: opt('dishonoredReturnSettlementDate'),
    dishonoredReturnReasonCode: opt('dishonoredReturnReasonCode'),
  };
}

function parseAddenda98(text: string, line: number, issues: IssueSink): NocAddenda {
  const code = text.slice(3, 6);
  const info = changeCodeInfo(code);
  if (!info) issues.error('change_code', line, '7', 'changeCode', `change code "${code}" is not a Nacha change code`);
  const refused = info?.refused ?? false;
  const f = readFields(text, refused ? ADDENDA_98_REFUSED : ADDENDA_98, line, issues);
  const raw = get(f, 'correctedData');
  return {
    type: '98',
    line,
    changeCode: code,
    description: info?.description ?? 'Unknown change code',
    refused,
    originalEntryTraceNumber: get(f, 'originalEntryTraceNumber'),
    originalReceivingDfi: get(f, 'originalReceivingDfi'),
    correctedData: raw.trim(),
    correction: refused ? { kind: 'other', text: raw.trim() } : parseCorrectedData(code, raw),
    refusedChangeCode: refused ? trimmed(f, 'refusedChangeCode') : null,
    traceSequenceNumber: refused ? get(f, 'traceSequenceNumber') : null,
    traceNumber: trimmed(f, 'traceNumber'),
  };
}

/**
 * Corrected data (positions 36-64, 29 characters) per change code, Nacha Appendix Five:
 * C01 account 1-17 · C02 routing 1-9 · C03 routing 1-9, blanks, account 13-29 · C04 name 1-22 ·
 * C05 transaction code 1-2 · C06 account 1-17, blanks, transaction code 21-22 · C07 routing 1-9,
 * account 10-26, transaction code 27-28 · C09 individual ID 1-22 · C10 company name 1-16 ·
 * C11 company ID 1-10 · C12 company name 1-16, company ID 17-26 · C14 SEC code 1-3.
 * Some writers (moov-io/ach WriteCorrectionData) right-align the last item instead; for C03/C06/C07
 * the last item is therefore read as "what ends the field", which accepts both.
 */
export function parseCorrectedData(code: string, rawField: string): NocCorrection {
  const raw = rawField.padEnd(29, ' ');
  const text = raw.trim();
  const malformed = (reason: string): NocCorrection => ({ kind: 'malformed', text, reason });
  const tcOf = (s: string): number | null => (isDigits(s) && transactionCodeInfo(Number(s)) ? Number(s) : null);
  const lastTc = (s: string): { rest: string; tc: number | null } => {
    const t = s.trimEnd();
    return { rest: t.slice(0, -2).trim(), tc: tcOf(t.slice(-2)) };
  };
  switch (code) {
    case 'C01': {
      const accountNumber = raw.slice(0, 17).trim();
      if (accountNumber === '' || raw.slice(17).trim() !== '') return malformed('C01 needs an account number in positions 1-17 only');
      return { kind: 'account_number', accountNumber };
    }
    case 'C02': {
      const routingNumber = raw.slice(0, 9);
      if (!isValidRoutingNumber(routingNumber) || raw.slice(9).trim() !== '') return malformed('C02 needs a valid 9-digit routing number in positions 1-9');
      return { kind: 'routing_number', routingNumber };
    }
    case 'C03': {
      const routingNumber = raw.slice(0, 9);
      const accountNumber = raw.slice(9).trim();
      if (!isValidRoutingNumber(routingNumber)) return malformed('C03 needs a valid routing number in positions 1-9');
      if (accountNumber === '' || accountNumber.length > 17) return malformed('C03 needs an account number of 1-17 characters after the routing number');
      return { kind: 'routing_and_account', routingNumber, accountNumber };
    }
    case 'C04':
    case 'C09': {
      const value = raw.slice(0, 22).trim();
      if (value === '' || raw.slice(22).trim() !== '') return malformed(`${code} needs a value in positions 1-22`);
      return code === 'C04' ? { kind: 'name', name: value } : { kind: 'individual_id', identificationNumber: value };
    }
    case 'C05': {
      const tc = tcOf(raw.slice(0, 2));
      if (tc === null || raw.slice(2).trim() !== '') return malformed('C05 needs a transaction code in positions 1-2');
      return { kind: 'transaction_code', transactionCode: tc };
    }
    case 'C06': {
      const { rest, tc } = lastTc(raw);
      if (tc === null) return malformed('C06 needs a transaction code after the account number');
      if (rest === '' || rest.length > 17) return malformed('C06 needs an account number of 1-17 characters');
      return { kind: 'account_and_transaction_code', accountNumber: rest, transactionCode: tc };
    }
    case 'C07': {
      const routingNumber = raw.slice(0, 9);
      const { rest, tc } = lastTc(raw.slice(9));
      if (!isValidRoutingNumber(routingNumber)) return malformed('C07 needs a valid routing number in positions 1-9');
      if (tc === null) return malformed('C07 needs a transaction code after the account number');
      if (rest === '' || rest.length > 17) return malformed('C07 needs an account number of 1-17 characters');
      return { kind: 'routing_account_and_transaction_code', routingNumber, accountNumber: rest, transactionCode: tc };
    }
    case 'C10': {
      const companyName = raw.slice(0, 16).trim();
      if (companyName === '' || raw.slice(16).trim() !== '') return malformed('C10 needs a company name in positions 1-16');
      return { kind: 'company_name', companyName };
    }
    case 'C11': {
      const companyIdentification = raw.slice(0, 10).trim();
      if (companyIdentification === '' || raw.slice(10).trim() !== '') return malformed('C11 needs a company identification in positions 1-10');
      return { kind: 'company_identification', companyIdentification };
    }
    case 'C12': {
      const companyName = raw.slice(0, 16).trim();
      const companyIdentification = raw.slice(16, 26).trim();
      if (companyName === '' || companyIdentification === '') return malformed('C12 needs a company name (1-16) and identification (17-26)');
      return { kind: 'company_name_and_identification', companyName, companyIdentification };
    }
    case 'C14': {
      const secCode = raw.slice(0, 3).trim();
      if (secCode === '') return malformed('C14 needs an SEC code in positions 1-3');
      return { kind: 'sec_code', secCode };
    }
    default:
      return { kind: 'other', text };
  }
}
