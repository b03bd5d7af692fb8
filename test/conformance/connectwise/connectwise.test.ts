// ConnectWise conformance: the simulator driven by ConnectWise's generated client (`connectwise-rest`),
// every response checked against the types that client ships (vendor-types.ts: JSON Schemas made from
// them by ts-json-schema-generator, validated with Ajv), errors against ConnectWise's ErrorResponseMessage.
// The last test requires that every route the simulator registers was reached by a conforming
// exchange and exists in ConnectWise's API — computed from the registered routes, so a route added
// without a check here fails the suite.
import { createServer, type Server } from 'node:http';
import type { ManageAPI } from 'connectwise-rest';
import type { Schema } from 'ts-json-schema-generator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConnectWiseSimulator, type RunningConnectWiseSimulator } from '../../../simulators/connectwise/index.ts';
import { KEY_PATH } from '../../../simulators/connectwise/callbacks.ts';
import { defineInvoiceCustomField } from '../../../simulators/connectwise/custom-fields.ts';
import { ENTITIES, type EntityFields } from '../../../simulators/connectwise/fields.ts';
import { clientFor, Conformance, type Exchange } from './recorder.ts';
import { loadVendorTypes, type VendorTypes } from './vendor-types.ts';

let cw: RunningConnectWiseSimulator;
let cwm: ManageAPI;
let conformance: Conformance;
let vendor: VendorTypes;
const exchanges: Exchange[] = [];

/** Not in ConnectWise's REST description (the site serves it, not the API): NangoHQ/nango's verifier reads `signing_key`. */
const KEY_SCHEMA: Schema = {
  type: 'object',
  properties: { signing_key: { type: 'string', minLength: 1 } },
  required: ['signing_key'],
  additionalProperties: false,
};

beforeAll(async () => {
  cw = await startConnectWiseSimulator({ seed: { companies: 6, invoices: 30, seed: 21, from: '2024-01-01', to: '2024-03-31' } });
  vendor = await loadVendorTypes();
  conformance = new Conformance(vendor, cw.sim.routes, new Map([[`GET ${KEY_PATH}`, KEY_SCHEMA]]));
  cwm = clientFor(cw, exchanges);
}, 180_000);
afterAll(async () => cw?.close());

// Every exchange a test made must conform; checked after each test so a failure names the test.
afterEach(() => {
  const problems = exchanges.splice(0).flatMap((e) => conformance.check(e));
  expect(problems).toEqual([]);
});

/** What connectwise-rest rejects with: `{ status, data, message }` (Manage.ts). */
async function refusal(p: Promise<unknown>): Promise<{ status: number; data: { code: string; message: string; errors?: { field: string }[] } }> {
  try {
    await p;
  } catch (e) {
    return e as { status: number; data: { code: string; message: string } };
  }
  throw new Error('expected ConnectWise to refuse the request');
}

