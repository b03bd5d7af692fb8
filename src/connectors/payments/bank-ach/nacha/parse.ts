// NACHA file parser: tolerant of physical quirks (physical.ts), strict on content. Record order is a
// small state machine (1, then batches of 5 · 6/7… · 8, then 9, then optional 9999 filler); each
// batch and the file are totalled independently from the entry records and compared with their
// control records (entry/addenda count, entry hash, debit and credit totals, batch and block counts).
// Returns a typed AchFile or every error found (capped), each naming line, record type and field.
import { parseAddenda, type ReturnCodePolicy } from './addenda.ts';
import { checkBatchHeaderContent, checkEntryContent } from './content-rules.ts';
import { isSecCode, isServiceClassCode, transactionCodeInfo, UNSUPPORTED_SEC_CODES } from './codes.ts';
import { big, get, isDigits, num, readFields, trimmed } from './fields.ts';
import { IssueSink } from './issues.ts';
import { splitRecords, type PhysicalRecord } from './physical.ts';
import { BATCH_CONTROL, BATCH_HEADER, BLOCKING_FACTOR, ENTRY_DETAIL, ENTRY_DETAIL_CTX, FILE_CONTROL, FILE_HEADER, HASH_MODULUS } from './records.ts';
import { looksLikeRoutingNumber, routingCheckDigit } from './routing.ts';
import { checkEntryAddenda, isReturnOrNocEntry } from './validate-entry.ts';
import type { AchBatch, AchBatchHeader, AchEntry, AchFile, AchFileControl, AchFileHeader, AchParseOptions, AchParseResult, AchAddenda } from './types.ts';

interface MutableEntry extends Omit<AchEntry, 'addenda'> {
  addenda: AchAddenda[];
}

interface OpenBatch {
  header: AchBatchHeader;
  entries: MutableEntry[];
  records: number; // entries + addenda
  hash: number; // exact: 100k entries × 99,999,999 stays far below 2^53
  debit: bigint;
  credit: bigint;
  rawCompanyId: string; // untrimmed, to tell alignment differences from real mismatches
}

export function parseAch(input: string | Uint8Array, options: AchParseOptions = {}): AchParseResult {
  // latin1 maps each byte to one character, so positions are byte positions and any non-ASCII byte
  // is caught by the character check instead of silently becoming a multi-byte shift.
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  const issues = new IssueSink();
  const records = splitRecords(text, issues, options.strictRecordLength === true);
  if (!records) return { ok: false, errors: issues.errors, warnings: issues.warnings };
  const file = new Parser(issues, options).run(records);
  if (issues.errors.length > 0 || !file) return { ok: false, errors: issues.errors, warnings: issues.warnings };
  return { ok: true, file };
}

class Parser {
  private header: AchFileHeader | null = null;
  private readonly batches: AchBatch[] = [];
  private batch: OpenBatch | null = null;
  private entry: MutableEntry | null = null;
  private control: AchFileControl | null = null;
  private fileRecords = 0;
  private fileHash = 0;
  private fileDebit = 0n;
  private fileCredit = 0n;
  private lastBatchNumber = -1;
  private readonly returnCodes: ReturnCodePolicy;

  constructor(
    private readonly issues: IssueSink,
    options: AchParseOptions,
  ) {
    this.returnCodes = { customReturnCodes: options.customReturnCodes ?? [], unknownAsWarnings: options.unknownReturnCodesAsWarnings === true };
  }

  run(records: readonly PhysicalRecord[]): AchFile | null {
    let recordCount = 0;
    let filler = 0;
    let last: PhysicalRecord | null = null;
    for (const rec of records) {
      last = rec;
      if (this.control) {
        if (isFiller(rec.text)) {
          filler++;
          continue;
        }
        this.issues.error(
          'record_after_file_control',
          rec.line,
          typeOf(rec.text),
          'recordType',
          `line ${rec.line}: a "${rec.text[0]}" record follows the file control; only 9999… filler may`,
        );
        return null;
      }
      recordCount++;
      if (!this.record(rec, recordCount)) {
        if (rec.text[0] === '9') this.reportRecordsAfter(records, rec);
        return null;
      }
      if (this.issues.full) return null;
    }
    if (!this.header || !this.control) {
      const line = last?.line ?? null;
      this.issues.error(
        'missing_file_control',
        line,
        last ? typeOf(last.text) : null,
        'recordType',
        `the file ends at line ${line} without a file control (9) record`,
      );
      return null;
    }
    if (filler > 0 && (recordCount + filler) % BLOCKING_FACTOR !== 0) {
      this.issues.warn('incomplete_filler_block', null, '9', null, `${recordCount} records + ${filler} filler lines is not a whole number of 10-record blocks`);
    }
    return { header: this.header, batches: this.batches, control: this.control, recordCount, fillerLines: filler, warnings: this.issues.warnings };
  }

