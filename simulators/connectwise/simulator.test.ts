import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCallback } from './callbacks.ts';
import { startConnectWiseSimulator, type RunningConnectWiseSimulator } from './index.ts';

let cw: RunningConnectWiseSimulator;
let auth: Record<string, string>;

beforeAll(async () => {
  cw = await startConnectWiseSimulator({ seed: { companies: 12, invoices: 120, seed: 11, from: '2024-01-01', to: '2024-03-31' } });
  const c = cw.credentials;
  auth = { authorization: `Basic ${Buffer.from(`${c.companyId}+${c.publicKey}:${c.privateKey}`).toString('base64')}`, clientId: c.clientId };
});
afterAll(async () => cw.close());

const get = (path: string, headers: Record<string, string> = auth) => fetch(`${cw.baseUrl}${path}`, { headers });
const post = (path: string, body: unknown) =>
  fetch(`${cw.baseUrl}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('ConnectWise simulator: auth', () => {
  it('answers 401 with a ConnectWise error body when clientId is missing', async () => {
    const res = await get('/finance/invoices', { authorization: auth.authorization! });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { code: string; message: string; errors: unknown[] };
    expect(body.code).toBe('Unauthorized');
    expect(body.message).toMatch(/clientId/);
    expect(Array.isArray(body.errors)).toBe(true);
  });

  it('answers 401 for a wrong private key and 200 for the right one', async () => {
    const c = cw.credentials;
    const wrong = `Basic ${Buffer.from(`${c.companyId}+${c.publicKey}:nope`).toString('base64')}`;
    expect((await get('/company/companies', { ...auth, authorization: wrong })).status).toBe(401);
    expect((await get('/company/companies')).status).toBe(200);
  });
});

describe('ConnectWise simulator: lists', () => {
  it('pages navigably with a Link header, default page size 25', async () => {
    const res = await get('/finance/invoices');
    const rows = (await res.json()) as { id: number }[];
    expect(rows).toHaveLength(25);
    const link = res.headers.get('link')!;
    expect(link).toMatch(/page=2>; rel="next"/);
    expect(link).toMatch(/page=5>; rel="last"/);
    const next = /<([^>]+)>; rel="next"/.exec(link)![1]!;
    const page2 = (await (await fetch(next, { headers: auth })).json()) as { id: number }[];
    expect(page2[0]!.id).toBe(rows[24]!.id + 1);
  });

  it('clamps pageSize over 1000 to 1000 and rejects bad conditions with 400', async () => {
    const clamped = await get('/finance/invoices?pageSize=5000');
    expect(clamped.status).toBe(200);
    expect(((await clamped.json()) as unknown[]).length).toBe(120); // all 120, within the 1000 clamp
    const bad = await get(`/finance/invoices?conditions=${encodeURIComponent('id = = 3')}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/conditions: .*position/);
  });

  it('pages forward-only by pageId (id > pageId) and links the next page', async () => {
    const first = await get('/procurement/products?pageSize=10', { ...auth, 'pagination-type': 'forward-only' });
    const rows = (await first.json()) as { id: number }[];
    const next = /pageId=(\d+)>; rel="next"/.exec(first.headers.get('link') ?? '');
    expect(Number(next?.[1])).toBe(rows[9]!.id);
    const after = (await (await get(`/procurement/products?pageSize=10&pageId=${rows[9]!.id}`)).json()) as { id: number }[];
    expect(after[0]!.id).toBeGreaterThan(rows[9]!.id);
    expect((await get('/procurement/products?pageId=1&orderBy=description asc')).status).toBe(400);
  });

  it('filters lines by invoice/id and orders by nested fields', async () => {
    const ids = cw.state.invoices
      .all()
      .slice(0, 3)
      .map((i) => i.id);
    const res = await get(`/time/entries?pageSize=1000&conditions=${encodeURIComponent(`invoice/id in (${ids.join(',')})`)}`);
    const rows = (await res.json()) as { invoice: { id: number } }[];
    expect(rows.every((r) => ids.includes(r.invoice.id))).toBe(true);
    const ordered = (await (await get(`/finance/invoices?pageSize=1000&orderBy=${encodeURIComponent('lastUpdated desc')}`)).json()) as {
      _info: { lastUpdated: string };
    }[];
    const stamps = ordered.map((r) => r._info.lastUpdated);
    expect(stamps).toEqual([...stamps].sort().reverse());
    const count = (await (await get(`/finance/invoices/count?conditions=${encodeURIComponent('type = "Standard"')}`)).json()) as { count: number };
    expect(count.count).toBe(cw.state.invoices.all().filter((i) => i.type === 'Standard').length);
  });
});

