// The Xero simulator holds clients to Xero's rules: tokens and tenant, rotation, shapes of errors, limits,
// idempotency, per-item results, webhooks' signatures and the intent-to-receive check.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startXeroSimulator, xeroWebhookSignature, type RunningXeroSimulator } from './index.ts';

let x: RunningXeroSimulator;
let refreshToken = '';
beforeEach(async () => {
  x = await startXeroSimulator();
  refreshToken = x.initialRefreshToken;
});
afterEach(async () => {
  await x.close();
});

async function token(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(x.tokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${x.clientId}:${x.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A fresh access token, keeping the rotated refresh token. */
async function access(): Promise<string> {
  const t = await token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  refreshToken = String(t.body['refresh_token']);
  return String(t.body['access_token']);
}

async function api(
  at: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${x.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${at}`,
      'xero-tenant-id': x.tenantId,
      accept: 'application/json',
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* text */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

describe('Xero simulator', () => {
  it('rotates refresh tokens: the used one is refused afterwards', async () => {
    const first = await token({ grant_type: 'refresh_token', refresh_token: x.initialRefreshToken });
    expect(first.status).toBe(200);
    expect(first.body['refresh_token']).not.toBe(x.initialRefreshToken);
    const again = await token({ grant_type: 'refresh_token', refresh_token: x.initialRefreshToken });
    expect(again).toEqual({ status: 400, body: { error: 'invalid_grant' } });
    expect((await token({ grant_type: 'refresh_token', refresh_token: String(first.body['refresh_token']) })).status).toBe(200);
  });

  it('needs a bearer token and xero-tenant-id, in Xero’s problem shape', async () => {
    const at = await access();
    const noTenant = await fetch(`${x.apiUrl}/Invoices`, { headers: { authorization: `Bearer ${at}` } });
    expect(noTenant.status).toBe(403);
    expect(await noTenant.json()).toMatchObject({ Title: 'Forbidden', Status: 403, Detail: 'AuthenticationUnsuccessful' });
    const bad = await api('nope', 'GET', '/Invoices');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('invalid_token');
    x.sim.identity.expireAccessTokens();
    const expired = await api(at, 'GET', '/Invoices');
    expect(expired.status).toBe(401);
    expect(expired.body.Detail).toMatch(/^TokenExpired/);
    const conns = await fetch(`${x.baseUrl}/connections`, { headers: { authorization: `Bearer ${await access()}` } });
    expect(((await conns.json()) as { tenantId: string }[]).map((c) => c.tenantId)).toEqual([x.tenantId]);
    x.sim.identity.revokeAll();
    expect((await token({ grant_type: 'refresh_token', refresh_token: refreshToken })).body).toEqual({ error: 'invalid_grant' });
  });

  it('finds invoices by number and where; refuses unknown routes, parameters and fields', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    x.sim.seedInvoice({ number: 'INV-2', contactName: 'Birch', amount: '50.00' });
    const at = await access();
    const byNumber = await api(at, 'GET', '/Invoices?InvoiceNumbers=INV-2');
    expect(byNumber.body.Invoices.map((i: any) => i.InvoiceNumber)).toEqual(['INV-2']);
    expect(byNumber.headers.get('x-minlimit-remaining')).toBe('59');
    const where = await api(at, 'GET', `/Invoices?where=${encodeURIComponent('InvoiceNumber=="INV-1"')}`);
    expect(where.body.Invoices[0].AmountDue).toBe(100);
    expect((await api(at, 'GET', `/Invoices?where=${encodeURIComponent('Nope=="1"')}`)).body.Type).toBe('QueryParseException');
    expect((await api(at, 'GET', '/Invoices?foo=1')).status).toBe(400);
    expect((await api(at, 'GET', '/Nothing')).status).toBe(404);
    const inv = x.sim.invoice('INV-1')!;
    const bad = await api(at, 'PUT', '/Payments', {
      Payments: [{ Invoice: { InvoiceID: inv.InvoiceID }, Account: { Code: '091' }, Date: '2026-12-01', Amount: 10, Colour: 'red' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ ErrorNumber: 10, Type: 'ValidationException' });
    expect(bad.body.Elements[0].ValidationErrors[0].Message).toContain("'Colour'");
    expect(x.sim.livePayments()).toHaveLength(0);
  });

  it('PUT /Payments with summarizeErrors=false answers per item; Idempotency-Key replays', async () => {
    const a = x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    const at = await access();
    const body = {
      Payments: [
        { Invoice: { InvoiceID: a.InvoiceID }, Account: { Code: '091' }, Date: '2026-12-01', Amount: 60, Reference: 'r1' },
        { Invoice: { InvoiceID: a.InvoiceID }, Account: { Code: '200' }, Date: '2026-12-01', Amount: 10, Reference: 'r2' },
        { Invoice: { InvoiceID: a.InvoiceID }, Account: { Code: '091' }, Date: '2026-12-01', Amount: 50, Reference: 'r3' },
      ],
    };
    const r = await api(at, 'PUT', '/Payments?summarizeErrors=false', body, { 'idempotency-key': 'k1' });
    expect(r.status).toBe(200);
    expect(r.body.Payments.map((p: any) => p.StatusAttributeString)).toEqual(['OK', 'ERROR', 'ERROR']);
    expect(r.body.Payments[2].ValidationErrors[0].Message).toMatch(/exceeds the amount outstanding/);
    const again = await api(at, 'PUT', '/Payments?summarizeErrors=false', body, { 'idempotency-key': 'k1' });
    expect(again.body.Payments[0].PaymentID).toBe(r.body.Payments[0].PaymentID);
    expect(x.sim.livePayments()).toHaveLength(1);
    expect(x.sim.invoice('INV-1')!.paidCents).toBe(6000);
    const other = await api(at, 'PUT', '/Payments?summarizeErrors=false', { Payments: [body.Payments[0]] }, { 'idempotency-key': 'k1' });
    expect(other.status).toBe(400);
  });

  it('a payment names its invoice by InvoiceID or InvoiceNumber; what Xero refuses is refused per item in its words', async () => {
    x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    x.sim.seedInvoice({ number: 'INV-D', contactName: 'Acme', amount: '10.00', status: 'DRAFT' });
    const at = await access();
    const pay = (invoice: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      Invoice: invoice,
      Account: { Code: '091' },
      Date: '2026-12-01',
      Amount: 10,
      ...extra,
    });
    const r = await api(at, 'PUT', '/Payments?summarizeErrors=false', {
      Payments: [
        pay({ InvoiceNumber: 'INV-1' }),
        pay({ InvoiceNumber: 'INV-404' }),
        pay({ InvoiceNumber: 'INV-D' }),
        pay({}),
        pay({ InvoiceNumber: 'INV-1', Status: 'PAID' }),
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.Payments.map((p: any) => p.StatusAttributeString)).toEqual(['OK', 'ERROR', 'ERROR', 'ERROR', 'ERROR']);
    const words = r.body.Payments.map((p: any) => (p.ValidationErrors ?? []).map((v: any) => v.Message).join('; '));
    expect(r.body.Payments[0].Invoice.InvoiceNumber).toBe('INV-1');
    expect(words[1]).toBe('Invoice could not be found');
    expect(words[2]).toBe('Payments can only be made against Authorised documents');
    expect(words[3]).toBe('You must specify an Invoice ID or Invoice Number for the payment');
    expect(words[4]).toContain("'Status' is not a valid property of Invoice");
    expect(x.sim.invoice('INV-1')!.paidCents).toBe(1000);
    // Without summarizeErrors=false one bad item fails the call: 400 ValidationException, nothing kept.
    const all = await api(at, 'PUT', '/Payments', { Payments: [pay({ InvoiceNumber: 'INV-1' }), pay({ InvoiceNumber: 'INV-404' })] });
    expect(all.status).toBe(400);
    expect(all.body).toMatchObject({ ErrorNumber: 10, Type: 'ValidationException' });
    expect(all.body.Elements[0].ValidationErrors[0].Message).toBe('Invoice could not be found');
    expect(x.sim.invoice('INV-1')!.paidCents).toBe(1000);
    // A paid invoice takes no more: both of Xero's messages.
    await api(at, 'PUT', '/Payments?summarizeErrors=false', { Payments: [pay({ InvoiceNumber: 'INV-1' }, { Amount: 90 })] });
    const paid = await api(at, 'PUT', '/Payments?summarizeErrors=false', { Payments: [pay({ InvoiceNumber: 'INV-1' })] });
    expect(paid.body.Payments[0].ValidationErrors.map((v: any) => v.Message)).toEqual([
      'Payments can only be made against Authorised documents',
      'Payment amount exceeds the amount outstanding on this document',
    ]);
  });

  it('credit note allocations: same contact, AUTHORISED, never more than the credit left or the amount due', async () => {
    const a = x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    const b = x.sim.seedInvoice({ number: 'INV-B', contactName: 'Birch', amount: '100.00' });
    const cn = x.sim.seedCreditNote({ number: 'CN-1', contactName: 'Acme', amount: '30.00' });
    const draft = x.sim.seedCreditNote({ number: 'CN-D', contactName: 'Acme', amount: '5.00', status: 'DRAFT' });
    const at = await access();
    const alloc = (invoiceId: string, amount: number) => ({ Invoice: { InvoiceID: invoiceId }, Amount: amount, Date: '2026-12-02' });
    const found = await api(at, 'GET', `/CreditNotes?where=${encodeURIComponent('CreditNoteNumber=="CN-1"')}`);
    expect(found.body.CreditNotes.map((n: any) => [n.CreditNoteNumber, n.RemainingCredit])).toEqual([['CN-1', 30]]);
    const r = await api(at, 'PUT', `/CreditNotes/${cn.CreditNoteID}/Allocations?summarizeErrors=false`, {
      Allocations: [alloc(b.InvoiceID, 10), alloc(a.InvoiceID, 40), alloc(a.InvoiceID, 20), { ...alloc(a.InvoiceID, 1), Reference: 'x' }],
    });
    expect(r.status).toBe(200);
    const words = r.body.Allocations.map((x: any) => (x.ValidationErrors ?? []).map((v: any) => v.Message).join('; '));
    expect(words[0]).toBe('The credit note and the invoice must belong to the same contact');
    expect(words[1]).toBe('The amount allocated exceeds the remaining credit on this credit note');
    expect(words[2]).toBe('');
    expect(words[3]).toContain("'Reference' is not a valid property of Allocation");
    expect((await api(at, 'GET', `/Invoices/${a.InvoiceID}`)).body.Invoices[0]).toMatchObject({ AmountDue: 80, AmountCredited: 20 });
    const notYet = await api(at, 'PUT', `/CreditNotes/${draft.CreditNoteID}/Allocations`, { Allocations: [alloc(a.InvoiceID, 1)] });
    expect(notYet.status).toBe(400);
    expect(notYet.body.Elements[0].ValidationErrors[0].Message).toMatch(/Only an AUTHORISED credit note can be allocated/);
    expect((await api(at, 'PUT', `/CreditNotes/${randomUUID()}/Allocations`, { Allocations: [alloc(a.InvoiceID, 1)] })).status).toBe(404);
    expect((await api(at, 'GET', '/CreditNotes?foo=1')).status).toBe(400);
  });

  it('tracking categories: listed with their options; a SPEND line takes one active option per category, by id or by name', async () => {
    const at = await access();
    const cats = await api(at, 'GET', '/TrackingCategories');
    expect(cats.status).toBe(200);
    expect(cats.body.TrackingCategories.map((c: any) => [c.Name, c.Options.map((o: any) => o.Name)])).toEqual([
      ['Region', ['North', 'South']],
      ['Service line', ['Managed services', 'Projects']],
    ]);
    const region = cats.body.TrackingCategories[0];
    const north = region.Options[0];
    const spend = (tracking: unknown) => ({
      Type: 'SPEND',
      Contact: { Name: 'Stripe' },
      BankAccount: { Code: '091' },
      Date: '2026-12-01',
      LineItems: [{ Description: 'fees', Quantity: 1, UnitAmount: 1.5, AccountCode: '404', Tracking: tracking }],
    });
    const r = await api(at, 'PUT', '/BankTransactions?summarizeErrors=false', {
      BankTransactions: [
        spend([{ TrackingCategoryID: region.TrackingCategoryID, TrackingOptionID: north.TrackingOptionID }]),
        spend([{ Name: 'Service line', Option: 'Projects' }]),
        spend([{ Name: 'Region', Option: 'West' }]),
        spend([{ Name: 'Colour', Option: 'Red' }]),
        spend([
          { Name: 'Region', Option: 'North' },
          { Name: 'Region', Option: 'South' },
        ]),
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.BankTransactions.map((b: any) => b.StatusAttributeString)).toEqual(['OK', 'OK', 'ERROR', 'ERROR', 'ERROR']);
    expect(r.body.BankTransactions[0].LineItems[0].Tracking).toEqual([
      { TrackingCategoryID: region.TrackingCategoryID, TrackingOptionID: north.TrackingOptionID, Name: 'Region', Option: 'North' },
    ]);
    expect(r.body.BankTransactions[1].LineItems[0].Tracking[0]).toMatchObject({ Name: 'Service line', Option: 'Projects' });
    const words = r.body.BankTransactions.slice(2).map((b: any) => b.ValidationErrors.map((v: any) => v.Message).join('; '));
    expect(words[0]).toMatch(/tracking option West does not exist/);
    expect(words[1]).toMatch(/tracking category Colour does not exist/);
    expect(words[2]).toMatch(/Only one option of the tracking category Region/);
    expect((await api(at, 'GET', '/TrackingCategories?foo=1')).status).toBe(400);
  });

  it('bank transfers and SPEND need bank accounts; the clearing account nets to zero', async () => {
    const a = x.sim.seedInvoice({ number: 'INV-1', contactName: 'Acme', amount: '100.00' });
    const at = await access();
    await api(at, 'PUT', '/Payments', { Payments: [{ Invoice: { InvoiceID: a.InvoiceID }, Account: { Code: '091' }, Date: '2026-12-01', Amount: 100 }] });
    expect(
      (await api(at, 'PUT', '/BankTransfers', { BankTransfers: [{ FromBankAccount: { Code: '091' }, ToBankAccount: { Code: '404' }, Amount: 97 }] })).status,
    ).toBe(400);
    expect(
      (
        await api(at, 'PUT', '/BankTransfers', {
          BankTransfers: [{ FromBankAccount: { Code: '091' }, ToBankAccount: { Code: '090' }, Amount: 97, Date: '2026-12-02' }],
        })
      ).status,
    ).toBe(200);
    const spend = await api(at, 'PUT', '/BankTransactions', {
      BankTransactions: [
        {
          Type: 'SPEND',
          Contact: { Name: 'Stripe' },
          BankAccount: { Code: '091' },
          Date: '2026-12-02',
          LineAmountTypes: 'NoTax',
          LineItems: [{ Description: 'fees', Quantity: 1, UnitAmount: 3, AccountCode: '404' }],
        },
      ],
    });
    expect(spend.status).toBe(200);
    expect(x.sim.balanceCents('091')).toBe(0);
    expect(x.sim.balanceCents('090')).toBe(9700);
  });

  it('limits: 60 a minute, then 429 with Retry-After and X-Rate-Limit-Problem; the daily limit too', async () => {
    const at = await access();
    x.sim.limits.configure({ perMinute: 3 });
    for (let i = 0; i < 3; i++) expect((await api(at, 'GET', '/Accounts')).status).toBe(200);
    const over = await api(at, 'GET', '/Accounts');
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.headers.get('x-rate-limit-problem')).toBe('minute');
    x.sim.limits.reset();
    x.sim.limits.configure({ perMinute: 60, perDay: 2 });
    await api(at, 'GET', '/Accounts');
    const second = await api(at, 'GET', '/Accounts');
    expect(second.headers.get('x-daylimit-remaining')).toBe('0');
    expect((await api(at, 'GET', '/Accounts')).headers.get('x-rate-limit-problem')).toBe('daily');
    x.sim.offsetMs += 86_400_001;
    expect((await api(await access(), 'GET', '/Accounts')).status).toBe(200);
  });

  it('webhooks: intent to receive, signed deliveries', async () => {
    const got: { sig: string; body: string }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const sig = String(req.headers['x-xero-signature']);
        got.push({ sig, body });
        res.statusCode = sig === xeroWebhookSignature(x.sim.webhooks.key, body) ? 200 : 401;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    x.sim.webhooks.configure(`http://127.0.0.1:${port}/hook`);
    expect(await x.sim.webhooks.intentToReceive()).toBe('OK');
    x.sim.seedInvoice({ number: 'INV-9', contactName: 'Acme', amount: '1.00' });
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(3);
    expect(JSON.parse(got[2]!.body).events[0]).toMatchObject({ eventCategory: 'INVOICE', eventType: 'CREATE', tenantId: x.tenantId });
    await new Promise((r) => server.close(r));
  });

  it('authorization code: consent page, code once, /connections; unregistered redirect never redirected to', async () => {
    const redirect = 'http://127.0.0.1:9/xero/callback';
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: x.clientId,
      redirect_uri: redirect,
      scope: 'offline_access accounting.transactions accounting.settings',
      state: 's1',
    });
    expect((await fetch(`${x.authorizeUrl}?${q}`)).status).toBe(400); // not registered yet
    x.sim.identity.redirectUris.add(redirect);
    const page = await fetch(`${x.authorizeUrl}?${q}`);
    expect(await page.text()).toContain('Demo MSP Ltd');
    const allow = await fetch(x.authorizeUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `${q}&decision=allow`,
    });
    const to = new URL(allow.headers.get('location')!);
    expect(to.searchParams.get('state')).toBe('s1');
    const code = to.searchParams.get('code')!;
    const t = await token({ grant_type: 'authorization_code', code, redirect_uri: redirect });
    expect(t.status).toBe(200);
    expect(typeof t.body['refresh_token']).toBe('string');
    expect((await token({ grant_type: 'authorization_code', code, redirect_uri: redirect })).body).toEqual({ error: 'invalid_grant' });
    const conns = (await (
      await fetch(`${x.baseUrl}/connections`, { headers: { authorization: `Bearer ${String(t.body['access_token'])}` } })
    ).json()) as unknown[];
    expect(conns.length).toBeGreaterThanOrEqual(1);
    const deny = await fetch(x.authorizeUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `${q}&decision=deny`,
    });
    expect(new URL(deny.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
  });
});
