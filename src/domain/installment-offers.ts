// The plans a client may choose alone in the portal ("3 monthly parts for invoices of $1,000 or more"):
// which invoices an offer applies to, and the exact plan it makes — parts, dates, amounts, fee, total.
// Pure; the engine (engine/installment-offers.ts) stores offers and makes plans through installment-plans.ts.
import { add, money, multiplyRatio, parseDecimal, MoneyError, type Currency, type Money } from './money.ts';
import { installmentSchedule, type InstallmentPart } from './installments.ts';
import type { IsoDate } from './rules/calendar-date.ts';

export type OfferMethod = 'card' | 'us_bank_account';
export const OFFER_METHODS: readonly OfferMethod[] = ['card', 'us_bank_account'];
export const OFFER_PARTS = { min: 2, max: 12 } as const;
export const OFFER_EVERY_DAYS = { min: 7, max: 31 } as const;
/** A percentage fee above 10 % of the amount split is no longer a plan fee but a price change. */
export const MAX_FEE_BPS = 1000;
/**
 * Rounding of a percentage fee: half-up to the minor unit, as fees are stated per contract and shown on the
 * invoice (payments-rules.md §5.2). Card surcharges round down (§1.7) — a plan fee is not one: it is the
 * same whichever method pays (§1.5).
 */
export const FEE_ROUNDING = 'half-up' as const;

export interface Offer {
  readonly label: string;
  readonly parts: number;
  readonly everyDays: number;
  readonly currency: Currency;
  readonly minOwed: Money;
  readonly feeFlat: Money;
  readonly feeBps: number;
  readonly methods: readonly OfferMethod[];
}

/**
 * What the client agrees to: each part's date and amount (the amount owed split), the fee — charged with
 * part 1, on top of it — and the total charged (owed + fee).
 */
export interface OfferQuote {
  readonly owed: Money;
  readonly fee: Money;
  readonly total: Money;
  readonly parts: readonly InstallmentPart[];
}

/** What is charged for a part: the part, plus the plan fee with part 1. */
export function chargedForPart(quote: Pick<OfferQuote, 'fee'>, part: Pick<InstallmentPart, 'partNo' | 'amount'>): Money {
  return part.partNo === 1 ? add(part.amount, quote.fee) : part.amount;
}

/** The fee for splitting `owed`: flat plus feeBps/10,000 of `owed`, rounded half-up. */
export function offerFee(offer: Pick<Offer, 'feeFlat' | 'feeBps'>, owed: Money): Money {
  return add(offer.feeFlat, multiplyRatio(owed, BigInt(offer.feeBps), 10_000n, FEE_ROUNDING));
}

/** Why the offer does not apply to an invoice still owing `owed`, or null when it does. */
export function offerRefusal(offer: Pick<Offer, 'currency' | 'minOwed' | 'parts'>, owed: Money): string | null {
  if (owed.currency !== offer.currency) return `the offer is for invoices in ${offer.currency}`;
  if (owed.amountMinor < offer.minOwed.amountMinor) return 'the amount owed is below the offer’s minimum';
  if (owed.amountMinor < BigInt(offer.parts)) return 'the amount owed is too small to split';
  return null;
}

/**
 * The plan the offer makes for `owed`, starting `today` (the first part is charged the day the client
 * agrees). The parts split the amount owed (remainder on the last part), exactly as the engine splits it
 * (installment-plans.ts), so each part pays the invoice; the fee is money beyond the invoice, charged once
 * with part 1 (collect-installments.ts) and booked as plan-fee income, never applied to the invoice.
 */
export function offerQuote(offer: Offer, owed: Money, today: IsoDate): OfferQuote {
  const fee = offerFee(offer, owed);
  const total = add(owed, fee);
  const parts = installmentSchedule(owed, { kind: 'every', parts: offer.parts, firstDueOn: today, everyDays: offer.everyDays }, today);
  return { owed, fee, total, parts };
}

export class OfferInputError extends Error {
  override readonly name = 'OfferInputError';
  constructor(readonly fields: Readonly<Record<string, string>>) {
    super(Object.values(fields).join('; '));
  }
}

/** An offer from a staff form or an API body (amounts as typed, "1,000.00"); every problem named by field. */
export function parseOffer(input: Readonly<Record<string, unknown>>, currency: Currency): Offer {
  const fields: Record<string, string> = {};
  const text = (k: string) => (typeof input[k] === 'string' ? (input[k] as string).trim() : input[k] === undefined ? '' : String(input[k]));
  const label = text('label');
  if (!label || label.length > 80) fields['label'] = 'Enter what the client reads, for example “3 monthly payments” (at most 80 characters)';
  const parts = Number(text('parts'));
  if (!Number.isInteger(parts) || parts < OFFER_PARTS.min || parts > OFFER_PARTS.max)
    fields['parts'] = `Enter a number of parts from ${OFFER_PARTS.min} to ${OFFER_PARTS.max}`;
  const everyDays = Number(text('every_days'));
  if (!Number.isInteger(everyDays) || everyDays < OFFER_EVERY_DAYS.min || everyDays > OFFER_EVERY_DAYS.max)
    fields['every_days'] = `Enter the days between parts, from ${OFFER_EVERY_DAYS.min} to ${OFFER_EVERY_DAYS.max} (30 is about monthly)`;
  const amount = (k: string, what: string, allowZero: boolean): Money => {
    const raw = text(k).replace(/^\$/, '').replace(/,/g, '') || (allowZero ? '0' : '');
    try {
      const m = parseDecimal(raw, currency);
      if (m.amountMinor < 0n || (!allowZero && m.amountMinor === 0n)) throw new MoneyError('range');
      return m;
    } catch (e) {
      if (!(e instanceof MoneyError)) throw e;
      fields[k] = `Enter ${what} as an amount${allowZero ? ' (0 for none)' : ' more than 0'}, for example 1000.00`;
      return money(0n, currency);
    }
  };
  const minOwed = amount('min_owed', 'the least amount owed', false);
  const feeFlat = amount('fee_flat', 'the flat fee', true);
  const pct = text('fee_percent') || '0';
  // The percentage as typed ("2.5") read as basis points without a float: at most two decimals.
  const m = /^(\d{1,2})(?:\.(\d{1,2}))?$/.exec(pct);
  const feeBps = m ? Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0')) : NaN;
  if (!Number.isInteger(feeBps) || feeBps > MAX_FEE_BPS) fields['fee_percent'] = 'Enter the fee as a percentage from 0 to 10, for example 2.5';
  if (!fields['min_owed'] && !fields['fee_flat'] && feeFlat.amountMinor * 10n > minOwed.amountMinor)
    fields['fee_flat'] = 'The flat fee can be at most a tenth of the least amount owed';
  const raw = input['methods'];
  const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String);
  const methods = OFFER_METHODS.filter((x) => list.includes(x));
  if (methods.length === 0 || methods.length !== new Set(list).size) fields['methods'] = 'Choose at least one way to pay: card, bank account, or both';
  if (Object.keys(fields).length) throw new OfferInputError(fields);
  return { label, parts, everyDays, currency, minOwed, feeFlat, feeBps, methods };
}

/** "2.5" from 250 basis points (for forms and pages). */
export function bpsText(bps: number): string {
  const whole = Math.trunc(bps / 100);
  const rest = bps % 100;
  return rest === 0 ? String(whole) : `${whole}.${String(rest).padStart(2, '0').replace(/0$/, '')}`;
}
