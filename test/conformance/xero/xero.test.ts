// The Xero simulator against Xero's published descriptions (schema-check.ts): every route it serves is
// reached, and every answer — 2xx, the 400 ValidationException with Elements[].ValidationErrors, the other
// 400 exceptions, 401, 403, 404, 429 with Retry-After — is in Xero's documented shape; every Accounting API
// answer carries X-DayLimit-Remaining, X-MinLimit-Remaining and X-AppMinLimit-Remaining. Unknown query
// parameters, body fields, `where` fields and routes are refused in Xero's own error shapes. The last test
// requires that every route the simulator registers was reached by a conforming exchange and is Xero's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startXeroSimulator, type RunningXeroSimulator } from '../../../simulators/xero/index.ts';
import { NOT_FOUND_TEXT, XeroSchemaCheck, type XeroExchange } from './schema-check.ts';

const API = '/api.xro/2.0';
let x: RunningXeroSimulator;
let token = '';
const check = new XeroSchemaCheck();
const exchanges: XeroExchange[] = [];

interface Call {
  readonly route: string;
  readonly path?: string;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  readonly form?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly auth?: string | null;
}

/** One request to the simulator, recorded for the schema check under the route it is meant to reach. */
async function call(method: string, c: Call): Promise<XeroExchange> {
  const url = new URL(`${x.baseUrl}${c.path ?? c.route}`);
  for (const [k, v] of Object.entries(c.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { accept: 'application/json', 'xero-tenant-id': x.tenantId, ...c.headers };
  if (c.auth !== null) headers['authorization'] = c.auth ?? `Bearer ${token}`;
  let body: string | undefined;
  if (c.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(c.form).toString();
  } else if (c.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(c.body);
  }
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), redirect: 'manual' });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const ex: XeroExchange = {
    method,
    route: c.route,
    status: res.status,
    headers: Object.fromEntries(res.headers.entries()),
    body: type.includes('json') && text ? JSON.parse(text) : text,
  };
  exchanges.push(ex);
  return ex;
}
const basic = (): string => `Basic ${Buffer.from(`${x.clientId}:${x.clientSecret}`).toString('base64')}`;
const body = (e: XeroExchange): any => e.body;

beforeAll(async () => {
  x = await startXeroSimulator({ limits: { perMinute: 10_000 } });
  x.sim.seedInvoice({ number: 'INV-C1', contactName: 'Acme Dental', amount: '100.00' });
  x.sim.seedInvoice({ number: 'INV-C2', contactName: 'Acme Dental', amount: '50.00' });
  x.sim.seedCreditNote({ number: 'CN-C1', contactName: 'Acme Dental', amount: '20.00' });
  const t = await call('POST', { route: '/connect/token', auth: basic(), form: { grant_type: 'refresh_token', refresh_token: x.initialRefreshToken } });
  expect(t.status).toBe(200);
  token = body(t).access_token;
});
afterAll(async () => x?.close());

