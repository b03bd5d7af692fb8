// The HaloPSA simulator as a vendor: tokens, Bearer auth, paging envelope, strictness on names and values,
// writes, webhooks and the rate limit — answered the way the vendor (as modelled in README.md) answers.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHaloSimulator, type RunningHaloSimulator } from './index.ts';

let halo: RunningHaloSimulator;
let bearer: Record<string, string>;

async function token(sim: RunningHaloSimulator, over: Record<string, string> = {}, query = `?tenant=${sim.credentials.tenant}`) {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: sim.credentials.clientId,
    client_secret: sim.credentials.clientSecret,
    scope: 'all',
    ...over,
  });
  return fetch(`${sim.baseUrl}/auth/token${query}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
}

beforeAll(async () => {
  halo = await startHaloSimulator({ seed: { clients: 4, invoices: 130, seed: 11, from: '2024-01-01', to: '2024-03-31' } });
  bearer = { authorization: `Bearer ${((await (await token(halo)).json()) as { access_token: string }).access_token}` };
});
afterAll(async () => halo.close());

const get = (path: string, headers: Record<string, string> = bearer) => fetch(`${halo.baseUrl}/api${path}`, { headers });
const post = (path: string, body: unknown) =>
  fetch(`${halo.baseUrl}/api${path}`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const problemOf = async (res: Response) => (await res.json()) as { title: string; status: number; errors?: Record<string, string[]> };

describe('HaloPSA simulator: authorisation server', () => {
  it('issues a Bearer token for client credentials with the tenant, and refuses the rest as RFC 6749 errors', async () => {
    const ok = await token(halo);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'all' });
    expect(await (await token(halo, { client_secret: 'wrong' })).json()).toMatchObject({ error: 'invalid_client' });
    expect(await (await token(halo, {}, '')).json()).toMatchObject({ error: 'invalid_request' });
    expect(await (await token(halo, {}, '?tenant=other')).json()).toMatchObject({ error: 'invalid_request' });
    expect(await (await token(halo, { grant_type: 'password' })).json()).toMatchObject({ error: 'unsupported_grant_type' });
    const json = await fetch(`${halo.baseUrl}/auth/token?tenant=${halo.credentials.tenant}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(json.status).toBe(400);
  });

  it('answers 401 with WWW-Authenticate and no body without a token, with a bad one, and once it expired', async () => {
    const none = await get('/Invoice', {});
    expect([none.status, none.headers.get('www-authenticate'), await none.text()]).toEqual([401, 'Bearer', '']);
    const bad = await get('/Invoice', { authorization: 'Bearer not-a-token' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/invalid_token/);
    const own = await startHaloSimulator({ tokenTtlMs: 300, rateLimit: null });
    try {
      const t = ((await (await token(own)).json()) as { access_token: string; expires_in: number }).access_token;
      expect((await fetch(`${own.baseUrl}/api/Client`, { headers: { authorization: `Bearer ${t}` } })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 400));
      expect((await fetch(`${own.baseUrl}/api/Client`, { headers: { authorization: `Bearer ${t}` } })).status).toBe(401);
    } finally {
      await own.close();
    }
  });
});