describe('ConnectWise simulator: payments', () => {
  it('validates amount against the balance, then records and updates the invoice', async () => {
    const inv = cw.sim.createInvoice({ lines: [{ kind: 'product', description: 'Firewall', quantity: 2, price: '50.00' }] });
    expect(inv.balance).toBe(100);
    const before = inv._info.lastUpdated;
    expect((await post(`/finance/invoices/${inv.id}/payments`, { amount: 0 })).status).toBe(400);
    const over = await post(`/finance/invoices/${inv.id}/payments`, { amount: 100.01 });
    expect(over.status).toBe(400);
    expect(((await over.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe('amount');
    const ok = await post(`/finance/invoices/${inv.id}/payments`, { amount: 40.25, paymentDate: '2024-04-02T00:00:00Z' });
    expect(ok.status).toBe(201);
    const payment = (await ok.json()) as { id: number; amount: number; appliedBy: string };
    expect(payment.amount).toBe(40.25);
    expect(payment.appliedBy).toBe('settle-api');
    const after = (await (await get(`/finance/invoices/${inv.id}`)).json()) as { payments: number; balance: number; _info: { lastUpdated: string } };
    expect(after.payments).toBe(40.25);
    expect(after.balance).toBe(59.75);
    expect(after._info.lastUpdated >= before).toBe(true);
    const listed = (await (await get(`/finance/invoices/${inv.id}/payments`)).json()) as { id: number }[];
    expect(listed.map((p) => p.id)).toEqual([payment.id]);
    expect((await get(`/finance/invoices/${inv.id}/payments/${payment.id}`)).status).toBe(200);
    expect(cw.sim.paymentsFor(inv.id)).toHaveLength(1);
  });
});

describe('ConnectWise simulator: callbacks', () => {
  let receiver: Server;
  const received: { headers: Record<string, unknown>; body: string }[] = [];
  let url = '';
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/cw`;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  it('registers, lists and deletes callback entries, validating the body', async () => {
    expect((await post('/system/callbacks', { url: 'not a url', type: 'invoice' })).status).toBe(400);
    const created = await post('/system/callbacks', { url, type: 'invoice', level: 'owner', objectId: 1, description: 't' });
    expect(created.status).toBe(201);
    const entry = (await created.json()) as { id: number; inactiveFlag: boolean; isSelfSuppressedFlag: boolean };
    expect(entry.inactiveFlag).toBe(false);
    const listed = (await (await get(`/system/callbacks?conditions=${encodeURIComponent(`url = "${url}"`)}`)).json()) as { id: number }[];
    expect(listed.map((e) => e.id)).toEqual([entry.id]);
    const tmp = (await (await post('/system/callbacks', { url: `${url}/other`, type: 'invoice', level: 'owner' })).json()) as { id: number };
    expect((await fetch(`${cw.baseUrl}/system/callbacks/${tmp.id}`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await get(`/system/callbacks/${tmp.id}`)).status).toBe(404);
  });

  it('posts a signed ConnectWise-style payload whose key is served at Metadata.key_url', async () => {
    received.length = 0;
    const inv = cw.sim.createInvoice({});
    await cw.sim.flushCallbacks();
    expect(received).toHaveLength(1);
    const { headers, body } = received[0]!;
    const payload = JSON.parse(body) as {
      MessageId: string;
      Action: string;
      Type: string;
      ID: number;
      CompanyId: string;
      Entity: string;
      Metadata: { key_url: string };
    };
    expect(payload).toMatchObject({ Action: 'added', Type: 'invoice', ID: inv.id, CompanyId: cw.credentials.companyId });
    expect((JSON.parse(payload.Entity) as { id: number }).id).toBe(inv.id);
    const key = ((await (await fetch(payload.Metadata.key_url)).json()) as { signing_key: string }).signing_key;
    expect(headers['x-content-signature']).toBe(signCallback(body, key));
    expect(headers['x-content-signature']).not.toBe(signCallback(`${body} `, key));
  });
});

describe('ConnectWise simulator: /_sim control routes', () => {
  it('creates and updates invoices and reads payments over HTTP', async () => {
    const ctl = (path: string, method: string, body?: unknown) =>
      fetch(`${cw.origin}/_sim${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
    const created = await ctl('/invoices', 'POST', { lines: [{ kind: 'time', notes: 'Onsite', hours: 1.5, rate: '150' }] });
    expect(created.status).toBe(201);
    const inv = (await created.json()) as { id: number; subtotal: number };
    expect(inv.subtotal).toBe(225);
    const updated = (await (await ctl(`/invoices/${inv.id}`, 'PATCH', { addLines: [{ kind: 'expense', notes: 'Parts', amount: '10.10' }] })).json()) as {
      subtotal: number;
    };
    expect(updated.subtotal).toBe(235.1);
    expect((await ctl('/invoices/999999', 'PATCH', { status: 'Sent' })).status).toBe(400);
    expect(await (await ctl(`/invoices/${inv.id}/payments`, 'GET')).json()).toEqual([]);
    const options = (await (await ctl('/callback-options', 'PUT', { duplicate: true })).json()) as { duplicate: boolean };
    expect(options.duplicate).toBe(true);
    expect(cw.sim.callbackOptions.duplicate).toBe(true);
    cw.sim.callbackOptions.duplicate = false;
  });
});

describe('ConnectWise simulator: rate limit and scale', () => {
  it('answers 429 with Retry-After once a configured limit is reached', async () => {
    cw.sim.setRateLimit({ limit: 2, windowMs: 60_000 });
    try {
      expect((await get('/company/companies')).status).toBe(200);
      expect((await get('/company/companies')).status).toBe(200);
      const limited = await get('/company/companies');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      cw.sim.setRateLimit(null);
    }
  });

  it('seeds 20,000 invoices deterministically in a few seconds and stays fast to query', async () => {
    const big = await startConnectWiseSimulator();
    const twin = await startConnectWiseSimulator();
    try {
      const t0 = Date.now();
      const summary = big.sim.seed({ companies: 200, invoices: 20_000, seed: 5, from: '2023-01-01', to: '2023-12-31' });
      expect(Date.now() - t0).toBeLessThan(30_000); // generous: a busy CI machine; ~1 s on an idle one
      expect(summary.invoiceIds).toHaveLength(20_000);
      expect(summary.lines).toBeGreaterThan(40_000);
      twin.sim.seed({ companies: 200, invoices: 20_000, seed: 5, from: '2023-01-01', to: '2023-12-31' });
      expect(JSON.stringify(twin.state.invoices.all().slice(-5))).toBe(JSON.stringify(big.state.invoices.all().slice(-5)));
      const c = big.credentials;
      const h = { authorization: `Basic ${Buffer.from(`${c.companyId}+${c.publicKey}:${c.privateKey}`).toString('base64')}`, clientId: c.clientId };
      const ids = summary.invoiceIds.slice(-300);
      const t1 = Date.now();
      const res = await fetch(`${big.baseUrl}/procurement/products?pageSize=1000&conditions=${encodeURIComponent(`invoice/id in (${ids.join(',')})`)}`, {
        headers: h,
      });
      expect(res.status).toBe(200);
      const q = encodeURIComponent('lastUpdated >= [2023-06-01T00:00:00Z]');
      const page = await fetch(`${big.baseUrl}/finance/invoices?pageSize=1000&orderBy=${encodeURIComponent('lastUpdated asc, id asc')}&conditions=${q}`, {
        headers: h,
      });
      expect(((await page.json()) as unknown[]).length).toBe(1000);
      expect(Date.now() - t1).toBeLessThan(15_000); // generous: index use keeps it ~100 ms on an idle machine
    } finally {
      await big.close();
      await twin.close();
    }
  });
});
