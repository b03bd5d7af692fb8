// A strict reader of BAI2 statements (Cash Management Balance Reporting Specifications, version 2): the
// previous-day file a bank leaves on its SFTP server to say what it credited and debited. Records are
// comma-separated and end with "/": 01 file header, 02 group header, 03 account identifier with summary
// codes, 16 transaction detail, 88 continuation, 49 account trailer, 98 group trailer, 99 file trailer.
// Every control is checked — the account, group and file control totals (the algebraic sum of the amounts
// in the 03 and 16 records below them) and the record counts — and the first problem is an error naming the
// line, record and field, so a damaged statement is never half-read. Amounts are integer cents as bigint.
//
// Type codes (BAI2 appendix): 100-399 are credits, 400-699 debits; 010/015 opening/closing ledger, 100
// total credits, 400 total debits are summaries. 165 "preauthorized ACH credit", 169 "miscellaneous ACH
// credit", 451 "ACH debit received", 455 "preauthorized ACH debit" are what a bank reports for an
// originator's settlement and returns.

export interface Bai2Transaction {
  readonly line: number;
  readonly typeCode: string;
  readonly direction: 'credit' | 'debit';
  readonly amountCents: bigint;
  readonly fundsType: string;
  readonly bankReference: string;
  readonly customerReference: string;
  readonly text: string;
}

export interface Bai2Account {
  readonly line: number;
  readonly accountNumber: string;
  readonly currency: string;
  /** Summary type code → amount (e.g. 015 closing ledger, 100 total credits). */
  readonly summaries: ReadonlyMap<string, bigint>;
  readonly transactions: readonly Bai2Transaction[];
}

export interface Bai2Group {
  readonly line: number;
  readonly ultimateReceiver: string;
  readonly originator: string;
  readonly asOfDate: string; // YYYY-MM-DD
  readonly currency: string;
  readonly accounts: readonly Bai2Account[];
}

export interface Bai2File {
  readonly sender: string;
  readonly receiver: string;
  readonly creationDate: string; // YYYY-MM-DD
  readonly fileId: string;
  readonly groups: readonly Bai2Group[];
}

export interface Bai2Error {
  readonly line: number;
  readonly record: string;
  readonly field: string;
  readonly message: string;
}

export type Bai2Result = { readonly ok: true; readonly file: Bai2File } | { readonly ok: false; readonly error: Bai2Error };

class Bai2ParseError extends Error {
  constructor(readonly detail: Bai2Error) {
    super(`line ${detail.line}, record ${detail.record}, field ${detail.field}: ${detail.message}`);
  }
}

interface Rec {
  readonly line: number;
  readonly code: string;
  readonly fields: string[];
  /** Records it stands for (itself and its 88 continuations), for the trailers' counts. */
  readonly physical: number;
}

export function directionOf(typeCode: string): 'credit' | 'debit' | null {
  const n = Number(typeCode);
  if (n >= 100 && n <= 399) return 'credit';
  if (n >= 400 && n <= 699) return 'debit';
  return null;
}

export function parseBai2(text: string): Bai2Result {
  try {
    return { ok: true, file: new Reader(records(text)).file() };
  } catch (e) {
    if (e instanceof Bai2ParseError) return { ok: false, error: e.detail };
    throw e;
  }
}

/** Physical lines joined with their 88 continuations; the record-ending "/" removed. */
function records(text: string): Rec[] {
  const lines = text.split(/\r?\n/);
  const out: Rec[] = [];
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const body = raw.trimEnd().replace(/\/$/, '');
    const comma = body.indexOf(',');
    const code = comma < 0 ? body : body.slice(0, comma);
    const fields = comma < 0 ? [] : body.slice(comma + 1).split(',');
    if (!/^(01|02|03|16|49|88|98|99)$/.test(code)) fail(line, code, 'recordCode', `"${code}" is not a BAI2 record code (01, 02, 03, 16, 49, 88, 98, 99)`);
    if (code === '88') {
      const prev = out.pop();
      if (!prev) fail(line, '88', 'recordCode', 'a continuation (88) record with nothing before it');
      out.push({ ...prev, fields: [...prev.fields, ...fields], physical: prev.physical + 1 });
      return;
    }
    out.push({ line, code, fields, physical: 1 });
  });
  return out;
}

function fail(line: number, record: string, field: string, message: string): never {
  throw new Bai2ParseError({ line, record, field, message });
}

