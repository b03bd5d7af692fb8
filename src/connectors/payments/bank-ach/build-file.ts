// Turns the entries ready for one cut-off into a NACHA file (pure; nacha/generate.ts writes the records).
// Entries are grouped into batches by what the batch header carries — SEC code, company name and ID,
// Company Entry Description, effective date — so a reinitiation ("RETRY PYMT", §2.5) sits in its own batch
// with the original's company name and ID, and Same Day entries get their own effective date (§2.3).
import { generateAchFile, invoiceRemittance, AchGenerateError, type AchBatchInput, type AchEntryInput } from './nacha/index.ts';
import { transactionCodeFor } from './nacha/codes.ts';
import type { IsoDate } from '../../../domain/rules/calendar-date.ts';
import { BANK_ACH } from './catalogue.ts';
import type { FileWindow } from './windows.ts';
import type { Originator } from './settings.ts';

export type AchSec = 'CCD' | 'PPD' | 'WEB';

export interface EntryToSend {
  readonly entryId: string;
  readonly kind: 'debit' | 'prenote';
  readonly secCode: AchSec;
  readonly amountCents: bigint;
  readonly companyName: string;
  readonly companyId: string;
  readonly entryDescription: string;
  readonly sameDay: boolean;
  readonly routingNumber: string;
  readonly accountNumber: string;
  readonly accountType: 'checking' | 'savings';
  readonly receiverName: string;
  readonly receiverId: string | null;
  /** CCD+ addenda text (invoice numbers). */
  readonly remittance: string | null;
  /** WEB: R for a recurring authorization (autopay), S for a single one (a portal payment). */
  readonly webPaymentType: 'R' | 'S';
}

export interface BuildFileInput {
  readonly originator: Originator;
  readonly fileDate: IsoDate;
  readonly fileTime: string; // HHMM
  readonly fileIdModifier: string;
  readonly window: FileWindow;
  readonly sameDayEnabled: boolean;
  readonly firstTraceSequence: number;
  readonly entries: readonly EntryToSend[];
}

export interface BuiltAchFile {
  readonly text: string;
  readonly batchCount: number;
  readonly entryCount: number;
  readonly totalDebitCents: bigint;
  readonly totalCreditCents: bigint;
  readonly firstTraceSequence: number;
  readonly lastTraceSequence: number;
  /** Per entry id: the trace number returns and NOCs will quote, and the effective entry date. */
  readonly placed: ReadonlyMap<string, { readonly traceNumber: string; readonly effectiveDate: IsoDate; readonly sameDay: boolean }>;
}

/** Whether an entry goes out Same Day in this window (§2.3: Same Day windows, $1,000,000 per payment). */
export function goesSameDay(e: Pick<EntryToSend, 'sameDay' | 'amountCents'>, w: FileWindow, sameDayEnabled: boolean): boolean {
  return sameDayEnabled && e.sameDay && w.sameDay && e.amountCents <= BANK_ACH.sameDayLimitCents;
}

export function buildAchFile(input: BuildFileInput): BuiltAchFile {
  if (input.entries.length === 0) throw new AchGenerateError('entries', 'a file needs at least one entry');
  const groups = new Map<string, { batch: Omit<AchBatchInput, 'entries'>; entries: AchEntryInput[]; ids: string[]; sameDay: boolean }>();
  for (const e of input.entries) {
    const sameDay = goesSameDay(e, input.window, input.sameDayEnabled);
    const effective = sameDay ? input.window.windowDate : input.window.nextDayEffective;
    const key = [e.secCode, e.companyName, e.companyId, e.entryDescription, effective, sameDay].join('|');
    let g = groups.get(key);
    if (!g) {
      g = {
        batch: {
          companyName: e.companyName,
          companyIdentification: e.companyId,
          secCode: e.secCode,
          companyEntryDescription: e.entryDescription,
          effectiveEntryDate: effective,
          odfi: input.originator.odfi,
          ...(sameDay && input.window.settlesAt ? { sameDay: { settleAt: input.window.settlesAt } } : {}),
        },
        entries: [],
        ids: [],
        sameDay,
      };
      groups.set(key, g);
    }
    g.entries.push({
      transactionCode: transactionCodeFor(e.accountType, 'debit', e.kind === 'prenote'),
      routingNumber: e.routingNumber,
      accountNumber: e.accountNumber,
      amountCents: e.kind === 'prenote' ? 0n : e.amountCents,
      receiverName: e.receiverName.toUpperCase().replace(/[^\x20-\x7E]/g, ' '),
      ...(e.receiverId ? { identificationNumber: e.receiverId.slice(0, 15) } : {}),
      ...(e.secCode === 'WEB' ? { paymentType: e.webPaymentType } : {}),
      ...(e.secCode === 'CCD' && e.remittance ? { addenda: [e.remittance] } : {}),
    });
    g.ids.push(e.entryId);
  }
  const ordered = [...groups.values()];
  const generated = generateAchFile(
    {
      immediateDestination: input.originator.immediateDestination,
      immediateOrigin: input.originator.immediateOrigin,
      ...(input.originator.immediateDestinationName ? { immediateDestinationName: input.originator.immediateDestinationName } : {}),
      ...(input.originator.immediateOriginName ? { immediateOriginName: input.originator.immediateOriginName } : {}),
      fileCreationDate: input.fileDate,
      fileCreationTime: input.fileTime,
      fileIdModifier: input.fileIdModifier,
      batches: ordered.map((g) => ({ ...g.batch, entries: g.entries })),
    },
    { firstTraceSequence: input.firstTraceSequence },
  );
  const placed = new Map<string, { traceNumber: string; effectiveDate: IsoDate; sameDay: boolean }>();
  ordered.forEach((g, gi) => {
    const traces = generated.batches[gi]!.traceNumbers;
    g.ids.forEach((id, i) => placed.set(id, { traceNumber: traces[i]!, effectiveDate: g.batch.effectiveEntryDate, sameDay: g.sameDay }));
  });
  const entryCount = input.entries.length;
  return {
    text: generated.text,
    batchCount: generated.batchCount,
    entryCount,
    totalDebitCents: generated.totalDebitCents,
    totalCreditCents: generated.totalCreditCents,
    firstTraceSequence: input.firstTraceSequence,
    lastTraceSequence: input.firstTraceSequence + entryCount - 1,
    placed,
  };
}

/**
 * CCD+ remittance for the invoices a debit pays, fitted into one 80-character addenda (§2.2): invoice
 * numbers with amounts, else numbers only, else as many numbers as fit (the client's receipt lists all).
 */
export function remittanceFor(invoices: readonly { readonly invoiceNumber: string; readonly amountCents: bigint }[]): string | null {
  const clean = invoices.filter((i) => /^[\x20-\x7E]+$/.test(i.invoiceNumber) && !/[*\\~]/.test(i.invoiceNumber));
  if (clean.length === 0) return null;
  const tryText = (list: readonly { invoiceNumber: string; amountCents?: bigint }[]): string | null => {
    try {
      return invoiceRemittance(list);
    } catch (e) {
      if (e instanceof AchGenerateError) return null;
      throw e;
    }
  };
  const full = tryText(clean);
  if (full) return full;
  for (let n = clean.length; n > 0; n--) {
    const t = tryText(clean.slice(0, n).map((i) => ({ invoiceNumber: i.invoiceNumber })));
    if (t) return t;
  }
  return null;
}
