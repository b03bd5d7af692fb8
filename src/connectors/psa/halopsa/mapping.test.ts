// Pure HaloPSA → Settle mapping: exact money, decimal quantities, types, balances, contacts.
import { describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import { isoInstant } from './api.ts';
import { extendedAmount, mapClient, mapInvoice, mapLine } from './mapping.ts';
import type { HaloInvoice } from './schema.ts';

const base: HaloInvoice = {
  id: 1001,
  invoicenumber: 'INV001001',
  client_id: 101,
  invoice_date: '2024-03-01T00:00:00',
  duedate: '2024-03-31T00:00:00',
  currency: 'USD',
  total: 108.25,
  tax_total: 8.25,
  amountpaid: 0,
  amountdue: 108.25,
  paymentstatus: 0,
  posted: true,
  voided: false,
  last_modified: '2024-03-01T08:15:00.123',
  lines: [{ id: 5001, qty_order: 2, unit_price: 50, net_amount: 100, item_shortdescription: 'Firewall' }],
};

describe('HaloPSA mapping', () => {
  it('maps an invoice exactly: subtotal = total − tax, the balance is amountdue, UTC stamps without offset', () => {
    const inv = mapInvoice(base, 'USD');
    expect(inv).toMatchObject({
      externalId: '1001',
      number: 'INV001001',
      type: 'standard',
      status: 'Unpaid',
      clientExternalId: '101',
      issuedOn: '2024-03-01',
      dueOn: '2024-03-31',
      subtotal: money(10000n, 'USD'),
      tax: money(825n, 'USD'),
      total: money(10825n, 'USD'),
      balance: money(10825n, 'USD'),
      updatedAt: '2024-03-01T08:15:00.123Z',
    });
    expect(inv.lines).toEqual([{ externalId: 'line:5001', kind: 'product', description: 'Firewall', quantity: '2', amount: money(10000n, 'USD') }]);
  });

  it('takes money the float-free way: 0.1 + 0.2 style values stay exact, more decimals than cents are refused', () => {
    expect(mapInvoice({ ...base, total: 0.3, tax_total: 0.1, amountdue: 0.3 }, 'USD').subtotal).toEqual(money(20n, 'USD'));
    expect(() => mapInvoice({ ...base, total: 10.005 }, 'USD')).toThrow(/decimal places/);
  });

  it('computes a line without net_amount as qty × unit price, half-up, and keeps the quantity as text', () => {
    expect(mapLine({ id: 1, qty_order: 1.25, unit_price: 33.333 }, 'USD')).toMatchObject({ quantity: '1.25', amount: money(4167n, 'USD') });
    expect(extendedAmount('3', '0.335', 'USD')).toEqual(money(101n, 'USD'));
    expect(() => mapLine({ id: 1, qty_order: 1e-7, unit_price: 1 }, 'USD')).toThrow(/plain decimal/);
  });

  it('credit notes, agreement billing, void and unposted invoices', () => {
    expect(mapInvoice({ ...base, total: -50, tax_total: 0, amountdue: -50 }, 'USD').type).toBe('credit_memo');
    expect(mapInvoice({ ...base, recurring_invoice_id: 7 }, 'USD').type).toBe('agreement');
    const voided = mapInvoice({ ...base, voided: true }, 'USD');
    expect([voided.status, voided.balance]).toEqual(['Void', money(0n, 'USD')]);
    expect(mapInvoice({ ...base, posted: false }, 'USD').status).toBe('Not posted');
    expect(mapInvoice({ ...base, paymentstatus: 1, amountdue: 8.25 }, 'USD')).toMatchObject({ status: 'Partially Paid', balance: money(825n, 'USD') });
  });

  it('uses the invoice currency, else the connection default; refuses an invoice without its lines', () => {
    expect(mapInvoice({ ...base, currency: 'gbp' }, 'USD').currency).toBe('GBP');
    expect(mapInvoice({ ...base, currency: null }, 'CAD').currency).toBe('CAD');
    expect(() => mapInvoice({ ...base, lines: null }, 'USD')).toThrow(/lines/);
  });

  it('bills the accounts contact, else the main contact; cleans unstorable text', () => {
    const client = {
      id: 101,
      name: 'Acme\u0000 Dental',
      accountsid: 'C1',
      accountsemailaddress: 'ap@acme.example',
      accountsfirstname: 'Pat',
      accountslastname: 'Lee',
      alastupdate: '2024-01-01T00:00:00',
    };
    const users = [
      { id: 1, client_id: 101, name: 'Other', emailaddress: 'o@acme.example', ismaincontact: false },
      { id: 2, client_id: 101, name: 'Main', emailaddress: 'm@acme.example', ismaincontact: true },
    ];
    expect(mapClient(client, users)).toMatchObject({ billingEmail: 'ap@acme.example', billingContactName: 'Pat Lee', identifier: 'C1', name: 'Acme Dental' });
    expect(mapClient(client, users).textRepairs?.[0]).toMatch(/name/);
    expect(mapClient({ ...client, accountsemailaddress: '' }, users)).toMatchObject({ billingEmail: 'm@acme.example', billingContactName: 'Main' });
    expect(mapClient({ ...client, accountsemailaddress: null }, [])).toMatchObject({ billingEmail: null, billingContactName: null });
  });

  it('reads Halo date-times as UTC', () => {
    expect(isoInstant('2024-05-01T12:34:56')).toBe('2024-05-01T12:34:56.000Z');
    expect(isoInstant('2024-05-01T12:34:56+02:00')).toBe('2024-05-01T10:34:56.000Z');
  });
});
