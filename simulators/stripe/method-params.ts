// A PaymentMethod from request parameters: `POST /v1/payment_methods` and an intent's
// `payment_method_data`. Test tokens (`card[token]`) are fine with any key; raw card numbers only with the
// publishable key (Stripe.js and the hosted fields), as Stripe refuses them on secret-key calls unless the
// account is enabled for raw card data. A bank account typed by its numbers is created unverified: Stripe
// debits it only once the customer confirmed the microdeposits.
import { missingParam, noSuch, paramError, rawCardDataError } from './errors.ts';
import type { FormObject } from './form.ts';
import { createBankMethod, createCardMethod, methodFromToken, testBankOrError, testCardOrError } from './methods.ts';
import type { PaymentMethod } from './objects.ts';
import { applyMetadata, optHash, reqString } from './params.ts';
import type { StripeStore } from './store.ts';

export function methodFromParams(store: StripeStore, params: FormObject, publishable: boolean, prefix = ''): PaymentMethod {
  // card[number] under payment_method_data → payment_method_data[card][number]
  const name = (k: string): string => (prefix ? `${prefix}[${k.includes('[') ? k.replace('[', '][') : `${k}]`}` : k);
  const type = reqString(params, 'type');
  const billingHash = optHash(params, 'billing_details');
  const billing = {
    name: typeof billingHash?.['name'] === 'string' ? billingHash['name'] : null,
    email: typeof billingHash?.['email'] === 'string' ? billingHash['email'] : null,
  };
  const metadata = applyMetadata({}, params);
  if (type === 'card') {
    const card = optHash(params, 'card');
    if (!card) throw missingParam(name('card'));
    const token = card['token'];
    if (typeof token === 'string') {
      const pm = methodFromToken(store, token);
      if (!pm) throw noSuch('token', token, name('card[token]'));
      pm.billing_details.name = billing.name;
      pm.billing_details.email = billing.email;
      pm.metadata = metadata;
      return pm;
    }
    const number = card['number'];
    if (typeof number !== 'string') throw missingParam(name('card[number]'));
    if (!publishable) throw rawCardDataError(name('card[number]'));
    const month = Number(card['exp_month']);
    const year = Number(card['exp_year']);
    if (!Number.isInteger(month) || month < 1 || month > 12)
      throw paramError("Your card's expiration month is invalid.", name('card[exp_month]'), 'invalid_expiry_month');
    if (!Number.isInteger(year) || (year < 100 ? 2000 + year : year) < new Date().getUTCFullYear())
      throw paramError("Your card's expiration year is invalid.", name('card[exp_year]'), 'invalid_expiry_year');
    return createCardMethod(store, testCardOrError(number, name('card[number]')), {
      expMonth: month,
      expYear: year < 100 ? 2000 + year : year,
      billing,
      metadata,
    });
  }
  if (type === 'us_bank_account') {
    const bank = optHash(params, 'us_bank_account');
    if (!bank) throw missingParam(name('us_bank_account'));
    if (bank['financial_connections_account'] !== undefined) {
      throw paramError(
        'Financial Connections accounts are not simulated; enter the test routing and account numbers (verified with microdeposits) or use a pm_usBankAccount_… test token.',
        name('us_bank_account[financial_connections_account]'),
        'payment_method_invalid_parameter',
      );
    }
    // Stripe requires the account holder's name for ACH Direct Debit.
    if (!billing.name) throw missingParam(name('billing_details[name]'));
    const routing = typeof bank['routing_number'] === 'string' ? bank['routing_number'] : '';
    const account = typeof bank['account_number'] === 'string' ? bank['account_number'] : '';
    const pm = createBankMethod(store, testBankOrError(routing, account, name('us_bank_account[account_number]')), {
      holderType: bank['account_holder_type'] === 'company' ? 'company' : 'individual',
      accountType: bank['account_type'] === 'savings' ? 'savings' : 'checking',
      billing,
      metadata,
    });
    store.unverifiedBanks.add(pm.id);
    return pm;
  }
  throw paramError(`Invalid type: must be one of card, us_bank_account (simulator)`, name('type'));
}
