// The simulator refuses what ConnectWise refuses (unknown condition names, `_info/…` paths the vendor
// does not document) and models what it documents (childConditions, the pageSize clamp, fields left
// out instead of null, payment PUT/PATCH of paymentDate, /system/info, invoice PDF, agreements, sites).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectWiseSimulator, type RunningConnectWiseSimulator } from './index.ts';

let cw: RunningConnectWiseSimulator;
let auth: Record<string, string>;

beforeAll(async () => {
  cw = await startConnectWiseSimulator({ seed: { companies: 6, invoices: 30, seed: 3, from: '2024-01-01', to: '2024-02-28' } });
  const c = cw.credentials;
  auth = { authorization: `Basic ${Buffer.from(`${c.companyId}+${c.publicKey}:${c.privateKey}`).toString('base64')}`, clientId: c.clientId };
});
afterAll(async () => cw.close());

const get = (path: string) => fetch(`${cw.baseUrl}${path}`, { headers: auth });
const send = (method: string, path: string, body: unknown) =>
  fetch(`${cw.baseUrl}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const q = (s: string) => encodeURIComponent(s);

describe('ConnectWise simulator: condition names', () => {
  it('refuses a condition on an unknown field with 400 ApiFindCondition "… is not a recognized name."', async () => {
    const res = await get(`/finance/invoices?conditions=${q('lastUpdate > [2024-01-01T00:00:00Z]')}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: 'ApiFindCondition', message: 'lastUpdate is not a recognized name.' });
    const count = await get(`/finance/invoices/count?conditions=${q('company/nmae = "x"')}`);
    expect(count.status).toBe(400);
    expect(((await count.json()) as { message: string }).message).toBe('company/nmae is not a recognized name.');
    expect((await get(`/finance/invoices?orderBy=${q('balanse desc')}`)).status).toBe(400);
  });

  it('accepts the documented lastUpdated form and refuses _info/lastUpdated', async () => {
    const ok = await get(`/finance/invoices?pageSize=1000&conditions=${q('lastUpdated > [2016-08-20T18:04:26Z]')}&orderBy=${q('lastUpdated asc, id asc')}`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as unknown[]).length).toBe(30);
    const refused = await get(`/finance/invoices?conditions=${q('_info/lastUpdated > [2016-08-20T18:04:26Z]')}`);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe('ApiFindCondition');
  });

  it('filters on child collections with childConditions (one child must satisfy the whole condition)', async () => {
    const contacts = (await (await get('/company/contacts?pageSize=1000')).json()) as { id: number; communicationItems: { value: string }[] }[];
    const ap = contacts.filter((c) => c.communicationItems.some((i) => i.value.startsWith('ap@')));
    expect(ap.length).toBeGreaterThan(0);
    const hit = await get(
      `/company/contacts?pageSize=1000&childConditions=${q('communicationItems/value like "ap@%" and communicationItems/communicationType = "Email"')}`,
    );
    expect(hit.status).toBe(200);
    expect(((await hit.json()) as { id: number }[]).map((c) => c.id)).toEqual(ap.map((c) => c.id));
    // The e-mail item is not a phone item: no single child satisfies both, so nothing matches.
    const none = await get(`/company/contacts?childConditions=${q('communicationItems/value like "ap@%" and communicationItems/communicationType = "Phone"')}`);
    expect(await none.json()).toEqual([]);
    // An array field in conditions, or a plain field in childConditions, is refused.
    expect((await get(`/company/contacts?conditions=${q('communicationItems/value = "x"')}`)).status).toBe(400);
    expect((await get(`/company/contacts?childConditions=${q('firstName = "x"')}`)).status).toBe(400);
    expect((await get(`/company/contacts?childConditions=${q('communicationItems/colour = "x"')}`)).status).toBe(400);
  });
});

