// Returns (addenda 99) and notifications of change (addenda 98) flattened out of a parsed file, each
// with the entry it came on and the original entry it refers to. This is what return ingestion
// matches on: the original trace number we assigned when we generated the forward file.
import type { ReturnLayout, SecCode } from './codes.ts';
import type { AchEntry, AchFile, DishonorDetails, NocCorrection } from './types.ts';

export interface AchReturn {
  readonly batchNumber: number;
  readonly secCode: SecCode;
  readonly companyIdentification: string;
  readonly line: number; // the entry's line
  readonly addendaLine: number;
  readonly traceNumber: string; // the return entry's own trace
  readonly transactionCode: number;
  readonly direction: AchEntry['direction'];
  readonly amountCents: bigint;
  readonly accountNumber: string;
  readonly receiverName: string;
  readonly identificationNumber: string;
  readonly returnReasonCode: string;
  readonly description: string;
  readonly layout: ReturnLayout;
  readonly originalEntryTraceNumber: string;
  readonly originalReceivingDfi: string;
  readonly dateOfDeath: string | null;
  readonly addendaInformation: string;
  readonly dishonor: DishonorDetails | null;
}

export interface AchNoc {
  readonly batchNumber: number;
  readonly companyIdentification: string;
  readonly line: number;
  readonly addendaLine: number;
  readonly traceNumber: string;
  readonly transactionCode: number;
  readonly accountNumber: string;
  readonly receiverName: string;
  readonly identificationNumber: string;
  readonly changeCode: string;
  readonly description: string;
  readonly refused: boolean;
  readonly originalEntryTraceNumber: string;
  readonly originalReceivingDfi: string;
  readonly correctedData: string;
  readonly correction: NocCorrection;
}

export function listReturns(file: AchFile): AchReturn[] {
  const out: AchReturn[] = [];
  for (const batch of file.batches) {
    for (const e of batch.entries) {
      for (const a of e.addenda) {
        if (a.type !== '99') continue;
        out.push({
          batchNumber: batch.header.batchNumber,
          secCode: batch.header.secCode,
          companyIdentification: batch.header.companyIdentification,
          line: e.line,
          addendaLine: a.line,
          traceNumber: e.traceNumber,
          transactionCode: e.transactionCode,
          direction: e.direction,
          amountCents: e.amountCents,
          accountNumber: e.accountNumber,
          receiverName: e.receiverName,
          identificationNumber: e.identificationNumber,
          returnReasonCode: a.returnReasonCode,
          description: a.description,
          layout: a.layout,
          originalEntryTraceNumber: a.originalEntryTraceNumber,
          originalReceivingDfi: a.originalReceivingDfi,
          dateOfDeath: a.dateOfDeath,
          addendaInformation: a.addendaInformation,
          dishonor: a.dishonor,
        });
      }
    }
  }
  return out;
}

export function listNocs(file: AchFile): AchNoc[] {
  const out: AchNoc[] = [];
  for (const batch of file.batches) {
    for (const e of batch.entries) {
      for (const a of e.addenda) {
        if (a.type !== '98') continue;
        out.push({
          batchNumber: batch.header.batchNumber,
          companyIdentification: batch.header.companyIdentification,
          line: e.line,
          addendaLine: a.line,
          traceNumber: e.traceNumber,
          transactionCode: e.transactionCode,
          accountNumber: e.accountNumber,
          receiverName: e.receiverName,
          identificationNumber: e.identificationNumber,
          changeCode: a.changeCode,
          description: a.description,
          refused: a.refused,
          originalEntryTraceNumber: a.originalEntryTraceNumber,
          originalReceivingDfi: a.originalReceivingDfi,
          correctedData: a.correctedData,
          correction: a.correction,
        });
      }
    }
  }
  return out;
}