function date(r: Rec, i: number, field: string): string {
  const v = r.fields[i] ?? '';
  if (!/^\d{6}$/.test(v)) fail(r.line, r.code, field, `"${v}" is not a date (YYMMDD)`);
  const iso = `20${v.slice(0, 2)}-${v.slice(2, 4)}-${v.slice(4, 6)}`;
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso) fail(r.line, r.code, field, `"${v}" is not a calendar date`);
  return iso;
}

function amount(r: Rec, i: number, field: string, signed: boolean): bigint {
  const v = r.fields[i] ?? '';
  if (!(signed ? /^[+-]?\d+$/ : /^\d+$/).test(v))
    fail(r.line, r.code, field, `"${v}" is not ${signed ? 'a whole number of cents' : 'an unsigned whole number of cents'}`);
  return BigInt(v);
}

function count(r: Rec, i: number, field: string): number {
  const v = r.fields[i] ?? '';
  if (!/^\d+$/.test(v)) fail(r.line, r.code, field, `"${v}" is not a count`);
  return Number(v);
}

class Reader {
  private i = 0;
  constructor(private readonly recs: readonly Rec[]) {}

  private next(expected: string, what: string): Rec {
    const r = this.recs[this.i];
    if (!r) fail(this.recs.at(-1)?.line ?? 0, expected, 'recordCode', `the file ends where ${what} (${expected}) was expected`);
    if (r.code !== expected) fail(r.line, r.code, 'recordCode', `${what} (${expected}) expected, found a ${r.code} record`);
    this.i++;
    return r;
  }

  private peek(): string | undefined {
    return this.recs[this.i]?.code;
  }

  file(): Bai2File {
    const h = this.next('01', 'the file header');
    if (h.fields[7] !== '2') fail(h.line, '01', 'versionNumber', `version "${h.fields[7] ?? ''}" is not BAI2 (2)`);
    const groups: Bai2Group[] = [];
    let total = 0n;
    let physical = h.physical;
    while (this.peek() === '02') {
      const g = this.group();
      groups.push(g.group);
      total += g.total;
      physical += g.physical;
    }
    const t = this.next('99', 'the file trailer');
    physical += t.physical;
    if (amount(t, 0, 'fileControlTotal', true) !== total)
      fail(t.line, '99', 'fileControlTotal', `file control total is ${t.fields[0]}, the groups add up to ${total}`);
    if (count(t, 1, 'numberOfGroups') !== groups.length)
      fail(t.line, '99', 'numberOfGroups', `number of groups is ${t.fields[1]}, the file has ${groups.length}`);
    if (count(t, 2, 'numberOfRecords') !== physical) fail(t.line, '99', 'numberOfRecords', `number of records is ${t.fields[2]}, the file has ${physical}`);
    const extra = this.recs[this.i];
    if (extra) fail(extra.line, extra.code, 'recordCode', 'a record follows the file trailer (99)');
    return { sender: h.fields[0] ?? '', receiver: h.fields[1] ?? '', creationDate: date(h, 2, 'fileCreationDate'), fileId: h.fields[4] ?? '', groups };
  }

  private group(): { group: Bai2Group; total: bigint; physical: number } {
    const h = this.next('02', 'a group header');
    const status = h.fields[2];
    if (status !== '1') fail(h.line, '02', 'groupStatus', `group status "${status ?? ''}" is not 1 (update); only final statements are read`);
    const asOfDate = date(h, 3, 'asOfDate');
    const currency = (h.fields[5] ?? '') || 'USD';
    if (!/^[A-Z]{3}$/.test(currency)) fail(h.line, '02', 'currencyCode', `"${currency}" is not a currency code`);
    const accounts: Bai2Account[] = [];
    let total = 0n;
    let physical = h.physical;
    while (this.peek() === '03') {
      const a = this.account(currency);
      accounts.push(a.account);
      total += a.total;
      physical += a.physical;
    }
    const t = this.next('98', 'the group trailer');
    physical += t.physical;
    if (amount(t, 0, 'groupControlTotal', true) !== total)
      fail(t.line, '98', 'groupControlTotal', `group control total is ${t.fields[0]}, the accounts add up to ${total}`);
    if (count(t, 1, 'numberOfAccounts') !== accounts.length)
      fail(t.line, '98', 'numberOfAccounts', `number of accounts is ${t.fields[1]}, the group has ${accounts.length}`);
    if (count(t, 2, 'numberOfRecords') !== physical) fail(t.line, '98', 'numberOfRecords', `number of records is ${t.fields[2]}, the group has ${physical}`);
    return { group: { line: h.line, ultimateReceiver: h.fields[0] ?? '', originator: h.fields[1] ?? '', asOfDate, currency, accounts }, total, physical };
  }

