// Writes the files a bank sends back to an originator: returns (entries with addenda 99) and
// notifications of change (COR entries with addenda 98), through the same record layouts Settle's parser
// reads (src/connectors/payments/bank-ach/nacha/records.ts), with every control computed. Shapes follow
// the real return files in ../shared/fixtures/ach/returns and noc/: the return entry is addressed to the
// ODFI (its RDFI field is the ODFI's routing number), carries the original account and amount, and its
// trace starts with the returning bank's routing number; the addenda quotes the original trace and RDFI.
import {
  ADDENDA_98,
  ADDENDA_99_RETURN,
  BATCH_CONTROL,
  BATCH_HEADER,
  BLOCKING_FACTOR,
  ENTRY_DETAIL,
  FILE_CONTROL,
  FILE_HEADER,
  HASH_MODULUS,
  RECORD_LENGTH,
} from '../../src/connectors/payments/bank-ach/nacha/records.ts';
import { writeRecord } from '../../src/connectors/payments/bank-ach/nacha/write-fields.ts';

export interface OriginalEntry {
  readonly secCode: string;
  readonly companyName: string;
  readonly companyId: string;
  readonly companyEntryDescription: string;
  readonly effectiveEntryDate: string; // YYMMDD
  readonly transactionCode: number;
  readonly rdfiRouting: string; // 9 digits: the receiver's bank
  readonly odfiRouting: string; // 9 digits: the originator's bank
  readonly accountNumber: string;
  readonly amountCents: bigint;
  readonly identificationNumber: string;
  readonly receiverName: string;
  readonly traceNumber: string;
}

export type BankNotice =
  | { readonly kind: 'return'; readonly original: OriginalEntry; readonly code: string; readonly addendaInformation?: string }
  | { readonly kind: 'noc'; readonly original: OriginalEntry; readonly code: string; readonly correctedData: string };

export interface ReturnFileHeader {
  readonly immediateDestination: string; // as written: ' ' + routing, or a 10-character ID
  readonly immediateOrigin: string;
  readonly creationDate: string; // YYMMDD
  readonly creationTime: string; // HHMM
  readonly fileIdModifier: string;
}

/** Return/NOC transaction code for the original's: 27/28 → 26 (checking debit), 37/38 → 36, 22/23 → 21, 32/33 → 31. */
export function returnTransactionCode(original: number): number {
  return Math.floor(original / 10) * 10 + (original % 10 >= 6 ? 6 : 1);
}

export function writeReturnFile(h: ReturnFileHeader, notices: readonly BankNotice[]): string {
  const lines: string[] = [
    writeRecord(
      FILE_HEADER,
      {
        priorityCode: '01',
        immediateDestination: h.immediateDestination,
        immediateOrigin: h.immediateOrigin,
        fileCreationDate: h.creationDate,
        fileCreationTime: h.creationTime,
        fileIdModifier: h.fileIdModifier,
        immediateDestinationName: 'ORIGINATOR',
        immediateOriginName: 'SIMULATED BANK',
      },
      'fileHeader',
    ),
  ];
  // One batch per original batch, returning bank and kind (a COR batch is separate from returns).
  const groups = new Map<string, BankNotice[]>();
  for (const n of notices) {
    const o = n.original;
    const key = [n.kind, o.secCode, o.companyName, o.companyId, o.companyEntryDescription, o.effectiveEntryDate, o.rdfiRouting.slice(0, 8)].join('|');
    groups.set(key, [...(groups.get(key) ?? []), n]);
  }
  let batchNumber = 0;
  let fileCount = 0;
  let fileHash = 0;
  let fileDebit = 0n;
  let fileCredit = 0n;
  let sequence = 1;
  for (const batch of groups.values()) {
    batchNumber++;
    const first = batch[0]!;
    const o = first.original;
    const returningBank = o.rdfiRouting.slice(0, 8);
    lines.push(
      writeRecord(
        BATCH_HEADER,
        {
          serviceClassCode: 200,
          companyName: o.companyName,
          companyIdentification: o.companyId,
          standardEntryClassCode: first.kind === 'noc' ? 'COR' : o.secCode,
          companyEntryDescription: o.companyEntryDescription,
          effectiveEntryDate: o.effectiveEntryDate,
          originatorStatusCode: '1',
          odfiIdentification: returningBank,
          batchNumber,
        },
        'batchHeader',
      ),
    );
    let count = 0;
    let hash = 0;
    let debit = 0n;
    let credit = 0n;
    for (const n of batch) {
      const trace = returningBank + String(sequence++).padStart(7, '0');
      const tc = returnTransactionCode(n.original.transactionCode);
      const amount = n.kind === 'noc' ? 0n : n.original.amountCents;
      lines.push(
        writeRecord(
          ENTRY_DETAIL,
          {
            transactionCode: tc,
            rdfiIdentification: n.original.odfiRouting.slice(0, 8),
            checkDigit: n.original.odfiRouting.slice(8),
            dfiAccountNumber: n.original.accountNumber,
            amount,
            identificationNumber: n.original.identificationNumber,
            receiverName: n.original.receiverName,
            addendaRecordIndicator: 1,
            traceNumber: trace,
          },
          'entry',
        ),
      );
      lines.push(
        n.kind === 'return'
          ? writeRecord(
              ADDENDA_99_RETURN,
              {
                returnReasonCode: n.code,
                originalEntryTraceNumber: n.original.traceNumber,
                originalReceivingDfi: returningBank,
                addendaInformation: n.addendaInformation ?? '',
                traceNumber: trace,
              },
              'addenda99',
            )
          : writeRecord(
              ADDENDA_98,
              {
                changeCode: n.code,
                originalEntryTraceNumber: n.original.traceNumber,
                originalReceivingDfi: returningBank,
                correctedData: n.correctedData,
                traceNumber: trace,
              },
              'addenda98',
            ),
      );
      count += 2;
      hash += Number(n.original.odfiRouting.slice(0, 8));
      if (tc % 10 >= 6) debit += amount;
      else credit += amount;
    }
    lines.push(
      writeRecord(
        BATCH_CONTROL,
        {
          serviceClassCode: 200,
          entryAddendaCount: count,
          entryHash: BigInt(hash % HASH_MODULUS),
          totalDebit: debit,
          totalCredit: credit,
          companyIdentification: o.companyId,
          odfiIdentification: returningBank,
          batchNumber,
        },
        'batchControl',
      ),
    );
    fileCount += count;
    fileHash += hash;
    fileDebit += debit;
    fileCredit += credit;
  }
  const recordCount = lines.length + 1;
  lines.push(
    writeRecord(
      FILE_CONTROL,
      {
        batchCount: batchNumber,
        blockCount: Math.ceil(recordCount / BLOCKING_FACTOR),
        entryAddendaCount: fileCount,
        entryHash: BigInt(fileHash % HASH_MODULUS),
        totalDebit: fileDebit,
        totalCredit: fileCredit,
      },
      'fileControl',
    ),
  );
  while (lines.length % BLOCKING_FACTOR !== 0) lines.push('9'.repeat(RECORD_LENGTH));
  return lines.join('\n') + '\n';
}
