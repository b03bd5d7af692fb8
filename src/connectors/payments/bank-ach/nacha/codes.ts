// NACHA code tables as data: transaction codes, service classes, SEC codes, return reason codes and
// change codes. Meanings: Nacha Operating Rules Appendix Three/Four/Five, as summarised in
// payments-rules.md §2.1, §2.4, §2.6 and moov-io/ach docs (returns.md, changes.md).

export type AccountType = 'checking' | 'savings' | 'general_ledger' | 'loan';
export type EntryDirection = 'credit' | 'debit';
/** live: moves money; prenote: zero-dollar routing/account test; remittance: zero-dollar with addenda. */
export type EntryPurpose = 'live' | 'prenote' | 'return_or_noc' | 'remittance';

export interface TransactionCodeInfo {
  readonly code: number;
  readonly account: AccountType;
  readonly direction: EntryDirection;
  readonly purpose: EntryPurpose;
}

const ACCOUNT_BY_FIRST_DIGIT: Record<number, AccountType> = { 2: 'checking', 3: 'savings', 4: 'general_ledger', 5: 'loan' };
// Second digit: 1-4 credit, 6-9 debit (README of the fixtures; Nacha Appendix Three).
const PURPOSE_BY_SECOND_DIGIT: Record<number, EntryPurpose> = {
  1: 'return_or_noc',
  2: 'live',
  3: 'prenote',
  4: 'remittance',
  6: 'return_or_noc',
  7: 'live',
  8: 'prenote',
  9: 'remittance',
};

const TRANSACTION_CODES = new Map<number, TransactionCodeInfo>();
for (const first of [2, 3, 4, 5]) {
  for (const second of [1, 2, 3, 4, 6, 7, 8, 9]) {
    // Loan accounts only take 51-56 (55 = loan debit, reversals only); 57-59 do not exist.
    if (first === 5 && second > 6 && second !== 5) continue;
    const code = first * 10 + second;
    TRANSACTION_CODES.set(code, {
      code,
      account: ACCOUNT_BY_FIRST_DIGIT[first] as AccountType,
      direction: second <= 4 ? 'credit' : 'debit',
      purpose: PURPOSE_BY_SECOND_DIGIT[second] as EntryPurpose,
    });
  }
}
TRANSACTION_CODES.set(55, { code: 55, account: 'loan', direction: 'debit', purpose: 'live' });

export function transactionCodeInfo(code: number): TransactionCodeInfo | undefined {
  return TRANSACTION_CODES.get(code);
}

/** Codes the generator writes: live and prenote entries on checking and savings accounts. */
export type OriginationTransactionCode = 22 | 23 | 27 | 28 | 32 | 33 | 37 | 38;

export function transactionCodeFor(account: 'checking' | 'savings', direction: EntryDirection, prenote = false): OriginationTransactionCode {
  const base = account === 'checking' ? 20 : 30;
  const offset = direction === 'credit' ? 2 : 7;
  return (base + offset + (prenote ? 1 : 0)) as OriginationTransactionCode;
}

/** 200 mixed, 220 credits only, 225 debits only (payments-rules.md §2.1). 280 (ADV) is not supported. */
export type ServiceClassCode = 200 | 220 | 225;
export function isServiceClassCode(n: number): n is ServiceClassCode {
  return n === 200 || n === 220 || n === 225;
}

/** Every Nacha SEC code; IAT and ADV use other record layouts and are rejected as unsupported. */
export const SEC_CODES = [
  'ACK',
  'ARC',
  'ATX',
  'BOC',
  'CCD',
  'CIE',
  'COR',
  'CTX',
  'DNE',
  'ENR',
  'MTE',
  'POP',
  'POS',
  'PPD',
  'RCK',
  'SHR',
  'TEL',
  'TRC',
  'TRX',
  'WEB',
  'XCK',
] as const;
export type SecCode = (typeof SEC_CODES)[number];
const SEC_SET = new Set<string>(SEC_CODES);
export const UNSUPPORTED_SEC_CODES = new Set(['IAT', 'ADV']);
export function isSecCode(s: string): s is SecCode {
  return SEC_SET.has(s);
}

/** How an addenda 99 is laid out, decided by its return reason code. */
export type ReturnLayout = 'return' | 'dishonored' | 'contested';

export interface ReturnCodeInfo {
  readonly code: string;
  readonly description: string;
  readonly layout: ReturnLayout;
}

