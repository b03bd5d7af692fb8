// The typed shape of a parsed NACHA file, and of the issues (errors, warnings) the parser reports.
// Amounts are integer cents as bigint; routing numbers, traces and IDs stay strings (leading zeros).
import type { AccountType, EntryDirection, EntryPurpose, ReturnLayout, SecCode, ServiceClassCode } from './codes.ts';

export type RecordType = '1' | '5' | '6' | '7' | '8' | '9';

/** Machine-readable reason; tests and callers branch on this, never on `message`. */
export type AchIssueCode =
  // physical layout
  | 'empty_file'
  | 'record_length'
  | 'invalid_character'
  | 'unknown_record_type'
  // record order
  | 'missing_file_header'
  | 'misplaced_record'
  | 'missing_file_control'
  | 'record_after_file_control'
  | 'empty_batch'
  // field content
  | 'required'
  | 'not_numeric'
  | 'constant'
  | 'all_zeros'
  | 'check_digit'
  | 'service_class'
  | 'sec_code'
  | 'transaction_code'
  | 'transaction_code_service_class'
  | 'originator_status'
  | 'file_id_modifier'
  | 'payment_type'
  | 'zero_amount_required'
  // entries and addenda
  | 'addenda_indicator'
  | 'addenda_count'
  | 'addenda_type'
  | 'addenda_sequence'
  | 'trace_order'
  | 'trace_odfi'
  | 'return_code'
  | 'change_code'
  // controls
  | 'batch_service_class'
  | 'batch_number'
  | 'batch_number_order'
  | 'batch_odfi'
  | 'company_identification'
  | 'entry_addenda_count'
  | 'entry_hash'
  | 'total_debit'
  | 'total_credit'
  | 'batch_count'
  | 'block_count'
  // warnings (tolerated quirks, named so that a caller can decide)
  | 'line_padded'
  | 'line_trimmed'
  | 'records_unbroken'
  | 'crlf'
  | 'no_final_newline'
  | 'not_routing_number'
  | 'blank_file_id_modifier'
  | 'company_identification_padding'
  | 'addenda_trace'
  | 'incomplete_filler_block';

export interface AchIssue {
  readonly severity: 'error' | 'warning';
  readonly code: AchIssueCode;
  /** 1-based physical line (for files without line breaks: the 94-character record number). */
  readonly line: number | null;
  readonly recordType: RecordType | null;
  readonly field: string | null;
  readonly message: string;
}

export interface AchFileHeader {
  readonly line: number;
  readonly priorityCode: string;
  readonly immediateDestination: string; // trimmed; usually a routing number
  readonly immediateOrigin: string; // trimmed; a routing number or a company ID
  readonly fileCreationDate: string; // YYMMDD
  readonly fileCreationTime: string; // HHMM or ''
  readonly fileIdModifier: string; // A-Z, 0-9, or '' on some processor files
  readonly immediateDestinationName: string;
  readonly immediateOriginName: string;
  readonly referenceCode: string;
}

export interface AchBatchHeader {
  readonly line: number;
  readonly serviceClassCode: ServiceClassCode;
  readonly companyName: string;
  readonly companyDiscretionaryData: string;
  readonly companyIdentification: string;
  readonly secCode: SecCode;
  readonly companyEntryDescription: string;
  readonly companyDescriptiveDate: string;
  readonly effectiveEntryDate: string; // YYMMDD as written (returns carry 000000 / 000101)
  readonly settlementDate: string; // Julian day or ''
  readonly originatorStatusCode: string;
  readonly odfi: string; // 8 digits
  readonly batchNumber: number;
}

export interface Addenda05 {
  readonly type: '05';
  readonly line: number;
  readonly paymentRelatedInformation: string;
  readonly addendaSequenceNumber: number;
  readonly entryDetailSequenceNumber: string;
}

/** Extra fields of dishonored (R61-R70) and contested dishonored (R71-R77) returns. */
export interface DishonorDetails {
  readonly returnTraceNumber: string;
  readonly returnSettlementDate: string;
  readonly originalReturnReasonCode: string; // e.g. "01" for R01
  readonly dateOriginalEntryReturned: string | null; // contested only
  readonly originalSettlementDate: string | null; // contested only
  readonly dishonoredReturnTraceNumber: string | null; // contested only
  readonly dishonoredReturnSettlementDate: string | null; // contested only
  readonly dishonoredReturnReasonCode: string | null; // contested only
}

export interface ReturnAddenda {
  readonly type: '99';
  readonly line: number;
  readonly layout: ReturnLayout;
  readonly returnReasonCode: string;
  readonly description: string;
  readonly originalEntryTraceNumber: string;
  readonly dateOfDeath: string | null; // YYMMDD on R14/R15
  readonly originalReceivingDfi: string;
  readonly addendaInformation: string;
  readonly traceNumber: string;
  readonly dishonor: DishonorDetails | null;
}

