// The HaloPSA connector against the HaloPSA simulator over real HTTP.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHaloSimulator, type RunningHaloSimulator } from '../../../../simulators/halopsa/index.ts';
import { VendorError } from '../../http.ts';
import { WebhookRejected } from '../../webhook-rejected.ts';
import { money, sum } from '../../../domain/money.ts';
import type { PsaInvoice } from '../types.ts';
import { createHaloConnector, type HaloConnectorOptions } from './connector.ts';

const noSleep = async (): Promise<void> => {};

async function collect<T>(it: AsyncIterable<readonly T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of it) all.push(...page);
  return all;
}

function connectorFor(sim: RunningHaloSimulator, over: Partial<HaloConnectorOptions> = {}) {
  return createHaloConnector({ baseUrl: sim.baseUrl, ...sim.credentials, api: { sleep: noSleep }, ...over });
}

const maxStamp = (xs: readonly PsaInvoice[]): string => xs.reduce((m, i) => (i.updatedAt > m ? i.updatedAt : m), '');

describe('HaloPSA connector: auth', () => {
  let halo: RunningHaloSimulator;
  beforeAll(async () => {
    halo = await startHaloSimulator({ seed: { clients: 2, invoices: 3, seed: 1 } });
  });
  afterAll(async () => halo.close());

  it('a wrong client secret or tenant is a typed auth failure, not retried', async () => {
    halo.sim.auth.tokenRequests = 0;
    const wrong = await collect(connectorFor(halo, { clientSecret: 'nope' }).listInvoices(null)).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(VendorError);
    expect(wrong).toMatchObject({ kind: 'auth', vendorCode: 'invalid_client' });
    const tenant = await connectorFor(halo, { tenant: 'someone-else' })
      .getInvoice('1001')
      .catch((e: unknown) => e);
    expect(tenant).toMatchObject({ kind: 'auth' });
    expect(halo.sim.auth.tokenRequests).toBe(2);
  });

  it('renews an expired token once and goes on; a live token is reused', async () => {
    const c = connectorFor(halo);
    expect(await c.getInvoice('1001')).not.toBeNull();
    expect(await c.getInvoice('1002')).not.toBeNull();
    expect(c.api.tokensFetched).toBe(1);
    halo.sim.expireTokens();
    expect(await c.getInvoice('1003')).not.toBeNull();
    expect(c.api.tokensFetched).toBe(2);
  });

  it('renews a short-lived token before it expires, without a refused call', async () => {
    const own = await startHaloSimulator({ seed: { clients: 1, invoices: 1, seed: 1 }, tokenTtlMs: 2000 });
    try {
      const c = connectorFor(own);
      await c.getInvoice('1001');
      await c.getInvoice('1001');
      expect(c.api.tokensFetched).toBe(1);
      await new Promise((r) => setTimeout(r, 1200));
      own.sim.calls.reset();
      await c.getInvoice('1001');
      expect(c.api.tokensFetched).toBe(2);
      expect(own.sim.calls.total('GET /api/Invoice')).toBe(1); // no 401 first
    } finally {
      await own.close();
    }
  });

  it('an unknown invoice is null', async () => {
    expect(await connectorFor(halo).getInvoice('999999')).toBeNull();
  });
});

