// The bank's previous-day statement in BAI2, as banks deliver it to a treasury system over SFTP: one group
// for the as-of date, one account (the originator's own), a 16 transaction detail per credit and debit with
// the bank's reference and the customer reference (the originator's file name), and every trailer's control
// total and record count computed. Settle reads it with src/connectors/payments/bank-ach/bai2.ts.

export interface StatementItem {
  readonly direction: 'credit' | 'debit';
  /** BAI2 detail type code: 165 preauthorized ACH credit, 455 preauthorized ACH debit, … */
  readonly typeCode: string;
  readonly amountCents: bigint;
  readonly bankReference: string;
  readonly customerReference: string;
  readonly text: string;
}

export interface StatementHeader {
  readonly sender: string; // the bank's routing number
  readonly receiver: string; // the customer's ID at the bank
  readonly createdAt: Date;
  readonly fileId: string;
  readonly asOfDate: string; // YYYY-MM-DD
  readonly accountNumber: string;
  readonly openingLedgerCents: bigint;
}

const yymmdd = (iso: string): string => iso.slice(2, 10).replaceAll('-', '');

export function writeBai2Statement(h: StatementHeader, items: readonly StatementItem[]): string {
  const credits = items.filter((i) => i.direction === 'credit');
  const debits = items.filter((i) => i.direction === 'debit');
  const sum = (xs: readonly StatementItem[]) => xs.reduce((s, i) => s + i.amountCents, 0n);
  const closing = h.openingLedgerCents + sum(credits) - sum(debits);
  const account = `03,${h.accountNumber},USD,010,${h.openingLedgerCents},,,015,${closing},,,100,${sum(credits)},${credits.length},,400,${sum(debits)},${debits.length},/`;
  const details = items.map((i) => `16,${i.typeCode},${i.amountCents},0,${i.bankReference},${i.customerReference},${i.text.replaceAll('/', ' ')}`);
  // Account control total: the algebraic sum of every amount in the 03 and 16 records.
  const accountTotal = h.openingLedgerCents + closing + sum(credits) + sum(debits) + sum(items);
  const accountRecords = 2 + details.length;
  const created = h.createdAt.toISOString();
  return [
    `01,${h.sender},${h.receiver},${yymmdd(created)},${created.slice(11, 16).replace(':', '')},${h.fileId},,,2/`,
    `02,${h.receiver},${h.sender},1,${yymmdd(h.asOfDate)},2400,USD,2/`,
    account,
    ...details,
    `49,${accountTotal},${accountRecords}/`,
    `98,${accountTotal},1,${accountRecords + 2}/`,
    `99,${accountTotal},1,${accountRecords + 4}/`,
    '',
  ].join('\n');
}
