// Bad input gets a clear error and changes nothing: the payments API refuses wrong amounts, unknown or
// mixed invoices and malformed bodies with { error: { code, message } } naming the problem, and no
// payment, attempt or processor call results. The portal refuses expired and altered links, and an
// invoice that is already paid cannot be paid again.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { signToken } from '../../src/http/signed-token.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { portalSecretOf } from '../../src/db/portal-secret.ts';
import { ensureProcessorCustomer } from '../../src/engine/start-portal-payment.ts';
import { syncSavedMethods } from '../../src/engine/sync-saved-methods.ts';
import { eventually, openInvoices, payInPortal, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack;
let apiKey: string;
type Invoice = Awaited<ReturnType<typeof openInvoices>>[number];
let invoices: Invoice[];
/** Two open invoices of one client, one of another client, and a saved card of the first client. */
let a1: Invoice, a2: Invoice, b1: Invoice;
let cardOfA: string;

beforeAll(async () => {
  stack = await startStack({ companies: 3, invoices: 9 });
  apiKey = await stack.apiKey();
  invoices = await openInvoices(stack);
  const byClient = new Map<string, Invoice[]>();
  for (const i of invoices) byClient.set(i.client_id, [...(byClient.get(i.client_id) ?? []), i]);
  const withTwo = [...byClient.values()].find((l) => l.length >= 2)!;
  [a1, a2] = withTwo as [Invoice, Invoice];
  b1 = invoices.find((i) => i.client_id !== a1.client_id)!;
  cardOfA = await savedCard(a1.client_id, 'pm_card_visa');
});
afterAll(async () => stack?.close());

async function savedCard(clientId: string, testToken: string): Promise<string> {
  const ctx = stack.settle!.ctx;
  const customer = await ensureProcessorCustomer(ctx, stack.tenantId, clientId);
  const s = stack.sims.stripe;
  const res = await fetch(`${s.baseUrl}/v1/payment_methods/${testToken}/attach`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ customer }).toString(),
  });
  const pm = (await res.json()) as { id: string };
  if (!res.ok) throw new Error(`attach failed: ${JSON.stringify(pm)}`);
  const mine = (await syncSavedMethods(ctx, stack.tenantId, clientId, 'system:test')).find((m) => m.processorMethodId === pm.id);
  return mine!.id;
}

interface ErrorReply {
  status: number;
  body: { error?: { code: string; message: string }; payment_id?: string; outcome?: string };
}

