// `settle ach inspect FILE`: parse a NACHA file and print it as JSON (batches, entries, totals,
// hashes, returns, NOCs, warnings), or the first error with its line, record type and field.
// Account numbers are masked to their last 4 unless asked otherwise: Nacha requires account numbers
// to be unreadable when stored (payments-rules.md §2.7), and terminal output ends up in logs.
import { money, toDecimalString } from '../../../../domain/money.ts';
import { parseAch } from './parse.ts';
import { readAchFileSync } from './read-file.ts';
import { listNocs, listReturns } from './returns.ts';
import type { AchAddenda, AchEntry, AchFile, AchIssue, AchParseOptions, NocCorrection } from './types.ts';

export interface InspectOptions extends AchParseOptions {
  readonly showAccountNumbers?: boolean;
}

export interface InspectError {
  readonly line: number | null;
  readonly recordType: string | null;
  readonly field: string | null;
  readonly code: string;
  readonly message: string;
}

export type InspectResult =
  | { readonly ok: true; readonly json: Record<string, unknown> }
  | { readonly ok: false; readonly error: InspectError; readonly errors: readonly InspectError[]; readonly warnings: readonly InspectError[] };

export interface AmountJson {
  readonly cents: string;
  readonly decimal: string;
}

export function amountJson(cents: bigint): AmountJson {
  return { cents: cents.toString(), decimal: toDecimalString(money(cents, 'USD')) };
}

export function maskAccount(account: string): string {
  return account.length <= 4 ? '*'.repeat(account.length) : '*'.repeat(account.length - 4) + account.slice(-4);
}

const issueJson = (i: AchIssue): InspectError => ({ line: i.line, recordType: i.recordType, field: i.field, code: i.code, message: i.message });

export function inspectAchFile(bytes: Uint8Array | string, options: InspectOptions = {}): InspectResult {
  const result = parseAch(bytes, options);
  if (!result.ok) {
    const errors = result.errors.map(issueJson);
    const first = errors[0] ?? { line: null, recordType: null, field: null, code: 'unknown', message: 'the file could not be parsed' };
    return { ok: false, error: first, errors, warnings: result.warnings.map(issueJson) };
  }
  return { ok: true, json: fileJson(result.file, options.showAccountNumbers === true) };
}

function fileJson(file: AchFile, showAccounts: boolean): Record<string, unknown> {
  const acct = showAccounts ? (s: string) => s : maskAccount;
  const entryCount = file.batches.reduce((n, b) => n + b.entries.length, 0);
  return {
    header: file.header,
    batches: file.batches.map((b) => ({
      batchNumber: b.header.batchNumber,
      line: b.header.line,
      serviceClassCode: b.header.serviceClassCode,
      secCode: b.header.secCode,
      companyName: b.header.companyName,
      companyIdentification: b.header.companyIdentification,
      companyDiscretionaryData: b.header.companyDiscretionaryData,
      companyEntryDescription: b.header.companyEntryDescription,
      companyDescriptiveDate: b.header.companyDescriptiveDate,
      effectiveEntryDate: b.header.effectiveEntryDate,
      settlementDate: b.header.settlementDate,
      originatorStatusCode: b.header.originatorStatusCode,
      odfi: b.header.odfi,
      entryCount: b.entries.length,
      entryAddendaCount: b.control.entryAddendaCount,
      entryHash: hash10(b.control.entryHash),
      totalDebit: amountJson(b.control.totalDebitCents),
      totalCredit: amountJson(b.control.totalCreditCents),
      entries: b.entries.map((e) => entryJson(e, acct)),
    })),
    totals: {
      batchCount: file.control.batchCount,
      blockCount: file.control.blockCount,
      entryCount,
      entryAddendaCount: file.control.entryAddendaCount,
      entryHash: hash10(file.control.entryHash),
      totalDebit: amountJson(file.control.totalDebitCents),
      totalCredit: amountJson(file.control.totalCreditCents),
      recordCount: file.recordCount,
      fillerLines: file.fillerLines,
    },
    returns: listReturns(file).map(({ amountCents, ...r }) => ({ ...r, accountNumber: acct(r.accountNumber), amount: amountJson(amountCents) })),
    nocs: listNocs(file).map((n) => ({ ...n, accountNumber: acct(n.accountNumber), correction: correctionJson(n.correction, acct) })),
    warnings: file.warnings.map(issueJson),
  };
}

