import { describe, expect, it } from 'vitest';
import { money } from '../../../domain/money.ts';
import {
  billedAs,
  ConnectWiseMappingError,
  extendedAmount,
  mapChangeNotice,
  mapClient,
  mapExpenseLine,
  mapInvoice,
  mapInvoiceType,
  mapProductLine,
  mapTimeLine,
} from './mapping.ts';
import { cwCompany, cwContact, cwExpenseEntry, cwInvoice, cwProductItem, cwTimeEntry } from './schema.ts';

// Recorded-style payloads: the shape ConnectWise Manage 2022.1 returns (extra fields included on purpose).
const invoicePayload = {
  id: 5123,
  invoiceNumber: 'INV-15123',
  type: 'Standard',
  status: { id: 2, name: 'Sent', _info: { status_href: 'https://x' } },
  company: { id: 311, identifier: 'HarborDental', name: 'Harbor Dental', _info: { company_href: 'https://x' } },
  billToCompany: { id: 312, identifier: 'HarborGroup', name: 'Harbor Group' },
  applyToType: 'All',
  billingTerms: { id: 1, name: 'Net 30 days' },
  date: '2024-02-01T00:00:00Z',
  dueDate: '2024-03-02T00:00:00Z',
  currency: { id: 7, symbol: '$', currencyCode: 'CAD', name: 'Canadian Dollars' },
  serviceTotal: 412.5,
  productTotal: 1140,
  subtotal: 1552.5,
  total: 1680.58,
  salesTax: 128.08,
  payments: 500,
  credits: 0,
  balance: 1180.58,
  _info: { lastUpdated: '2024-02-01T10:15:00Z', updatedBy: 'jtech' },
};

describe('ConnectWise mapping: invoices', () => {
  it('maps an invoice with amounts parsed exactly and the bill-to company as client', () => {
    const inv = mapInvoice(cwInvoice.parse(invoicePayload), [], 'USD');
    expect(inv).toMatchObject({
      externalId: '5123',
      number: 'INV-15123',
      type: 'standard',
      status: 'Sent',
      clientExternalId: '312',
      issuedOn: '2024-02-01',
      dueOn: '2024-03-02',
      currency: 'CAD',
      updatedAt: '2024-02-01T10:15:00Z',
    });
    expect(inv.subtotal).toEqual(money(155_250n, 'CAD'));
    expect(inv.tax).toEqual(money(12_808n, 'CAD'));
    expect(inv.total).toEqual(money(168_058n, 'CAD'));
    expect(inv.balance).toEqual(money(118_058n, 'CAD'));
  });

  it('falls back to the connection currency and the company when fields are absent', () => {
    const { currency: _c, billToCompany: _b, ...bare } = invoicePayload;
    const inv = mapInvoice(cwInvoice.parse({ ...bare, dueDate: null }), [], 'USD');
    expect(inv.currency).toBe('USD');
    expect(inv.clientExternalId).toBe('311');
    expect(inv.dueOn).toBeNull();
  });

  // ConnectWise leaves out a field with no value; its types allow null for numbers, flags and
  // references. Either way the record must map the same.
  it.each(['missing', 'null'] as const)('maps the same when optional fields are %s', (how) => {
    const optional = ['status', 'billToCompany', 'dueDate', 'currency', 'payments', 'credits'] as const;
    const payload: Record<string, unknown> = { ...invoicePayload };
    for (const k of optional) {
      if (how === 'missing') delete payload[k];
      else payload[k] = null;
    }
    const inv = mapInvoice(cwInvoice.parse(payload), [], 'USD');
    expect(inv).toMatchObject({ status: '', clientExternalId: '311', dueOn: null, currency: 'USD' });
    const contact = { id: 9, company: { id: 4 }, defaultBillingFlag: true, communicationItems: [{ type: { name: 'Email' }, communicationType: 'Email' }] };
    const nulled = {
      ...contact,
      firstName: null,
      lastName: null,
      inactiveFlag: null,
      communicationItems: [{ value: null, communicationType: 'Email', defaultFlag: null }],
    };
    const company = cwCompany.parse({ id: 4, identifier: 'Acme', name: 'Acme', _info: { lastUpdated: '2024-01-01T00:00:00Z' } });
    const client = mapClient(company, [cwContact.parse(how === 'missing' ? contact : nulled)]);
    expect(client).toMatchObject({ billingEmail: null, billingContactName: null });
    const line =
      how === 'missing'
        ? { id: 1, quantity: 2, price: 5, billableOption: 'Billable' }
        : { id: 1, quantity: 2, price: 5, billableOption: 'Billable', description: null, invoice: null };
    expect(mapProductLine(cwProductItem.parse(line), 'USD')).toMatchObject({ description: '', amount: money(1000n, 'USD') });
  });

  it.each([
    ['Standard', 'standard'],
    ['Agreement', 'agreement'],
    ['CreditMemo', 'credit_memo'],
    ['DownPayment', 'down_payment'],
    ['Miscellaneous', 'miscellaneous'],
    ['Progress', 'progress'],
  ] as const)('maps invoice type %s to %s', (vendor, ours) => {
    expect(mapInvoiceType(vendor)).toBe(ours);
  });

  it('refuses an invoice type it does not know instead of guessing', () => {
    expect(() => mapInvoiceType('Recurring')).toThrow(ConnectWiseMappingError);
    expect(() => mapInvoice(cwInvoice.parse({ ...invoicePayload, type: 'standard' }), [], 'USD')).toThrow(/invoice type "standard"/);
  });

  it('refuses amounts with more decimals than the currency has', () => {
    expect(() => mapInvoice(cwInvoice.parse({ ...invoicePayload, total: 10.005 }), [], 'USD')).toThrow(/decimal places/);
  });
});

