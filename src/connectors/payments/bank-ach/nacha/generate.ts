// Builds a NACHA file from typed input: assigns trace and batch numbers, computes every control
// (counts, entry hashes, totals, block count), pads with 9999… filler to a block of 10, and writes
// 94-character lines with LF (or CRLF). Invalid input throws AchGenerateError naming the input path;
// nothing is silently truncated except free-text receiver and bank names.
import { money, toDecimalString } from '../../../../domain/money.ts';
import { transactionCodeInfo, type OriginationTransactionCode, type ServiceClassCode } from './codes.ts';
import {
  ADDENDA_05,
  BATCH_CONTROL,
  BATCH_HEADER,
  BLOCKING_FACTOR,
  ENTRY_DETAIL,
  ENTRY_DETAIL_CTX,
  FILE_CONTROL,
  FILE_HEADER,
  HASH_MODULUS,
  RECORD_LENGTH,
} from './records.ts';
import { isValidRoutingNumber } from './routing.ts';
import { AchGenerateError } from './generate-error.ts';
import { ACCOUNT_NUMBER, BATCH_HEADER_REQUIRED, contentMessage, contentProblem, receiverNameRule } from './content-rules.ts';
import { isoToYymmdd, writeRecord } from './write-fields.ts';

export { AchGenerateError };

/** Company entry description for a reinitiated (retried) debit (payments-rules.md §2.5). */
export const REINITIATION_DESCRIPTION = 'RETRY PYMT';
/** Per-payment limit for Same Day ACH: $1,000,000 (payments-rules.md §2.3). */
export const SAME_DAY_LIMIT_CENTS = 100_000_000n;
const MAX_AMOUNT_CENTS = 9_999_999_999n; // 10-digit amount field
const MAX_TRACE_SEQUENCE = 9_999_999; // 7-digit sequence after the 8-digit ODFI

export type GenerableSecCode = 'CCD' | 'PPD' | 'WEB' | 'CTX';

export interface AchEntryInput {
  readonly transactionCode: OriginationTransactionCode;
  readonly routingNumber: string; // 9 digits including the check digit
  readonly accountNumber: string; // up to 17 characters
  readonly amountCents: bigint;
  readonly receiverName: string; // cut to 22 (CTX: 16) characters
  readonly identificationNumber?: string; // up to 15: our reference, e.g. the payment id
  /** WEB only: R = recurring, S = single authorization. Required on WEB debits. */
  readonly paymentType?: 'R' | 'S';
  readonly discretionaryData?: string; // 2 characters, not WEB
  /** Payment-related information, 80 characters each: CCD/PPD/WEB at most 1 (CCD+), CTX 1-9,999. */
  readonly addenda?: readonly string[];
}

export interface AchBatchInput {
  readonly companyName: string; // up to 16; must stay identical on reinitiations (§2.5)
  readonly companyIdentification: string; // up to 10
  readonly companyDiscretionaryData?: string;
  readonly secCode: GenerableSecCode;
  readonly companyEntryDescription: string; // up to 10, e.g. REINITIATION_DESCRIPTION
  readonly companyDescriptiveDate?: string; // up to 6
  readonly effectiveEntryDate: string; // YYYY-MM-DD
  /** Same Day ACH: effective date must be the creation date; "SDHHMM" goes in the descriptive date. */
  readonly sameDay?: { readonly settleAt?: string };
  readonly odfi: string; // 8-digit routing number of the originating bank, without check digit
  /** Default: 220 when all entries are credits, 225 when all are debits, else 200. */
  readonly serviceClassCode?: ServiceClassCode;
  readonly entries: readonly AchEntryInput[];
}

export interface AchFileInput {
  readonly immediateDestination: string; // 9-digit routing number
  readonly immediateOrigin: string; // 9-digit routing number or a 10-character ID from the bank
  readonly immediateDestinationName?: string;
  readonly immediateOriginName?: string;
  readonly fileCreationDate: string; // YYYY-MM-DD; the caller's clock, so generation stays pure
  readonly fileCreationTime?: string; // HHMM
  readonly fileIdModifier: string; // A-Z or 0-9: distinguishes files sent the same day
  readonly referenceCode?: string;
  readonly batches: readonly AchBatchInput[];
}