  private account(groupCurrency: string): { account: Bai2Account; total: bigint; physical: number } {
    const h = this.next('03', 'an account identifier');
    const accountNumber = h.fields[0] ?? '';
    if (accountNumber === '') fail(h.line, '03', 'customerAccountNumber', 'the account number is missing');
    const currency = (h.fields[1] ?? '') || groupCurrency;
    const summaries = new Map<string, bigint>();
    let total = 0n;
    // Summary triples/quads after the currency: type code, amount, item count, funds type.
    for (let k = 2; k < h.fields.length && (h.fields[k] ?? '') !== ''; k += 4) {
      const code = h.fields[k]!;
      if (!/^\d{3}$/.test(code)) fail(h.line, '03', 'typeCode', `summary type code "${code}" is not 3 digits`);
      const value = (h.fields[k + 1] ?? '') === '' ? 0n : amount(h, k + 1, `amount(${code})`, true);
      const fundsType = h.fields[k + 3] ?? '';
      if (fundsType !== '' && fundsType !== '0' && fundsType !== 'Z')
        fail(h.line, '03', `fundsType(${code})`, `funds type "${fundsType}" is not supported in summaries (0 or Z)`);
      summaries.set(code, value);
      total += value;
    }
    const transactions: Bai2Transaction[] = [];
    let physical = h.physical;
    while (this.peek() === '16') {
      const r = this.next('16', 'a transaction detail');
      physical += r.physical;
      const tx = this.detail(r);
      transactions.push(tx);
      total += tx.amountCents;
    }
    // The bank's own totals must agree with its detail (a statement that disagrees with itself is not read).
    const credits = transactions.filter((x) => x.direction === 'credit').reduce((s, x) => s + x.amountCents, 0n);
    const debits = transactions.filter((x) => x.direction === 'debit').reduce((s, x) => s + x.amountCents, 0n);
    if (summaries.has('100') && summaries.get('100') !== credits)
      fail(h.line, '03', 'amount(100)', `total credits is ${summaries.get('100')}, the credit details add up to ${credits}`);
    if (summaries.has('400') && summaries.get('400') !== debits)
      fail(h.line, '03', 'amount(400)', `total debits is ${summaries.get('400')}, the debit details add up to ${debits}`);
    const t = this.next('49', 'the account trailer');
    physical += t.physical;
    if (amount(t, 0, 'accountControlTotal', true) !== total)
      fail(t.line, '49', 'accountControlTotal', `account control total is ${t.fields[0]}, the 03 and 16 amounts add up to ${total}`);
    if (count(t, 1, 'numberOfRecords') !== physical) fail(t.line, '49', 'numberOfRecords', `number of records is ${t.fields[1]}, the account has ${physical}`);
    return { account: { line: h.line, accountNumber, currency, summaries, transactions }, total, physical };
  }

  private detail(r: Rec): Bai2Transaction {
    const typeCode = r.fields[0] ?? '';
    if (!/^\d{3}$/.test(typeCode)) fail(r.line, '16', 'typeCode', `type code "${typeCode}" is not 3 digits`);
    const direction = directionOf(typeCode);
    if (!direction) fail(r.line, '16', 'typeCode', `type code ${typeCode} is not a credit (100-399) or debit (400-699) detail`);
    const amountCents = amount(r, 1, 'amount', false);
    const fundsType = r.fields[2] ?? '';
    // Funds types with extra fields (S: three availability amounts; D: a distribution list) are not read.
    let k = 3;
    if (fundsType === 'V') k += 2;
    else if (fundsType !== '' && fundsType !== '0' && fundsType !== '1' && fundsType !== '2' && fundsType !== 'Z')
      fail(r.line, '16', 'fundsType', `funds type "${fundsType}" is not supported (0, 1, 2, V or Z)`);
    const bankReference = r.fields[k] ?? '';
    const customerReference = r.fields[k + 1] ?? '';
    // The text is the rest of the record: it may itself contain commas.
    const text = r.fields
      .slice(k + 2)
      .join(',')
      .trim();
    return { line: r.line, typeCode, direction, amountCents, fundsType, bankReference, customerReference, text };
  }
}
