// The QuickBooks Online simulator over HTTP: OAuth rotation, auth faults, batch, requestid, limits
// and the posting rules the connector relies on.
import { afterEach, describe, expect, it } from 'vitest';
import { startQuickBooksSimulator, type QuickBooksSimulatorOptions, type RunningQuickBooksSimulator } from './index.ts';
import { QboLimits } from './limits.ts';

type Json = Record<string, any>;
let qbo: RunningQuickBooksSimulator | undefined;
afterEach(async () => {
  await qbo?.close();
  qbo = undefined;
});

async function start(opts: QuickBooksSimulatorOptions = {}) {
  qbo = await startQuickBooksSimulator(opts);
  return qbo;
}

function basic(s: RunningQuickBooksSimulator, secret = s.clientSecret): string {
  return `Basic ${Buffer.from(`${s.clientId}:${secret}`).toString('base64')}`;
}

async function token(s: RunningQuickBooksSimulator, form: Record<string, string>, secret?: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(s.oauthTokenUrl, {
    method: 'POST',
    headers: { authorization: basic(s, secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function client(s: RunningQuickBooksSimulator) {
  const t = await token(s, { grant_type: 'refresh_token', refresh_token: s.initialRefreshToken });
  const h = { authorization: `Bearer ${t.body['access_token']}`, accept: 'application/json', 'content-type': 'application/json' };
  const base = `${s.baseUrl}/v3/company/${s.realmId}`;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = h) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
  };
  return { call, h, accessToken: String(t.body['access_token']), refreshToken: String(t.body['refresh_token']) };
}

const paymentFor = (inv: Json, amount: number) => ({
  CustomerRef: { value: inv['CustomerRef'].value },
  TotalAmt: amount,
  Line: [{ Amount: amount, LinkedTxn: [{ TxnId: inv['Id'], TxnType: 'Invoice' }] }],
});

describe('OAuth 2.0', () => {
  it('rejects bad client credentials and unknown grants', async () => {
    const s = await start();
    expect(await token(s, { grant_type: 'refresh_token', refresh_token: s.initialRefreshToken }, 'wrong')).toEqual({
      status: 401,
      body: { error: 'invalid_client' },
    });
    expect((await token(s, { grant_type: 'password' })).body).toEqual({ error: 'unsupported_grant_type' });
    expect((await token(s, { grant_type: 'refresh_token', refresh_token: 'nope' })).body).toEqual({ error: 'invalid_grant' });
  });

  it('rotates refresh tokens: a rotated-out token works only within the grace and until its successor is used', async () => {
    let now = 1_700_000_000_000;
    const s = await start({ now: () => now, refreshGraceSec: 60 });
    const a = await token(s, { grant_type: 'refresh_token', refresh_token: s.initialRefreshToken });
    expect(a.body).toMatchObject({ token_type: 'bearer', expires_in: 3600, x_refresh_token_expires_in: 8_640_000 });
    const rt2 = a.body['refresh_token'];
    expect(rt2).not.toBe(s.initialRefreshToken);
    // Lost answer? The old token, within the grace, hands out the same successor again.
    const again = await token(s, { grant_type: 'refresh_token', refresh_token: s.initialRefreshToken });
    expect(again.body['refresh_token']).toBe(rt2);
    expect(again.body['access_token']).not.toBe(a.body['access_token']);
    now += 61_000;
    expect((await token(s, { grant_type: 'refresh_token', refresh_token: s.initialRefreshToken })).body).toEqual({ error: 'invalid_grant' });
    const b = await token(s, { grant_type: 'refresh_token', refresh_token: rt2 });
    expect(b.status).toBe(200);
    // rt2's successor exists but is unused: rt2 still works inside the grace; once rt3 is used, no more.
    await token(s, { grant_type: 'refresh_token', refresh_token: b.body['refresh_token'] });
    expect((await token(s, { grant_type: 'refresh_token', refresh_token: rt2 })).body).toEqual({ error: 'invalid_grant' });
  });

  it('exchanges an authorization code once, for the client and redirect it was issued to', async () => {
    const s = await start();
    const cb = 'http://localhost/cb';
    const query = `client_id=${s.clientId}&response_type=code&scope=com.intuit.quickbooks.accounting&redirect_uri=${encodeURIComponent(cb)}&state=xyz`;
    // The consent page is shown only for a redirect URI registered on the app's Keys tab.
    expect((await fetch(`${s.baseUrl}/connect/oauth2?${query}`, { redirect: 'manual' })).status).toBe(400);
    s.sim.registerRedirectUri(cb);
    expect(() => s.sim.registerRedirectUri('http://msp.example/cb')).toThrow(/https/);
    expect((await fetch(`${s.baseUrl}/connect/oauth2?${query}`, { redirect: 'manual' })).status).toBe(200);
    const connect = (extra: string) =>
      fetch(`${s.baseUrl}/connect/oauth2`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `${query}${extra}`,
        redirect: 'manual',
      });
    const res = await connect('&decision=allow');
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    expect(to.searchParams.get('state')).toBe('xyz');
    expect(to.searchParams.get('realmId')).toBe(s.realmId);
    const code = to.searchParams.get('code')!;
    expect((await token(s, { grant_type: 'authorization_code', code, redirect_uri: 'http://other/cb' })).status).toBe(400);
    // Cancel: back with access_denied and the state, no code.
    const denied = new URL((await connect('&decision=deny')).headers.get('location')!);
    expect([denied.searchParams.get('error'), denied.searchParams.get('state'), denied.searchParams.get('code')]).toEqual(['access_denied', 'xyz', null]);
    // No accounting scope: back with invalid_scope.
    const noScope = await fetch(`${s.baseUrl}/connect/oauth2?${query.replace('com.intuit.quickbooks.accounting', 'openid')}`, { redirect: 'manual' });
    expect(new URL(noScope.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
    const code2 = new URL((await connect('&decision=allow')).headers.get('location')!).searchParams.get('code')!;
    expect((await token(s, { grant_type: 'authorization_code', code: code2, redirect_uri: cb })).body['access_token']).toBeTruthy();
    expect((await token(s, { grant_type: 'authorization_code', code: code2, redirect_uri: cb })).body).toEqual({ error: 'invalid_grant' });
  });

  it('answers 401 AuthenticationFailed for missing or expired tokens and 403 for another realm', async () => {
    const s = await start();
    const c = await client(s);
    const none = await c.call('GET', '/account/1', undefined, { accept: 'application/json' });
    expect(none.status).toBe(401);
    expect(none.body['fault']['error'][0]).toMatchObject({ code: '3200', message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401' });
    expect((await c.call('GET', '/account/1')).status).toBe(200);
    s.sim.expireAccessTokens();
    const expired = await c.call('GET', '/account/1');
    expect(expired.status).toBe(401);
    expect(expired.body['fault']['error'][0]['detail']).toMatch(/^Token expired/);
    const t = await token(s, { grant_type: 'refresh_token', refresh_token: c.refreshToken });
    const other = await fetch(`${s.baseUrl}/v3/company/123/account/1`, { headers: { authorization: `Bearer ${t.body['access_token']}` } });
    expect(other.status).toBe(403);
  });
});

describe('data API', () => {
  it('reads, queries (GET and POST application/text), counts, and answers an empty QueryResponse when nothing matches', async () => {
    const s = await start();
    s.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '10.00' });
    s.sim.seedInvoice({ docNumber: '1002', customerName: 'Acme', amount: '20.00' });
    const c = await client(s);
    const q = await c.call('GET', `/query?query=${encodeURIComponent("SELECT * FROM Invoice WHERE DocNumber IN ('1002') ")}&minorversion=75`);
    expect(q.body['QueryResponse']).toMatchObject({ startPosition: 1, maxResults: 1, Invoice: [{ DocNumber: '1002', TotalAmt: 20, Balance: 20 }] });
    const p = await c.call('POST', '/query', 'select count(*) from Invoice', { ...c.h, 'content-type': 'application/text' });
    expect(p.body['QueryResponse']).toEqual({ totalCount: 2 });
    expect((await c.call('GET', `/query?query=${encodeURIComponent("select * from Invoice where DocNumber = 'x'")}`)).body['QueryResponse']).toEqual({});
    const bad = await c.call('GET', `/query?query=${encodeURIComponent('select * from Invoice where Nope = 1')}`);
    expect(bad.status).toBe(400);
    expect(bad.body['Fault']).toMatchObject({ type: 'ValidationFault', Error: [{ code: '4001' }] });
    const missing = await c.call('GET', '/invoice/99999');
    expect(missing.body['Fault']['Error'][0]['code']).toBe('610');
  });

  it('rejects properties the XSD does not define (2010) and enforces PaymentRefNum length (2050)', async () => {
    const s = await start();
    const inv = s.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '10.00' });
    const c = await client(s);
    const r = await c.call('POST', '/payment', { ...paymentFor(inv, 5), PaymentRefNumber: 'x' });
    expect(r.body['Fault']['Error'][0]).toMatchObject({ code: '2010', element: 'PaymentRefNumber' });
    const long = await c.call('POST', '/payment', { ...paymentFor(inv, 5), PaymentRefNum: 'x'.repeat(22) });
    expect(long.body['Fault']['Error'][0]).toMatchObject({ code: '2050' });
    expect(s.sim.payments()).toHaveLength(0);
  });

  it('replays the original answer for a repeated requestid without executing again', async () => {
    const s = await start();
    const inv = s.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '10.00' });
    const c = await client(s);
    const first = await c.call('POST', '/payment?requestid=req-1', paymentFor(inv, 4));
    const second = await c.call('POST', '/payment?requestid=req-1', paymentFor(inv, 4));
    expect(second.body).toEqual(first.body);
    expect(s.sim.payments()).toHaveLength(1);
    expect((await c.call('POST', '/payment?requestid=req-2', paymentFor(inv, 4))).body['Payment']['Id']).not.toBe(first.body['Payment']['Id']);
    expect((await c.call('POST', `/payment?requestid=${'r'.repeat(51)}`, paymentFor(inv, 1))).status).toBe(400);
    expect(s.sim.payments()).toHaveLength(2);
  });

  it('runs batch items serially with per-item faults, caps batches at 30 items and bIds at 10 chars with a requestid', async () => {
    const s = await start();
    const inv = s.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '10.00' });
    const c = await client(s);
    const r = await c.call('POST', '/batch?requestid=b-1', {
      BatchItemRequest: [
        { bId: 'a', operation: 'create', Payment: paymentFor(inv, 6) },
        { bId: 'b', operation: 'create', Payment: paymentFor(inv, 6) }, // only 4 left open
        { bId: 'c', Query: "select * from Invoice where DocNumber = '1001'" },
      ],
    });
    expect(r.status).toBe(200);
    const [a, b, q] = r.body['BatchItemResponse'];
    expect(a).toMatchObject({ bId: 'a', Payment: { TotalAmt: 6 } });
    expect(b).toMatchObject({ bId: 'b', Fault: { type: 'ValidationFault', Error: [{ code: '6000' }] } });
    expect(q).toMatchObject({ bId: 'c', QueryResponse: { Invoice: [{ Balance: 4 }] } });
    const again = await c.call('POST', '/batch?requestid=b-1', { BatchItemRequest: [{ bId: 'a', operation: 'create', Payment: paymentFor(inv, 1) }] });
    expect(again.body).toEqual(r.body);
    const tooMany = await c.call('POST', '/batch', {
      BatchItemRequest: Array.from({ length: 31 }, (_, i) => ({ bId: `q${i}`, Query: 'select * from Account' })),
    });
    expect(tooMany.status).toBe(400);
    const longBid = await c.call('POST', '/batch?requestid=b-2', { BatchItemRequest: [{ bId: 'abcdefghijk', Query: 'select * from Account' }] });
    expect(longBid.status).toBe(400);
    expect((await c.call('POST', `/batch?requestid=${'b'.repeat(37)}`, { BatchItemRequest: [{ bId: 'a', Query: 'select * from Account' }] })).status).toBe(400);
    expect(s.sim.payments()).toHaveLength(1);
  });

  it('keeps deposits honest: only Undeposited Funds payments, once, into a bank, never negative', async () => {
    const s = await start();
    const inv = s.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '100.00' });
    const c = await client(s);
    const inUf = (await c.call('POST', '/payment', paymentFor(inv, 50))).body['Payment'];
    const direct = (await c.call('POST', '/payment', { ...paymentFor(inv, 10), DepositToAccountRef: { value: s.sim.accounts.checking } })).body['Payment'];
    expect(inUf['DepositToAccountRef']).toEqual({ value: s.sim.accounts.undepositedFunds });
    const dep = (lines: unknown[], to = s.sim.accounts.checking) => c.call('POST', '/deposit', { DepositToAccountRef: { value: to }, Line: lines });
    const link = (p: Json, amount = Number(p['TotalAmt'])) => ({ Amount: amount, LinkedTxn: [{ TxnId: p['Id'], TxnType: 'Payment' }] });
    const fee = (amount: number) => ({
      Amount: amount,
      DetailType: 'DepositLineDetail',
      DepositLineDetail: { AccountRef: { value: s.sim.accounts.merchantFees } },
    });
    expect((await dep([link(direct)])).body['Fault']['Error'][0]['Detail']).toMatch(/not in Undeposited Funds/);
    expect((await dep([link(inUf)], s.sim.accounts.undepositedFunds)).status).toBe(400);
    expect((await dep([link(inUf, 40)])).body['Fault']['Error'][0]['Detail']).toMatch(/must equal its amount/);
    expect((await dep([link(inUf), fee(-60)])).body['Fault']['Error'][0]['Detail']).toMatch(/cannot be negative/);
    const ok = await dep([link(inUf), fee(-1.75)]);
    expect(ok.body['Deposit']).toMatchObject({ TotalAmt: 48.25 });
    expect((await dep([link(inUf)])).body['Fault']['Error'][0]['Detail']).toMatch(/already been deposited/);
    expect(s.sim.deposits()).toHaveLength(1);
  });

  it('voids a payment and gives the invoice its balance back', async () => {
    const s = await start();
    const inv = s.sim.seedInvoice({ docNumber: '1001', customerName: 'Acme', amount: '100.00' });
    const c = await client(s);
    const p = (await c.call('POST', '/payment', paymentFor(inv, 30))).body['Payment'];
    expect(s.sim.invoices()[0]!['Balance']).toBe(70);
    expect((await c.call('POST', '/payment?operation=void', { Id: p['Id'], SyncToken: '7' })).body['Fault']['Error'][0]['code']).toBe('5010');
    const v = await c.call('POST', '/payment?operation=void', { Id: p['Id'], SyncToken: p['SyncToken'], sparse: true });
    expect(v.body['Payment']).toMatchObject({ TotalAmt: 0, PrivateNote: 'Voided' });
    expect(s.sim.invoices()[0]!['Balance']).toBe(100);
  });
});

