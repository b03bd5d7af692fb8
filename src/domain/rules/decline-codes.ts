// Card decline codes as data (payments-rules.md §3.1 Stripe decline_code table, §3.2 Mastercard
// merchant advice codes, Stripe advice codes). A decline's class decides what retry-policy.ts may do:
//   hard      — the issuer will never approve (Visa category 1, MAC 03/21): never retry this card
//   soft      — may succeed later: retry on the tenant schedule, within the network limits
//   technical — processing trouble: retry soon (minutes–hours)
//   fix_data  — the card data or the customer must change first (re-enter, 3DS, new card): no auto retry
import { LONG_STANDING, type RuleRow } from './rule-row.ts';

export type DeclineClass = 'hard' | 'soft' | 'fix_data' | 'technical';

/** Strictest first: combining signals always keeps the stricter class. */
export const DECLINE_CLASS_SEVERITY: readonly DeclineClass[] = ['hard', 'fix_data', 'soft', 'technical'];

export interface DeclineCodeRule extends RuleRow {
  readonly code: string;
  readonly class: DeclineClass;
  /** Typical network response code and Visa reattempt category (Visa Core Rules Table 7-2), for reports. */
  readonly networkCode: string | null;
  readonly visaCategory: 1 | 2 | 3 | 4 | null;
  /** Retries this code allows at most ("retry once", "limited retries"); null = the schedule decides. */
  readonly maxRetries: number | null;
  /** Minimum wait after this decline before the next try. */
  readonly minWaitMinutes: number | null;
  /** Stripe: never tell the customer a card was reported lost/stolen/fraudulent — show a generic decline. */
  readonly customerMessage: 'generic' | 'specific';
  readonly action: string;
}

const STRIPE_CODES = 'https://docs.stripe.com/declines/codes';
const FOX = 'https://github.com/IanFoxDev/decline-codes';

type Row = Omit<DeclineCodeRule, 'id' | 'source' | 'ref' | 'effectiveFrom' | 'maxRetries' | 'minWaitMinutes' | 'customerMessage'> &
  Partial<Pick<DeclineCodeRule, 'maxRetries' | 'minWaitMinutes' | 'customerMessage' | 'source'>>;

function rows(codes: readonly string[], row: Omit<Row, 'code'>): DeclineCodeRule[] {
  return codes.map((code) => ({
    id: `decline:stripe:${code}`,
    source: row.source ?? FOX,
    ref: '§3.1',
    effectiveFrom: LONG_STANDING,
    maxRetries: null,
    minWaitMinutes: null,
    customerMessage: 'specific',
    ...row,
    code,
  }));
}

// "Limited retries" in §3.1 (do_not_honor: 2–3): we take 3.
const LIMITED = 3;

