// The simulated bank (ODFI) behind the SFTP server: it picks up the files an originator delivers, checks
// them the way a bank's front end does (the file must parse and its controls add up; the same file — same
// origin, creation date and file ID modifier — is refused as a duplicate), writes an acknowledgement, and
// on a test's command returns entries or sends notifications of change as NACHA files in its outbox.
import crypto from 'node:crypto';
import { parseAch } from '../../src/connectors/payments/bank-ach/nacha/index.ts';
import type { AchFile } from '../../src/connectors/payments/bank-ach/nacha/index.ts';
import { MemFs } from './mem-fs.ts';
import { writeReturnFile, type BankNotice, type OriginalEntry } from './return-file.ts';
import { writeBai2Statement, type StatementItem } from './bai2-statement.ts';

/** A movement on the originator's account at the bank, as its statement will report it. */
export interface BankLedgerItem extends StatementItem {
  readonly on: string; // YYYY-MM-DD, the bank day it was booked
}

export interface ReceivedEntry extends OriginalEntry {
  readonly fileName: string;
  readonly prenote: boolean;
  readonly companyDescriptiveDate: string;
  readonly addenda: readonly string[];
}

export interface ProcessedFile {
  readonly fileName: string;
  readonly status: 'ACCEPTED' | 'REJECTED';
  readonly reason: string | null;
  readonly sha256: string;
}

export class BankControl {
  readonly received: ReceivedEntry[] = [];
  readonly processed: ProcessedFile[] = [];
  /** What the bank credited and debited on the originator's account (reported by `writeStatement`). */
  readonly ledger: BankLedgerItem[] = [];
  /** The originator's own account number at the bank (the statement's 03 record). */
  readonly accountNumber = '000123456789';
  private readonly seenFileIds = new Set<string>();
  private outboundSeq = 0;
  private bankRefSeq = 0;

  constructor(
    readonly fs: MemFs,
    readonly inboundDir: string,
    readonly outboundDir: string,
    private readonly ackSuffix: string,
    /** The bank's own routing number (origin of the files it sends). */
    readonly routingNumber: string,
  ) {}

  /** Every file that appeared under its final name in the inbound directory, in order (uploads and renames). */
  get deliveries() {
    return this.fs.deliveries;
  }

  /** Files waiting in the bank's inbound directory (not yet picked up). */
  waiting(): string[] {
    return (this.fs.list(this.inboundDir) ?? []).map((f) => f.name).filter((n) => !n.endsWith('.part'));
  }

  /** Files in the bank's outbound directory (acknowledgements, returns, NOCs). */
  outbox(): string[] {
    return (this.fs.list(this.outboundDir) ?? []).map((f) => f.name);
  }

  /** The bank's processing run: take every waiting file, check it, acknowledge it, remove it from the inbox. */
  processInbound(): ProcessedFile[] {
    const done: ProcessedFile[] = [];
    for (const name of this.waiting()) {
      const path = `${this.inboundDir}/${name}`;
      const data = this.fs.get(path)!.data;
      const sha256 = crypto.createHash('sha256').update(data).digest('hex');
      const parsed = parseAch(data, { strictRecordLength: true });
      let result: ProcessedFile;
      if (!parsed.ok) {
        const e = parsed.errors[0]!;
        result = { fileName: name, status: 'REJECTED', reason: `line ${e.line ?? '?'} ${e.field ?? ''}: ${e.message}`.trim(), sha256 };
      } else {
        const h = parsed.file.header;
        const fileId = `${h.immediateOrigin}|${h.fileCreationDate}|${h.fileIdModifier}`;
        if (this.seenFileIds.has(fileId)) {
          result = {
            fileName: name,
            status: 'REJECTED',
            reason: `duplicate file: ${h.fileCreationDate} modifier ${h.fileIdModifier} from ${h.immediateOrigin} was already processed`,
            sha256,
          };
        } else {
          this.seenFileIds.add(fileId);
          this.record(name, parsed.file);
          this.creditSettlement(name, parsed.file);
          result = { fileName: name, status: 'ACCEPTED', reason: null, sha256 };
        }
      }
      const f = parsed.ok ? parsed.file : null;
      const ack = [
        'FILE ACKNOWLEDGEMENT',
        `FILE NAME: ${name}`,
        `STATUS: ${result.status}`,
        ...(result.reason ? [`REASON: ${result.reason}`] : []),
        `SHA256: ${sha256}`,
        ...(f
          ? [
              `BATCHES: ${f.control.batchCount}`,
              `ENTRIES: ${f.control.entryAddendaCount}`,
              `TOTAL DEBIT: ${f.control.totalDebitCents}`,
              `TOTAL CREDIT: ${f.control.totalCreditCents}`,
            ]
          : []),
        '',
      ].join('\n');
      this.fs.put(`${this.outboundDir}/${name}${this.ackSuffix}`, Buffer.from(ack));
      this.fs.remove(path);
      this.processed.push(result);
      done.push(result);
    }
    return done;
  }

  private record(fileName: string, file: AchFile): void {
    for (const b of file.batches) {
      for (const e of b.entries) {
        this.received.push({
          fileName,
          secCode: b.header.secCode,
          companyName: b.header.companyName,
          companyId: b.header.companyIdentification,
          companyEntryDescription: b.header.companyEntryDescription,
          companyDescriptiveDate: b.header.companyDescriptiveDate,
          effectiveEntryDate: b.header.effectiveEntryDate,
          transactionCode: e.transactionCode,
          rdfiRouting: e.routingNumber,
          odfiRouting: this.routingNumber,
          accountNumber: e.accountNumber,
          amountCents: e.amountCents,
          identificationNumber: e.identificationNumber,
          receiverName: e.receiverName,
          traceNumber: e.traceNumber,
          prenote: e.purpose === 'prenote',
          addenda: e.addenda.flatMap((a) => (a.type === '05' ? [a.paymentRelatedInformation.trimEnd()] : [])),
        });
      }
    }
  }