describe('Xero simulator conformance', () => {
  it('identity: token, connections, revocation; the consent page and its answer', async () => {
    expect(body(await call('GET', { route: '/connections' }))[0]).toMatchObject({ tenantId: x.tenantId, tenantType: 'ORGANISATION' });
    expect((await call('GET', { route: '/connections', auth: 'Bearer nope' })).status).toBe(401);
    expect((await call('POST', { route: '/connect/token', auth: basic(), form: { grant_type: 'refresh_token', refresh_token: 'used' } })).status).toBe(400);
    const redirect = 'https://settle.example/callback';
    x.sim.identity.redirectUris.add(redirect);
    const q = { response_type: 'code', client_id: x.clientId, redirect_uri: redirect, scope: 'offline_access accounting.transactions', state: 's1' };
    const page = await call('GET', { route: '/identity/connect/authorize', query: q });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const allowed = await call('POST', { route: '/identity/connect/authorize', form: { ...q, decision: 'allow' } });
    expect(allowed.status).toBe(302);
    const code = new URL(allowed.headers['location']!).searchParams.get('code')!;
    const fresh = await call('POST', {
      route: '/connect/token',
      auth: basic(),
      form: { grant_type: 'authorization_code', code, redirect_uri: redirect },
    });
    expect(fresh.status).toBe(200);
    const second = body(await call('GET', { route: '/connections', auth: `Bearer ${body(fresh).access_token}` })) as { id: string }[];
    expect((await call('POST', { route: '/connect/revocation', auth: basic(), form: { token: body(fresh).refresh_token } })).status).toBe(200);
    expect((await call('DELETE', { route: '/connections/:id', path: `/connections/${second.at(-1)!.id}` })).status).toBe(204);
    expect((await call('DELETE', { route: '/connections/:id', path: '/connections/00000000-0000-0000-0000-000000000000' })).status).toBe(404);
  });

  it('reads: organisation, accounts, contacts, invoices, payments, transfers, bank transactions, tracking, credit notes', async () => {
    for (const r of ['Organisation', 'Accounts', 'Contacts', 'Invoices', 'Payments', 'BankTransfers', 'BankTransactions', 'TrackingCategories', 'CreditNotes'])
      expect((await call('GET', { route: `${API}/${r}` })).status).toBe(200);
    const inv = body(await call('GET', { route: `${API}/Invoices`, query: { InvoiceNumbers: 'INV-C1', Statuses: 'AUTHORISED' } })).Invoices[0];
    expect((await call('GET', { route: `${API}/Invoices/:id`, path: `${API}/Invoices/${inv.InvoiceID}` })).status).toBe(200);
    const note = x.sim.creditNote('CN-C1')!;
    expect((await call('GET', { route: `${API}/CreditNotes/:id`, path: `${API}/CreditNotes/${note.CreditNoteID}` })).status).toBe(200);
    expect((await call('GET', { route: `${API}/Invoices`, headers: { 'if-modified-since': new Date(Date.now() + 60_000).toUTCString() } })).status).toBe(200);
  });

  it('writes: payments (many, one, deleted), a transfer, a SPEND with tracking, a credit-note allocation', async () => {
    const c = x.sim.codes;
    const put = await call('PUT', {
      route: `${API}/Payments`,
      query: { summarizeErrors: 'false' },
      headers: { 'idempotency-key': 'conf-pay-1' },
      body: { Payments: [{ Invoice: { InvoiceNumber: 'INV-C1' }, Account: { Code: c.clearing }, Date: '2026-12-01', Amount: 40, Reference: 'r1' }] },
    });
    expect(put.status).toBe(200);
    const one = await call('POST', {
      route: `${API}/Payments`,
      body: { Invoice: { InvoiceNumber: 'INV-C2' }, Account: { Code: c.clearing }, Date: '2026-12-01', Amount: 10, Reference: 'r2' },
    });
    expect(one.status).toBe(200);
    const id = body(one).Payments[0].PaymentID;
    expect((await call('GET', { route: `${API}/Payments/:id`, path: `${API}/Payments/${id}` })).status).toBe(200);
    expect((await call('POST', { route: `${API}/Payments/:id`, path: `${API}/Payments/${id}`, body: { Status: 'DELETED' } })).status).toBe(200);
    const transfer = { FromBankAccount: { Code: c.clearing }, ToBankAccount: { Code: c.bank }, Amount: 40, Date: '2026-12-02', Reference: 't1' };
    expect((await call('PUT', { route: `${API}/BankTransfers`, body: { BankTransfers: [transfer] } })).status).toBe(200);
    const cat = x.sim.store.trackingCategories[0]!;
    const spend = {
      Type: 'SPEND',
      Contact: { Name: 'Stripe' },
      BankAccount: { Code: c.clearing },
      Date: '2026-12-02',
      Reference: 'fees',
      LineAmountTypes: 'NoTax',
      LineItems: [
        {
          Description: 'fees',
          Quantity: 1,
          UnitAmount: 1.5,
          AccountCode: c.fees,
          Tracking: [{ TrackingCategoryID: cat.TrackingCategoryID, TrackingOptionID: cat.Options[0]!.TrackingOptionID }],
        },
      ],
    };
    expect((await call('PUT', { route: `${API}/BankTransactions`, query: { summarizeErrors: 'false' }, body: { BankTransactions: [spend] } })).status).toBe(
      200,
    );
    const note = x.sim.creditNote('CN-C1')!;
    const inv = x.sim.invoice('INV-C2')!;
    const alloc = await call('PUT', {
      route: `${API}/CreditNotes/:id/Allocations`,
      path: `${API}/CreditNotes/${note.CreditNoteID}/Allocations`,
      body: { Allocations: [{ Invoice: { InvoiceID: inv.InvoiceID }, Amount: 5, Date: '2026-12-02' }] },
    });
    expect(alloc.status).toBe(200);
  });

  it('refusals in Xero’s shapes: ValidationException with Elements, unknown parameters, fields, where fields and routes', async () => {
    const c = x.sim.codes;
    const over = await call('PUT', {
      route: `${API}/Payments`,
      body: { Payments: [{ Invoice: { InvoiceNumber: 'INV-C1' }, Account: { Code: c.clearing }, Date: '2026-12-01', Amount: 9999, Reference: 'too much' }] },
    });
    expect(over.status).toBe(400);
    expect(body(over)).toMatchObject({ ErrorNumber: 10, Type: 'ValidationException' });
    expect(body(over).Elements[0].ValidationErrors[0].Message).toMatch(/exceeds the amount outstanding/);
    const field = await call('PUT', { route: `${API}/BankTransfers`, body: { BankTransfers: [{ Amount: 1, Colour: 'red' }] } });
    expect(field.status).toBe(400);
    expect(JSON.stringify(body(field))).toContain('Colour');
    const param = await call('GET', { route: `${API}/TrackingCategories`, query: { foo: '1' } });
    expect(body(param)).toMatchObject({ ErrorNumber: 14, Type: 'PostDataInvalidException' });
    const where = await call('GET', { route: `${API}/Payments`, query: { where: 'Colour=="red"' } });
    expect(body(where)).toMatchObject({ ErrorNumber: 16, Type: 'QueryParseException' });
    const nope = await call('GET', { route: `${API}/Gadgets`, path: `${API}/Gadgets` });
    expect([nope.status, nope.body]).toEqual([404, NOT_FOUND_TEXT]);
    const missing = await call('GET', { route: `${API}/Payments/:id`, path: `${API}/Payments/00000000-0000-0000-0000-000000000000` });
    expect([missing.status, missing.body]).toEqual([404, NOT_FOUND_TEXT]);
  });

  it('each read takes only the query parameters its operation lists; nested unknown fields and unknown order fields are refused', async () => {
    const probes = ['where', 'order', 'page', 'pageSize', 'unitdp', 'includeArchived', 'settleUnknown'];
    const gets = x.routes.filter((r) => r.method === 'GET' && r.url.startsWith(API));
    for (const r of gets) {
      const allowed = check.queryParams('GET', r.url);
      const path = r.url.replace(':id', '00000000-0000-0000-0000-000000000000');
      for (const p of probes.filter((n) => !allowed.includes(n))) {
        const e = await call('GET', { route: r.url, path, query: { [p]: p === 'page' || p === 'pageSize' ? '1' : 'true' } });
        expect([e.status, body(e)?.Type], `GET ${r.url}?${p}`).toEqual([400, 'PostDataInvalidException']);
      }
    }
    const order = await call('GET', { route: `${API}/Payments`, query: { order: 'Colour DESC' } });
    expect(body(order)).toMatchObject({ ErrorNumber: 16, Type: 'QueryParseException' });
    const sorted = await call('GET', { route: `${API}/Payments`, query: { order: 'Reference DESC' } });
    const refs = (body(sorted).Payments as { Reference: string }[]).map((p) => p.Reference);
    expect(refs).toEqual([...refs].sort().reverse());
    const c = x.sim.codes;
    const nested = await call('PUT', {
      route: `${API}/Payments`,
      body: { Payments: [{ Invoice: { InvoiceNumber: 'INV-C1' }, Account: { Code: c.clearing, Colour: 'red' }, Date: '2026-12-01', Amount: 1 }] },
    });
    expect(body(nested).Elements[0].ValidationErrors[0].Message).toBe("The property 'Colour' is not a valid property of Account.");
    const transfer = { FromBankAccount: { Code: c.clearing, Name: 'x' }, ToBankAccount: { Code: c.bank }, Amount: 1, Date: '2026-12-02' };
    expect(body(await call('PUT', { route: `${API}/BankTransfers`, body: { BankTransfers: [transfer] } })).Type).toBe('ValidationException');
    const empty = await call('PUT', { route: `${API}/BankTransfers`, headers: { 'content-type': 'application/json' } });
    expect([empty.status, body(empty).Type]).toEqual([400, 'PostDataInvalidException']);
  });

  it('401 without a token or with a bad one, 403 for another tenant, 429 with Retry-After; the limit headers on every answer', async () => {
    const noToken = await call('GET', { route: `${API}/Invoices`, auth: null });
    expect(noToken.status).toBe(401);
    expect(noToken.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await call('GET', { route: `${API}/Invoices`, auth: 'Bearer forged' })).status).toBe(401);
    expect((await call('GET', { route: `${API}/Invoices`, headers: { 'xero-tenant-id': '00000000-0000-0000-0000-000000000000' } })).status).toBe(403);
    x.sim.limits.configure({ perMinute: 1 });
    x.sim.limits.reset();
    expect((await call('GET', { route: `${API}/Accounts` })).status).toBe(200);
    const limited = await call('GET', { route: `${API}/Accounts` });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['x-rate-limit-problem']).toBe('minute');
    expect(limited.headers['x-minlimit-remaining']).toBe('0');
    x.sim.limits.configure({ perMinute: 10_000 });
    x.sim.limits.reset();
    const api = exchanges.filter((e) => e.route.startsWith(API) && (e.status < 300 || e.status === 429 || e.status === 400));
    for (const e of api)
      for (const h of ['x-daylimit-remaining', 'x-minlimit-remaining', 'x-appminlimit-remaining'])
        expect(e.headers[h], `${e.method} ${e.route} ${e.status}: ${h}`).toMatch(/^\d+$/);
  });

  it('the check can fail: an invented field, a date not in Xero’s form, an error not in its shape, a route Xero lacks', () => {
    const ok = exchanges.find((e) => e.method === 'GET' && e.route === `${API}/Payments/:id` && e.status === 200)!;
    const pay = body(ok).Payments[0];
    const bad = (b: unknown, route = ok.route, status = 200): XeroExchange => ({ ...ok, route, status, body: b });
    expect(check.check([bad({ ...body(ok), Payments: [{ ...pay, Colour: 'red' }] })])[0]).toContain("'Colour'");
    expect(check.check([bad({ ...body(ok), Payments: [{ ...pay, Date: '2026-12-01' }] })])[0]).toContain('/Payments/0/Date must match pattern');
    expect(check.check([bad({ error: 'nope' }, ok.route, 400)])[0]).toContain("'error'");
    expect(check.check([bad({}, `${API}/Gadgets/:id`)])[0]).toContain('no such operation');
    expect(check.check([bad('Not found', ok.route, 404)])[0]).toContain("not Xero's 404 text");
  });

  it('every answer is as Xero documents it, and every route the simulator serves was reached and is Xero’s', () => {
    const oauth = new Set(['POST /connect/token', 'POST /connect/revocation', 'GET /identity/connect/authorize', 'POST /identity/connect/authorize']);
    // OAuth 2.0's own endpoints (RFC 6749) are not in Xero's OpenAPI files; their answers are checked above.
    expect(check.check(exchanges.filter((e) => !oauth.has(`${e.method} ${e.route}`)))).toEqual([]);
    const reached = new Set(exchanges.filter((e) => e.status < 300 || e.status === 302).map((e) => `${e.method} ${e.route}`));
    const routes = x.routes.map((r) => `${r.method} ${r.url}`);
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.filter((r) => !reached.has(r))).toEqual([]);
    expect(x.routes.filter((r) => !oauth.has(`${r.method} ${r.url}`) && !check.operation(r.method, r.url)).map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });
});
