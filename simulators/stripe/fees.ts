// Stripe's standard US pricing (stripe.com/pricing): cards 2.9% + 30¢; ACH Direct Debit 0.8% capped
// at $5.00; a dispute costs $15.00. Integer cents only, rounded half-up to the cent (Stripe rounds
// fees to the nearest cent; the rounding is named here rather than left to float formatting).
import { divideRounded } from '../../src/domain/money.ts';

export type FeeKind = 'card' | 'us_bank_account';

export const CARD_RATE_PER_MILLE = 29n; // 2.9 %
export const CARD_FIXED_CENTS = 30n;
export const ACH_RATE_PER_MILLE = 8n; // 0.8 %
export const ACH_CAP_CENTS = 500n;
export const DISPUTE_FEE_CENTS = 1500n;

export function processingFee(kind: FeeKind, amountCents: bigint): bigint {
  switch (kind) {
    case 'card':
      return divideRounded(amountCents * CARD_RATE_PER_MILLE, 1000n, 'half-up') + CARD_FIXED_CENTS;
    case 'us_bank_account': {
      const fee = divideRounded(amountCents * ACH_RATE_PER_MILLE, 1000n, 'half-up');
      return fee > ACH_CAP_CENTS ? ACH_CAP_CENTS : fee;
    }
  }
}
