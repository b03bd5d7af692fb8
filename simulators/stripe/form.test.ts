import { describe, expect, it } from 'vitest';
import { canonical, parseForm } from './form.ts';

describe('Stripe form encoding', () => {
  it('decodes nested hashes, indexed arrays (stripe-node) and [] arrays (curl)', () => {
    const p = parseForm(
      'amount=2000&metadata%5Binvoice%5D=INV-1&metadata[42]=x&payment_method_types[0]=card&payment_method_types[1]=us_bank_account' +
        '&expand[]=latest_charge&expand[]=payment_method&mandate_data[customer_acceptance][online][ip_address]=1.2.3.4&description=a+b%26c',
    );
    expect(p).toEqual({
      amount: '2000',
      metadata: { invoice: 'INV-1', '42': 'x' },
      payment_method_types: ['card', 'us_bank_account'],
      expand: ['latest_charge', 'payment_method'],
      mandate_data: { customer_acceptance: { online: { ip_address: '1.2.3.4' } } },
      description: 'a b&c',
    });
  });
  it('keeps arrays of hashes in index order', () => {
    expect(parseForm('items[1][price]=b&items[0][price]=a')).toEqual({ items: [{ price: 'a' }, { price: 'b' }] });
  });
  it('gives equal canonical text for equal parameters in any order, different for different ones', () => {
    expect(canonical(parseForm('a=1&b[x]=2'))).toBe(canonical(parseForm('b[x]=2&a=1')));
    expect(canonical(parseForm('a=1&b[x]=2'))).not.toBe(canonical(parseForm('a=1&b[x]=3')));
  });
});
