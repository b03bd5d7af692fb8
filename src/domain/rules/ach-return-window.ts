// When an ACH debit can no longer come back, so the invoice can be marked final-paid
// (payments-rules.md §2.8 state machine: "do not mark the invoice paid-final until the return window
// for the SEC type has passed"; windows from §2.4).
//   CCD/CTX (business accounts): every return code that applies is due within 2 banking days of
//     settlement, including R29 (corporate "not authorized").
//   PPD/WEB/TEL (consumer accounts): unauthorized returns (R05/R07/R10/R11) may come up to 60 calendar
//     days after settlement.
// Nacha deadline detail (general Nacha knowledge, not in the reference): a 2-banking-day return must
// reach the ODFI by the opening of the 2nd banking day after settlement; a 60-day return by the opening
// of the banking day after the 60th calendar day. A CCD debit to an account that is really a consumer
// account can still draw R05 within 60 days — §2.2 asks the client at mandate time to prevent that.
import { addDays, type IsoDate } from './calendar-date.ts';
import { LONG_STANDING, type RuleRow } from './rule-row.ts';
import { addBankingDays } from './us-banking-calendar.ts';

export type SecCode = 'CCD' | 'CTX' | 'PPD' | 'WEB' | 'TEL';

export interface ReturnWindowRule extends RuleRow {
  readonly secCodes: readonly SecCode[];
  readonly window: { readonly kind: 'banking_days'; readonly days: number } | { readonly kind: 'calendar_days'; readonly days: number };
  /** The return codes whose deadline sets the window. */
  readonly governingCodes: readonly string[];
}

export const RETURN_WINDOW_RULES: readonly ReturnWindowRule[] = [
  {
    id: 'ach-window:corporate-2bd',
    secCodes: ['CCD', 'CTX'],
    window: { kind: 'banking_days', days: 2 },
    governingCodes: ['R01', 'R02', 'R03', 'R04', 'R29'],
    source: 'https://github.com/moov-io/ach/blob/master/docs/returns.md',
    ref: '§2.2, §2.4',
    effectiveFrom: LONG_STANDING,
  },
  {
    id: 'ach-window:consumer-unauthorized-60cd',
    secCodes: ['PPD', 'WEB', 'TEL'],
    window: { kind: 'calendar_days', days: 60 },
    governingCodes: ['R05', 'R07', 'R10', 'R11'],
    source: 'https://apidocs.paynearme.com/devdocs/docs/ach-return-codes',
    ref: '§2.4, §2.8',
    effectiveFrom: LONG_STANDING,
  },
];

export interface ReturnWindowOptions {
  /**
   * Banking days added after the RDFI deadline for the return to travel ODFI → processor → us.
   * Default 1 (CCD: final 3 banking days after settlement, inside §2.8's "~2–5 business days").
   */
  readonly deliveryBankingDays?: number;
}

export interface ReturnWindow {
  /** Last day the RDFI's return can reach the ODFI. */
  readonly rdfiDeadline: IsoDate;
  /** Last day a return may still reach us; the payment is final from the next day. */
  readonly finalAfter: IsoDate;
  readonly governingCodes: readonly string[];
  readonly rulesApplied: readonly string[];
}

export function returnWindow(secCode: SecCode, settledOn: IsoDate, options: ReturnWindowOptions = {}): ReturnWindow {
  const rule = RETURN_WINDOW_RULES.find((r) => r.secCodes.includes(secCode));
  if (!rule) throw new Error(`no return-window rule for SEC code ${secCode}`);
  const delivery = options.deliveryBankingDays ?? 1;
  const rdfiDeadline =
    rule.window.kind === 'banking_days' ? addBankingDays(settledOn, rule.window.days) : addBankingDays(addDays(settledOn, rule.window.days), 1);
  return {
    rdfiDeadline,
    finalAfter: addBankingDays(rdfiDeadline, delivery),
    governingCodes: rule.governingCodes,
    rulesApplied: [rule.id],
  };
}

/** The last day an ACH debit settled on `settledOn` may still be returned to us. */
export function finalAfter(secCode: SecCode, settledOn: IsoDate, options: ReturnWindowOptions = {}): IsoDate {
  return returnWindow(secCode, settledOn, options).finalAfter;
}

/** Whether on `today` the invoice paid by this debit can be treated as final-paid. */
export function isFinal(secCode: SecCode, settledOn: IsoDate, today: IsoDate, options: ReturnWindowOptions = {}): boolean {
  return today > finalAfter(secCode, settledOn, options);
}
