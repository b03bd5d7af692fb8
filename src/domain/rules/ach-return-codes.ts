// ACH return reason codes as data (payments-rules.md §2.4; reinitiation §2.5; thresholds §2.4 note).
// Meanings: moov-io/ach returns.md; time frames: processor code tables; rate categories: EPCOR.
import { LONG_STANDING, type RuleRow } from './rule-row.ts';

/** What kind of problem the return signals. */
export type AchReturnCategory =
  | 'nsf' // funds: R01, R09
  | 'account' // account closed, missing, frozen, wrong type …
  | 'unauthorized' // the receiver says the debit was not (or no longer) authorized
  | 'stop_payment'
  | 'data' // our entry or file was wrong: fix and resend
  | 'fraud'
  | 'other';

/** Nacha return-rate bucket (unauthorized 0.5 %, administrative 3 %, overall 15 %). Every return counts in overall. */
export type NachaRateCategory = 'unauthorized' | 'administrative' | 'overall';

/** How long after settlement the RDFI may return the entry. */
export type AchReturnWindow =
  | { readonly kind: 'banking_days'; readonly days: number }
  | { readonly kind: 'calendar_days'; readonly days: number }
  | { readonly kind: 'ach_operator' } // the Operator returns it with the next file
  | { readonly kind: 'by_agreement' }
  | { readonly kind: 'not_defined' }
  | { readonly kind: 'varies' };

/** Whether and how the same debit may be presented again (§2.5). */
export type AchReinitiationRule =
  | 'allowed' // R01, R09: up to 2 reinitiations within 180 days, "RETRY PYMT"
  | 'separate_authorization' // R08: only if the receiver separately authorizes it
  | 'corrected_entry_60_days' // R11: correct the entry and resend within 60 days of the return, no new authorization
  | 'after_correction' // a new entry once the data is fixed — not a reinitiation of this one
  | 'never';

export type AchReturnAction =
  'retry' | 'revoke_mandate' | 'correct_and_resend' | 'fix_data' | 'disable_method' | 'contact_client' | 'manual_review' | 'not_applicable';

export interface AchReturnCodeRule extends RuleRow {
  readonly code: string;
  readonly description: string;
  readonly category: AchReturnCategory;
  readonly rateCategory: NachaRateCategory;
  readonly window: AchReturnWindow;
  readonly reinitiation: AchReinitiationRule;
  readonly action: AchReturnAction;
  /** §2.5: a "RETURN FEE" entry is allowed only for R01/R09, with prior notice and where the law permits. */
  readonly returnFeeAllowed: boolean;
  readonly note?: string;
}

const MOOV_RETURNS = 'https://github.com/moov-io/ach/blob/master/docs/returns.md';
const BD2: AchReturnWindow = { kind: 'banking_days', days: 2 };
const CD60: AchReturnWindow = { kind: 'calendar_days', days: 60 };
const OPERATOR: AchReturnWindow = { kind: 'ach_operator' };

type Row = Pick<AchReturnCodeRule, 'code' | 'description' | 'category' | 'window' | 'reinitiation' | 'action'> &
  Partial<Pick<AchReturnCodeRule, 'rateCategory' | 'returnFeeAllowed' | 'note' | 'source' | 'effectiveFrom'>>;

const r = (row: Row): AchReturnCodeRule => ({
  id: `ach-return:${row.code}`,
  source: MOOV_RETURNS,
  ref: '§2.4',
  effectiveFrom: LONG_STANDING,
  rateCategory: 'overall',
  returnFeeAllowed: false,
  ...row,
});