export interface AchGenerateOptions {
  readonly lineEnding?: 'LF' | 'CRLF';
  readonly padToBlock?: boolean; // default true
  readonly firstBatchNumber?: number; // default 1
  readonly firstTraceSequence?: number; // default 1
}

export interface GeneratedBatch {
  readonly batchNumber: number;
  readonly serviceClassCode: ServiceClassCode;
  readonly entryAddendaCount: number;
  readonly entryHash: bigint;
  readonly totalDebitCents: bigint;
  readonly totalCreditCents: bigint;
  /** In input order: the trace number given to each entry (what returns and NOCs will quote). */
  readonly traceNumbers: readonly string[];
}

export interface GeneratedAchFile {
  readonly text: string;
  readonly batches: readonly GeneratedBatch[];
  readonly batchCount: number;
  readonly blockCount: number;
  readonly entryAddendaCount: number;
  readonly entryHash: bigint;
  readonly totalDebitCents: bigint;
  readonly totalCreditCents: bigint;
  readonly recordCount: number;
  readonly fillerLines: number;
}

const FILLER = '9'.repeat(RECORD_LENGTH);

export function generateAchFile(input: AchFileInput, options: AchGenerateOptions = {}): GeneratedAchFile {
  const lines: string[] = [];
  lines.push(fileHeader(input));
  const creation = input.fileCreationDate;
  let batchNumber = options.firstBatchNumber ?? 1;
  let sequence = options.firstTraceSequence ?? 1;
  if (!Number.isSafeInteger(batchNumber) || batchNumber < 1) throw new AchGenerateError('options.firstBatchNumber', 'must be a positive whole number');
  if (!Number.isSafeInteger(sequence) || sequence < 0) throw new AchGenerateError('options.firstTraceSequence', 'must be a whole number ≥ 0');
  if (input.batches.length === 0) throw new AchGenerateError('batches', 'a file needs at least one batch');
  const batches: GeneratedBatch[] = [];
  let fileCount = 0;
  let fileHash = 0;
  let fileDebit = 0n;
  let fileCredit = 0n;
  input.batches.forEach((b, bi) => {
    const built = batch(b, `batches[${bi}]`, creation, batchNumber, sequence, lines);
    sequence += b.entries.length;
    batches.push(built.summary);
    fileCount += built.summary.entryAddendaCount;
    fileHash += built.hash;
    fileDebit += built.summary.totalDebitCents;
    fileCredit += built.summary.totalCreditCents;
    batchNumber++;
  });
  const recordCount = lines.length + 1;
  const blockCount = Math.ceil(recordCount / BLOCKING_FACTOR);
  const entryHash = BigInt(fileHash % HASH_MODULUS);
  lines.push(
    writeRecord(
      FILE_CONTROL,
      { batchCount: batches.length, blockCount, entryAddendaCount: fileCount, entryHash, totalDebit: fileDebit, totalCredit: fileCredit },
      'fileControl',
    ),
  );
  let fillerLines = 0;
  if (options.padToBlock !== false) {
    while (lines.length % BLOCKING_FACTOR !== 0) {
      lines.push(FILLER);
      fillerLines++;
    }
  }
  const eol = options.lineEnding === 'CRLF' ? '\r\n' : '\n';
  return {
    text: lines.join(eol) + eol,
    batches,
    batchCount: batches.length,
    blockCount,
    entryAddendaCount: fileCount,
    entryHash,
    totalDebitCents: fileDebit,
    totalCreditCents: fileCredit,
    recordCount,
    fillerLines,
  };
}

const CUT_BANK_NAMES: ReadonlySet<string> = new Set(['immediateDestinationName', 'immediateOriginName']);
const CUT_RECEIVER_NAME: ReadonlySet<string> = new Set(['receiverName']);