describe('ConnectWise mapping: lines', () => {
  it('extends quantity × price exactly, rounding half-up to the cent', () => {
    expect(extendedAmount(3, 19.99, 'USD')).toEqual(money(5997n, 'USD'));
    expect(extendedAmount(0.1, 0.2, 'USD')).toEqual(money(2n, 'USD')); // 0.02, no float drift
    expect(extendedAmount(1.5, 33.33, 'USD')).toEqual(money(5000n, 'USD')); // 49.995 → 50.00
    expect(extendedAmount(1, -45, 'USD')).toEqual(money(-4500n, 'USD'));
    expect(() => extendedAmount(1e-7, 1, 'USD')).toThrow(/plain decimal/);
  });

  it('maps product, time and expense records that reference the invoice', () => {
    const product = cwProductItem.parse({
      id: 10_004,
      description: 'Managed Server',
      quantity: 2,
      price: 150,
      cost: 80,
      billableOption: 'Billable',
      invoice: { id: 5123, identifier: 'INV-15123' },
    });
    const time = cwTimeEntry.parse({
      id: 20_001,
      notes: 'Replaced switch\nticket #4411',
      actualHours: 3,
      hoursBilled: 2.75,
      hourlyRate: 150,
      billableOption: 'Billable',
      invoice: { id: 5123 },
    });
    const expense = cwExpenseEntry.parse({
      id: 3001,
      notes: '',
      type: { id: 3, name: 'Mileage' },
      amount: 42.4,
      invoiceAmount: 46.64,
      billableOption: 'Billable',
      invoice: { id: 5123 },
    });
    expect(mapProductLine(product, 'USD')).toEqual({
      externalId: 'product:10004',
      kind: 'product',
      description: 'Managed Server',
      quantity: '2',
      amount: money(30_000n, 'USD'),
    });
    expect(mapTimeLine(time, 'USD')).toEqual({
      externalId: 'time:20001',
      kind: 'time',
      description: 'Replaced switch',
      quantity: '2.75',
      amount: money(41_250n, 'USD'),
    });
    expect(mapExpenseLine(expense, 'USD')).toEqual({
      externalId: 'expense:3001',
      kind: 'expense',
      description: 'Mileage',
      quantity: '1',
      amount: money(4664n, 'USD'),
    });
  });

  it('shows no-charge lines at zero and leaves do-not-bill lines off the invoice', () => {
    const base = { id: 1, description: 'x', quantity: 1, price: 99 };
    expect(mapProductLine(cwProductItem.parse({ ...base, billableOption: 'NoCharge' }), 'USD')?.amount).toEqual(money(0n, 'USD'));
    expect(mapProductLine(cwProductItem.parse({ ...base, billableOption: 'DoNotBill' }), 'USD')).toBeNull();
    expect(() => billedAs('Sometimes')).toThrow(ConnectWiseMappingError);
  });
});

describe('ConnectWise mapping: clients and callbacks', () => {
  const company = cwCompany.parse({
    id: 311,
    identifier: 'HarborDental',
    name: 'Harbor Dental',
    status: { id: 1, name: 'Active' },
    defaultContact: { id: 9, name: 'Sam Patel' },
    _info: { lastUpdated: '2024-01-03T08:00:00Z' },
  });
  const contact = (id: number, flags: object, email: string) =>
    cwContact.parse({
      id,
      firstName: 'Pat',
      lastName: `N${id}`,
      company: { id: 311, identifier: 'HarborDental' },
      ...flags,
      communicationItems: [
        { id: 1, type: { id: 2, name: 'Direct' }, value: '555-0100', defaultFlag: true, communicationType: 'Phone' },
        { id: 2, type: { id: 1, name: 'Email' }, value: email, defaultFlag: true, communicationType: 'Email' },
      ],
    });

  it('takes the billing email from the default billing contact', () => {
    const client = mapClient(company, [
      contact(9, { defaultFlag: true }, 'sam@harbor.example'),
      contact(10, { defaultBillingFlag: true }, 'ap@harbor.example'),
    ]);
    expect(client).toEqual({
      externalId: '311',
      identifier: 'HarborDental',
      name: 'Harbor Dental',
      billingEmail: 'ap@harbor.example',
      billingContactName: 'Pat N10',
      updatedAt: '2024-01-03T08:00:00Z',
    });
  });

  it('falls back to the default contact, skipping inactive billing contacts', () => {
    const client = mapClient(company, [
      contact(10, { defaultBillingFlag: true, inactiveFlag: true }, 'old@harbor.example'),
      contact(9, {}, 'sam@harbor.example'),
    ]);
    expect(client.billingEmail).toBe('sam@harbor.example');
    expect(mapClient(company, []).billingEmail).toBeNull();
  });

  it('maps a callback to a change notice keyed by MessageId', () => {
    const payload = { MessageId: 'b9f1', CompanyId: 'acme', Action: 'Updated', Type: 'invoice', ID: 5123, Metadata: { key_url: 'https://x' } };
    expect(mapChangeNotice(payload)).toEqual({ eventId: 'b9f1', entity: 'invoice', externalId: '5123', action: 'updated' });
    expect(mapChangeNotice({ ...payload, Type: 'Company' }).entity).toBe('company');
    expect(() => mapChangeNotice({ ...payload, Action: 'merged' })).toThrow(ConnectWiseMappingError);
  });
});