describe('HaloPSA simulator: lists', () => {
  it('pages with pageinate/page_size/page_no in the record_count envelope, lines only with includelines', async () => {
    const res = await get('/Invoice?pageinate=true&page_size=50&page_no=3&order=id');
    const body = (await res.json()) as { page_no: number; page_size: number; record_count: number; invoices: { id: number; lines?: unknown[] }[] };
    expect([body.page_no, body.page_size, body.record_count, body.invoices.length]).toEqual([3, 50, 130, 30]);
    expect(body.invoices[0]!.lines).toBeUndefined();
    const withLines = (await (await get('/Invoice?pageinate=true&page_size=5&page_no=1&includelines=true')).json()) as { invoices: { lines: unknown[] }[] };
    expect(withLines.invoices.every((i) => Array.isArray(i.lines) && i.lines.length > 0)).toBe(true);
    const unpaged = (await (await get('/Invoice')).json()) as { record_count: number; invoices: unknown[] };
    expect([unpaged.record_count, unpaged.invoices.length]).toEqual([130, 100]);
  });

  it('orders by last_modified either way (id breaks ties), and has no modified-since filter on invoices', async () => {
    const desc = (await (await get('/Invoice?pageinate=true&page_size=100&page_no=1&order=last_modified&orderdesc=true')).json()) as {
      invoices: { id: number; last_modified: string }[];
    };
    const keys = desc.invoices.map((i) => `${i.last_modified}|${String(i.id).padStart(8, '0')}`);
    expect(keys).toEqual([...keys].sort().reverse());
    expect(desc.invoices[0]!.last_modified).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/); // UTC, no offset
    const refused = await get('/Invoice?lastupdatefromdate=2024-02-01');
    expect(refused.status).toBe(400);
    expect((await problemOf(refused)).errors).toHaveProperty('lastupdatefromdate');
  });

  it('filters clients and users on lastupdatefromdate', async () => {
    const c = [...halo.state.clients.values()][1]!;
    halo.state.updateClient(c.id, { name: 'Renamed Client' });
    const since = new Date(c.updatedMs).toISOString().replace('Z', '');
    const clients = (await (await get(`/Client?lastupdatefromdate=${since}`)).json()) as { clients: { id: number; name: string; alastupdate: string }[] };
    expect(clients.clients.map((x) => x.name)).toEqual(['Renamed Client']);
    const users = (await (await get(`/Users?lastupdatefromdate=2000-01-01&client_id=${c.id}`)).json()) as {
      users: { client_id: number; emailaddress: string }[];
    };
    expect(users.users.length).toBeGreaterThan(0);
    expect(users.users.every((u) => u.client_id === c.id)).toBe(true);
    expect((await get('/Client?lastupdatefromdate=yesterday')).status).toBe(400);
  });

  it('refuses unknown and unmodelled parameters, bad values, bad paging and unknown order columns as problem details', async () => {
    const unknown = await problemOf(await get('/Invoice?modifiedsince=2024-01-01'));
    expect(unknown).toMatchObject({ status: 400, title: 'One or more validation errors occurred.' });
    expect(unknown.errors!['modifiedsince']![0]).toMatch(/not a parameter of GET \/Invoice/);
    expect((await problemOf(await get('/Invoice?ticket_id=4'))).errors!['ticket_id']![0]).toMatch(/NotModelled/);
    expect((await get('/Invoice?pageinate=true&page_size=101')).status).toBe(400);
    expect((await get('/Invoice?pageinate=true&page_size=10&page_no=0')).status).toBe(400);
    expect((await get('/Invoice?page_size=10')).status).toBe(400); // paging needs pageinate=true
    expect((await get('/Invoice?pageinate=yes')).status).toBe(400);
    expect((await get('/Invoice?order=total')).status).toBe(400);
    const missing = await get('/Invoices');
    expect([missing.status, await missing.text()]).toEqual([404, '']);
  });

  it('GET /Invoice/{id} has the lines, payments with includedetails, and 404 for an unknown id', async () => {
    const id = [...halo.state.invoices.keys()][0]!;
    const one = (await (await get(`/Invoice/${id}?includedetails=true`)).json()) as { lines: { ihid: number; qty_order: number }[]; payments: unknown[] };
    expect(one.lines.every((l) => l.ihid === id)).toBe(true);
    expect(Array.isArray(one.payments)).toBe(true);
    expect((await get('/Invoice/999999')).status).toBe(404);
    expect((await get(`/Invoice/${id}?includelines=true`)).status).toBe(400);
  });
});

describe('HaloPSA simulator: payments', () => {
  it('takes an array, refuses unknown fields, over-payment and non-arrays without writing anything; updates by id; deletes', async () => {
    const inv = halo.sim.createInvoice({ lines: [{ description: 'Firewall', quantity: '2', unitPrice: '50.00' }] });
    expect((await post('/InvoicePayment', { invoice_id: inv.id, amount: 10 })).status).toBe(400);
    const unknown = await problemOf(await post('/InvoicePayment', [{ invoice_id: inv.id, amount: 10, reference: 'x' }]));
    expect(unknown.errors!['$[0].reference']![0]).toMatch(/not a property of InvoicePayment_List/);
    const over = await problemOf(
      await post('/InvoicePayment', [
        { invoice_id: inv.id, amount: 60, thirdpartyid: 'a' },
        { invoice_id: inv.id, amount: 60.01 },
      ]),
    );
    expect(over.errors!['$[1].amount']![0]).toMatch(/still owes/);
    expect((await post('/InvoicePayment', [{ invoice_id: inv.id, amount: 10.001 }])).status).toBe(400);
    expect(halo.sim.paymentsFor(inv.id)).toHaveLength(0);
    const created = (await (
      await post('/InvoicePayment', [{ invoice_id: inv.id, amount: 40.25, date: '2024-04-02T00:00:00', thirdpartyid: 'settle:p1' }])
    ).json()) as {
      id: number;
      amount: number;
      thirdpartyid: string;
    };
    expect([created.amount, created.thirdpartyid]).toEqual([40.25, 'settle:p1']);
    const listed = (await (await get(`/InvoicePayment?invoice_id=${inv.id}`)).json()) as { invoicepayments: { id: number }[] };
    expect(listed.invoicepayments.map((p) => p.id)).toEqual([created.id]);
    const after = (await (await get(`/Invoice/${inv.id}`)).json()) as { amountpaid: number; amountdue: number; paymentstatus: number };
    expect([after.amountpaid, after.amountdue, after.paymentstatus]).toEqual([40.25, 59.75, 1]);
    expect((await post('/InvoicePayment', [{ id: created.id, amount: 30 }])).status).toBe(200);
    expect(halo.sim.paymentsFor(inv.id)[0]!.amountCents).toBe(3000);
    const del = await fetch(`${halo.baseUrl}/api/InvoicePayment/${created.id}`, { method: 'DELETE', headers: bearer });
    expect(del.status).toBe(200);
    expect((await fetch(`${halo.baseUrl}/api/InvoicePayment/${created.id}`, { method: 'DELETE', headers: bearer })).status).toBe(404);
    expect(((await (await get(`/Invoice/${inv.id}`)).json()) as { amountdue: number }).amountdue).toBe(100);
  });
});