const RETURN_DESCRIPTIONS: Record<string, string> = {
  R01: 'Insufficient funds',
  R02: 'Account closed',
  R03: 'No account / unable to locate account',
  R04: 'Invalid account number structure',
  R05: 'Unauthorized debit to consumer account using corporate SEC code',
  R06: "Returned per ODFI's request",
  R07: 'Authorization revoked by customer',
  R08: 'Payment stopped',
  R09: 'Uncollected funds',
  R10: 'Customer advises originator is not known to receiver and/or not authorized',
  R11: 'Customer advises entry not in accordance with the terms of the authorization',
  R12: 'Account sold to another DFI',
  R13: 'Invalid ACH routing number',
  R14: 'Representative payee deceased or unable to continue in that capacity',
  R15: 'Beneficiary or account holder deceased',
  R16: 'Account frozen / entry returned per OFAC instruction',
  R17: 'File record edit criteria / entry initiated under questionable circumstances',
  R18: 'Improper effective entry date',
  R19: 'Amount field error',
  R20: 'Non-transaction account',
  R21: 'Invalid company identification',
  R22: 'Invalid individual ID number',
  R23: 'Credit entry refused by receiver',
  R24: 'Duplicate entry',
  R25: 'Addenda error',
  R26: 'Mandatory field error',
  R27: 'Trace number error',
  R28: 'Routing number check digit error',
  R29: 'Corporate customer advises not authorized',
  R30: 'RDFI not participant in check truncation program',
  R31: 'Permissible return entry (CCD and CTX only)',
  R32: 'RDFI non-settlement',
  R33: 'Return of XCK entry',
  R34: 'Limited participation DFI',
  R35: 'Return of improper debit entry',
  R36: 'Return of improper credit entry',
  R37: 'Source document presented for payment',
  R38: 'Stop payment on source document',
  R39: 'Improper source document / source document presented for payment',
  R40: 'Return of ENR entry by federal government agency',
  R41: 'Invalid transaction code (ENR)',
  R42: 'Routing number / check digit error (ENR)',
  R43: 'Invalid DFI account number (ENR)',
  R44: 'Invalid individual ID number / identification number (ENR)',
  R45: 'Invalid individual name / company name (ENR)',
  R46: 'Invalid representative payee indicator (ENR)',
  R47: 'Duplicate enrollment (ENR)',
  R50: 'State law affecting RCK acceptance',
  R51: 'Item related to RCK entry is ineligible or RCK entry is improper',
  R52: 'Stop payment on item related to RCK entry',
  R53: 'Item and RCK entry presented for payment',
  R61: 'Misrouted return',
  R62: 'Return of erroneous or reversing debit',
  R67: 'Duplicate return',
  R68: 'Untimely return',
  R69: 'Field error(s)',
  R70: 'Permissible return entry not accepted / return not requested by ODFI',
  R71: 'Misrouted dishonored return',
  R72: 'Untimely dishonored return',
  R73: 'Timely original return',
  R74: 'Corrected return',
  R75: 'Return not a duplicate',
  R76: 'No errors found',
  R77: 'Non-acceptance of R62 dishonored return',
  R80: 'IAT entry coding error',
  R81: 'Non-participant in IAT program',
  R82: 'Invalid foreign receiving DFI identification',
  R83: 'Foreign receiving DFI unable to settle',
  R84: 'Entry not processed by gateway',
  R85: 'Incorrectly coded outbound international payment',
};

const DISHONORED = new Set(['R61', 'R62', 'R67', 'R68', 'R69', 'R70']);
const CONTESTED = new Set(['R71', 'R72', 'R73', 'R74', 'R75', 'R76', 'R77']);

function returnLayout(code: string): ReturnLayout {
  return DISHONORED.has(code) ? 'dishonored' : CONTESTED.has(code) ? 'contested' : 'return';
}

/**
 * Look up a return reason code. Codes outside the Nacha list (R96, R97, ...) are unknown unless the
 * caller names them in `customCodes`: some banks send their own codes and document them, so accepting
 * them is a per-bank setting rather than a parser default (fixtures README: R97 vs R96).
 */
export function returnCodeInfo(code: string, customCodes: readonly string[] = []): ReturnCodeInfo | undefined {
  const description = RETURN_DESCRIPTIONS[code];
  if (description !== undefined) return { code, description, layout: returnLayout(code) };
  if (customCodes.includes(code)) return { code, description: 'Bank-specific return code', layout: 'return' };
  return undefined;
}

export const NACHA_RETURN_CODES: readonly string[] = Object.keys(RETURN_DESCRIPTIONS);

const CHANGE_DESCRIPTIONS: Record<string, string> = {
  C01: 'Incorrect DFI account number',
  C02: 'Incorrect routing number',
  C03: 'Incorrect routing number and DFI account number',
  C04: 'Incorrect individual name / receiving company name',
  C05: 'Incorrect transaction code',
  C06: 'Incorrect DFI account number and transaction code',
  C07: 'Incorrect routing number, DFI account number and transaction code',
  C08: 'Incorrect receiving DFI identification (IAT only)',
  C09: 'Incorrect individual identification number',
  C10: 'Incorrect company name',
  C11: 'Incorrect company identification',
  C12: 'Incorrect company name and company identification',
  C13: 'Addenda format error',
  C14: 'Incorrect SEC code for outbound international payment',
  C61: 'Misrouted notification of change',
  C62: 'Incorrect trace number',
  C63: 'Incorrect company identification number',
  C64: 'Incorrect individual identification number / identification number',
  C65: 'Incorrectly formatted corrected data',
  C66: 'Incorrect discretionary data',
  C67: 'Routing number not from original entry detail record',
  C68: 'DFI account number not from original entry detail record',
  C69: 'Incorrect transaction code',
};

export interface ChangeCodeInfo {
  readonly code: string;
  readonly description: string;
  /** C61-C69: an originator refusing a NOC (different addenda layout). */
  readonly refused: boolean;
}

export function changeCodeInfo(code: string): ChangeCodeInfo | undefined {
  const description = CHANGE_DESCRIPTIONS[code];
  if (description === undefined) return undefined;
  return { code, description, refused: code >= 'C61' && code <= 'C69' };
}