export const STRIPE_DECLINE_CODES: readonly DeclineCodeRule[] = [
  ...rows(['insufficient_funds'], { class: 'soft', networkCode: '51', visaCategory: 2, action: 'retry per schedule (days, not minutes); notify; offer ACH' }),
  ...rows(['card_velocity_exceeded', 'withdrawal_count_limit_exceeded'], {
    class: 'soft',
    networkCode: '61/65',
    visaCategory: 2,
    minWaitMinutes: 24 * 60,
    action: 'retry after at least 24 h',
  }),
  ...rows(['do_not_honor'], { class: 'soft', networkCode: '05', visaCategory: 4, maxRetries: LIMITED, action: 'limited retries, then ask for another method' }),
  ...rows(['generic_decline', 'no_action_taken', 'try_again_later'], {
    class: 'soft',
    networkCode: null,
    visaCategory: 4,
    maxRetries: LIMITED,
    action: 'limited retries',
  }),
  ...rows(['call_issuer'], {
    class: 'soft',
    networkCode: '01',
    visaCategory: 4,
    maxRetries: LIMITED,
    action: 'ask the client to call the issuer; limited retries',
  }),
  ...rows(['processing_error'], { class: 'technical', networkCode: '96', visaCategory: 2, action: 'retry soon (minutes–hours)' }),
  ...rows(['issuer_not_available'], { class: 'technical', networkCode: '91', visaCategory: 2, minWaitMinutes: 60, action: 'retry after at least 1 h' }),
  ...rows(['reenter_transaction', 'approve_with_id'], { class: 'technical', networkCode: '19', visaCategory: 2, maxRetries: 1, action: 'retry once' }),
  ...rows(['restricted_card'], { class: 'soft', networkCode: '62', visaCategory: 2, maxRetries: 1, action: 'one retry later, then another method' }),
  // Suspected fraud: Visa category 4, but the reference says never auto-retry.
  ...rows(['security_violation'], { class: 'hard', networkCode: '63', visaCategory: 4, action: 'do not auto-retry; ask for another method' }),
  ...rows(['expired_card'], { class: 'fix_data', networkCode: '54', visaCategory: 3, action: 'account updater or a new card; never retry the same data' }),
  ...rows(['incorrect_cvc', 'invalid_cvc', 'incorrect_zip', 'incorrect_address', 'invalid_expiry_month', 'invalid_expiry_year'], {
    class: 'fix_data',
    networkCode: 'N7/82',
    visaCategory: 3,
    action: 'ask the customer to re-enter the card',
  }),
  ...rows(['authentication_required'], { class: 'fix_data', networkCode: '1A', visaCategory: 4, action: 'bring the customer on-session for 3DS' }),
  ...rows(['new_account_information_available'], {
    class: 'fix_data',
    networkCode: 'MAC 01',
    visaCategory: null,
    action: 'account updater or ask for a new card',
  }),
  ...rows(['incorrect_number', 'invalid_number'], { class: 'hard', networkCode: '14', visaCategory: 1, action: 'never retry' }),
  ...rows(['invalid_account'], { class: 'hard', networkCode: '14/15/46', visaCategory: 1, action: 'never retry' }),
  ...rows(['lost_card'], {
    class: 'hard',
    networkCode: '41',
    visaCategory: 1,
    customerMessage: 'generic',
    source: STRIPE_CODES,
    action: 'never retry; generic message',
  }),
  ...rows(['stolen_card'], {
    class: 'hard',
    networkCode: '43',
    visaCategory: 1,
    customerMessage: 'generic',
    source: STRIPE_CODES,
    action: 'never retry; generic message',
  }),
  ...rows(['pickup_card'], {
    class: 'hard',
    networkCode: '04',
    visaCategory: 1,
    customerMessage: 'generic',
    source: STRIPE_CODES,
    action: 'never retry; generic message',
  }),
  ...rows(['fraudulent'], {
    class: 'hard',
    networkCode: '07',
    visaCategory: 1,
    customerMessage: 'generic',
    source: STRIPE_CODES,
    action: 'never retry; generic message',
  }),
  ...rows(['transaction_not_allowed', 'not_permitted', 'service_not_allowed', 'card_not_supported'], {
    class: 'hard',
    networkCode: '57/12',
    visaCategory: 1,
    action: 'hard for this card; ask for another method',
  }),
  ...rows(['currency_not_supported'], { class: 'hard', networkCode: null, visaCategory: null, action: 'another card or currency' }),
  ...rows(['stop_payment_order', 'revocation_of_authorization', 'revocation_of_all_authorizations'], {
    class: 'hard',
    networkCode: 'R0/R1/R3',
    visaCategory: 1,
    action: 'stop recurring charges; new consent required',
  }),
  ...rows(['do_not_try_again'], { class: 'hard', networkCode: 'MAC 03', visaCategory: null, action: 'never retry' }),
  ...rows(['duplicate_transaction'], { class: 'hard', networkCode: '94', visaCategory: null, action: 'look for the existing charge; do not retry' }),
  ...rows(['merchant_blacklist'], { class: 'hard', networkCode: null, visaCategory: null, action: 'manual review' }),
  // §3.2: Stripe blocks further retries after excessive reattempts.
  ...rows(['previously_declined_do_not_retry'], {
    class: 'hard',
    networkCode: null,
    visaCategory: null,
    source: 'https://support.stripe.com/questions/payment-blocked-due-to-excessive-retries',
    action: 'never retry',
  }),
];

export interface AdviceCodeRule extends RuleRow {
  readonly code: string;
  readonly class: DeclineClass;
  readonly minWaitMinutes: number | null;
  readonly meaning: string;
}

const MAC_SOURCE = 'https://developers.tabapay.com/docs/merchant-advice-code-mac';
const mac = (code: string, cls: DeclineClass, meaning: string, minWaitMinutes: number | null = null): AdviceCodeRule => ({
  id: `decline:mastercard-mac:${code}`,
  source: MAC_SOURCE,
  ref: '§3.2',
  effectiveFrom: LONG_STANDING,
  code,
  class: cls,
  minWaitMinutes,
  meaning,
});
const DAY = 24 * 60;

