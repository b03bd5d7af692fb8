// Content rules for required alphanumeric fields, per SEC code. The record layouts (records.ts) say where a
// field is and whether it may be blank; these rules say what Nacha requires a field to *say*: a field the
// Operating Rules mark Mandatory ("M") or Required ("R") in Appendix Three must carry data — not blanks, and
// not a placeholder of all zeros (the ACH Operator's edit for Company Name; R26 "mandatory field error" at
// the receiving bank). The parser (`settle ach inspect`, the bank-file reader) reports a broken rule with
// record, field and line; the generator (generate.ts) refuses to write one, so Settle never sends a file it
// would itself reject.
//
// Sources: Nacha Operating Rules, Appendix Three (record formats, field inclusion M/R/O); the same table as
// data in the nacha gem (github.com/dwilkins/nacha lib/nacha/record/{batch_header,ppd_entry_detail,
// web_entry_detail,ccd_entry_detail}.rb); SEC-code-specific name requirement as banks apply it (Oracle
// Banking Payments "SEC Code Specific Validations": TEL/WEB M; CCD, CIE, CTX, PPD, RCK R; ARC/BOC/POP O).
import type { SecCode } from './codes.ts';
import { isBlank } from './fields.ts';
import type { IssueSink } from './issues.ts';
import type { AchBatchHeader, AchEntry } from './types.ts';

export interface RequiredField {
  /** The field's name in records.ts, as errors report it. */
  readonly field: string;
  /** Nacha's name for it. */
  readonly label: string;
  readonly positions: string;
  readonly inclusion: 'M' | 'R';
}

/** Batch header: Mandatory for every SEC code. */
export const BATCH_HEADER_REQUIRED: readonly RequiredField[] = [
  { field: 'companyName', label: 'Company Name', positions: '5-20', inclusion: 'M' },
  { field: 'companyIdentification', label: 'Company Identification', positions: '41-50', inclusion: 'M' },
  { field: 'companyEntryDescription', label: 'Company Entry Description', positions: '54-63', inclusion: 'M' },
];

/** Entry detail, every SEC code Settle reads: the receiver's account. */
export const ACCOUNT_NUMBER: RequiredField = { field: 'dfiAccountNumber', label: 'DFI Account Number', positions: '13-29', inclusion: 'R' };

/**
 * The receiver's name, where the SEC code requires one: a person for consumer entries (PPD, WEB, TEL), the
 * receiving company for corporate ones (CCD, CTX). ARC, BOC, POP and the check conversions leave it
 * optional; CIE, ACK/ATX and the rest lay the record out differently and are not checked here.
 */
const RECEIVER_NAME: Partial<Record<SecCode, RequiredField>> = {
  PPD: { field: 'receiverName', label: 'Individual Name', positions: '55-76', inclusion: 'R' },
  WEB: { field: 'receiverName', label: 'Individual Name', positions: '55-76', inclusion: 'M' },
  TEL: { field: 'receiverName', label: 'Individual Name', positions: '55-76', inclusion: 'M' },
  CCD: { field: 'receiverName', label: 'Receiving Company Name', positions: '55-76', inclusion: 'R' },
  CTX: { field: 'receiverName', label: 'Receiving Company Name', positions: '59-74', inclusion: 'R' },
};

export function receiverNameRule(sec: SecCode): RequiredField | null {
  return RECEIVER_NAME[sec] ?? null;
}

/** What is wrong with a required field's text, or null: 'blank' (spaces only) or 'all_zeros'. */
export function contentProblem(value: string): 'blank' | 'all_zeros' | null {
  if (isBlank(value)) return 'blank';
  return /^0+$/.test(value.trim()) ? 'all_zeros' : null;
}

/** One sentence for an error or a refusal, the same in the parser and the generator. */
export function contentMessage(rule: RequiredField, problem: 'blank' | 'all_zeros', sec: SecCode | null): string {
  const where = `${rule.label} (${rule.field}, positions ${rule.positions})`;
  const why = sec && rule.field === 'receiverName' ? ` for ${sec} entries` : '';
  return problem === 'blank' ? `${where} is required${why} and is blank` : `${where} is required${why} and must say something, not all zeros`;
}

/**
 * Batch header content. Blank fields are already reported by the layout check ('required'), so only
 * all-zero placeholders are added here.
 */
export function checkBatchHeaderContent(raw: Readonly<Record<string, string>>, line: number, issues: IssueSink): void {
  for (const rule of BATCH_HEADER_REQUIRED) {
    if (contentProblem(raw[rule.field] ?? '') === 'all_zeros') {
      issues.error('all_zeros', line, '5', rule.field, `batch header ${contentMessage(rule, 'all_zeros', null)}`);
    }
  }
}

/**
 * Entry detail content, run when the entry closes (its addenda decide whether it is a return). In a return
 * or notification of change the receiving bank copies the original entry's fields; a blank name there is
 * the original's fault and the return must still be applied, so it is a warning, not a rejection.
 */
export function checkEntryContent(e: AchEntry, batch: AchBatchHeader, isReturnOrNoc: boolean, issues: IssueSink): void {
  const report = (rule: RequiredField, problem: 'blank' | 'all_zeros'): void => {
    const message = `entry ${e.traceNumber}: ${contentMessage(rule, problem, batch.secCode)}`;
    const code = problem === 'blank' ? 'required' : 'all_zeros';
    if (isReturnOrNoc) issues.warn(code, e.line, '6', rule.field, message);
    else issues.error(code, e.line, '6', rule.field, message);
  };
  // A blank account number is already a layout error ('required'); all zeros is not an account.
  if (contentProblem(e.accountNumber) === 'all_zeros') report(ACCOUNT_NUMBER, 'all_zeros');
  const name = receiverNameRule(batch.secCode);
  if (name) {
    const problem = contentProblem(e.receiverName);
    if (problem) report(name, problem);
  }
}