describe('Intuit throttles', () => {
  it('answers 429 ThrottleExceeded over the per-minute and batch limits, without Retry-After', async () => {
    const s = await start({ limits: { requestsPerMinute: 3, batchPerMinute: 1 } });
    const c = await client(s);
    expect((await c.call('GET', '/account/1')).status).toBe(200);
    expect((await c.call('POST', '/batch', { BatchItemRequest: [{ bId: '1', Query: 'select * from Account' }] })).status).toBe(200);
    const secondBatch = await c.call('POST', '/batch', { BatchItemRequest: [{ bId: '1', Query: 'select * from Account' }] });
    expect(secondBatch.status).toBe(429);
    expect((await c.call('GET', '/account/1')).status).toBe(200);
    const over = await c.call('GET', '/account/1');
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBeNull();
    expect(over.body['Fault']).toMatchObject({ type: 'SERVICE' });
    expect(over.body['Fault']['Error'][0]).toMatchObject({
      code: '3001',
      Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
      Detail: 'The request limit was reached.',
    });
    expect(s.sim.stats.throttled).toEqual({ rate: 1, perSecond: 0, concurrency: 0, batch: 1 });
  });

  it('admits at most N concurrent requests per realm and app', () => {
    const l = new QboLimits({ requestsPerMinute: 100, requestsPerSecond: 100, concurrentPerApp: 2, batchPerMinute: 40, windowMs: 60_000 });
    const a = l.admit('r', 'app', false);
    const b = l.admit('r', 'app', false);
    expect(l.admit('r', 'app', false)).toEqual({ ok: false, reason: 'concurrency' });
    expect(l.admit('r', 'other-app', false).ok).toBe(true);
    if (a.ok) a.release();
    expect(l.admit('r', 'app', false).ok).toBe(true);
    expect(b.ok).toBe(true);
  });

  it('admits at most 10 requests per second per realm and app (Intuit’s published figure)', () => {
    const l = new QboLimits();
    for (let i = 0; i < 10; i++) {
      const a = l.admit('r', 'app', false);
      expect(a.ok).toBe(true);
      if (a.ok) a.release();
    }
    expect(l.admit('r', 'app', false)).toEqual({ ok: false, reason: 'perSecond' });
    expect(l.admit('r', 'other-app', false).ok).toBe(true);
  });
});