/** Mastercard Merchant Advice Codes (§3.2). A MAC not in this table is treated as "do not retry". */
export const MASTERCARD_ADVICE_CODES: readonly AdviceCodeRule[] = [
  mac('01', 'fix_data', 'new account information available'),
  mac('02', 'soft', 'cannot approve at this time, try again later'),
  mac('03', 'hard', 'do not try again'),
  mac('04', 'fix_data', 'token requirements not fulfilled'),
  mac('21', 'hard', 'payment cancellation'),
  mac('24', 'soft', 'retry after 1 hour', 60),
  mac('25', 'soft', 'retry after 24 hours', DAY),
  mac('26', 'soft', 'retry after 2 days', 2 * DAY),
  mac('27', 'soft', 'retry after 4 days', 4 * DAY),
  mac('28', 'soft', 'retry after 6 days', 6 * DAY),
  mac('29', 'soft', 'retry after 8 days', 8 * DAY),
  mac('30', 'soft', 'retry after 10 days', 10 * DAY),
  mac('40', 'hard', 'non-reloadable prepaid card'),
  mac('41', 'hard', 'single-use virtual card'),
];

const advice = (code: string, cls: DeclineClass, meaning: string): AdviceCodeRule => ({
  id: `decline:stripe-advice:${code}`,
  source: 'https://docs.stripe.com/declines/card',
  ref: '§3.1',
  effectiveFrom: LONG_STANDING,
  code,
  class: cls,
  minWaitMinutes: null,
  meaning,
});

/** Stripe `advice_code` on a declined charge (§3.1). */
export const STRIPE_ADVICE_CODES: readonly AdviceCodeRule[] = [
  advice('do_not_try_again', 'hard', 'do not try again'),
  advice('try_again_later', 'soft', 'try again later'),
  advice('confirm_card_data', 'fix_data', 'ask the customer to confirm the card data'),
];

/** Rule used when the decline code is missing or unknown: do not retry (conservative; Cybersource treats a missing advice code as "do not retry", §3.2). */
export const UNKNOWN_DECLINE_RULE: RuleRow = {
  id: 'decline:unknown-code',
  source: 'https://developer.cybersource.com/docs/cybs/en-us/api-fields/reference/all/so/api-fields/cc-auth-reply-merchant-advice-code.html',
  ref: '§3.2 (derived)',
  effectiveFrom: LONG_STANDING,
};

export interface DeclineSignals {
  readonly declineCode: string | null;
  /** Stripe `advice_code`. */
  readonly adviceCode?: string | null;
  /** Mastercard Merchant Advice Code (Stripe `network_advice_code`), two digits. */
  readonly merchantAdviceCode?: string | null;
}

export interface DeclineClassification {
  readonly class: DeclineClass;
  readonly maxRetries: number | null;
  readonly minWaitMinutes: number | null;
  readonly customerMessage: 'generic' | 'specific';
  readonly rulesApplied: readonly string[];
}

export const stricter = (a: DeclineClass, b: DeclineClass): DeclineClass => (DECLINE_CLASS_SEVERITY.indexOf(a) <= DECLINE_CLASS_SEVERITY.indexOf(b) ? a : b);

const byCode = new Map(STRIPE_DECLINE_CODES.map((r) => [r.code, r]));
const macByCode = new Map(MASTERCARD_ADVICE_CODES.map((r) => [r.code, r]));
const adviceByCode = new Map(STRIPE_ADVICE_CODES.map((r) => [r.code, r]));

/**
 * Classify a decline from every signal the processor gave; the strictest signal wins and waits add up
 * to the longest. An unknown decline code is 'hard' (never guess that a retry is safe).
 */
export function classifyDecline(signals: DeclineSignals): DeclineClassification {
  const code = signals.declineCode ? byCode.get(signals.declineCode) : undefined;
  let cls: DeclineClass = code?.class ?? 'hard';
  let wait = code?.minWaitMinutes ?? null;
  const applied = [code?.id ?? UNKNOWN_DECLINE_RULE.id];

  const extra: AdviceCodeRule[] = [];
  if (signals.adviceCode) {
    const a = adviceByCode.get(signals.adviceCode);
    if (a) extra.push(a);
  }
  if (signals.merchantAdviceCode) {
    const m = macByCode.get(signals.merchantAdviceCode);
    if (m) extra.push(m);
    else {
      cls = 'hard';
      applied.push(UNKNOWN_DECLINE_RULE.id);
    }
  }
  for (const a of extra) {
    cls = stricter(cls, a.class);
    if (a.minWaitMinutes !== null) wait = Math.max(wait ?? 0, a.minWaitMinutes);
    applied.push(a.id);
  }
  return {
    class: cls,
    maxRetries: code?.maxRetries ?? null,
    minWaitMinutes: wait,
    customerMessage: code?.customerMessage ?? 'generic',
    rulesApplied: [...new Set(applied)],
  };
}