function fileHeader(input: AchFileInput): string {
  if (!isValidRoutingNumber(input.immediateDestination)) {
    throw new AchGenerateError('immediateDestination', `"${input.immediateDestination}" is not a valid 9-digit routing number`);
  }
  let origin: string;
  if (/^\d{9}$/.test(input.immediateOrigin)) origin = ' ' + input.immediateOrigin;
  else if (input.immediateOrigin.length === 10) origin = input.immediateOrigin;
  else throw new AchGenerateError('immediateOrigin', 'must be a 9-digit routing number or a 10-character ID');
  if (!/^[A-Z0-9]$/.test(input.fileIdModifier)) throw new AchGenerateError('fileIdModifier', 'must be one of A-Z or 0-9');
  const time = input.fileCreationTime ?? '';
  if (time !== '' && !/^([01]\d|2[0-3])[0-5]\d$/.test(time)) throw new AchGenerateError('fileCreationTime', 'must be HHMM');
  return writeRecord(
    FILE_HEADER,
    {
      priorityCode: '01',
      immediateDestination: ' ' + input.immediateDestination,
      immediateOrigin: origin,
      fileCreationDate: isoToYymmdd(input.fileCreationDate, 'fileCreationDate'),
      fileCreationTime: time,
      fileIdModifier: input.fileIdModifier,
      immediateDestinationName: input.immediateDestinationName,
      immediateOriginName: input.immediateOriginName,
      referenceCode: input.referenceCode,
    },
    'fileHeader',
    CUT_BANK_NAMES,
  );
}