describe('HaloPSA connector: import', () => {
  let halo: RunningHaloSimulator;
  beforeAll(async () => {
    halo = await startHaloSimulator({ seed: { clients: 6, invoices: 205, seed: 5, from: '2024-01-01', to: '2024-02-15' } });
  });
  afterAll(async () => halo.close());

  it('imports every client, billing at the accounts contact or else the main contact', async () => {
    const clients = await collect(connectorFor(halo).listClients(null));
    expect(clients).toHaveLength(6);
    const noAccounts = [...halo.state.clients.values()].find((c) => !c.accountsemailaddress)!;
    const main = [...halo.state.users.values()].find((u) => u.client_id === noAccounts.id)!;
    const mapped = clients.find((c) => c.externalId === String(noAccounts.id))!;
    expect(mapped.billingEmail).toBe(main.emailaddress);
    const withAccounts = clients.find((c) => c.externalId !== String(noAccounts.id))!;
    expect(withAccounts.billingEmail).toMatch(/^ap@/);
  });

  it('notices a changed contact: its client comes again with the new e-mail, once', async () => {
    const c = connectorFor(halo);
    const all = await collect(c.listClients(null));
    const cursor = all.reduce((m, x) => (x.updatedAt > m ? x.updatedAt : m), '');
    expect(await collect(c.listClients(cursor))).toHaveLength(1); // the newest client itself (inclusive cursor)
    const noAccounts = [...halo.state.clients.values()].find((x) => !x.accountsemailaddress)!;
    const main = [...halo.state.users.values()].find((u) => u.client_id === noAccounts.id)!;
    halo.state.updateUser(main.id, { emailaddress: 'billing@changed.example' });
    const changed = await collect(c.listClients(cursor));
    const again = changed.find((x) => x.externalId === String(noAccounts.id))!;
    expect(again.billingEmail).toBe('billing@changed.example');
    const next = changed.reduce((m, x) => (x.updatedAt > m ? x.updatedAt : m), '');
    expect((await collect(c.listClients(next))).map((x) => x.externalId)).toEqual([String(noAccounts.id)]); // inclusive cursor, nothing new
  });

  it('imports all invoices with their lines, oldest first, exact amounts, across page edges with shared stamps', async () => {
    const invoices = await collect(connectorFor(halo).listInvoices(null));
    expect(invoices).toHaveLength(205);
    expect(new Set(invoices.map((i) => i.externalId)).size).toBe(205);
    const keys = invoices.map((i) => `${i.updatedAt}|${i.externalId.padStart(8, '0')}`);
    expect(keys).toEqual([...keys].sort());
    expect(new Set(invoices.map((i) => i.updatedAt)).size).toBeLessThan(205);
    for (const inv of invoices) {
      const raw = halo.state.invoices.get(Number(inv.externalId))!;
      expect(inv.lines).toHaveLength(raw.lines.length);
      expect(
        sum(
          inv.lines.map((l) => l.amount),
          inv.currency,
        ),
      ).toEqual(inv.subtotal);
      expect(inv.total.amountMinor).toBe(BigInt(halo.state.totalCents(raw)));
      expect(inv.balance.amountMinor).toBe(BigInt(halo.state.dueCents(raw)));
      for (const l of inv.lines) expect(typeof l.quantity).toBe('string');
    }
  });

  it('walks again when an invoice is deleted during the walk, so none is skipped at a page edge', async () => {
    const own = await startHaloSimulator({ seed: { clients: 2, invoices: 120, seed: 12 } });
    try {
      const newest = [...own.state.invoices.values()].sort((a, b) => b.updatedMs - a.updatedMs || b.id - a.id)[0]!;
      // The newest invoice is deleted in Halo right after the first page was served.
      let pagesServed = 0;
      const c = connectorFor(own, { pageSize: 50 });
      const original = c.api.get.bind(c.api);
      c.api.get = async (path, query) => {
        const body = await original(path, query);
        if (path === '/Invoice' && ++pagesServed === 1) own.state.invoices.delete(newest.id);
        return body;
      };
      const all = await collect(c.listInvoices(null));
      expect(pagesServed).toBeGreaterThan(3); // a second walk
      expect(new Set(all.map((i) => i.externalId)).size).toBe(120); // the deleted one was read before it went; none skipped
    } finally {
      await own.close();
    }
  });

  it('polls only what changed since the cursor, and stops at the first older invoice', async () => {
    const c = connectorFor(halo);
    const all = await collect(c.listInvoices(null));
    const cursor = maxStamp(all);
    expect((await collect(c.listInvoices(cursor))).every((i) => i.updatedAt >= cursor)).toBe(true);
    const target = all[10]!;
    halo.sim.updateInvoice(Number(target.externalId), { addLines: [{ description: 'Onsite visit', quantity: '1.5', unitPrice: '120.00' }] });
    halo.sim.calls.reset();
    const changed = await collect(c.listInvoices(cursor));
    expect(changed.map((i) => i.externalId)).toContain(target.externalId);
    expect(changed.find((i) => i.externalId === target.externalId)!.lines.some((l) => l.quantity === '1.5' && l.amount.amountMinor === 18000n)).toBe(true);
    expect(halo.sim.calls.total('GET /api/Invoice')).toBe(1);
  });
});