describe('ConnectWise conformance: reads', () => {
  it('lists, counts and gets companies, contacts (with childConditions) and sites', async () => {
    const companies = await cwm.CompanyAPI.getCompanyCompanies({ pageSize: 1000, orderBy: 'name asc' });
    expect(companies).toHaveLength(6);
    expect((await cwm.CompanyAPI.getCompanyCompaniesCount({ conditions: 'deletedFlag = false' })).count).toBe(6);
    const company = await cwm.CompanyAPI.getCompanyCompaniesById(companies[0]!.id!);
    expect(company.identifier).toBe(companies[0]!.identifier);

    const billing = await cwm.CompanyAPI.getCompanyContacts({
      childConditions: 'communicationItems/value like "ap@%" and communicationItems/communicationType = "Email"',
      pageSize: 1000,
    });
    expect(billing.length).toBeGreaterThan(0);
    expect(billing.every((c) => c.defaultBillingFlag)).toBe(true);
    expect((await cwm.CompanyAPI.getCompanyContactsCount({ conditions: `company/id = ${company.id}` })).count).toBeGreaterThan(0);
    await cwm.CompanyAPI.getCompanyContactsById(billing[0]!.id!);

    const sites = await cwm.CompanyAPI.getCompanyCompaniesByParentIdSites(company.id!);
    expect(sites.map((s) => s.name)).toEqual(['Main']);
    await cwm.CompanyAPI.getCompanyCompaniesByParentIdSitesById(sites[0]!.id!, company.id!);
    expect((await cwm.CompanyAPI.getCompanyCompaniesByParentIdSitesCount(company.id!)).count).toBe(1);
  });

  it('reads invoices incrementally with the documented lastUpdated condition, their lines, PDF and agreements', async () => {
    const since = await cwm.FinanceAPI.getFinanceInvoices({
      conditions: 'lastUpdated >= [2024-02-01T00:00:00Z]',
      orderBy: 'lastUpdated asc, id asc',
      pageSize: 1000,
    });
    const all = cw.state.invoices.all();
    expect(since.map((i) => i.id)).toEqual(
      all
        .filter((i) => i._info.lastUpdated >= '2024-02-01T00:00:00Z')
        .sort((a, b) => (a._info.lastUpdated === b._info.lastUpdated ? a.id - b.id : a._info.lastUpdated < b._info.lastUpdated ? -1 : 1))
        .map((i) => i.id),
    );
    // The library's own pagination (page/pageSize until a short page) walks every invoice.
    const paged = (await cwm.paginate(cwm.FinanceAPI.getFinanceInvoices, { pageSize: 7 }, {})) as { id: number }[];
    expect(paged.map((i) => i.id)).toEqual(all.map((i) => i.id));
    expect((await cwm.FinanceAPI.getFinanceInvoicesCount({ conditions: 'type = "Standard"' })).count).toBe(all.filter((i) => i.type === 'Standard').length);
    const invoice = await cwm.FinanceAPI.getFinanceInvoicesById(all[0]!.id);
    const where = { conditions: `invoice/id = ${invoice.id}`, pageSize: 1000 };
    const lines = [
      ...(await cwm.ProcurementAPI.getProcurementProducts(where)),
      ...(await cwm.TimeAPI.getTimeEntries(where)),
      ...(await cwm.ExpenseAPI.getExpenseEntries(where)),
    ];
    expect(lines.length).toBeGreaterThan(0);
    for (const [api, getOne, count] of [
      [cwm.ProcurementAPI, 'getProcurementProductsById', 'getProcurementProductsCount'],
      [cwm.TimeAPI, 'getTimeEntriesById', 'getTimeEntriesCount'],
      [cwm.ExpenseAPI, 'getExpenseEntriesById', 'getExpenseEntriesCount'],
    ] as const) {
      const c = await (api as unknown as Record<string, (p: object) => Promise<{ count: number }>>)[count]!({ conditions: 'invoice/id > 0' });
      expect(c.count).toBeGreaterThan(0);
      const first = await (api as unknown as Record<string, (p: object) => Promise<{ id: number }[]>>)[count.replace('Count', '')]!({ pageSize: 1 });
      await (api as unknown as Record<string, (id: number) => Promise<unknown>>)[getOne]!(first[0]!.id);
    }
    const pdf = await cwm.FinanceAPI.getFinanceInvoicesByIdPdf(invoice.id!);
    expect(String(pdf)).toContain(invoice.invoiceNumber!);

    const agreements = await cwm.FinanceAPI.getFinanceAgreements({ conditions: 'agreementStatus = "Active"', orderBy: 'company/name asc' });
    expect(agreements.length).toBe(cw.state.agreements.size);
    await cwm.FinanceAPI.getFinanceAgreementsById(agreements[0]!.id!);
    expect((await cwm.FinanceAPI.getFinanceAgreementsCount({})).count).toBe(agreements.length);
    const info = await cwm.SystemAPI.getSystemInfo();
    expect(info.version).toMatch(/^v\d{4}\.\d/);
  });
});