function batch(
  b: AchBatchInput,
  path: string,
  creationDate: string,
  batchNumber: number,
  firstSequence: number,
  lines: string[],
): { summary: GeneratedBatch; hash: number } {
  if (!/^\d{8}$/.test(b.odfi)) throw new AchGenerateError(`${path}.odfi`, 'must be the 8-digit ODFI routing number (no check digit)');
  if (b.entries.length === 0) throw new AchGenerateError(`${path}.entries`, 'a batch needs at least one entry');
  // Never write what the parser (and the receiving banks) would reject: the content rules (content-rules.ts).
  for (const rule of BATCH_HEADER_REQUIRED) {
    const problem = contentProblem(b[rule.field as 'companyName' | 'companyIdentification' | 'companyEntryDescription']);
    if (problem) throw new AchGenerateError(`${path}.${rule.field}`, contentMessage(rule, problem, null));
  }
  if (firstSequence + b.entries.length - 1 > MAX_TRACE_SEQUENCE) throw new AchGenerateError(path, 'trace sequence exceeds 7 digits; split the file');
  const effective = isoToYymmdd(b.effectiveEntryDate, `${path}.effectiveEntryDate`);
  if (b.effectiveEntryDate < creationDate) throw new AchGenerateError(`${path}.effectiveEntryDate`, 'is before the file creation date');
  let descriptiveDate = b.companyDescriptiveDate ?? '';
  if (b.sameDay) {
    if (b.effectiveEntryDate !== creationDate)
      throw new AchGenerateError(`${path}.effectiveEntryDate`, 'a Same Day ACH batch settles on the file creation date');
    if (b.sameDay.settleAt !== undefined) {
      if (!/^\d{4}$/.test(b.sameDay.settleAt)) throw new AchGenerateError(`${path}.sameDay.settleAt`, 'must be HHMM');
      descriptiveDate = 'SD' + b.sameDay.settleAt;
    }
  }
  const svc = serviceClass(b, path);
  lines.push(
    writeRecord(
      BATCH_HEADER,
      {
        serviceClassCode: svc,
        companyName: b.companyName,
        companyDiscretionaryData: b.companyDiscretionaryData,
        companyIdentification: b.companyIdentification,
        standardEntryClassCode: b.secCode,
        companyEntryDescription: b.companyEntryDescription,
        companyDescriptiveDate: descriptiveDate,
        effectiveEntryDate: effective,
        settlementDate: undefined, // inserted by the ACH operator
        originatorStatusCode: '1', // 1 = originator is not a federal government agency
        odfiIdentification: b.odfi,
        batchNumber,
      },
      path,
    ),
  );
  let count = 0;
  let hash = 0;
  let debit = 0n;
  let credit = 0n;
  const traceNumbers: string[] = [];
  const ctx = b.secCode === 'CTX';
  b.entries.forEach((e, ei) => {
    const ep = `${path}.entries[${ei}]`;
    const trace = b.odfi + String(firstSequence + ei).padStart(7, '0');
    traceNumbers.push(trace);
    const direction = checkEntry(e, b, ep);
    const addenda = e.addenda ?? [];
    lines.push(
      writeRecord(
        ctx ? ENTRY_DETAIL_CTX : ENTRY_DETAIL,
        {
          transactionCode: e.transactionCode,
          rdfiIdentification: e.routingNumber.slice(0, 8),
          checkDigit: e.routingNumber.slice(8),
          dfiAccountNumber: e.accountNumber,
          amount: e.amountCents,
          identificationNumber: e.identificationNumber,
          numberOfAddendaRecords: ctx ? addenda.length : undefined,
          receiverName: e.receiverName,
          discretionaryData: b.secCode === 'WEB' ? e.paymentType : e.discretionaryData,
          addendaRecordIndicator: addenda.length > 0 ? 1 : 0,
          traceNumber: trace,
        },
        ep,
        CUT_RECEIVER_NAME,
      ),
    );
    addenda.forEach((text, ai) => {
      lines.push(
        writeRecord(
          ADDENDA_05,
          { paymentRelatedInformation: text, addendaSequenceNumber: ai + 1, entryDetailSequenceNumber: trace.slice(8) },
          `${ep}.addenda[${ai}]`,
        ),
      );
    });
    count += 1 + addenda.length;
    hash += Number(e.routingNumber.slice(0, 8));
    if (direction === 'debit') debit += e.amountCents;
    else credit += e.amountCents;
  });
  const entryHash = BigInt(hash % HASH_MODULUS);
  lines.push(
    writeRecord(
      BATCH_CONTROL,
      {
        serviceClassCode: svc,
        entryAddendaCount: count,
        entryHash,
        totalDebit: debit,
        totalCredit: credit,
        companyIdentification: b.companyIdentification,
        odfiIdentification: b.odfi,
        batchNumber,
      },
      `${path}.control`,
    ),
  );
  return {
    summary: { batchNumber, serviceClassCode: svc, entryAddendaCount: count, entryHash, totalDebitCents: debit, totalCreditCents: credit, traceNumbers },
    hash,
  };
}

/** 220 when every entry is a credit, 225 when every entry is a debit, else 200 (payments-rules.md §2.1). */
function serviceClass(b: AchBatchInput, path: string): ServiceClassCode {
  let debits = 0;
  for (const e of b.entries) if (transactionCodeInfo(e.transactionCode)?.direction === 'debit') debits++;
  const computed: ServiceClassCode = debits === 0 ? 220 : debits === b.entries.length ? 225 : 200;
  const svc = b.serviceClassCode ?? computed;
  if (svc !== 200 && svc !== computed) throw new AchGenerateError(`${path}.serviceClassCode`, `${svc} does not fit entries that need ${computed}`);
  return svc;
}

