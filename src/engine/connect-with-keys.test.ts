// The keys forms come from the connector registry's zod schemas, and the GL-mapping check follows the account
// types settle doctor checks: both without a database or a vendor.
import { describe, expect, it } from 'vitest';
import { formFields, parseForm } from './connect-with-keys.ts';
import { checkAccounts, choicesFor, suggestAccounts, BOOKS_ACCOUNT_SETTINGS, type BooksAccount } from './books-accounts.ts';

describe('keys form from the registry', () => {
  it('ConnectWise: required fields first, secrets as secrets, hints from .describe(), defaults under Advanced', () => {
    const f = formFields('psa', 'connectwise');
    const byName = new Map(f.map((x) => [x.name, x]));
    expect(byName.get('config.baseUrl')).toMatchObject({ required: true, kind: 'url', secret: false, hint: 'https://{site}/v4_6_release/apis/3.0' });
    expect(byName.get('secrets.privateKey')).toMatchObject({ required: true, secret: true });
    expect(byName.get('config.currency')).toMatchObject({ required: false, advanced: true, defaultValue: 'USD' });
  });

  it('Stripe: the webhook settings are optional because Settle registers its own endpoint', () => {
    const f = new Map(formFields('payments', 'stripe').map((x) => [x.name, x]));
    expect(f.get('secrets.webhookSecret')).toMatchObject({ required: false, advanced: true, secret: true });
    expect(f.get('config.requestsPerSecond')).toMatchObject({ kind: 'number', required: false });
  });

  it('errors per field, in words; empty optional fields left out; numbers parsed', () => {
    const empty = parseForm('psa', 'connectwise', {});
    expect(Object.keys(empty.errors).sort()).toEqual(['config.baseUrl', 'config.clientId', 'config.companyId', 'secrets.privateKey', 'secrets.publicKey']);
    expect(empty.errors['config.baseUrl']).toBe('Enter the API address');
    const bad = parseForm('payments', 'stripe', { 'secrets.secretKey': 'nope', 'config.publishableKey': 'pk_test_abc', 'config.requestsPerSecond': '40' });
    expect(bad.errors['secrets.secretKey']).toContain('sk_test_');
    expect(bad.errors['secrets.webhookSecret']).toBeUndefined();
    expect(bad.config['requestsPerSecond']).toBe(40);
  });
});

describe('GL mapping against the chart of accounts', () => {
  const chart: BooksAccount[] = [
    { id: '1', name: 'Checking', type: 'Bank', subType: 'Checking' },
    { id: '2', name: 'Undeposited Funds', type: 'Other Current Asset', subType: 'UndepositedFunds' },
    { id: '3', name: 'Office supplies', type: 'Expense', subType: 'SuppliesMaterials' },
    { id: '4', name: 'Merchant Fees', type: 'Expense', subType: 'BankCharges' },
    { id: '5', name: 'Settle clearing', type: 'Other Current Asset', subType: 'OtherCurrentAssets' },
  ];
  const setting = (k: string) => BOOKS_ACCOUNT_SETTINGS.find((s) => s.key === k)!;

  it('suggests the bank, Undeposited Funds and a fee-named expense account', () => {
    expect(suggestAccounts(chart)).toEqual({ bankAccountId: '1', undepositedFundsAccountId: '2', feeExpenseAccountId: '4' });
  });

  it('offers only fitting accounts; Undeposited Funds is never the clearing account', () => {
    expect(choicesFor(setting('feeExpenseAccountId'), chart).map((a) => a.id)).toEqual(['3', '4']);
    expect(choicesFor(setting('clearingAccountId'), chart).map((a) => a.id)).toEqual(['1', '5']);
  });

  it('names what is wrong per setting', () => {
    const e = checkAccounts({ bankAccountId: '4', feeExpenseAccountId: '', clearingAccountId: '99' }, chart);
    expect(e['bankAccountId']).toContain('“Merchant Fees” is an Expense account; choose a Bank account');
    expect(e['feeExpenseAccountId']).toBe('Choose the processing fees account');
    expect(e['clearingAccountId']).toContain('not an active account');
    expect(checkAccounts({ bankAccountId: '1', feeExpenseAccountId: '4' }, chart)).toEqual({});
  });
});