async function postPayment(body: unknown, opts: { raw?: string; key?: string | null } = {}): Promise<ErrorReply> {
  const key = opts.key === undefined ? apiKey : opts.key;
  const res = await fetch(`${stack.settleUrl}/api/v1/payments`, {
    method: 'POST',
    headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), 'content-type': 'application/json' },
    body: opts.raw ?? JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: ErrorReply['body'];
  try {
    parsed = JSON.parse(text) as ErrorReply['body'];
  } catch {
    throw new Error(`answer is not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
  return { status: res.status, body: parsed };
}

/** What a refused request must leave untouched: our payments and attempts, and the processor. */
async function footprint(): Promise<{ payments: number; attempts: number; audit: number; intents: number }> {
  return withTenant(stack.database.db, stack.tenantId, async (tx) => ({
    payments: (await tx.selectFrom('payments').select('id').execute()).length,
    attempts: (await tx.selectFrom('payment_attempts').select('id').execute()).length,
    audit: (await tx.selectFrom('audit_log').select('id').where('action', 'like', 'payment.%').execute()).length,
    intents: stack.sims.stripe.sim.store.paymentIntents.size,
  }));
}

async function expectRefused(
  body: unknown,
  status: number,
  code: string | RegExp,
  message: RegExp,
  opts: { raw?: string; key?: string | null } = {},
): Promise<void> {
  const before = await footprint();
  const r = await postPayment(body, opts);
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  if (typeof code === 'string') expect(r.body.error?.code).toBe(code);
  else expect(r.body.error?.code).toMatch(code);
  expect(r.body.error?.message).toMatch(message);
  expect(r.body.payment_id).toBeUndefined();
  expect(await footprint()).toEqual(before);
}

const pay = (invoiceId: string, amount?: string): unknown => ({
  payment_method_id: cardOfA,
  invoices: [{ invoice_id: invoiceId, ...(amount === undefined ? {} : { amount_minor: amount }) }],
});

describe('POST /api/v1/payments refuses bad input and changes nothing', () => {
  it('a negative amount', async () => {
    await expectRefused(pay(a1.id, '-500'), 422, 'invalid', /amount_minor .* must be more than zero/);
  });

  it('a zero amount', async () => {
    await expectRefused(pay(a1.id, '0'), 422, 'invalid', /must be more than zero/);
  });

  it('more than the invoice has open', async () => {
    await expectRefused(
      pay(a1.id, String(a1.total_minor + 1n)),
      422,
      'invalid',
      // In money, not minor units: "has $1,234.56 left to pay; $1,234.57 is more than that".
      new RegExp(`invoice ${a1.number} has \\$[\\d,]+\\.\\d\\d left to pay; \\$[\\d,]+\\.\\d\\d is more than that`),
    );
    await expectRefused(pay(a1.id, '99999999999999999999999999'), 422, 'invalid', /is more than that/);
  });

  it('an amount that is not whole minor units', async () => {
    await expectRefused(pay(a1.id, '12.50'), 400, 'invalid_request', /amount_minor/);
    await expectRefused({ payment_method_id: cardOfA, invoices: [{ invoice_id: a1.id, amount_minor: 1250 }] }, 400, 'invalid_request', /amount_minor/);
  });

  it('an invoice that does not exist', async () => {
    await expectRefused(pay(crypto.randomUUID()), 404, 'not_found', /invoices? .*do(es)? not exist/);
  });

  it('invoices of two clients in one payment', async () => {
    // The saved card is the first client's; a payment of both clients' invoices is refused as such.
    const body = { payment_method_id: cardOfA, invoices: [{ invoice_id: a1.id }, { invoice_id: b1.id }] };
    await expectRefused(body, 422, 'invalid', /one client/);
  });

  it("another client's invoice with this client's card", async () => {
    await expectRefused(pay(b1.id), 404, 'not_found', /another client/);
  });

  it('the same invoice twice', async () => {
    await expectRefused({ payment_method_id: cardOfA, invoices: [{ invoice_id: a1.id }, { invoice_id: a1.id }] }, 422, 'invalid', /listed twice/);
  });

  it('malformed JSON', async () => {
    // Fastify's parser errors are mapped to Settle's own code in errors.ts; the message names the problem.
    await expectRefused(null, 400, 'invalid_json', /not valid JSON/, { raw: '{"payment_method_id": "' });
    await expectRefused(null, 400, 'invalid_json', /empty/i, { raw: '' });
  });

  it('ids that are not UUIDs', async () => {
    await expectRefused({ payment_method_id: 'card-1', invoices: [{ invoice_id: a1.id }] }, 400, 'invalid_request', /payment_method_id/);
    await expectRefused({ payment_method_id: cardOfA, invoices: [{ invoice_id: 'INV-1001' }] }, 400, 'invalid_request', /invoices\.0\.invoice_id|invoice_id/);
  });

  it('no invoices, or no body fields at all', async () => {
    await expectRefused({ payment_method_id: cardOfA, invoices: [] }, 400, 'invalid_request', /invoices/);
    await expectRefused({}, 400, 'invalid_request', /payment_method_id|invoices/);
  });

  it('a payment method that does not exist', async () => {
    await expectRefused({ payment_method_id: crypto.randomUUID(), invoices: [{ invoice_id: a1.id }] }, 404, 'not_found', /payment method .* does not exist/);
  });

  it('no API key, or a wrong one', async () => {
    const before = await footprint();
    for (const key of [null, 'sk_settle_not_a_real_key']) {
      const r = await postPayment(pay(a1.id), { key });
      expect(r.status).toBe(401);
      expect(r.body.error?.code).toBeTruthy();
      expect(r.body.error?.message).toBeTruthy();
    }
    expect(await footprint()).toEqual(before);
  });

  it('the same request with a valid amount goes through (the refusals above were about the input)', async () => {
    const r = await postPayment(pay(a2.id, '100'));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.outcome).toBe('succeeded');
  });
});

describe('portal links', () => {
  async function portalSecret(): Promise<string> {
    // Sealed since 0023 (db/portal-secret.ts).
    return (await portalSecretOf(stack.database.db, SecretBox.fromHex(stack.secretKeyHex), stack.tenantId))!;
  }

  it('an expired link shows a 403 page saying it expired, and cannot start a payment', async () => {
    const token = signToken({ t: stack.tenantId, c: b1.client_id, exp: Math.floor(Date.now() / 1000) - 60 }, await portalSecret());
    const page = await fetch(`${stack.settleUrl}/portal/${token}`);
    expect(page.status).toBe(403);
    const html = await page.text();
    expect(html).toMatch(/expired/i);
    expect(html).not.toContain(b1.number);
    const before = await footprint();
    const pay = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoice_ids: [b1.id], method: 'card' }),
    });
    expect(pay.status).toBe(403);
    expect(((await pay.json()) as { error: { message: string } }).error.message).toMatch(/expired/);
    expect(await footprint()).toEqual(before);
  });

  it('a tampered link (another client, or an altered signature) is refused with 403', async () => {
    const good = await stack.portalToken(b1.client_id);
    expect((await fetch(`${stack.settleUrl}/portal/${good}`)).status).toBe(200);
    const [body, mac] = good.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    const otherClient = `${Buffer.from(JSON.stringify({ ...claims, c: a1.client_id })).toString('base64url')}.${mac}`;
    const longer = `${Buffer.from(JSON.stringify({ ...claims, exp: (claims['exp'] as number) + 86_400 * 365 })).toString('base64url')}.${mac}`;
    const flipped = `${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
    const signedElsewhere = signToken({ ...(claims as { exp: number }) }, 'not-the-tenant-secret');
    for (const token of [otherClient, longer, flipped, signedElsewhere]) {
      const res = await fetch(`${stack.settleUrl}/portal/${token}`);
      expect(res.status, token).toBe(403);
      const html = await res.text();
      expect(html).toMatch(/not valid/);
      expect(html).not.toContain(a1.number);
    }
    const before = await footprint();
    const pay = await fetch(`${stack.settleUrl}/portal/${otherClient}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoice_ids: [a1.id], method: 'card' }),
    });
    expect(pay.status).toBe(403);
    expect(await footprint()).toEqual(before);
  });
});

describe('an invoice that is already paid', () => {
  it('cannot be paid again: 409 from the portal and from the API, nothing charged', async () => {
    const token = await stack.portalToken(b1.client_id);
    await payInPortal(stack, token, [b1.id]);
    await eventually(
      () =>
        withTenant(stack.database.db, stack.tenantId, (tx) =>
          tx.selectFrom('invoices').select('status').where('id', '=', b1.id).where('status', '=', 'paid').executeTakeFirst(),
        ),
      10_000,
      `invoice ${b1.number} paid`,
    );

    const before = await footprint();
    const again = await fetch(`${stack.settleUrl}/portal/${token}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoice_ids: [b1.id], method: 'card' }),
    });
    expect(again.status).toBe(409);
    const body = (await again.json()) as { error: { code: string; message: string } };
    expect(body.error.message).toMatch(new RegExp(`invoice ${b1.number} is already paid`));
    expect(await footprint()).toEqual(before);

    const cardOfB = await savedCard(b1.client_id, 'pm_card_visa');
    const before2 = await footprint();
    const r = await postPayment({ payment_method_id: cardOfB, invoices: [{ invoice_id: b1.id }] });
    expect(r.status).toBe(409);
    expect(r.body.error).toEqual({ code: 'conflict', message: `invoice ${b1.number} is already paid` });
    expect(await footprint()).toEqual({ ...before2 });
  });
});