function checkEntry(e: AchEntryInput, b: AchBatchInput, ep: string): 'credit' | 'debit' {
  const info = transactionCodeInfo(e.transactionCode);
  if (!info || (info.purpose !== 'live' && info.purpose !== 'prenote')) {
    throw new AchGenerateError(`${ep}.transactionCode`, `${e.transactionCode} is not an origination transaction code`);
  }
  if (typeof e.amountCents !== 'bigint' || e.amountCents < 0n || e.amountCents > MAX_AMOUNT_CENTS) {
    throw new AchGenerateError(`${ep}.amountCents`, 'must be a bigint from 0 to 9,999,999,999 cents');
  }
  if (info.purpose === 'prenote' && e.amountCents !== 0n) throw new AchGenerateError(`${ep}.amountCents`, 'a prenote carries a zero amount');
  if (info.purpose === 'live' && e.amountCents === 0n)
    throw new AchGenerateError(`${ep}.amountCents`, 'a live entry needs a positive amount (use a prenote code for zero)');
  if (b.sameDay && e.amountCents > SAME_DAY_LIMIT_CENTS)
    throw new AchGenerateError(`${ep}.amountCents`, 'exceeds the $1,000,000 Same Day ACH per-payment limit');
  if (!isValidRoutingNumber(e.routingNumber)) throw new AchGenerateError(`${ep}.routingNumber`, `"${e.routingNumber}" is not a valid 9-digit routing number`);
  if (contentProblem(e.accountNumber) === 'all_zeros')
    throw new AchGenerateError(`${ep}.accountNumber`, contentMessage(ACCOUNT_NUMBER, 'all_zeros', b.secCode));
  // The name is cut to its field (22, CTX 16), so the rule is checked on what the file will say.
  const nameRule = receiverNameRule(b.secCode);
  const nameProblem = nameRule ? contentProblem(e.receiverName.slice(0, b.secCode === 'CTX' ? 16 : 22)) : null;
  if (nameRule && nameProblem) throw new AchGenerateError(`${ep}.receiverName`, contentMessage(nameRule, nameProblem, b.secCode));
  const n = e.addenda?.length ?? 0;
  if (b.secCode === 'CTX' ? n < 1 || n > 9999 : n > 1) {
    throw new AchGenerateError(
      `${ep}.addenda`,
      b.secCode === 'CTX' ? 'CTX entries carry 1 to 9,999 addenda' : `${b.secCode} entries carry at most one addenda`,
    );
  }
  if (b.secCode === 'WEB') {
    if (e.discretionaryData !== undefined) throw new AchGenerateError(`${ep}.discretionaryData`, 'WEB uses positions 77-78 for paymentType');
    if (info.direction === 'debit' && e.paymentType === undefined)
      throw new AchGenerateError(`${ep}.paymentType`, 'WEB debits need R (recurring) or S (single)');
  } else if (e.paymentType !== undefined) {
    throw new AchGenerateError(`${ep}.paymentType`, 'only WEB entries have a payment type');
  }
  return info.direction;
}

/**
 * CCD+ remittance text: one ANSI X12 RMR segment per invoice ("RMR*IV*<invoice>**<amount>\"), the
 * convention banks pass through to the receiver (payments-rules.md §2.1-2.2). Throws when the
 * segments do not fit one 80-character addenda; use CTX with `splitAddenda` for longer remittance.
 */
export function invoiceRemittance(invoices: readonly { readonly invoiceNumber: string; readonly amountCents?: bigint }[]): string {
  const text = invoices
    .map((i) => {
      if (!/^[\x20-\x7E]+$/.test(i.invoiceNumber) || /[*\\~]/.test(i.invoiceNumber)) {
        throw new AchGenerateError('invoiceNumber', `"${i.invoiceNumber}" contains X12 delimiters or non-ASCII characters`);
      }
      return `RMR*IV*${i.invoiceNumber}**${i.amountCents === undefined ? '' : centsToDecimal(i.amountCents)}\\`;
    })
    .join('');
  if (text.length > 80) throw new AchGenerateError('invoices', `remittance is ${text.length} characters; one CCD+ addenda holds 80 (use CTX)`);
  return text;
}

/** Split a long remittance text into 80-character CTX addenda. */
export function splitAddenda(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 80) out.push(text.slice(i, i + 80));
  return out;
}

function centsToDecimal(cents: bigint): string {
  if (cents < 0n) throw new AchGenerateError('amountCents', 'must not be negative');
  return toDecimalString(money(cents, 'USD'));
}
