// May a returned ACH debit be presented again? (payments-rules.md §0.3, §2.5, §3.3 ACH row.)
// Nacha: R01/R09 up to two reinitiations within 180 days of the original settlement, with the same
// company name, company ID and amount and the description "RETRY PYMT"; R08 only with the
// receiver's separate authorization; never after an unauthorized return.
import type { Money } from '../money.ts';
import { addDays, maxDate, minDate, type IsoDate } from './calendar-date.ts';
import { achReturnCode } from './ach-return-codes.ts';
import { LONG_STANDING, type RuleRow } from './rule-row.ts';
import { addBankingDays } from './us-banking-calendar.ts';

const REINIT_SOURCE = 'https://www.bankfivenine.com/business/cash-management/ach-origination/ach-user-information/reinitiating-returned-ach-debit-items/';

export const ACH_REINITIATION_RULE = {
  id: 'ach-reinitiation:2-within-180-days',
  source: REINIT_SOURCE,
  ref: '§2.5',
  effectiveFrom: LONG_STANDING,
  maxReinitiations: 2,
  windowDays: 180,
  // §7 item 8: exact Nacha text to be confirmed; bank UIs show "RETRY PMT".
  description: 'RETRY PYMT',
  // §3.3 (derived): first reinitiation +3 banking days after the return, the second +7.
  suggestedDelayBankingDays: [3, 7] as readonly number[],
} as const satisfies RuleRow & Record<string, unknown>;

export interface OriginalEntry {
  readonly settledOn: IsoDate;
  readonly companyName: string;
  readonly companyId: string;
  readonly amount: Money;
}

export interface AchReinitiationInput {
  /** The return being handled now. */
  readonly code: string;
  /** Day the current return settled; defaults to `now`. */
  readonly returnedOn?: IsoDate;
  /** Earlier returns of this same entry (of the original presentment and of earlier reinitiations). */
  readonly previousReturns: readonly { readonly code: string; readonly returnedOn: IsoDate }[];
  readonly original: OriginalEntry;
  /** R08 only: the receiver separately authorized presenting the debit again. */
  readonly receiverAuthorizedReinitiation?: boolean;
  readonly now: IsoDate;
}

export type AchReinitiationRefusal =
  | 'not_reinitiable'
  | 'needs_separate_authorization'
  | 'correct_and_resend'
  | 'new_entry_after_correction'
  | 'prior_unauthorized_return'
  | 'limit_reached'
  | 'window_passed';

export type AchReinitiationDecision =
  | {
      readonly allowed: true;
      readonly description: 'RETRY PYMT';
      /** 1 or 2. */
      readonly reinitiationNumber: number;
      /** Must be identical to the original entry (§2.5). */
      readonly constraints: { readonly companyName: string; readonly companyId: string; readonly amount: Money };
      /** Suggested day to present it (§3.3), never before today nor after `latestOn`. */
      readonly earliestOn: IsoDate;
      /** Last day a reinitiation may be made: original settlement + 180 days. */
      readonly latestOn: IsoDate;
      readonly rulesApplied: readonly string[];
    }
  | {
      readonly allowed: false;
      readonly reason: AchReinitiationRefusal;
      readonly detail: string;
      /** R11: last day to send the corrected entry. */
      readonly resendBy?: IsoDate;
      readonly rulesApplied: readonly string[];
    };

export function achReinitiation(input: AchReinitiationInput): AchReinitiationDecision {
  const rule = ACH_REINITIATION_RULE;
  const row = achReturnCode(input.code);
  const applied = [row.id];
  const returnedOn = input.returnedOn ?? input.now;
  const refuse = (reason: AchReinitiationRefusal, detail: string, extra: { resendBy?: IsoDate } = {}): AchReinitiationDecision => ({
    allowed: false,
    reason,
    detail,
    rulesApplied: applied,
    ...extra,
  });

  const unauthorizedBefore = input.previousReturns.find((p) => achReturnCode(p.code).category === 'unauthorized');
  if (unauthorizedBefore) {
    return refuse(
      'prior_unauthorized_return',
      `this entry was returned ${unauthorizedBefore.code} on ${unauthorizedBefore.returnedOn}; the authorization is in question`,
    );
  }

  switch (row.reinitiation) {
    case 'allowed':
      break;
    case 'separate_authorization':
      if (!input.receiverAuthorizedReinitiation) {
        return refuse(
          'needs_separate_authorization',
          `${row.code} (${row.description}) may be presented again only with the receiver's separate authorization`,
        );
      }
      break;
    case 'corrected_entry_60_days': {
      const resendBy = addDays(returnedOn, 60);
      return refuse('correct_and_resend', `${row.code}: correct the entry and send a new one by ${resendBy}; no new authorization needed`, { resendBy });
    }
    case 'after_correction':
      return refuse('new_entry_after_correction', `${row.code} (${row.description}): fix the data, then originate a new entry`);
    case 'never':
      return refuse('not_reinitiable', `${row.code} (${row.description}) is never presented again; action: ${row.action}`);
    default: {
      const _: never = row.reinitiation;
      throw new Error(`unhandled reinitiation rule ${String(_)}`);
    }
  }

  applied.push(rule.id);
  const done = input.previousReturns.length; // every earlier return was followed by one reinitiation
  if (done >= rule.maxReinitiations) {
    return refuse('limit_reached', `already reinitiated ${done} times; at most ${rule.maxReinitiations} within ${rule.windowDays} days`);
  }
  const latestOn = addDays(input.original.settledOn, rule.windowDays);
  if (input.now > latestOn) {
    return refuse('window_passed', `the ${rule.windowDays}-day window from settlement ${input.original.settledOn} ended ${latestOn}`);
  }
  const delay = rule.suggestedDelayBankingDays[done] ?? 0;
  const suggested = maxDate(addBankingDays(returnedOn, delay), input.now);
  return {
    allowed: true,
    description: rule.description,
    reinitiationNumber: done + 1,
    constraints: { companyName: input.original.companyName, companyId: input.original.companyId, amount: input.original.amount },
    earliestOn: minDate(suggested, latestOn),
    latestOn,
    rulesApplied: applied,
  };
}