/** Corrected data of a NOC, read per change code (Nacha Appendix Five, "Corrected Data" formats). */
export type NocCorrection =
  | { readonly kind: 'account_number'; readonly accountNumber: string }
  | { readonly kind: 'routing_number'; readonly routingNumber: string }
  | { readonly kind: 'routing_and_account'; readonly routingNumber: string; readonly accountNumber: string }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'transaction_code'; readonly transactionCode: number }
  | { readonly kind: 'account_and_transaction_code'; readonly accountNumber: string; readonly transactionCode: number }
  | {
      readonly kind: 'routing_account_and_transaction_code';
      readonly routingNumber: string;
      readonly accountNumber: string;
      readonly transactionCode: number;
    }
  | { readonly kind: 'individual_id'; readonly identificationNumber: string }
  | { readonly kind: 'company_name'; readonly companyName: string }
  | { readonly kind: 'company_identification'; readonly companyIdentification: string }
  | { readonly kind: 'company_name_and_identification'; readonly companyName: string; readonly companyIdentification: string }
  | { readonly kind: 'sec_code'; readonly secCode: string }
  /** C08, C13 and refused NOCs (C61-C69) carry data we pass through as text. */
  | { readonly kind: 'other'; readonly text: string }
  /**
   * The corrected data does not have the format its change code requires. Not a file error: the
   * right answer is to refuse the NOC with C65 (incorrectly formatted corrected data).
   */
  | { readonly kind: 'malformed'; readonly text: string; readonly reason: string };

export interface NocAddenda {
  readonly type: '98';
  readonly line: number;
  readonly changeCode: string;
  readonly description: string;
  readonly refused: boolean;
  readonly originalEntryTraceNumber: string;
  readonly originalReceivingDfi: string;
  readonly correctedData: string; // trimmed raw text
  readonly correction: NocCorrection;
  readonly refusedChangeCode: string | null; // refused NOCs: the change code being refused
  readonly traceSequenceNumber: string | null; // refused NOCs
  readonly traceNumber: string;
}

export type AchAddenda = Addenda05 | ReturnAddenda | NocAddenda;

export interface AchEntry {
  readonly line: number;
  readonly transactionCode: number;
  readonly direction: EntryDirection;
  readonly accountType: AccountType;
  readonly purpose: EntryPurpose;
  readonly rdfi: string; // 8 digits (what the entry hash sums)
  readonly routingNumber: string; // 9 digits incl. check digit
  readonly accountNumber: string; // trimmed
  readonly amountCents: bigint;
  readonly identificationNumber: string;
  readonly receiverName: string;
  readonly discretionaryData: string; // WEB: payment type code
  readonly addendaIndicator: boolean;
  readonly numberOfAddendaRecords: number | null; // CTX only
  readonly traceNumber: string;
  readonly addenda: readonly AchAddenda[];
}

export interface AchBatchControl {
  readonly line: number;
  readonly serviceClassCode: number;
  readonly entryAddendaCount: number;
  readonly entryHash: bigint;
  readonly totalDebitCents: bigint;
  readonly totalCreditCents: bigint;
  readonly companyIdentification: string;
  readonly messageAuthenticationCode: string;
  readonly odfi: string;
  readonly batchNumber: number;
}

export interface AchBatch {
  readonly header: AchBatchHeader;
  readonly entries: readonly AchEntry[];
  readonly control: AchBatchControl;
}

export interface AchFileControl {
  readonly line: number;
  readonly batchCount: number;
  readonly blockCount: number;
  readonly entryAddendaCount: number;
  readonly entryHash: bigint;
  readonly totalDebitCents: bigint;
  readonly totalCreditCents: bigint;
}

export interface AchFile {
  readonly header: AchFileHeader;
  readonly batches: readonly AchBatch[];
  readonly control: AchFileControl;
  /** Records excluding `9999…` filler lines (what the block count counts). */
  readonly recordCount: number;
  readonly fillerLines: number;
  readonly warnings: readonly AchIssue[];
}

export type AchParseResult =
  { readonly ok: true; readonly file: AchFile } | { readonly ok: false; readonly errors: readonly AchIssue[]; readonly warnings: readonly AchIssue[] };

export interface AchParseOptions {
  /**
   * Bank-specific return reason codes to accept beside the Nacha list (e.g. ['R97']). Default none:
   * an unknown code is an error, because a return we cannot classify must not be guessed at.
   */
  readonly customReturnCodes?: readonly string[];
  /**
   * Report a return reason code outside the Nacha list (and `customReturnCodes`) as a warning instead of an
   * error, reading its addenda with the ordinary return layout. For the bank-file reader: one return with
   * a code nobody documented must not keep every other return in the file from being applied; the caller
   * turns the unknown one into an exception. Default false (`settle ach inspect` and strict checks reject it).
   */
  readonly unknownReturnCodesAsWarnings?: boolean;
  /**
   * Reject records that are not exactly 94 characters instead of repairing them (trimmed trailing
   * blanks, blanks beyond 94, no line breaks). Default false: the repairs are reported as warnings,
   * because banks and libraries really produce such files (fixtures format/) and moov reads them.
   */
  readonly strictRecordLength?: boolean;
}
