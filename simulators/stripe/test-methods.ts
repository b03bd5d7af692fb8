// Stripe's documented test payment methods (docs.stripe.com/testing, "Declined payments";
// docs.stripe.com/payments/ach-direct-debit/accept-a-payment, "Test account numbers"). Each entry says
// how the simulator behaves when a payment uses it. Only these numbers are accepted, as in test mode.

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover';
export type CardFunding = 'credit' | 'debit' | 'prepaid' | 'unknown';

/** What a card does when charged. */
export type CardBehaviour =
  | { readonly kind: 'succeed' }
  | { readonly kind: 'decline'; readonly code: string; readonly declineCode: string | null; readonly message: string }
  | { readonly kind: 'authenticate' } // 3D Secure required: requires_action on-session, declined off-session
  | { readonly kind: 'dispute' }; // succeeds, then the cardholder disputes it (fraudulent)

export interface TestCard {
  readonly number: string;
  readonly brand: CardBrand;
  readonly funding: CardFunding;
  readonly behaviour: CardBehaviour;
}

const decline = (code: string, declineCode: string | null, message: string): CardBehaviour => ({ kind: 'decline', code, declineCode, message });
const ok: CardBehaviour = { kind: 'succeed' };

const CARDS: Record<string, TestCard> = {
  visa: { number: '4242424242424242', brand: 'visa', funding: 'credit', behaviour: ok },
  visa_debit: { number: '4000056655665556', brand: 'visa', funding: 'debit', behaviour: ok },
  mastercard: { number: '5555555555554444', brand: 'mastercard', funding: 'credit', behaviour: ok },
  mastercard_debit: { number: '5200828282828210', brand: 'mastercard', funding: 'debit', behaviour: ok },
  mastercard_prepaid: { number: '5105105105105100', brand: 'mastercard', funding: 'prepaid', behaviour: ok },
  amex: { number: '378282246310005', brand: 'amex', funding: 'credit', behaviour: ok },
  discover: { number: '6011111111111117', brand: 'discover', funding: 'credit', behaviour: ok },
  chargeDeclined: {
    number: '4000000000000002',
    brand: 'visa',
    funding: 'credit',
    behaviour: decline('card_declined', 'generic_decline', 'Your card was declined.'),
  },
  chargeDeclinedInsufficientFunds: {
    number: '4000000000009995',
    brand: 'visa',
    funding: 'credit',
    behaviour: decline('card_declined', 'insufficient_funds', 'Your card has insufficient funds.'),
  },
  chargeDeclinedLostCard: {
    number: '4000000000009987',
    brand: 'visa',
    funding: 'credit',
    behaviour: decline('card_declined', 'lost_card', 'Your card was declined.'),
  },
  chargeDeclinedStolenCard: {
    number: '4000000000009979',
    brand: 'visa',
    funding: 'credit',
    behaviour: decline('card_declined', 'stolen_card', 'Your card was declined.'),
  },
  chargeDeclinedExpiredCard: {
    number: '4000000000000069',
    brand: 'visa',
    funding: 'credit',
    behaviour: decline('expired_card', 'expired_card', 'Your card has expired.'),
  },
  chargeDeclinedIncorrectCvc: {
    number: '4000000000000127',
    brand: 'visa',
    funding: 'credit',
    behaviour: decline('incorrect_cvc', 'incorrect_cvc', "Your card's security code is incorrect."),
  },
  chargeDeclinedProcessingError: {
    number: '4000000000000119',
    brand: 'visa',
    funding: 'credit',
    behaviour: decline('processing_error', 'processing_error', 'An error occurred while processing your card. Try again in a little bit.'),
  },
  authenticationRequired: { number: '4000002760003184', brand: 'visa', funding: 'credit', behaviour: { kind: 'authenticate' } },
  createDispute: { number: '4000000000000259', brand: 'visa', funding: 'credit', behaviour: { kind: 'dispute' } },
};

/** `pm_card_<name>` and `tok_<name>`; Stripe also spells some as `pm_card_visa_chargeDeclined…`. */
export function cardForToken(token: string): TestCard | null {
  const m = /^(?:pm_card_|tok_)(.+)$/.exec(token);
  if (!m) return null;
  const name = (m[1] ?? '').replace(/^visa_(chargeDeclined)/, '$1');
  return CARDS[name] ?? null;
}

export function cardForNumber(number: string): TestCard | null {
  const digits = number.replace(/[\s-]/g, '');
  return Object.values(CARDS).find((c) => c.number === digits) ?? null;
}

export const TEST_CARDS: readonly TestCard[] = Object.values(CARDS);

/** ACH failure codes on a charge (charge.failure_code) and the NACHA return code each stands for. */
export type AchFailureCode = 'account_closed' | 'no_account' | 'insufficient_funds' | 'debit_not_authorized' | 'invalid_currency';

export type BankBehaviour =
  | { readonly kind: 'succeed' }
  | { readonly kind: 'fail'; readonly code: AchFailureCode; readonly returnCode: string; readonly message: string }
  | { readonly kind: 'dispute' } // settles, then the account holder disputes it (R10-style)
  | { readonly kind: 'stay_processing' }; // never settles on its own (test PaymentIntent cancellation)

export interface TestBankAccount {
  readonly accountNumber: string;
  readonly token: string;
  readonly behaviour: BankBehaviour;
}

export const TEST_ROUTING_NUMBER = '110000000';
export const TEST_BANK_NAME = 'STRIPE TEST BANK';

const fail = (code: AchFailureCode, returnCode: string, message: string): BankBehaviour => ({ kind: 'fail', code, returnCode, message });

export const TEST_BANK_ACCOUNTS: readonly TestBankAccount[] = [
  { accountNumber: '000123456789', token: 'pm_usBankAccount_success', behaviour: { kind: 'succeed' } },
  {
    accountNumber: '000111111116',
    token: 'pm_usBankAccount_noAccount',
    behaviour: fail('no_account', 'R03', "The customer's bank account could not be located."),
  },
  {
    accountNumber: '000111111113',
    token: 'pm_usBankAccount_accountClosed',
    behaviour: fail('account_closed', 'R02', "The customer's bank account has been closed."),
  },
  {
    accountNumber: '000222222227',
    token: 'pm_usBankAccount_insufficientFunds',
    behaviour: fail('insufficient_funds', 'R01', "The customer's account has insufficient funds to cover this payment."),
  },
  {
    accountNumber: '000333333335',
    token: 'pm_usBankAccount_debitNotAuthorized',
    behaviour: fail('debit_not_authorized', 'R10', 'The customer has notified their bank that this payment was unauthorized.'),
  },
  {
    accountNumber: '000444444440',
    token: 'pm_usBankAccount_invalidCurrency',
    behaviour: fail('invalid_currency', 'R17', 'The bank was unable to process this payment because of its currency.'),
  },
  { accountNumber: '000555555559', token: 'pm_usBankAccount_dispute', behaviour: { kind: 'dispute' } },
  { accountNumber: '000000000009', token: 'pm_usBankAccount_processing', behaviour: { kind: 'stay_processing' } },
];

/** `pm_usBankAccount` (no suffix) is accepted as the success token too. */
export function bankForToken(token: string): TestBankAccount | null {
  if (token === 'pm_usBankAccount') return TEST_BANK_ACCOUNTS[0] ?? null;
  return TEST_BANK_ACCOUNTS.find((b) => b.token === token) ?? null;
}

export function bankForNumber(accountNumber: string): TestBankAccount | null {
  return TEST_BANK_ACCOUNTS.find((b) => b.accountNumber === accountNumber.replace(/\s/g, '')) ?? null;
}