describe('HaloPSA connector: webhooks', () => {
  let halo: RunningHaloSimulator;
  let receiver: Server;
  let url = '';
  const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
  beforeAll(async () => {
    halo = await startHaloSimulator({ seed: { clients: 2, invoices: 2, seed: 3 } });
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const addr = receiver.address() as { port: number };
    url = `http://127.0.0.1:${addr.port}/webhooks/acme/halopsa`;
  });
  afterAll(async () => {
    await halo.close();
    await new Promise((r) => receiver.close(r));
  });

  it.each(['basic', 'header'] as const)('registers with %s authentication, verifies deliveries, refuses forged ones', async (auth) => {
    received.length = 0;
    const c = connectorFor(halo, { webhookAuth: auth });
    expect(await c.ensureCallback(url)).toMatchObject({ outcome: expect.stringMatching(/created|repaired/) });
    expect(await c.ensureCallback(url)).toEqual({ outcome: 'present', replaced: [] });
    expect(await c.subscribe(url)).toBe(true);
    const inv = halo.sim.createInvoice();
    halo.sim.updateInvoice(inv.id, { dueDate: '2030-01-01' });
    await halo.sim.flushWebhooks();
    expect(received).toHaveLength(2);
    const notices = received.map((r) => c.parseNotification(r.headers, r.body));
    expect(notices.map((n) => [n.entity, n.externalId, n.action])).toEqual([
      ['invoice', String(inv.id), 'added'],
      ['invoice', String(inv.id), 'updated'],
    ]);
    const forged = { ...received[0]!.headers };
    if (auth === 'basic') forged.authorization = `Basic ${Buffer.from('settle:guess').toString('base64')}`;
    else forged['x-settle-token'] = 'guess';
    expect(() => c.parseNotification(forged, received[0]!.body)).toThrow(WebhookRejected);
    const bare = { ...received[0]!.headers };
    delete bare.authorization;
    delete bare['x-settle-token'];
    expect(() => c.parseNotification(bare, received[0]!.body)).toThrow(/missing/);
    // Another connection's secret is not ours.
    expect(() => connectorFor(halo, { webhookAuth: auth, webhookSecret: 'other-secret' }).parseNotification(received[0]!.headers, received[0]!.body)).toThrow(
      WebhookRejected,
    );
  });

  it('replaces a deactivated webhook or one at a former address, leaving other integrations alone', async () => {
    const c = connectorFor(halo);
    await c.ensureCallback(url);
    const [ours] = [...halo.state.webhooks.values()].filter((w) => w.url === url);
    ours!.active = false;
    halo.state.webhooks.set('11111111-1111-1111-1111-111111111111', {
      ...ours!,
      id: '11111111-1111-1111-1111-111111111111',
      url: 'https://other.example/hook',
      active: true,
    });
    const check = await c.ensureCallback(url);
    expect(check.outcome).toBe('repaired');
    expect(check.replaced[0]).toMatch(/^inactive webhook/);
    expect([...halo.state.webhooks.values()].filter((w) => w.url === url && w.active)).toHaveLength(1);
    expect(halo.state.webhooks.has('11111111-1111-1111-1111-111111111111')).toBe(true);
  });

  it('a changed webhook secret reaches Halo when the webhook is found present (Halo never shows it back)', async () => {
    const before = connectorFor(halo, { webhookSecret: 'first-secret-0123456789' });
    const after = connectorFor(halo, { webhookSecret: 'second-secret-0123456789' });
    await before.ensureCallback(url);
    expect((await after.ensureCallback(url)).outcome).toBe('present');
    received.length = 0;
    halo.sim.createInvoice();
    await halo.sim.flushWebhooks();
    expect(received).toHaveLength(1);
    expect(after.parseNotification(received[0]!.headers, received[0]!.body).action).toBe('added');
    expect(() => before.parseNotification(received[0]!.headers, received[0]!.body)).toThrow(WebhookRejected);
  });

  it('a delivery sent twice carries the same event id (the inbox keeps one); a burst may arrive newest first', async () => {
    const c = connectorFor(halo);
    await c.ensureCallback(url);
    Object.assign(halo.sim.webhookOptions, { duplicate: true, reverseBursts: true, burstWindowMs: 30 });
    try {
      received.length = 0;
      const inv = halo.sim.createInvoice();
      halo.sim.updateInvoice(inv.id, { dueDate: '2031-02-02' });
      await new Promise((r) => setTimeout(r, 60));
      await halo.sim.flushWebhooks();
      const notices = received.map((r) => c.parseNotification(r.headers, r.body));
      expect(notices.map((n) => n.action)).toEqual(['updated', 'updated', 'added', 'added']);
      expect(new Set(notices.map((n) => n.eventId)).size).toBe(2);
    } finally {
      Object.assign(halo.sim.webhookOptions, { duplicate: false, reverseBursts: false });
    }
  });

  it('a dropped webhook is made up for by the next poll', async () => {
    const c = connectorFor(halo);
    const cursor = maxStamp(await collect(c.listInvoices(null)));
    halo.sim.webhookOptions.drop = true;
    try {
      received.length = 0;
      const inv = halo.sim.createInvoice({ lines: [{ description: 'Firewall', quantity: '2', unitPrice: '50.00' }] });
      await halo.sim.flushWebhooks();
      expect(received).toHaveLength(0);
      const polled = await collect(c.listInvoices(cursor));
      expect(polled.find((i) => i.externalId === String(inv.id))?.total).toEqual(money(10000n, 'USD'));
    } finally {
      halo.sim.webhookOptions.drop = false;
    }
  });
});

