// Notifications of Change (COR entries, addenda 98) as data, and applying one to the stored account
// (payments-rules.md §2.6). C01–C12 except C08 are from moov-io/ach changes.md; C08, C13, C14 come from
// general industry knowledge and are marked unverified (§7 item 8). Parsing the 29-character corrected
// data field of the addenda is the NACHA connector's job; this module takes the parsed values.
import { maxDate, type IsoDate } from './calendar-date.ts';
import { LONG_STANDING, type RuleRow } from './rule-row.ts';
import { addBankingDays } from './us-banking-calendar.ts';

export type NocField =
  | 'routingNumber'
  | 'accountNumber'
  | 'accountType'
  | 'holderName' // individual name (C04) or receiving company name (C10) in the entry detail
  | 'receiverId' // individual ID (C09) or company identification (C11) in the entry detail
  | 'addenda'
  | 'secCode'
  | 'foreignDfiId';

export interface NocCodeRule extends RuleRow {
  readonly code: string;
  readonly description: string;
  readonly fields: readonly NocField[];
  /** false: not in our primary source; confirm against the Nacha Operating Rules before relying on it. */
  readonly verified: boolean;
}

const MOOV_CHANGES = 'https://github.com/moov-io/ach/blob/master/docs/changes.md';
const noc = (code: string, description: string, fields: readonly NocField[], verified = true): NocCodeRule => ({
  id: `noc:${code}`,
  source: MOOV_CHANGES,
  ref: '§2.6',
  effectiveFrom: LONG_STANDING,
  code,
  description,
  fields,
  verified,
});

export const NOC_CODES: readonly NocCodeRule[] = [
  noc('C01', 'Incorrect account number', ['accountNumber']),
  noc('C02', 'Incorrect routing number', ['routingNumber']),
  noc('C03', 'Incorrect routing and account number', ['routingNumber', 'accountNumber']),
  noc('C04', 'Incorrect individual / company name', ['holderName']),
  noc('C05', 'Incorrect transaction code (checking vs savings)', ['accountType']),
  noc('C06', 'Incorrect account number and transaction code', ['accountNumber', 'accountType']),
  noc('C07', 'Incorrect routing number, account number and transaction code', ['routingNumber', 'accountNumber', 'accountType']),
  noc('C08', 'Incorrect receiving DFI identification (IAT)', ['foreignDfiId'], false),
  noc('C09', 'Incorrect individual ID number', ['receiverId']),
  noc('C10', 'Incorrect company name', ['holderName']),
  noc('C11', 'Incorrect company identification', ['receiverId']),
  noc('C12', 'Incorrect company name and company ID', ['holderName', 'receiverId']),
  noc('C13', 'Addenda format error', ['addenda'], false),
  noc('C14', 'Incorrect SEC code for outbound international payment', ['secCode'], false),
];

/** §2.6: the originator applies the change within 6 banking days of receipt or before the next entry, whichever is later. */
export const NOC_APPLY_RULE = {
  id: 'noc:apply-within-6-banking-days',
  source: MOOV_CHANGES,
  ref: '§2.6',
  effectiveFrom: LONG_STANDING,
  bankingDays: 6,
} as const;

export type AccountType = 'checking' | 'savings';

export interface AchAccountDetails {
  readonly routingNumber: string;
  readonly accountNumber: string;
  readonly accountType: AccountType;
  readonly holderName: string;
  readonly receiverId: string | null;
}

export interface NocChange {
  readonly code: string;
  readonly routingNumber?: string;
  readonly accountNumber?: string;
  readonly accountType?: AccountType;
  /** C05/C06/C07 carry a transaction code; 2x = checking, 3x = savings. */
  readonly transactionCode?: number;
  readonly holderName?: string;
  readonly receiverId?: string;
}

export class NocError extends Error {
  override readonly name = 'NocError';
}

const BY_CODE = new Map(NOC_CODES.map((n) => [n.code, n]));

export function nocCode(code: string): NocCodeRule | undefined {
  return BY_CODE.get(code.trim().toUpperCase());
}

/** ABA routing number: 9 digits, 3-7-1 weighted checksum divisible by 10. */
export function isValidRoutingNumber(routing: string): boolean {
  if (!/^\d{9}$/.test(routing)) return false;
  const w = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  const total = [...routing].reduce((s, d, i) => s + Number(d) * (w[i] ?? 0), 0);
  return total % 10 === 0;
}

function accountTypeOf(change: NocChange): AccountType | undefined {
  if (change.accountType) return change.accountType;
  if (change.transactionCode === undefined) return undefined;
  const family = Math.floor(change.transactionCode / 10);
  if (family === 2) return 'checking';
  if (family === 3) return 'savings';
  throw new NocError(`transaction code ${change.transactionCode} is neither a checking (2x) nor a savings (3x) code`);
}

/**
 * The account with the NOC's corrected data applied. The change must carry exactly the fields its
 * code corrects (a C01 with a routing number is malformed and throws). Codes that do not correct the
 * stored account (C08 IAT, C13 addenda format, C14 SEC code) return the account unchanged — the fix
 * is in how we build entries, reported by `nocCode(code).fields`.
 */
export function applyNoc(account: AchAccountDetails, change: NocChange): AchAccountDetails {
  const rule = nocCode(change.code);
  if (!rule) throw new NocError(`unknown NOC change code ${change.code}`);
  const supplied: Partial<Record<NocField, string>> = {};
  if (change.routingNumber !== undefined) supplied.routingNumber = change.routingNumber.trim();
  if (change.accountNumber !== undefined) supplied.accountNumber = change.accountNumber.trim();
  const type = accountTypeOf(change);
  if (type !== undefined) supplied.accountType = type;
  if (change.holderName !== undefined) supplied.holderName = change.holderName.trim();
  if (change.receiverId !== undefined) supplied.receiverId = change.receiverId.trim();

  const accountFields = rule.fields.filter((f) => ['routingNumber', 'accountNumber', 'accountType', 'holderName', 'receiverId'].includes(f));
  for (const f of Object.keys(supplied) as NocField[]) {
    if (!accountFields.includes(f)) throw new NocError(`${rule.code} does not correct ${f}`);
  }
  for (const f of accountFields) {
    if (!supplied[f]) throw new NocError(`${rule.code} needs the corrected ${f}`);
  }
  if (supplied.routingNumber !== undefined && !isValidRoutingNumber(supplied.routingNumber)) {
    throw new NocError(`corrected routing number ${supplied.routingNumber} fails the ABA check digit`);
  }
  if (supplied.accountNumber !== undefined && !/^[0-9A-Za-z-]{1,17}$/.test(supplied.accountNumber)) {
    throw new NocError('corrected account number must be 1–17 characters (NACHA DFI account number field)');
  }
  return {
    routingNumber: supplied.routingNumber ?? account.routingNumber,
    accountNumber: supplied.accountNumber ?? account.accountNumber,
    accountType: (supplied.accountType as AccountType | undefined) ?? account.accountType,
    holderName: supplied.holderName ?? account.holderName,
    receiverId: supplied.receiverId ?? account.receiverId,
  };
}

/** Day by which a NOC received on `receivedOn` must be applied (the next entry's day if that is later). */
export function nocApplyBy(receivedOn: IsoDate, nextEntryOn: IsoDate | null = null): IsoDate {
  const sixDays = addBankingDays(receivedOn, NOC_APPLY_RULE.bankingDays);
  return nextEntryOn ? maxDate(sixDays, nextEntryOn) : sixDays;
}
