// The simulator's JSON held to Intuit's own entity model: every key of an Invoice, Payment, Deposit or
// Customer (and of their lines, links and metadata) must be an element or attribute of the XSD
// complexType or its bases. Also checks that schema-fields.ts is still what the XSD says.
import { describe, expect, it } from 'vitest';
import { renderSchemaFields } from './gen-schema-fields.ts';
import { readFileSync } from 'node:fs';
import { startQuickBooksSimulator } from './index.ts';
import { fieldsOf, loadXsdTypes } from './xsd-schema.ts';

const types = loadXsdTypes();

/** Keys of `obj` not defined by `typeName`; recurses into complex-typed children. ReferenceType is {value,name,type}. */
function strayKeys(typeName: string, obj: unknown, path: string): string[] {
  if (typeName === 'ReferenceType') {
    return Object.keys(obj as object)
      .filter((k) => !['value', 'name', 'type'].includes(k))
      .map((k) => `${path}.${k}`);
  }
  const fields = fieldsOf(types, typeName);
  const out: string[] = [];
  for (const [key, value] of Object.entries(obj as object)) {
    if (!fields.has(key)) {
      out.push(`${path}.${key}`);
      continue;
    }
    const t = fields.get(key);
    if (!t || t.startsWith('xs:') || !types.has(t) || value === null || typeof value !== 'object') continue;
    for (const [i, item] of (Array.isArray(value) ? value : [value]).entries()) out.push(...strayKeys(t, item, `${path}.${key}[${i}]`));
  }
  return out;
}

describe('simulator JSON against the QBO XSD', () => {
  it('Invoice, Payment, Deposit, Customer, Account and Item use only XSD field names', async () => {
    const qbo = await startQuickBooksSimulator();
    try {
      const inv = qbo.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '100.00', email: 'ap@acme.test' });
      const tokens = (await (
        await fetch(qbo.oauthTokenUrl, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${qbo.clientId}:${qbo.clientSecret}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: `grant_type=refresh_token&refresh_token=${qbo.initialRefreshToken}`,
        })
      ).json()) as { access_token: string };
      const h = { authorization: `Bearer ${tokens.access_token}`, accept: 'application/json', 'content-type': 'application/json' };
      const base = `${qbo.baseUrl}/v3/company/${qbo.realmId}`;
      const post = async (entity: string, body: unknown) =>
        (await (await fetch(`${base}/${entity}`, { method: 'POST', headers: h, body: JSON.stringify(body) })).json()) as Record<
          string,
          Record<string, unknown>
        >;
      const customerId = (inv['CustomerRef'] as { value: string }).value;
      const pay = await post('payment', {
        CustomerRef: { value: customerId },
        TotalAmt: 100,
        PaymentRefNum: 'ch_1',
        Line: [{ Amount: 100, LinkedTxn: [{ TxnId: inv.Id, TxnType: 'Invoice' }] }],
      });
      const dep = await post('deposit', {
        DepositToAccountRef: { value: qbo.sim.accounts.checking },
        Line: [
          { Amount: 100, LinkedTxn: [{ TxnId: pay['Payment']!['Id'], TxnType: 'Payment' }] },
          { Amount: -3.2, DetailType: 'DepositLineDetail', DepositLineDetail: { AccountRef: { value: qbo.sim.accounts.merchantFees } } },
        ],
      });
      const read = async (entity: string, id: string) =>
        ((await (await fetch(`${base}/${entity.toLowerCase()}/${id}`, { headers: h })).json()) as Record<string, unknown>)[entity];
      const samples: [string, unknown][] = [
        ['Payment', pay['Payment']],
        ['Deposit', dep['Deposit']],
        ['Invoice', await read('Invoice', inv.Id)],
        ['Customer', await read('Customer', customerId)],
        ['Account', await read('Account', qbo.sim.accounts.checking)],
        ['Item', await read('Item', qbo.sim.accounts.servicesItem)],
      ];
      for (const [type, json] of samples) {
        expect(json, type).toBeTypeOf('object');
        expect(strayKeys(type, json, type)).toEqual([]);
      }
      // And the test can fail: a misspelt field is caught.
      expect(strayKeys('Payment', { ...(pay['Payment'] as object), PaymentRefNumber: 'x' }, 'Payment')).toEqual(['Payment.PaymentRefNumber']);
    } finally {
      await qbo.close();
    }
  });

  it('schema-fields.ts matches the XSD (regenerate with gen-schema-fields.ts)', () => {
    expect(readFileSync(new URL('./schema-fields.ts', import.meta.url), 'utf8')).toBe(renderSchemaFields());
  });
});