  /** Handles one record; false stops parsing (record order is broken, nothing after it is meaningful). */
  private record(rec: PhysicalRecord, ordinal: number): boolean {
    const t = rec.text[0];
    if (!this.header && t !== '1') {
      this.issues.error(
        'missing_file_header',
        rec.line,
        typeOf(rec.text),
        'recordType',
        `the file must start with a file header (1) record; line ${rec.line} is a "${t}" record`,
      );
      return false;
    }
    switch (t) {
      case '1':
        if (this.header) return this.misplaced(rec, 'a second file header');
        this.header = this.fileHeader(rec);
        return true;
      case '5':
        if (this.batch) return this.misplaced(rec, `a batch header while the batch from line ${this.batch.header.line} has no batch control`);
        this.batchHeader(rec);
        return true;
      case '6':
        if (!this.batch) return this.misplaced(rec, 'an entry outside a batch');
        this.closeEntry();
        this.entryDetail(rec, this.batch);
        return true;
      case '7':
        if (!this.entry) return this.misplaced(rec, 'an addenda record without an entry before it');
        {
          const a = parseAddenda(rec.text, rec.line, this.issues, this.returnCodes);
          if (a) this.entry.addenda.push(a);
        }
        if (this.batch) this.batch.records++;
        return true;
      case '8':
        if (!this.batch) return this.misplaced(rec, 'a batch control without a batch header');
        this.closeEntry();
        this.batchControl(rec, this.batch);
        this.batch = null;
        return true;
      case '9':
        if (this.batch) return this.misplaced(rec, `the file control while the batch from line ${this.batch.header.line} has no batch control`);
        this.fileControl(rec, ordinal);
        return true;
      default:
        this.issues.error('unknown_record_type', rec.line, null, 'recordType', `line ${rec.line}: "${t}" is not a NACHA record type (1, 5, 6, 7, 8, 9)`);
        return false;
    }
  }

  /** A file control inside a batch: say also whether records follow it (the usual real cause). */
  private reportRecordsAfter(records: readonly PhysicalRecord[], control: PhysicalRecord): void {
    const after = records.slice(records.indexOf(control) + 1).find((r) => !isFiller(r.text));
    if (after) {
      this.issues.error(
        'record_after_file_control',
        after.line,
        typeOf(after.text),
        'recordType',
        `line ${after.line}: a "${after.text[0]}" record follows the file control at line ${control.line}; only 9999… filler may`,
      );
    }
  }

  private misplaced(rec: PhysicalRecord, what: string): false {
    this.issues.error('misplaced_record', rec.line, typeOf(rec.text), 'recordType', `line ${rec.line}: ${what}`);
    return false;
  }

  private fileHeader(rec: PhysicalRecord): AchFileHeader {
    const f = readFields(rec.text, FILE_HEADER, rec.line, this.issues);
    const modifier = get(f, 'fileIdModifier');
    if (modifier === ' ') {
      this.issues.warn('blank_file_id_modifier', rec.line, '1', 'fileIdModifier', 'file ID modifier is blank (A-Z or 0-9 expected)');
    } else if (!/^[A-Z0-9]$/.test(modifier)) {
      this.issues.error('file_id_modifier', rec.line, '1', 'fileIdModifier', `file ID modifier "${modifier}" must be A-Z or 0-9`);
    }
    const destination = trimmed(f, 'immediateDestination');
    if (!looksLikeRoutingNumber(destination)) {
      // Processors send placeholders here (YYYYYYYYY) and bad check digits (fixtures returns/): the
      // bank that sent the file already routed it, so this is worth a warning, not a rejection.
      this.issues.warn('not_routing_number', rec.line, '1', 'immediateDestination', `immediate destination "${destination}" is not a valid routing number`);
    }
    return {
      line: rec.line,
      priorityCode: get(f, 'priorityCode'),
      immediateDestination: destination,
      immediateOrigin: trimmed(f, 'immediateOrigin'),
      fileCreationDate: get(f, 'fileCreationDate'),
      fileCreationTime: trimmed(f, 'fileCreationTime'),
      fileIdModifier: modifier.trim(),
      immediateDestinationName: trimmed(f, 'immediateDestinationName'),
      immediateOriginName: trimmed(f, 'immediateOriginName'),
      referenceCode: trimmed(f, 'referenceCode'),
    };
  }

