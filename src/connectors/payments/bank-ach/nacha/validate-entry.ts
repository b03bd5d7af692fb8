// Checks that need an entry together with all its addenda: indicator vs presence, which addenda types
// an entry may carry, counts, sequence numbers, and the WEB payment type. Run when the entry closes.
import { isDigits } from './fields.ts';
import type { IssueSink } from './issues.ts';
import type { AchBatchHeader, AchEntry } from './types.ts';

/** CTX carries up to 9,999 addenda; the other SEC codes at most one (payments-rules.md §2.1). */
const CTX_MAX_ADDENDA = 9999;

export function isReturnOrNocEntry(e: AchEntry): boolean {
  const first = e.addenda[0];
  return first !== undefined && (first.type === '99' || first.type === '98');
}

export function checkEntryAddenda(e: AchEntry, batch: AchBatchHeader, issues: IssueSink): void {
  const err = (code: Parameters<IssueSink['error']>[0], field: string, message: string, line = e.line): void =>
    issues.error(code, line, line === e.line ? '6' : '7', field, message);
  const adds = e.addenda;
  if (!e.addendaIndicator && adds.length > 0) {
    err('addenda_indicator', 'addendaRecordIndicator', `entry ${e.traceNumber} has ${adds.length} addenda record(s) but its addenda indicator is 0`);
  } else if (e.addendaIndicator && adds.length === 0) {
    err('addenda_indicator', 'addendaRecordIndicator', `entry ${e.traceNumber} has addenda indicator 1 but no addenda record follows`);
  }
  const first = adds[0];
  if (first && adds.some((a) => a.type !== first.type)) {
    err('addenda_type', 'addendaTypeCode', `entry ${e.traceNumber} mixes addenda types`, adds[1]?.line ?? e.line);
    return;
  }
  const sec = batch.secCode;
  if (sec === 'COR' && first?.type !== '98') {
    err('addenda_type', 'addendaTypeCode', `entry ${e.traceNumber} in a COR batch needs a notification-of-change (98) addenda`);
  }
  if (!first) {
    if (e.purpose === 'return_or_noc' && sec !== 'COR') {
      err(
        'transaction_code',
        'transactionCode',
        `transaction code ${e.transactionCode} is only for returns and notifications of change, and this entry has no 98/99 addenda`,
      );
    }
    checkWebPaymentType(e, batch, issues);
    return;
  }
  switch (first.type) {
    case '98':
    case '99': {
      if (first.type === '98' && sec !== 'COR') {
        err('addenda_type', 'addendaTypeCode', `notification-of-change (98) addenda belong in a COR batch, not ${sec}`, first.line);
      }
      if (adds.length > 1)
        err(
          'addenda_count',
          'addendaTypeCode',
          `a ${first.type === '98' ? 'notification of change' : 'return'} carries exactly one addenda; entry ${e.traceNumber} has ${adds.length}`,
          adds[1]?.line ?? e.line,
        );
      if (!isDigits(first.traceNumber) || first.traceNumber.length !== 15) {
        issues.warn('addenda_trace', first.line, '7', 'traceNumber', `addenda trace number "${first.traceNumber}" is not a 15-digit trace`);
      } else if (first.traceNumber !== e.traceNumber) {
        issues.warn('addenda_trace', first.line, '7', 'traceNumber', `addenda trace number ${first.traceNumber} differs from the entry's ${e.traceNumber}`);
      }
      return;
    }
    case '05': {
      const max = sec === 'CTX' ? CTX_MAX_ADDENDA : 1;
      if (adds.length > max)
        err(
          'addenda_count',
          'addendaTypeCode',
          `${sec} entries carry at most ${max} addenda; entry ${e.traceNumber} has ${adds.length}`,
          adds[max]?.line ?? e.line,
        );
      if (e.numberOfAddendaRecords !== null && e.numberOfAddendaRecords !== adds.length) {
        err('addenda_count', 'numberOfAddendaRecords', `CTX entry says ${e.numberOfAddendaRecords} addenda records, ${adds.length} follow`);
      }
      const entrySequence = e.traceNumber.slice(8);
      adds.forEach((a, i) => {
        if (a.type !== '05') return;
        if (a.addendaSequenceNumber !== i + 1) {
          issues.error('addenda_sequence', a.line, '7', 'addendaSequenceNumber', `addenda sequence number ${a.addendaSequenceNumber} should be ${i + 1}`);
        }
        if (a.entryDetailSequenceNumber !== entrySequence) {
          issues.error(
            'addenda_sequence',
            a.line,
            '7',
            'entryDetailSequenceNumber',
            `entry detail sequence number ${a.entryDetailSequenceNumber} should be ${entrySequence}, the last 7 digits of the entry's trace`,
          );
        }
      });
      if (e.purpose === 'return_or_noc') {
        err('transaction_code', 'transactionCode', `transaction code ${e.transactionCode} is only for returns and notifications of change`);
      }
      checkWebPaymentType(e, batch, issues);
      return;
    }
  }
}

/**
 * WEB debits must say whether the authorization is recurring (R) or single (S) in positions 77-78
 * (Nacha WEB rules). One fixture right-aligns it (" S"); that is read as S.
 */
function checkWebPaymentType(e: AchEntry, batch: AchBatchHeader, issues: IssueSink): void {
  if (batch.secCode !== 'WEB' || e.direction !== 'debit' || e.purpose !== 'live') return;
  const code = e.discretionaryData.trim();
  if (code !== 'R' && code !== 'S') {
    issues.error('payment_type', e.line, '6', 'paymentTypeCode', `WEB debit payment type code "${e.discretionaryData}" must be R (recurring) or S (single)`);
  }
}