export const ACH_RETURN_CODES: readonly AchReturnCodeRule[] = [
  r({ code: 'R01', description: 'Insufficient funds', category: 'nsf', window: BD2, reinitiation: 'allowed', action: 'retry', returnFeeAllowed: true }),
  r({
    code: 'R02',
    description: 'Account closed',
    category: 'account',
    rateCategory: 'administrative',
    window: BD2,
    reinitiation: 'never',
    action: 'disable_method',
  }),
  r({
    code: 'R03',
    description: 'No account / unable to locate account',
    category: 'account',
    rateCategory: 'administrative',
    window: BD2,
    reinitiation: 'never',
    action: 'disable_method',
  }),
  r({
    code: 'R04',
    description: 'Invalid account number structure',
    category: 'account',
    rateCategory: 'administrative',
    window: BD2,
    reinitiation: 'never',
    action: 'disable_method',
  }),
  r({
    code: 'R05',
    description: 'Unauthorized debit to consumer account using corporate SEC code',
    category: 'unauthorized',
    rateCategory: 'unauthorized',
    window: CD60,
    reinitiation: 'never',
    action: 'revoke_mandate',
    note: 'new authorization with the right SEC code (PPD/WEB)',
  }),
  r({
    code: 'R06',
    description: 'Returned per ODFI request',
    category: 'other',
    window: { kind: 'not_defined' },
    reinitiation: 'never',
    action: 'manual_review',
    note: 'ODFI may request a return for any reason from 2025-04-01 (§2.7)',
  }),
  r({
    code: 'R07',
    description: 'Authorization revoked by customer',
    category: 'unauthorized',
    rateCategory: 'unauthorized',
    window: CD60,
    reinitiation: 'never',
    action: 'revoke_mandate',
  }),
  r({ code: 'R08', description: 'Payment stopped', category: 'stop_payment', window: BD2, reinitiation: 'separate_authorization', action: 'contact_client' }),
  r({ code: 'R09', description: 'Uncollected funds', category: 'nsf', window: BD2, reinitiation: 'allowed', action: 'retry', returnFeeAllowed: true }),
  r({
    code: 'R10',
    description: 'Originator not known to / not authorized by the receiver',
    category: 'unauthorized',
    rateCategory: 'unauthorized',
    window: CD60,
    reinitiation: 'never',
    action: 'revoke_mandate',
  }),
  // §7 item 7: whether R11 counts in the 0.5 % unauthorized rate is not confirmed; we count it in 'overall' only.
  r({
    code: 'R11',
    description: 'Entry not in accordance with the authorization',
    category: 'unauthorized',
    window: CD60,
    reinitiation: 'corrected_entry_60_days',
    action: 'correct_and_resend',
    source: 'https://epcor.org/End-User/Corporate-User',
    note: 'unauthorized-rate treatment unconfirmed (§7 item 7)',
  }),
  r({ code: 'R12', description: 'Account sold to another DFI', category: 'account', window: BD2, reinitiation: 'after_correction', action: 'fix_data' }),
  r({ code: 'R13', description: 'Invalid ACH routing number', category: 'data', window: OPERATOR, reinitiation: 'after_correction', action: 'fix_data' }),
  r({
    code: 'R14',
    description: 'Representative payee deceased or unable to continue',
    category: 'account',
    window: BD2,
    reinitiation: 'never',
    action: 'manual_review',
  }),
  r({ code: 'R15', description: 'Beneficiary or account holder deceased', category: 'account', window: BD2, reinitiation: 'never', action: 'manual_review' }),
  r({
    code: 'R16',
    description: 'Account frozen / entry returned per OFAC instruction',
    category: 'account',
    window: BD2,
    reinitiation: 'never',
    action: 'manual_review',
  }),
  r({
    code: 'R17',
    description: 'File record edit criteria (QUESTIONABLE = suspected fraud)',
    category: 'fraud',
    window: BD2,
    reinitiation: 'never',
    action: 'manual_review',
    effectiveFrom: LONG_STANDING,
    note: 'QUESTIONABLE use codified 2024-10-01',
  }),
  r({ code: 'R18', description: 'Improper effective entry date', category: 'data', window: OPERATOR, reinitiation: 'after_correction', action: 'fix_data' }),
  r({ code: 'R19', description: 'Amount field error', category: 'data', window: OPERATOR, reinitiation: 'after_correction', action: 'fix_data' }),
  r({ code: 'R20', description: 'Non-transaction account', category: 'account', window: BD2, reinitiation: 'never', action: 'disable_method' }),
  r({ code: 'R21', description: 'Invalid company identification', category: 'data', window: BD2, reinitiation: 'after_correction', action: 'fix_data' }),
  r({ code: 'R22', description: 'Invalid individual ID number', category: 'data', window: BD2, reinitiation: 'after_correction', action: 'fix_data' }),
  r({
    code: 'R23',
    description: 'Credit entry refused by receiver',
    category: 'other',
    window: { kind: 'varies' },
    reinitiation: 'never',
    action: 'not_applicable',
    note: 'credits only',
  }),
  r({
    code: 'R24',
    description: 'Duplicate entry',
    category: 'data',
    window: BD2,
    reinitiation: 'never',
    action: 'manual_review',
    note: 'check for double submission',
  }),
  r({ code: 'R25', description: 'Addenda error', category: 'data', window: { kind: 'varies' }, reinitiation: 'after_correction', action: 'fix_data' }),
  r({ code: 'R26', description: 'Mandatory field error', category: 'data', window: { kind: 'varies' }, reinitiation: 'after_correction', action: 'fix_data' }),
  r({ code: 'R27', description: 'Trace number error', category: 'data', window: { kind: 'varies' }, reinitiation: 'after_correction', action: 'fix_data' }),
  r({
    code: 'R28',
    description: 'Routing number check digit error',
    category: 'data',
    window: { kind: 'varies' },
    reinitiation: 'after_correction',
    action: 'fix_data',
  }),
  r({
    code: 'R29',
    description: 'Corporate customer advises not authorized',
    category: 'unauthorized',
    rateCategory: 'unauthorized',
    window: BD2,
    reinitiation: 'never',
    action: 'revoke_mandate',
  }),
  r({
    code: 'R31',
    description: 'Permissible return entry (CCD/CTX, ODFI agreed)',
    category: 'other',
    window: { kind: 'by_agreement' },
    reinitiation: 'never',
    action: 'contact_client',
  }),
  r({
    code: 'R51',
    description: 'Item related to RCK entry is ineligible or RCK entry is improper',
    category: 'unauthorized',
    rateCategory: 'unauthorized',
    window: CD60,
    reinitiation: 'never',
    action: 'manual_review',
    note: 'not expected in our flows',
  }),
];

/**
 * Codes outside the table (check truncation, ENR, RCK, dishonored/contested returns, IAT: §2.4 last
 * row) are "not expected in our flows; log and alert".
 */
export const UNEXPECTED_RETURN: Omit<AchReturnCodeRule, 'code'> = {
  id: 'ach-return:unexpected',
  source: MOOV_RETURNS,
  ref: '§2.4',
  effectiveFrom: LONG_STANDING,
  description: 'Return code not expected in Settle flows',
  category: 'other',
  rateCategory: 'overall',
  window: { kind: 'varies' },
  reinitiation: 'never',
  action: 'manual_review',
  returnFeeAllowed: false,
};

const BY_CODE = new Map(ACH_RETURN_CODES.map((row) => [row.code, row]));

/** The row for a return code; codes we do not list get the "log and alert" row (never retried). */
export function achReturnCode(code: string): AchReturnCodeRule {
  const c = code.trim().toUpperCase();
  return BY_CODE.get(c) ?? { ...UNEXPECTED_RETURN, code: c };
}

export const isKnownReturnCode = (code: string): boolean => BY_CODE.has(code.trim().toUpperCase());