  private batchHeader(rec: PhysicalRecord): void {
    const f = readFields(rec.text, BATCH_HEADER, rec.line, this.issues);
    const svc = num(f, 'serviceClassCode');
    if (isDigits(get(f, 'serviceClassCode')) && !isServiceClassCode(svc)) {
      this.issues.error('service_class', rec.line, '5', 'serviceClassCode', `service class code ${svc} is not 200, 220 or 225`);
    }
    const companyName = trimmed(f, 'companyName');
    checkBatchHeaderContent(f, rec.line, this.issues);
    const sec = trimmed(f, 'standardEntryClassCode');
    if (UNSUPPORTED_SEC_CODES.has(sec)) {
      this.issues.error('sec_code', rec.line, '5', 'standardEntryClassCode', `SEC code ${sec} uses record layouts Settle does not support`);
    } else if (sec !== '' && !isSecCode(sec)) {
      this.issues.error('sec_code', rec.line, '5', 'standardEntryClassCode', `"${sec}" is not a Nacha SEC code`);
    }
    const status = get(f, 'originatorStatusCode');
    if (status !== ' ' && status !== '0' && status !== '1' && status !== '2') {
      this.issues.error('originator_status', rec.line, '5', 'originatorStatusCode', `originator status code "${status}" must be 0, 1 or 2`);
    }
    const batchNumber = num(f, 'batchNumber');
    if (batchNumber <= this.lastBatchNumber) {
      this.issues.error(
        'batch_number_order',
        rec.line,
        '5',
        'batchNumber',
        `batch number ${batchNumber} does not ascend (previous batch ${this.lastBatchNumber})`,
      );
    }
    this.lastBatchNumber = batchNumber;
    const header: AchBatchHeader = {
      line: rec.line,
      // Invalid values were reported above and the file will be rejected; the defaults only keep types whole.
      serviceClassCode: isServiceClassCode(svc) ? svc : 200,
      companyName,
      companyDiscretionaryData: trimmed(f, 'companyDiscretionaryData'),
      companyIdentification: trimmed(f, 'companyIdentification'),
      secCode: isSecCode(sec) ? sec : 'PPD',
      companyEntryDescription: trimmed(f, 'companyEntryDescription'),
      companyDescriptiveDate: trimmed(f, 'companyDescriptiveDate'),
      effectiveEntryDate: get(f, 'effectiveEntryDate'),
      settlementDate: trimmed(f, 'settlementDate'),
      originatorStatusCode: status,
      odfi: get(f, 'odfiIdentification'),
      batchNumber,
    };
    this.batch = { header, entries: [], records: 0, hash: 0, debit: 0n, credit: 0n, rawCompanyId: get(f, 'companyIdentification') };
  }