describe('ConnectWise conformance: writes', () => {
  it('records, reads, changes (PATCH amount and paymentDate, PUT) and deletes an invoice payment', async () => {
    const inv = cw.sim.createInvoice({ lines: [{ kind: 'product', description: 'Firewall', quantity: 2, price: '50.00' }] });
    const created = await cwm.FinanceAPI.postFinanceInvoicesByParentIdPayments(inv.id, { amount: 40, paymentDate: '2024-04-02T00:00:00Z' });
    expect(created).toMatchObject({ amount: 40, paymentDate: '2024-04-02T00:00:00Z', appliedBy: 'settle-api' });
    expect(created).not.toHaveProperty('credit'); // no value: left out, not null
    expect((await cwm.FinanceAPI.getFinanceInvoicesByParentIdPayments(inv.id)).map((p) => p.id)).toEqual([created.id]);
    await cwm.FinanceAPI.getFinanceInvoicesByParentIdPaymentsById(created.id!, inv.id);
    const patched = await cwm.FinanceAPI.patchFinanceInvoicesByParentIdPaymentsById(created.id!, inv.id, [
      { op: 'replace', path: 'amount', value: 30 as unknown as Record<string, unknown> },
      { op: 'replace', path: 'paymentDate', value: '2024-04-03T00:00:00Z' as unknown as Record<string, unknown> },
    ]);
    expect(patched).toMatchObject({ amount: 30, paymentDate: '2024-04-03T00:00:00Z' });
    const put = await cwm.FinanceAPI.putFinanceInvoicesByParentIdPaymentsById(created.id!, inv.id, { amount: 55.5, paymentDate: '2024-04-05T00:00:00Z' });
    expect(put).toMatchObject({ id: created.id, amount: 55.5 });
    expect(cw.state.invoices.get(inv.id)!.balance).toBe(44.5);
    await cwm.FinanceAPI.deleteFinanceInvoicesByParentIdPaymentsById(created.id!, inv.id);
    expect(cw.state.invoices.get(inv.id)!.balance).toBe(100);
  });

  it('writes an invoice custom field (the pay link) with PATCH and refuses one the MSP has not defined', async () => {
    const def = defineInvoiceCustomField(cw.state, 'Pay Link');
    const inv = cw.sim.createInvoice({ lines: [{ kind: 'product', description: 'Backup', quantity: 1, price: '20.00' }] });
    const value = [{ id: def.id, value: 'https://pay.example/pay/abc' }] as unknown as Record<string, unknown>;
    const patched = await cwm.FinanceAPI.patchFinanceInvoicesById(inv.id, [{ op: 'replace', path: 'customFields', value }]);
    expect(patched.customFields?.find((c) => c.id === def.id)?.value).toBe('https://pay.example/pay/abc');
    const refused = await refusal(
      cwm.FinanceAPI.patchFinanceInvoicesById(inv.id, [
        { op: 'replace', path: 'customFields', value: [{ id: 9999, value: 'x' }] as unknown as Record<string, unknown> },
      ]),
    );
    expect(refused.status).toBe(400);
    expect(refused.data.errors?.[0]?.field).toBe('customFields');
  });

  it('writes a company note and registers a callback whose signing key is served on the site', async () => {
    const companyId = cw.state.companies.all()[0]!.id;
    const note = await cwm.CompanyAPI.postCompanyCompaniesByParentIdNotes(companyId, { text: 'Payment failed [ref-1]', flagged: true });
    expect((await cwm.CompanyAPI.getCompanyCompaniesByParentIdNotes(companyId, { conditions: 'text contains "[ref-1]"' })).map((n) => n.id)).toEqual([note.id]);
    await cwm.CompanyAPI.getCompanyCompaniesByParentIdNotesById(note.id!, companyId);
    expect((await cwm.CompanyAPI.getCompanyCompaniesByParentIdNotesCount(companyId)).count).toBe(1);

    const bodies: string[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        bodies.push(body);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
      const cb = await cwm.SystemAPI.postSystemCallbacks({ url, type: 'invoice', level: 'owner', objectId: 1, description: 'conformance' });
      expect((await cwm.SystemAPI.getSystemCallbacks({ conditions: `url = "${url}"` })).map((c) => c.id)).toEqual([cb.id]);
      await cwm.SystemAPI.getSystemCallbacksById(cb.id!);
      expect((await cwm.SystemAPI.getSystemCallbacksCount({ conditions: 'type = "invoice"' })).count).toBe(1);
      cw.sim.updateInvoice(cw.state.invoices.all()[1]!.id, { status: 'Sent' });
      await cw.sim.flushCallbacks();
      const payload = JSON.parse(bodies[0]!) as { Entity: string; Metadata: { key_url: string } };
      expect(payload.Entity).not.toContain('null'); // the entity is serialised as the API serves it
      const key = await fetch(payload.Metadata.key_url);
      exchanges.push({ method: 'GET', url: new URL(payload.Metadata.key_url).pathname, status: key.status, contentType: '', body: await key.json() });
      const unknown = await fetch(`${cw.origin}${KEY_PATH}?id=nope`);
      exchanges.push({ method: 'GET', url: KEY_PATH, status: unknown.status, contentType: '', body: await unknown.json() });
      expect(unknown.status).toBe(404);
      await cwm.SystemAPI.deleteSystemCallbacksById(cb.id!);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});

describe('ConnectWise conformance: refusals in the vendor error shape', () => {
  it('refuses an unknown condition name, the undocumented _info/ form, misplaced child fields and bad syntax', async () => {
    const unknown = await refusal(cwm.FinanceAPI.getFinanceInvoices({ conditions: 'lastUpdate > [2024-01-01T00:00:00Z]' }));
    expect(unknown.status).toBe(400);
    expect(unknown.data).toEqual({ code: 'ApiFindCondition', message: 'lastUpdate is not a recognized name.' });
    const info = await refusal(cwm.FinanceAPI.getFinanceInvoicesCount({ conditions: '_info/lastUpdated > [2024-01-01T00:00:00Z]' }));
    expect(info.data.message).toBe('_info/lastUpdated is not a recognized name.');
    expect((await refusal(cwm.CompanyAPI.getCompanyContacts({ conditions: 'communicationItems/value = "x"' }))).data.code).toBe('ApiFindCondition');
    expect((await refusal(cwm.CompanyAPI.getCompanyContacts({ childConditions: 'communicationItems/colour = "x"' }))).status).toBe(400);
    expect((await refusal(cwm.FinanceAPI.getFinanceInvoices({ orderBy: 'balanse desc' }))).data.message).toMatch(/is not a recognized name/);
    expect((await refusal(cwm.FinanceAPI.getFinanceInvoices({ conditions: 'id = = 3' }))).status).toBe(400);
  });

  it('refuses missing records, invalid payments and bad credentials', async () => {
    expect((await refusal(cwm.FinanceAPI.getFinanceInvoicesById(999_999))).status).toBe(404);
    expect((await refusal(cwm.FinanceAPI.getFinanceInvoicesByIdPdf(999_999))).status).toBe(404);
    const inv = cw.sim.createInvoice({ lines: [{ kind: 'product', description: 'Backup', quantity: 1, price: '10.00' }] });
    const over = await refusal(cwm.FinanceAPI.postFinanceInvoicesByParentIdPayments(inv.id, { amount: 10.01 }));
    expect(over.status).toBe(400);
    expect(over.data.errors?.[0]?.field).toBe('amount');
    const p = await cwm.FinanceAPI.postFinanceInvoicesByParentIdPayments(inv.id, { amount: 5 });
    expect((await refusal(cwm.FinanceAPI.putFinanceInvoicesByParentIdPaymentsById(p.id!, inv.id, { amount: 6 }))).data.errors?.[0]?.field).toBe('paymentDate');
    const wrongPath = cwm.FinanceAPI.patchFinanceInvoicesByParentIdPaymentsById(p.id!, inv.id, [{ op: 'replace', path: 'appliedBy', value: {} }]);
    expect((await refusal(wrongPath)).status).toBe(400);
    expect((await refusal(cwm.FinanceAPI.deleteFinanceInvoicesByParentIdPaymentsById(p.id! + 1000, inv.id))).status).toBe(404);
    expect((await refusal(cwm.CompanyAPI.getCompanyCompaniesByParentIdSites(999_999))).status).toBe(404);
    // A vendor path the simulator does not serve: 404 in ConnectWise's error shape (checked after the test).
    const notServed = await refusal(cwm.request({ path: `/finance/invoices/${inv.id}/lines` }));
    expect(notServed.status).toBe(404);
    expect(notServed.data.code).toBe('NotFound');
    const stranger = clientFor(cw, exchanges, { ...cw.credentials, privateKey: 'not-the-key' });
    expect((await refusal(stranger.SystemAPI.getSystemInfo())).status).toBe(401);
  });
});

describe('ConnectWise conformance: the checks can fail', () => {
  it('finds a null string, an undeclared field, a wrong error body and an unknown route', () => {
    const paymentsPath = `/finance/invoices/${cw.state.invoices.all()[0]!.id}/payments`;
    const probe = new Conformance(vendor, cw.sim.routes, new Map()); // its own: these fake exchanges cover nothing
    const bad = (e: Partial<Exchange>): string[] =>
      probe.check({ method: 'GET', url: paymentsPath, status: 200, contentType: 'application/json', body: [], ...e });
    expect(bad({})).toEqual([]);
    expect(bad({ body: [{ id: 1, type: null }] }).join()).toMatch(/type must be string/);
    expect(bad({ body: [{ id: 1, memo: 'x' }] }).join()).toMatch(/must NOT have additional properties/);
    expect(bad({ status: 400, body: { code: 'InvalidObject', message: 'x', errors: null } }).join()).toMatch(/errors must be array/);
    expect(bad({ url: '/finance/invoices/1/lines' }).join()).toMatch(/no simulator route/);
    expect(bad({ url: '/finance/invoices/1/lines', status: 404, body: { statusCode: 404, error: 'Not Found' } }).join()).toMatch(/additional properties/);
    expect(bad({ status: 202 }).join()).toMatch(/declares no 202 response/);
  });
});

describe('ConnectWise conformance: condition names', () => {
  /** The property at `path` in a vendor schema (descending through references and arrays), or undefined. */
  const propertyAt = (schema: Schema, path: readonly string[]): Schema | undefined => {
    const defs = (schema.definitions ?? {}) as Record<string, Schema>;
    const deref = (s: Schema | undefined): Schema | undefined => {
      let cur = s;
      while (cur?.$ref) cur = defs[cur.$ref.replace('#/definitions/', '')];
      if (cur?.type === 'array') return deref(cur.items as Schema);
      return cur;
    };
    let node = deref(schema);
    for (const step of path) node = deref((node?.properties as Record<string, Schema> | undefined)?.[step]);
    return node;
  };

  it('recognises only names the vendor’s types have (so the simulator is not more lenient than ConnectWise)', () => {
    const missing: string[] = [];
    for (const entity of Object.values(ENTITIES) as EntityFields[]) {
      const schema = vendor.schema(entity.name);
      if (!propertyAt(schema, ['_info'])) missing.push(`${entity.name}._info (lastUpdated)`);
      for (const [field, kind] of Object.entries(entity.fields)) {
        const subs = kind === 'scalar' ? [[]] : 'ref' in kind ? kind.ref.map((r) => [r]) : kind.children.map((c) => c.split('/'));
        for (const sub of subs) if (!propertyAt(schema, [field, ...sub])) missing.push(`${entity.name}.${[field, ...sub].join('/')}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('ConnectWise conformance: coverage', () => {
  it('reached every route the simulator registers with a conforming exchange, and each is in ConnectWise’s API', () => {
    expect(cw.sim.routes.length).toBeGreaterThan(30);
    expect(conformance.notInVendorApi()).toEqual([]);
    expect(conformance.uncovered()).toEqual([]);
  });
});