  /**
   * The ODFI credits the originator for the debits of a file on their effective date: one credit per file
   * and effective date (credits in the file would be one debit likewise; Settle sends none).
   */
  private creditSettlement(fileName: string, file: AchFile): void {
    const byDate = new Map<string, bigint>();
    for (const b of file.batches) {
      const d = b.header.effectiveEntryDate;
      const iso = `20${d.slice(0, 2)}-${d.slice(2, 4)}-${d.slice(4, 6)}`;
      for (const e of b.entries) if (e.direction === 'debit' && e.purpose === 'live') byDate.set(iso, (byDate.get(iso) ?? 0n) + e.amountCents);
    }
    for (const [on, amountCents] of byDate) {
      if (amountCents === 0n) continue;
      this.ledger.push({
        on,
        direction: 'credit',
        typeCode: '165',
        amountCents,
        bankReference: `B${String(++this.bankRefSeq).padStart(9, '0')}`,
        customerReference: fileName,
        text: `ACH SETTLEMENT ${fileName} EFF ${on}`,
      });
    }
  }

  /**
   * Drop the previous-day statement for `asOf` (BAI2) in the outbox: every credit and debit the bank booked
   * that day. Returns its name.
   */
  writeStatement(asOf: string): string {
    const seq = ++this.outboundSeq;
    const items = this.ledger.filter((i) => i.on === asOf);
    const opening = this.ledger.filter((i) => i.on < asOf).reduce((s, i) => s + (i.direction === 'credit' ? i.amountCents : -i.amountCents), 1_000_000n);
    const text = writeBai2Statement(
      {
        sender: this.routingNumber,
        receiver: 'ORIGINATOR',
        createdAt: new Date(),
        fileId: String(seq),
        asOfDate: asOf,
        accountNumber: this.accountNumber,
        openingLedgerCents: opening,
      },
      items,
    );
    const name = `BAI_${asOf.replaceAll('-', '')}_${String(seq).padStart(4, '0')}.bai`;
    this.fs.put(`${this.outboundDir}/${name}`, Buffer.from(text));
    return name;
  }

  entry(traceNumber: string): ReceivedEntry {
    const e = [...this.received].reverse().find((x) => x.traceNumber === traceNumber);
    if (!e) throw new Error(`the bank received no entry with trace ${traceNumber}`);
    return e;
  }

  /**
   * Return entries (addenda 99): drops one return file in the outbox and returns its name. A returned debit
   * takes its money back from the originator: a debit on the statement of `on` (the bank day; default today).
   */
  returnEntries(items: readonly { traceNumber: string; code: string; addendaInformation?: string }[], on?: string): string {
    const day = on ?? new Date().toISOString().slice(0, 10);
    for (const i of items) {
      const e = this.entry(i.traceNumber);
      if (e.prenote || e.amountCents === 0n) continue;
      this.ledger.push({
        on: day,
        direction: 'debit',
        typeCode: '455',
        amountCents: e.amountCents,
        bankReference: `B${String(++this.bankRefSeq).padStart(9, '0')}`,
        customerReference: e.fileName,
        text: `ACH RETURN ${i.code} TRACE ${e.traceNumber}`,
      });
    }
    return this.drop(
      'RET',
      items.map((i) => ({
        kind: 'return',
        original: this.entry(i.traceNumber),
        code: i.code,
        ...(i.addendaInformation ? { addendaInformation: i.addendaInformation } : {}),
      })),
    );
  }

  /**
   * Notifications of change (addenda 98). `correctedData` is the 29-character field as Nacha lays it out per
   * change code (C01: account in 1-17; C02: routing in 1-9; C05: transaction code in 1-2; …).
   */
  notifyChange(items: readonly { traceNumber: string; code: string; correctedData: string }[]): string {
    return this.drop(
      'COR',
      items.map((i) => ({ kind: 'noc', original: this.entry(i.traceNumber), code: i.code, correctedData: i.correctedData })),
    );
  }

  private drop(prefix: string, notices: readonly BankNotice[]): string {
    const now = new Date();
    const seq = ++this.outboundSeq;
    const yymmdd = now.toISOString().slice(2, 10).replaceAll('-', '');
    const text = writeReturnFile(
      {
        immediateDestination: ' ' + this.routingNumber,
        immediateOrigin: ' ' + this.routingNumber,
        creationDate: yymmdd,
        creationTime: now.toISOString().slice(11, 16).replace(':', ''),
        fileIdModifier: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[(seq - 1) % 36]!,
      },
      notices,
    );
    const name = `${prefix}_${yymmdd}_${String(seq).padStart(4, '0')}.ach`;
    this.fs.put(`${this.outboundDir}/${name}`, Buffer.from(text));
    return name;
  }

  /** Drop any file in the outbox (a test's malformed or foreign file). */
  dropRaw(name: string, content: string | Buffer): void {
    this.fs.put(`${this.outboundDir}/${name}`, Buffer.isBuffer(content) ? content : Buffer.from(content));
  }
}
