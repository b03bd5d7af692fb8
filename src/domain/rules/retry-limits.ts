// How often one card may be tried (payments-rules.md §3.2 network limits, §3.3 our caps, §7 item 1).
// Counted per card at one merchant (the MSP): Settle is the merchant of record per tenant, so the
// caller passes only this tenant's attempts on this card.
import { isInForce, LONG_STANDING, type RuleRow } from './rule-row.ts';

export interface RetryLimitRule extends RuleRow {
  /** Card brand the limit belongs to; '*' = every brand (our own cap). */
  readonly brand: 'visa' | 'mastercard' | '*';
  readonly windowMinutes: number;
  readonly maxInWindow: number;
  /** 'declines': declined attempts count (the networks' rules); 'tries': every attempt that reached the processor. */
  readonly counts: 'declines' | 'tries';
  /** Mastercard's 30-day limit is per card + merchant + amount. */
  readonly sameAmountOnly: boolean;
}

const DAY = 24 * 60;

export const RETRY_LIMITS: readonly RetryLimitRule[] = [
  // Visa categories 2–4: 15 reattempts in 30 days since April 2021 (the reference gives the month;
  // we start on the 1st, which only makes us stricter earlier). Counting every decline, not only
  // reattempts, and CIT and MIT together, is also stricter than Visa's separate counters.
  {
    id: 'retry-limit:visa:15-per-30d',
    brand: 'visa',
    windowMinutes: 30 * DAY,
    maxInWindow: 15,
    counts: 'declines',
    sameAmountOnly: false,
    source: 'https://developers.getevolved.com/enterprise/docs/visas-processing-integrity-fee-program',
    ref: '§3.2',
    effectiveFrom: '2021-04-01',
    effectiveTo: '2026-04-17',
  },
  // Visa Core Rules edition of 2026-04-18: 20 in 30 days (§3.2; §7 item 1 notes the conflict — our own 10/30 d cap binds first either way).
  {
    id: 'retry-limit:visa:20-per-30d',
    brand: 'visa',
    windowMinutes: 30 * DAY,
    maxInWindow: 20,
    counts: 'declines',
    sameAmountOnly: false,
    source: 'https://www.checkout.com/merchant-communications/changes-to-visa-system-integrity-fees',
    ref: '§3.2',
    effectiveFrom: '2026-04-18',
  },
  // Mastercard: at most 10 declines per card per merchant in 24 h since 2022-10-01.
  {
    id: 'retry-limit:mastercard:10-per-24h',
    brand: 'mastercard',
    windowMinutes: DAY,
    maxInWindow: 10,
    counts: 'declines',
    sameAmountOnly: false,
    source: 'https://developers.tabapay.com/docs/excessive-retry-rules',
    ref: '§3.2',
    effectiveFrom: '2022-10-01',
  },
  // Mastercard: 35 declines for the same card + merchant + amount in 30 days (2024; the reference gives
  // only the year, and starting on 01-01 is the stricter reading).
  {
    id: 'retry-limit:mastercard:35-per-30d-same-amount',
    brand: 'mastercard',
    windowMinutes: 30 * DAY,
    maxInWindow: 35,
    counts: 'declines',
    sameAmountOnly: true,
    source: 'https://developers.tabapay.com/docs/excessive-retry-rules',
    ref: '§3.2',
    effectiveFrom: '2024-01-01',
  },
  // Settle issue #3 / §3.3 proposal: at most 10 tries per card per 30 days, every brand — below both networks' limits.
  {
    id: 'retry-limit:settle:10-per-30d',
    brand: '*',
    windowMinutes: 30 * DAY,
    maxInWindow: 10,
    counts: 'tries',
    sameAmountOnly: false,
    source: 'reference/payments-rules.md#33-retry-schedules-in-billing-systems',
    ref: '§3.3 (derived), §7 item 1',
    effectiveFrom: LONG_STANDING,
  },
];

/** The limits that bind a card of `brand` on `on` (our own cap included). */
export function retryLimitsInForce(brand: string, on: string): RetryLimitRule[] {
  const b = brand.toLowerCase();
  return RETRY_LIMITS.filter((l) => (l.brand === '*' || l.brand === b) && isInForce(l, on));
}