describe('HaloPSA connector: payments', () => {
  let halo: RunningHaloSimulator;
  beforeAll(async () => {
    halo = await startHaloSimulator({ seed: { clients: 2, invoices: 0, seed: 9 } });
  });
  afterAll(async () => halo.close());
  const newInvoice = () => halo.sim.createInvoice({ lines: [{ description: 'Managed Server', quantity: '2', unitPrice: '150.00' }] });

  it('writes a payment once even when the answer is lost and the call retried', async () => {
    const inv = newInvoice();
    const c = connectorFor(halo);
    halo.sim.lostAnswers.add({ method: 'POST', pathPattern: '^/api/InvoicePayment$', fault: { kind: 'drop' }, times: 1 });
    const input = { invoiceExternalId: String(inv.id), amount: money(12550n, 'USD'), paidOn: '2024-05-02', reference: 'settle:pay_1', idempotencyKey: 'k1' };
    const first = await c.recordPayment(input);
    expect(first.alreadyRecorded).toBe(true); // the lost write was found by the check before the retry
    expect(halo.sim.paymentsFor(inv.id)).toHaveLength(1);
    const again = await c.recordPayment(input);
    expect(again).toEqual({ remoteId: first.remoteId, alreadyRecorded: true });
    const p = halo.sim.paymentsFor(inv.id)[0]!;
    expect([p.amountCents, p.thirdpartyid]).toEqual([12550, 'settle:pay_1']);
    expect((await c.getInvoice(String(inv.id)))!.balance).toEqual(money(30000n - 12550n, 'USD'));
  });

  it('two payments of the same amount on the same day stay two (our reference tells them apart)', async () => {
    const inv = newInvoice();
    const c = connectorFor(halo);
    const base = { invoiceExternalId: String(inv.id), amount: money(10000n, 'USD'), paidOn: '2024-05-02', idempotencyKey: 'k' };
    const a = await c.recordPayment({ ...base, reference: 'settle:a' });
    const b = await c.recordPayment({ ...base, reference: 'settle:b' });
    expect(a.remoteId).not.toBe(b.remoteId);
    expect([a.alreadyRecorded, b.alreadyRecorded]).toEqual([false, false]);
  });

  it('reduces, then removes a payment, and a repeat finds the work done', async () => {
    const inv = newInvoice();
    const c = connectorFor(halo);
    const { remoteId } = await c.recordPayment({
      invoiceExternalId: String(inv.id),
      amount: money(30000n, 'USD'),
      paidOn: '2024-05-02',
      reference: 'settle:r',
      idempotencyKey: 'r',
    });
    const rev = { invoiceExternalId: String(inv.id), paymentRemoteId: remoteId, idempotencyKey: 'rev' };
    expect(await c.reversePayment({ ...rev, remaining: money(10000n, 'USD') })).toEqual({ outcome: 'reduced' });
    expect(halo.sim.paymentsFor(inv.id)[0]!.amountCents).toBe(10000);
    expect(await c.reversePayment({ ...rev, remaining: money(10000n, 'USD') })).toEqual({ outcome: 'already' });
    expect(await c.reversePayment({ ...rev, remaining: money(0n, 'USD') })).toEqual({ outcome: 'removed' });
    expect(halo.sim.paymentsFor(inv.id)).toHaveLength(0);
    expect(await c.reversePayment({ ...rev, remaining: money(0n, 'USD') })).toEqual({ outcome: 'already' });
    expect((await c.getInvoice(String(inv.id)))!.balance).toEqual(money(30000n, 'USD'));
  });

  it('says plainly that a failed payment cannot be recorded in Halo', async () => {
    const err = await connectorFor(halo)
      .recordFailure({ clientExternalId: '101', text: 'x', reference: 'settle-failure:1', idempotencyKey: 'f' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'invalid' });
  });
});