function entryJson(e: AchEntry, acct: (s: string) => string): Record<string, unknown> {
  return {
    line: e.line,
    transactionCode: e.transactionCode,
    direction: e.direction,
    accountType: e.accountType,
    purpose: e.purpose,
    routingNumber: e.routingNumber,
    accountNumber: acct(e.accountNumber),
    amount: amountJson(e.amountCents),
    identificationNumber: e.identificationNumber,
    receiverName: e.receiverName,
    discretionaryData: e.discretionaryData,
    traceNumber: e.traceNumber,
    addenda: e.addenda.map((a) => addendaJson(a, acct)),
  };
}

function addendaJson(a: AchAddenda, acct: (s: string) => string): Record<string, unknown> {
  if (a.type === '98') return { ...a, correction: correctionJson(a.correction, acct) };
  return { ...a };
}

function correctionJson(c: NocCorrection, acct: (s: string) => string): NocCorrection {
  return 'accountNumber' in c ? { ...c, accountNumber: acct(c.accountNumber) } : c;
}

function hash10(n: bigint): string {
  return n.toString().padStart(10, '0');
}

export interface TextSink {
  write(chunk: string): unknown;
}

const USAGE = `usage: settle ach inspect FILE [--return-codes R97,R98] [--show-accounts] [--strict-length]
  Parses a NACHA ACH file and prints it as JSON. Exit code 0: valid; 1: invalid file; 2: usage or read error.
  --return-codes   bank-specific return reason codes to accept beside the Nacha list
  --show-accounts  print full account numbers (masked to the last 4 by default)
  --strict-length  reject records that are not exactly 94 characters instead of repairing them
`;

/** CLI entry point: `process.exitCode = runInspect(argv, process.stdout, process.stderr)`. */
export function runInspect(argv: readonly string[], stdout: TextSink, stderr: TextSink): number {
  let path: string | null = null;
  let showAccountNumbers = false;
  let strictRecordLength = false;
  let customReturnCodes: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      stdout.write(USAGE);
      return 0;
    } else if (arg === '--show-accounts') {
      showAccountNumbers = true;
    } else if (arg === '--strict-length') {
      strictRecordLength = true;
    } else if (arg === '--return-codes' || arg.startsWith('--return-codes=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (!value) {
        stderr.write(`--return-codes needs a value\n${USAGE}`);
        return 2;
      }
      customReturnCodes = value
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter((s) => s !== '');
    } else if (arg.startsWith('-')) {
      stderr.write(`unknown option ${arg}\n${USAGE}`);
      return 2;
    } else if (path === null) {
      path = arg;
    } else {
      stderr.write(`only one FILE, got ${path} and ${arg}\n${USAGE}`);
      return 2;
    }
  }
  if (path === null) {
    stderr.write(USAGE);
    return 2;
  }
  let bytes: Buffer;
  try {
    bytes = readAchFileSync(path);
  } catch (err) {
    stderr.write(`cannot read ${path}: ${(err as Error).message}\n`);
    return 2;
  }
  const result = inspectAchFile(bytes, { showAccountNumbers, customReturnCodes, strictRecordLength });
  if (result.ok) {
    stdout.write(JSON.stringify(result.json, null, 2) + '\n');
    return 0;
  }
  stdout.write(JSON.stringify({ ok: false, error: result.error, errors: result.errors, warnings: result.warnings }, null, 2) + '\n');
  const e = result.error;
  stderr.write(
    `${path}: invalid ACH file: ${e.line !== null ? `line ${e.line}, ` : ''}${e.recordType !== null ? `record ${e.recordType}, ` : ''}${e.field !== null ? `field ${e.field}: ` : ''}${e.message}\n`,
  );
  return 1;
}