  private entryDetail(rec: PhysicalRecord, batch: OpenBatch): void {
    const ctx = batch.header.secCode === 'CTX';
    const f = readFields(rec.text, ctx ? ENTRY_DETAIL_CTX : ENTRY_DETAIL, rec.line, this.issues);
    const tcRaw = get(f, 'transactionCode');
    const tc = num(f, 'transactionCode');
    const info = transactionCodeInfo(tc);
    if (isDigits(tcRaw) && !info) {
      this.issues.error('transaction_code', rec.line, '6', 'transactionCode', `transaction code ${tcRaw} is not a Nacha transaction code`);
    }
    const svc = batch.header.serviceClassCode;
    if (info && ((svc === 220 && info.direction === 'debit') || (svc === 225 && info.direction === 'credit'))) {
      this.issues.error(
        'transaction_code_service_class',
        rec.line,
        '6',
        'transactionCode',
        `transaction code ${tc} is a ${info.direction}, but the batch's service class ${svc} allows only ${svc === 220 ? 'credits' : 'debits'}`,
      );
    }
    const rdfi = get(f, 'rdfiIdentification');
    const checkDigit = get(f, 'checkDigit');
    const expected = routingCheckDigit(rdfi);
    if (expected !== null && isDigits(checkDigit) && expected !== Number(checkDigit)) {
      this.issues.error('check_digit', rec.line, '6', 'checkDigit', `check digit ${checkDigit} does not match RDFI ${rdfi} (expected ${expected})`);
    }
    const amountCents = big(f, 'amount');
    if (amountCents !== 0n && info && (info.purpose === 'prenote' || info.purpose === 'remittance')) {
      this.issues.error('zero_amount_required', rec.line, '6', 'amount', `transaction code ${tc} (${info.purpose}) must carry a zero amount`);
    } else if (amountCents !== 0n && batch.header.secCode === 'COR') {
      this.issues.error('zero_amount_required', rec.line, '6', 'amount', 'notification-of-change (COR) entries must carry a zero amount');
    }
    const indicator = get(f, 'addendaRecordIndicator');
    if (indicator !== '0' && indicator !== '1') {
      this.issues.error('addenda_indicator', rec.line, '6', 'addendaRecordIndicator', `addenda record indicator "${indicator}" must be 0 or 1`);
    }
    const traceNumber = get(f, 'traceNumber');
    const prev = batch.entries[batch.entries.length - 1];
    // Same length, digits only: string order is numeric order.
    if (prev && isDigits(traceNumber) && isDigits(prev.traceNumber) && traceNumber <= prev.traceNumber) {
      this.issues.error(
        'trace_order',
        rec.line,
        '6',
        'traceNumber',
        `trace number ${traceNumber} does not ascend within the batch (previous ${prev.traceNumber})`,
      );
    }
    const entry: MutableEntry = {
      line: rec.line,
      transactionCode: tc,
      direction: info?.direction ?? 'credit',
      accountType: info?.account ?? 'checking',
      purpose: info?.purpose ?? 'live',
      rdfi,
      routingNumber: rdfi + checkDigit,
      accountNumber: trimmed(f, 'dfiAccountNumber'),
      amountCents,
      identificationNumber: trimmed(f, 'identificationNumber'),
      receiverName: trimmed(f, 'receiverName'),
      discretionaryData: get(f, 'discretionaryData'),
      addendaIndicator: indicator === '1',
      numberOfAddendaRecords: ctx ? num(f, 'numberOfAddendaRecords') : null,
      traceNumber,
      addenda: [],
    };
    batch.entries.push(entry);
    batch.records++;
    if (isDigits(rdfi)) batch.hash += Number(rdfi);
    if (info?.direction === 'debit') batch.debit += amountCents;
    else if (info) batch.credit += amountCents;
    this.entry = entry;
  }

  private closeEntry(): void {
    if (this.entry && this.batch) {
      checkEntryAddenda(this.entry, this.batch.header, this.issues);
      checkEntryContent(this.entry, this.batch.header, isReturnOrNocEntry(this.entry), this.issues);
    }
    this.entry = null;
  }

  private batchControl(rec: PhysicalRecord, batch: OpenBatch): void {
    const f = readFields(rec.text, BATCH_CONTROL, rec.line, this.issues);
    const h = batch.header;
    if (batch.entries.length === 0) {
      this.issues.error('empty_batch', h.line, '5', null, `batch ${h.batchNumber} (line ${h.line}) has no entries`);
    }
    const err = (code: Parameters<IssueSink['error']>[0], field: string, message: string): void =>
      this.issues.error(code, rec.line, '8', field, `batch ${h.batchNumber}: ${message}`);
    if (num(f, 'serviceClassCode') !== h.serviceClassCode) {
      err('batch_service_class', 'serviceClassCode', `service class ${get(f, 'serviceClassCode')} differs from the batch header's ${h.serviceClassCode}`);
    }
    const count = num(f, 'entryAddendaCount');
    if (count !== batch.records)
      err('entry_addenda_count', 'entryAddendaCount', `entry/addenda count is ${count}, the batch has ${batch.records} entry and addenda records`);
    const hash = BigInt(batch.hash % HASH_MODULUS);
    const controlHash = big(f, 'entryHash');
    if (controlHash !== hash) err('entry_hash', 'entryHash', `entry hash is ${get(f, 'entryHash')}, the RDFI routing numbers sum to ${pad10(hash)}`);
    const debit = big(f, 'totalDebit');
    if (debit !== batch.debit) err('total_debit', 'totalDebit', `total debit is ${debit}, the debit entries sum to ${batch.debit}`);
    const credit = big(f, 'totalCredit');
    if (credit !== batch.credit) err('total_credit', 'totalCredit', `total credit is ${credit}, the credit entries sum to ${batch.credit}`);
    const rawId = get(f, 'companyIdentification');
    const headerRawId = batch.rawCompanyId;
    if (rawId.trim() !== h.companyIdentification) {
      err(
        'company_identification',
        'companyIdentification',
        `company identification "${rawId.trim()}" differs from the batch header's "${h.companyIdentification}"`,
      );
    } else if (rawId !== headerRawId) {
      this.issues.warn(
        'company_identification_padding',
        rec.line,
        '8',
        'companyIdentification',
        `batch ${h.batchNumber}: company identification is aligned differently from the batch header ("${rawId}" vs "${headerRawId}")`,
      );
    }
    if (get(f, 'odfiIdentification') !== h.odfi)
      err('batch_odfi', 'odfiIdentification', `ODFI ${get(f, 'odfiIdentification')} differs from the batch header's ${h.odfi}`);
    if (num(f, 'batchNumber') !== h.batchNumber) err('batch_number', 'batchNumber', `batch number ${get(f, 'batchNumber')} differs from the batch header's`);
    this.checkForwardTraces(batch);

    this.fileRecords += batch.records;
    this.fileHash += batch.hash;
    this.fileDebit += batch.debit;
    this.fileCredit += batch.credit;
    this.batches.push({
      header: h,
      entries: batch.entries,
      control: {
        line: rec.line,
        serviceClassCode: num(f, 'serviceClassCode'),
        entryAddendaCount: count,
        entryHash: controlHash,
        totalDebitCents: debit,
        totalCreditCents: credit,
        companyIdentification: rawId.trim(),
        messageAuthenticationCode: trimmed(f, 'messageAuthenticationCode'),
        odfi: get(f, 'odfiIdentification'),
        batchNumber: num(f, 'batchNumber'),
      },
    });
  }