describe('ConnectWise simulator: shapes', () => {
  it('leaves out fields that have no value instead of sending null', async () => {
    const inv = (await (await get('/finance/invoices?pageSize=1')).json()) as Record<string, unknown>[];
    expect(inv[0]).not.toHaveProperty('reference');
    expect(inv[0]).not.toHaveProperty('customerPO');
    expect(JSON.stringify(await (await get('/company/companies?pageSize=1000')).json())).not.toContain('null');
  });

  it('clamps pageSize above 1000 to 1000', async () => {
    const big = await startConnectWiseSimulator({ seed: { companies: 2, invoices: 1200, seed: 1 } });
    try {
      const res = await fetch(`${big.baseUrl}/finance/invoices?pageSize=1500`, { headers: auth });
      expect(res.status).toBe(200);
      expect(((await res.json()) as unknown[]).length).toBe(1000);
      expect(res.headers.get('link')).toMatch(/page=2>; rel="next"/);
    } finally {
      await big.close();
    }
  });

  it('serves /system/info, an invoice PDF, agreements and company sites', async () => {
    const info = (await (await get('/system/info')).json()) as { version: string; isCloud: boolean };
    expect(info.version).toMatch(/^v20\d\d\./);
    const invoice = cw.state.invoices.all()[0]!;
    const pdf = await get(`/finance/invoices/${invoice.id}/pdf`);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer()).toString('latin1');
    expect(bytes.startsWith('%PDF-1.4')).toBe(true);
    expect(bytes).toContain(invoice.invoiceNumber);
    expect((await get('/finance/invoices/999999/pdf')).status).toBe(404);
    const agreements = (await (await get(`/finance/agreements?conditions=${q('agreementStatus = "Active"')}`)).json()) as { company: { id: number } }[];
    expect(agreements.length).toBe(cw.state.agreements.size);
    const companyId = agreements[0]!.company.id;
    expect(((await (await get(`/finance/agreements/count?conditions=${q(`company/id = ${companyId}`)}`)).json()) as { count: number }).count).toBe(1);
    const sites = (await (await get(`/company/companies/${companyId}/sites`)).json()) as { id: number; name: string; defaultBillingFlag: boolean }[];
    expect(sites).toEqual([expect.objectContaining({ name: 'Main', defaultBillingFlag: true })]);
    expect((await get(`/company/companies/${companyId}/sites/${sites[0]!.id}`)).status).toBe(200);
    expect(((await (await get(`/company/companies/${companyId}/sites/count`)).json()) as { count: number }).count).toBe(1);
  });
});

describe('ConnectWise simulator: changing a payment', () => {
  it('PATCHes paymentDate and amount, PUTs the whole payment, and refuses what cannot change', async () => {
    const inv = cw.sim.createInvoice({ lines: [{ kind: 'product', description: 'Firewall', quantity: 1, price: '100.00' }] });
    const created = (await (await send('POST', `/finance/invoices/${inv.id}/payments`, { amount: 60, paymentDate: '2024-03-01T00:00:00Z' })).json()) as {
      id: number;
    };
    const path = `/finance/invoices/${inv.id}/payments/${created.id}`;
    const patched = await send('PATCH', path, [{ op: 'replace', path: 'paymentDate', value: '2024-03-04T00:00:00Z' }]);
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { paymentDate: string }).paymentDate).toBe('2024-03-04T00:00:00Z');
    expect((await send('PATCH', path, [{ op: 'replace', path: 'paymentDate', value: 'soon' }])).status).toBe(400);
    expect((await send('PATCH', path, [{ op: 'replace', path: 'appliedBy', value: 'me' }])).status).toBe(400);

    const put = await send('PUT', path, { amount: 75.5, paymentDate: '2024-03-05T00:00:00Z', invoice: { id: inv.id } });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ id: created.id, amount: 75.5, paymentDate: '2024-03-05T00:00:00Z' });
    expect(cw.state.invoices.get(inv.id)!.balance).toBe(24.5);
    expect((await send('PUT', path, { amount: 75.5 })).status).toBe(400); // paymentDate is required
    expect((await send('PUT', path, { amount: 101, paymentDate: '2024-03-05T00:00:00Z' })).status).toBe(400); // over the balance
    expect((await send('PUT', path, { amount: 10, paymentDate: '2024-03-05T00:00:00Z', invoice: { id: inv.id + 1 } })).status).toBe(400);
    expect((await send('PUT', `/finance/invoices/${inv.id}/payments/99999`, { amount: 10, paymentDate: '2024-03-05T00:00:00Z' })).status).toBe(404);
  });
});