describe('HaloPSA connector: transient failures', () => {
  let halo: RunningHaloSimulator;
  beforeAll(async () => {
    halo = await startHaloSimulator({ seed: { clients: 2, invoices: 5, seed: 2 } });
  });
  afterAll(async () => halo.close());

  it('retries 429 (after Retry-After), 5xx and timeouts on reads', async () => {
    const retries: string[] = [];
    const c = connectorFor(halo, { api: { sleep: noSleep, timeoutMs: 500, onRetry: (r) => retries.push(r.decision.reason) } });
    await c.getInvoice('1001'); // token first
    halo.sim.faults.add({ method: 'GET', pathPattern: '^/api/Invoice$', fault: { kind: 'status', status: 429, headers: { 'retry-after': '0' } }, times: 1 });
    halo.sim.faults.add({ method: 'GET', pathPattern: '^/api/Invoice$', fault: { kind: 'status', status: 503 }, times: 1 });
    halo.sim.faults.add({ method: 'GET', pathPattern: '^/api/Invoice$', fault: { kind: 'timeout' }, times: 1 });
    expect(await collect(c.listInvoices(null))).toHaveLength(5);
    expect(retries).toEqual(['rate limited (429)', 'vendor error 503', 'timeout']);
  });

  it("waits out the simulator's own rate limit and gets every invoice", async () => {
    halo.sim.setRateLimit({ limit: 2, windowMs: 1000 });
    try {
      const waits: number[] = [];
      const c = connectorFor(halo, { pageSize: 2, api: { onRetry: (r) => waits.push(r.decision.delayMs) } });
      expect(await collect(c.listInvoices(null))).toHaveLength(5);
      expect(waits.length).toBeGreaterThan(0);
      expect(waits.every((ms) => ms >= 1000 && ms <= 1000)).toBe(true); // Retry-After whole seconds
    } finally {
      halo.sim.setRateLimit(null);
    }
  });

  it('a write that times out is checked before it is sent again', async () => {
    const inv = halo.sim.createInvoice();
    halo.sim.lostAnswers.add({ method: 'POST', pathPattern: '^/api/InvoicePayment$', fault: { kind: 'drop' }, times: 1 });
    halo.sim.faults.add({ method: 'GET', pathPattern: '^/api/InvoicePayment$', fault: { kind: 'status', status: 502 }, times: 1 });
    const r = await connectorFor(halo).recordPayment({
      invoiceExternalId: String(inv.id),
      amount: money(100n, 'USD'),
      paidOn: '2024-06-01',
      reference: 'settle:t',
      idempotencyKey: 't',
    });
    expect(r.alreadyRecorded).toBe(true);
    expect(halo.sim.paymentsFor(inv.id)).toHaveLength(1);
  });
});
