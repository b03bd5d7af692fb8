// What reaches POST /webhooks/<workspace>/<vendor> from outside: only a push the vendor really signed, for
// a workspace that exists, is stored. Everything else gets a 4xx that says why, and inbox_events does not
// change. Genuine redeliveries are acknowledged as duplicates.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { stripeSignatureHeader } from '../../simulators/stripe/webhooks.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let capture: { url: string; bodies: { body: string; signature: string }[]; close(): Promise<void> };

beforeAll(async () => {
  stack = await startStack({ companies: 1, invoices: 1 });
  capture = await startCapture();
  // A second ConnectWise callback subscriber, so the test holds genuine signed callback bodies to replay and tamper with.
  const c = stack.sims.connectwise.credentials;
  const res = await fetch(`${stack.sims.connectwise.baseUrl}/system/callbacks`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${c.companyId}+${c.publicKey}:${c.privateKey}`).toString('base64')}`,
      clientid: c.clientId,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ url: capture.url, type: 'invoice', level: 'owner', objectId: 1, description: 'test capture' }),
  });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await capture?.close();
  await stack?.close();
});

async function startCapture(): Promise<typeof capture> {
  const bodies: { body: string; signature: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ body: Buffer.concat(chunks).toString('utf8'), signature: String(req.headers['x-content-signature'] ?? '') });
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/cw`, bodies, close: () => new Promise((r) => server.close(() => r())) };
}

async function inboxCount(): Promise<number> {
  const rows = await withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('inbox_events').select('id').execute());
  return rows.length;
}

function stripeSecret(): string {
  const [secret] = [...stack.sims.stripe.sim.webhooks.secrets.values()];
  if (!secret) throw new Error('no Stripe webhook endpoint was registered');
  return secret;
}

async function post(
  vendor: string,
  body: string,
  headers: Record<string, string>,
  workspace = stack.slug,
): Promise<{ status: number; body: { received?: boolean; duplicate?: boolean; error?: { code: string; message: string } } }> {
  const res = await fetch(`${stack.settleUrl}/webhooks/${workspace}/${vendor}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as never };
}

/** A real event from the processor: a customer created through its API (a type Settle does not subscribe to). */
async function genuineStripeEvent(): Promise<string> {
  const s = stack.sims.stripe;
  const res = await fetch(`${s.baseUrl}/v1/customers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name: 'Webhook Test Co' }).toString(),
  });
  const customer = (await res.json()) as { id: string };
  const event = [...s.sim.store.events.values()].find((e) => e.type === 'customer.created' && (e.data.object as { id?: string }).id === customer.id);
  if (!event) throw new Error('the simulator recorded no customer.created event');
  return JSON.stringify(event);
}

/** Wait for the CW simulator's deliveries to our capture server, and return the newest captured callback. */
async function genuineCallback(): Promise<{ body: string; signature: string; payload: Record<string, unknown> }> {
  const before = capture.bodies.length;
  stack.sims.connectwise.sim.createInvoice({ lines: [{ kind: 'product', description: 'Signed callback', quantity: 1, price: '10.00' }] });
  await stack.sims.connectwise.sim.flushCallbacks();
  expect(capture.bodies.length).toBe(before + 1);
  const c = capture.bodies.at(-1)!;
  return { ...c, payload: JSON.parse(c.body) as Record<string, unknown> };
}

describe('Stripe webhooks', () => {
  it('a bad signature is refused with 401 and nothing is stored', async () => {
    const body = await genuineStripeEvent();
    const before = await inboxCount();
    const forged = await post('stripe', body, { 'stripe-signature': stripeSignatureHeader('whsec_not_the_endpoint_secret', body) });
    expect(forged.status).toBe(401);
    expect(forged.body.error?.code).toBe('bad_signature');
    expect(forged.body.error?.message).toMatch(/signature/i);
    const missing = await post('stripe', body, {});
    expect(missing.status).toBe(401);
    // Signed correctly, then the body changed in transit.
    const tampered = await post('stripe', body.replace('Webhook Test Co', 'Webhook Test Co.'), {
      'stripe-signature': stripeSignatureHeader(stripeSecret(), body),
    });
    expect(tampered.status).toBe(401);
    expect(await inboxCount()).toBe(before);
  });

  it('a correctly signed but stale delivery (a replay) is refused and nothing is stored', async () => {
    const body = await genuineStripeEvent();
    const before = await inboxCount();
    const old = Math.floor(Date.now() / 1000) - 3600;
    const r = await post('stripe', body, { 'stripe-signature': stripeSignatureHeader(stripeSecret(), body, old) });
    expect(r.status).toBe(401);
    expect(r.body.error?.code).toBe('stale_timestamp');
    expect(await inboxCount()).toBe(before);
  });

  it('a body that is not JSON, with a valid-looking or even valid signature, is refused with 4xx and nothing is stored', async () => {
    const before = await inboxCount();
    const body = '{"id": "evt_1", "object": "event", "type": ';
    const signed = await post('stripe', body, { 'stripe-signature': stripeSignatureHeader(stripeSecret(), body) });
    expect(signed.status).toBe(400);
    expect(signed.body.error?.code).toBe('malformed');
    const lookalike = await post('stripe', body, { 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'ab'.repeat(32)}` });
    expect(lookalike.status).toBeGreaterThanOrEqual(400);
    expect(lookalike.status).toBeLessThan(500);
    // JSON, signed, but not an event.
    const notEvent = JSON.stringify({ hello: 'world' });
    const r = await post('stripe', notEvent, { 'stripe-signature': stripeSignatureHeader(stripeSecret(), notEvent) });
    expect(r.status).toBe(400);
    expect(await inboxCount()).toBe(before);
  });

  it('a push for a workspace that does not exist and one for a vendor it has not connected get the same 404', async () => {
    const body = await genuineStripeEvent();
    const r = await post('stripe', body, { 'stripe-signature': stripeSignatureHeader(stripeSecret(), body) }, 'no-such-msp');
    expect(r.status).toBe(404);
    expect(r.body.error?.code).toBe('not_found');
    expect(r.body.error?.message).toMatch(/check the webhook URL/);
    // A vendor the workspace is not connected to: the very same answer, so neither workspaces nor
    // connections can be discovered through the webhook URL (issue #8 item 9).
    const other = await post('square', body, {});
    expect(other.status).toBe(404);
    expect(other.body).toEqual(r.body);
  });

  it('a genuine event delivered twice is stored once; the second answer says duplicate', async () => {
    const body = await genuineStripeEvent();
    const id = (JSON.parse(body) as { id: string }).id;
    const first = await post('stripe', body, { 'stripe-signature': stripeSignatureHeader(stripeSecret(), body) });
    expect(first).toEqual({ status: 200, body: { received: true, duplicate: false } });
    const second = await post('stripe', body, { 'stripe-signature': stripeSignatureHeader(stripeSecret(), body) });
    expect(second).toEqual({ status: 200, body: { received: true, duplicate: true } });
    const rows = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('inbox_events').select('id').where('source', '=', 'stripe').where('vendor_event_id', '=', id).execute(),
    );
    expect(rows).toHaveLength(1);
  });
});