describe('HaloPSA simulator: webhooks', () => {
  let receiver: Server;
  let url = '';
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        got.push({ headers: req.headers, body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  });
  afterAll(async () => new Promise((r) => receiver.close(r)));

  it('validates registrations and delivers invoice events with the configured authentication', async () => {
    expect((await post('/Webhook', [{ url, authentication_type: 1, basic_username: 'u' }])).status).toBe(400);
    expect((await post('/Webhook', [{ url, authentication_type: 2, authentication_header: 'no colon' }])).status).toBe(400);
    expect((await post('/Webhook', [{ url, authentication_type: 3 }])).status).toBe(400);
    expect((await post('/Webhook', [{ url, events: [{ eventno: 1 }] }])).status).toBe(400);
    expect((await post('/Webhook', [{ url, secret: 'x' }])).status).toBe(400);
    const hook = (await (
      await post('/Webhook', [{ url, authentication_type: 2, authentication_header: 'X-Token: s3cret', events: [{ eventno: 301 }, { eventno: 302 }] }])
    ).json()) as { id: string; authentication_header: string };
    expect(hook.authentication_header).toBe('X-Token: ********'); // write-only
    const listed = (await (await get('/Webhook')).json()) as { id: string }[];
    expect(listed.map((w) => w.id)).toContain(hook.id);
    got.length = 0;
    // Through the control surface, as the demo and benchmarks do.
    const created = (await (
      await fetch(`${halo.baseUrl}/_sim/invoices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    ).json()) as {
      id: number;
    };
    await fetch(`${halo.baseUrl}/_sim/invoices/${created.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dueDate: '2031-01-01' }),
    });
    await halo.sim.flushWebhooks();
    expect(got.map((g) => [g.headers['x-token'], (JSON.parse(g.body) as { eventno: number; object_id: number }).eventno])).toEqual([
      ['s3cret', 301],
      ['s3cret', 302],
    ]);
    expect((await fetch(`${halo.baseUrl}/api/Webhook/${hook.id}`, { method: 'DELETE', headers: bearer })).status).toBe(200);
  });
});

describe('HaloPSA simulator: limits and faults', () => {
  it('answers over the rate limit with 429, Retry-After and a problem body', async () => {
    const own = await startHaloSimulator({ rateLimit: { limit: 3, windowMs: 60_000 } });
    try {
      const t = ((await (await token(own)).json()) as { access_token: string }).access_token;
      const statuses: number[] = [];
      let last: Response | null = null;
      for (let i = 0; i < 4; i++) {
        last = await fetch(`${own.baseUrl}/api/Client`, { headers: { authorization: `Bearer ${t}` } });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await problemOf(last!)).toMatchObject({ status: 429 });
    } finally {
      await own.close();
    }
  });

  it('injects faults over /_sim/faults and loses answers after handling the write', async () => {
    await fetch(`${halo.baseUrl}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'GET', pathPattern: '^/api/Client$', fault: { kind: 'status', status: 503 }, times: 1 }),
    });
    expect((await get('/Client')).status).toBe(503);
    expect((await get('/Client')).status).toBe(200);
    const inv = halo.sim.createInvoice();
    await fetch(`${halo.baseUrl}/_sim/lost-answers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'POST', pathPattern: '^/api/InvoicePayment$' }),
    });
    await expect(post('/InvoicePayment', [{ invoice_id: inv.id, amount: 1 }])).rejects.toThrow();
    expect(halo.sim.paymentsFor(inv.id)).toHaveLength(1);
  });
});