  /**
   * In a forward batch every trace number starts with the batch's ODFI (Nacha: trace = ODFI routing
   * + sequence). Return and NOC batches are exempt: their traces are assigned by the returning bank
   * and real return files (fixtures returns/) do not follow the batch header's ODFI.
   */
  private checkForwardTraces(batch: OpenBatch): void {
    if (batch.header.secCode === 'COR' || batch.entries.some(isReturnOrNocEntry)) return;
    for (const e of batch.entries) {
      if (isDigits(e.traceNumber) && e.traceNumber.slice(0, 8) !== batch.header.odfi) {
        this.issues.error('trace_odfi', e.line, '6', 'traceNumber', `trace number ${e.traceNumber} does not start with the batch's ODFI ${batch.header.odfi}`);
      }
    }
  }

  private fileControl(rec: PhysicalRecord, ordinal: number): void {
    const f = readFields(rec.text, FILE_CONTROL, rec.line, this.issues);
    const err = (code: Parameters<IssueSink['error']>[0], field: string, message: string): void =>
      this.issues.error(code, rec.line, '9', field, `file control: ${message}`);
    const batchCount = num(f, 'batchCount');
    if (batchCount !== this.batches.length) err('batch_count', 'batchCount', `batch count is ${batchCount}, the file has ${this.batches.length} batches`);
    // Block count: blocks of 10 records, filler excluded (fixtures README).
    const blocks = Math.ceil(ordinal / BLOCKING_FACTOR);
    const blockCount = num(f, 'blockCount');
    if (blockCount !== blocks) err('block_count', 'blockCount', `block count is ${blockCount}, ${ordinal} records make ${blocks} blocks of ${BLOCKING_FACTOR}`);
    const count = num(f, 'entryAddendaCount');
    if (count !== this.fileRecords) err('entry_addenda_count', 'entryAddendaCount', `entry/addenda count is ${count}, the file has ${this.fileRecords}`);
    const hash = BigInt(this.fileHash % HASH_MODULUS);
    const controlHash = big(f, 'entryHash');
    if (controlHash !== hash) err('entry_hash', 'entryHash', `entry hash is ${get(f, 'entryHash')}, the RDFI routing numbers sum to ${pad10(hash)}`);
    const debit = big(f, 'totalDebit');
    if (debit !== this.fileDebit) err('total_debit', 'totalDebit', `total debit is ${debit}, the debit entries sum to ${this.fileDebit}`);
    const credit = big(f, 'totalCredit');
    if (credit !== this.fileCredit) err('total_credit', 'totalCredit', `total credit is ${credit}, the credit entries sum to ${this.fileCredit}`);
    this.control = {
      line: rec.line,
      batchCount,
      blockCount,
      entryAddendaCount: count,
      entryHash: controlHash,
      totalDebitCents: debit,
      totalCreditCents: credit,
    };
  }
}

function isFiller(text: string): boolean {
  return /^9+ *$/.test(text);
}

function typeOf(text: string): '1' | '5' | '6' | '7' | '8' | '9' | null {
  const c = text[0];
  return c === '1' || c === '5' || c === '6' || c === '7' || c === '8' || c === '9' ? c : null;
}

function pad10(n: bigint): string {
  return n.toString().padStart(10, '0');
}