describe('ConnectWise callbacks', () => {
  it('a genuine callback is accepted (control for the refusals below)', async () => {
    const c = await genuineCallback();
    const before = await inboxCount();
    const r = await post('connectwise', c.body, { 'x-content-signature': c.signature });
    expect(r.status).toBe(200);
    expect(r.body.received).toBe(true);
    expect(await inboxCount()).toBe(before + 1);
  });

  it('a callback with a bad signature is refused and nothing is stored', async () => {
    const c = await genuineCallback();
    const before = await inboxCount();
    const wrongSig = await post('connectwise', c.body, { 'x-content-signature': Buffer.from('x'.repeat(32)).toString('base64') });
    expect(wrongSig.status).toBe(401);
    expect(wrongSig.body.error?.code).toBe('bad_signature');
    const missing = await post('connectwise', c.body, {});
    expect(missing.status).toBe(401);
    // The genuine signature on a changed body (another invoice id).
    const changed = JSON.stringify({ ...c.payload, ID: Number(c.payload['ID']) + 1 });
    const tampered = await post('connectwise', changed, { 'x-content-signature': c.signature });
    expect(tampered.status).toBe(401);
    expect(await inboxCount()).toBe(before);
  });

  it('a callback whose key URL is not on the connected ConnectWise site is refused without fetching it', async () => {
    const c = await genuineCallback();
    const before = await inboxCount();
    const payload = { ...c.payload, Metadata: { key_url: `${capture.url}/v4_6_release/system/callbackkey/index.rails?id=attacker` } };
    const body = JSON.stringify(payload);
    const r = await post('connectwise', body, { 'x-content-signature': c.signature });
    expect(r.status).toBe(401);
    expect(r.body.error?.message).toMatch(/not on this connection's ConnectWise site/);
    expect(await inboxCount()).toBe(before);
  });

  it('a callback naming a signing key the site does not have is refused (4xx, not a server error)', async () => {
    const c = await genuineCallback();
    const before = await inboxCount();
    const keyUrl = new URL((c.payload['Metadata'] as { key_url: string }).key_url);
    keyUrl.searchParams.set('id', 'no-such-key');
    const body = JSON.stringify({ ...c.payload, Metadata: { key_url: keyUrl.toString() } });
    const r = await post('connectwise', body, { 'x-content-signature': c.signature });
    expect(r.status).toBe(401);
    expect(await inboxCount()).toBe(before);
  });

  it('a callback for another ConnectWise company is refused', async () => {
    const c = await genuineCallback();
    const before = await inboxCount();
    const body = JSON.stringify({ ...c.payload, CompanyId: 'someone_else' });
    const r = await post('connectwise', body, { 'x-content-signature': c.signature });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(await inboxCount()).toBe(before);
  });
});
