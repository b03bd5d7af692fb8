// The connector against the ConnectWise simulator over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectWiseSimulator, type RunningConnectWiseSimulator } from '../../../../simulators/connectwise/index.ts';
import { VendorError } from '../../http.ts';
import { money, sum, type Money } from '../../../domain/money.ts';
import type { PsaInvoice } from '../types.ts';
import { createConnectWiseConnector, type ConnectWiseConnectorOptions } from './connector.ts';

async function collect<T>(it: AsyncIterable<readonly T[]>): Promise<T[][]> {
  const pages: T[][] = [];
  for await (const page of it) pages.push([...page]);
  return pages;
}

function connectorFor(cw: RunningConnectWiseSimulator, over: Partial<ConnectWiseConnectorOptions> = {}) {
  return createConnectWiseConnector({ baseUrl: cw.baseUrl, ...cw.credentials, apiMemberIdentifier: 'settle-api', ...over });
}

const byKey = (a: PsaInvoice, b: PsaInvoice): number =>
  a.updatedAt === b.updatedAt ? Number(a.externalId) - Number(b.externalId) : a.updatedAt < b.updatedAt ? -1 : 1;

describe('ConnectWise connector: auth', () => {
  let cw: RunningConnectWiseSimulator;
  beforeAll(async () => {
    cw = await startConnectWiseSimulator({ seed: { companies: 2, invoices: 3, seed: 1 } });
  });
  afterAll(async () => cw.close());

  it('fails with a typed auth error, without retrying, when the clientId is missing', async () => {
    cw.sim.calls.reset();
    const err = await collect(connectorFor(cw, { clientId: '' }).listInvoices(null)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect(err).toMatchObject({ kind: 'auth', status: 401, vendorCode: 'Unauthorized' });
    expect(cw.sim.calls.total('GET')).toBe(1);
  });

  it('fails the same way for a wrong private key', async () => {
    const err = await connectorFor(cw, { privateKey: 'wrong' })
      .getInvoice('1')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'auth', status: 401 });
  });
});

describe('ConnectWise connector: invoice PDF', () => {
  let cw: RunningConnectWiseSimulator;
  beforeAll(async () => {
    cw = await startConnectWiseSimulator({ seed: { companies: 1, invoices: 2, seed: 3 } });
  });
  afterAll(async () => cw.close());

  it('fetches the invoice as ConnectWise renders it, byte for byte; a missing invoice is null', async () => {
    const c = connectorFor(cw);
    const [invoice] = (await collect(c.listInvoices(null))).flat();
    const pdf = await c.invoicePdf!(invoice!.externalId);
    expect(pdf!.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf!.toString('latin1')).toContain(`Invoice ${invoice!.number}`);
    expect(pdf!.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
    expect(await c.invoicePdf!('987654')).toBeNull();
  });
});

describe('ConnectWise connector: paging edges', () => {
  it.each([1000, 1001])('returns exactly %i invoices, oldest first, with no gaps or repeats', async (n) => {
    const cw = await startConnectWiseSimulator({ seed: { companies: 20, invoices: n, seed: n, from: '2024-01-01', to: '2024-01-20', linesPerInvoice: 1 } });
    try {
      const pages = await collect(connectorFor(cw).listInvoices(null));
      expect(pages.map((p) => p.length)).toEqual(n === 1000 ? [1000] : [1000, 1]);
      const all = pages.flat();
      expect(new Set(all.map((i) => i.externalId)).size).toBe(n);
      expect(all).toEqual([...all].sort(byKey));
      // Quarter-hour stamps guarantee ties at page edges; the keyset (lastUpdated, id) must cross them.
      expect(new Set(all.map((i) => i.updatedAt)).size).toBeLessThan(n);
    } finally {
      await cw.close();
    }
  });

  it('crosses page edges inside runs of equal timestamps with a small page size', async () => {
    const cw = await startConnectWiseSimulator({ seed: { companies: 5, invoices: 300, seed: 9, from: '2024-01-01', to: '2024-01-02' } });
    try {
      const small = (await collect(connectorFor(cw, { pageSize: 7 }).listInvoices(null))).flat();
      const large = (await collect(connectorFor(cw).listInvoices(null))).flat();
      expect(small.map((i) => i.externalId)).toEqual(large.map((i) => i.externalId));
      expect(small).toHaveLength(300);
    } finally {
      await cw.close();
    }
  });
});

describe('ConnectWise connector: page size', () => {
  it('never asks for more than the vendor limit of 1000, even when configured higher', async () => {
    const cw = await startConnectWiseSimulator({ seed: { companies: 3, invoices: 1100, seed: 4 } });
    try {
      const asked: number[] = [];
      cw.sim.calls.reset();
      const connector = connectorFor(cw, { pageSize: 5000 });
      const original = connector.api.getList.bind(connector.api);
      connector.api.getList = (path, query = {}, extra = {}) => {
        asked.push(Number(query.pageSize));
        return original(path, query, extra);
      };
      const all = (await collect(connector.listInvoices(null))).flat();
      expect(all).toHaveLength(1100); // a clamped page of 1000 is not mistaken for the last one
      expect(asked.length).toBeGreaterThan(0);
      expect(Math.max(...asked)).toBe(1000);
    } finally {
      await cw.close();
    }
  });
});

describe('ConnectWise connector: invoices, clients, payments, subscribe', () => {
  let cw: RunningConnectWiseSimulator;
  beforeAll(async () => {
    cw = await startConnectWiseSimulator({ seed: { companies: 10, invoices: 200, seed: 3, from: '2024-02-01', to: '2024-04-30' } });
  });
  afterAll(async () => cw.close());

  it('fetches every invoice with its product, time and expense lines, amounts matching the subtotal', async () => {
    const invoices = (await collect(connectorFor(cw).listInvoices(null))).flat();
    expect(invoices).toHaveLength(200);
    for (const inv of invoices) {
      const state = cw.state.invoices.get(Number(inv.externalId))!;
      const expectedLines = ['products', 'timeEntries', 'expenses'].reduce(
        (n, t) => n + cw.state[t as 'products'].referencing('invoice/id', state.id).length,
        0,
      );
      expect(inv.lines).toHaveLength(expectedLines);
      expect(
        sum(
          inv.lines.map((l) => l.amount as Money),
          inv.currency,
        ),
      ).toEqual(inv.subtotal);
    }
    expect(new Set(invoices.flatMap((i) => i.lines.map((l) => l.kind)))).toEqual(new Set(['product', 'time', 'expense']));
  });

  it('returns only invoices changed since a point in time', async () => {
    const mark = cw.state.now();
    const changed = cw.sim.updateInvoice(cw.state.invoices.all()[10]!.id, { addLines: [{ kind: 'expense', notes: 'Parking', amount: '12.50' }] });
    const created = cw.sim.createInvoice({});
    const since = (await collect(connectorFor(cw).listInvoices(mark))).flat();
    expect(since.map((i) => i.externalId).sort()).toEqual([String(changed.id), String(created.id)].sort());
    expect(since.find((i) => i.externalId === String(changed.id))!.lines.some((l) => l.description === 'Parking')).toBe(true);
  });

  it('gets one invoice with lines, or null when it does not exist', async () => {
    const id = cw.state.invoices.all()[3]!.id;
    const inv = await connectorFor(cw).getInvoice(String(id));
    expect(inv?.externalId).toBe(String(id));
    expect(inv!.lines.length).toBeGreaterThan(0);
    expect(await connectorFor(cw).getInvoice('999999')).toBeNull();
  });

  it('lists clients with the billing contact email, falling back to the default contact', async () => {
    const clients = (await collect(connectorFor(cw).listClients(null))).flat();
    expect(clients).toHaveLength(10);
    expect(clients.filter((c) => c.billingEmail?.startsWith('ap@'))).toHaveLength(8);
    expect(clients.every((c) => c.billingEmail !== null && c.billingContactName !== null)).toBe(true);
  });

  it('records a payment once even when asked twice', async () => {
    const inv = cw.sim.createInvoice({ lines: [{ kind: 'product', description: 'Server', quantity: 1, price: '300.00' }] });
    const connector = connectorFor(cw);
    const input = {
      invoiceExternalId: String(inv.id),
      amount: money(12_345n, 'USD'),
      paidOn: '2024-05-02',
      reference: 'pi_123',
      idempotencyKey: 'payment:1:cw:payment',
    };
    const first = await connector.recordPayment(input);
    const second = await connector.recordPayment(input);
    expect(first.alreadyRecorded).toBe(false);
    expect(second).toEqual({ remoteId: first.remoteId, alreadyRecorded: true });
    expect(cw.sim.paymentsFor(inv.id)).toHaveLength(1);
    expect(cw.state.invoices.get(inv.id)!.balance).toBe(176.55);
  });

  it('does not mistake a staff-entered payment of the same amount for its own', async () => {
    const inv = cw.sim.createInvoice({ lines: [{ kind: 'product', description: 'Server', quantity: 1, price: '300.00' }] });
    cw.state.recordPayment(inv.id, 10_000n, '2024-05-03T00:00:00Z', { appliedBy: 'asmith' });
    const r = await connectorFor(cw).recordPayment({
      invoiceExternalId: String(inv.id),
      amount: money(10_000n, 'USD'),
      paidOn: '2024-05-03',
      reference: 'pi_9',
      idempotencyKey: 'payment:9:cw:payment',
    });
    expect(r.alreadyRecorded).toBe(false);
    expect(cw.sim.paymentsFor(inv.id)).toHaveLength(2);
  });

  it('checks again after a write whose answer was lost, and does not pay twice', async () => {
    const inv = cw.sim.createInvoice({ lines: [{ kind: 'product', description: 'Server', quantity: 1, price: '300.00' }] });
    // The simulator records the payment, then drops the connection instead of answering 201.
    cw.sim.lostAnswers.add({ method: 'POST', pathPattern: '/payments$', fault: { kind: 'drop' }, times: 1 });
    const retries: string[] = [];
    const connector = connectorFor(cw, { api: { sleep: async () => void retries.push('slept') } });
    const input = {
      invoiceExternalId: String(inv.id),
      amount: money(5000n, 'USD'),
      paidOn: '2024-05-04',
      reference: 'pi_7',
      idempotencyKey: 'payment:7:cw:payment',
    };
    const r = await connector.recordPayment(input);
    expect(retries).toEqual(['slept']);
    expect(cw.sim.paymentsFor(inv.id)).toHaveLength(1);
    expect(r).toEqual({ remoteId: String(cw.sim.paymentsFor(inv.id)[0]!.id), alreadyRecorded: true });
  });

  it('retries a write refused with 503 after checking again, and pays once', async () => {
    const inv = cw.sim.createInvoice({ lines: [{ kind: 'product', description: 'Server', quantity: 1, price: '300.00' }] });
    cw.sim.faults.add({ method: 'POST', pathPattern: '/payments$', fault: { kind: 'status', status: 503 }, times: 1 });
    const connector = connectorFor(cw, { api: { sleep: async () => undefined } });
    const r = await connector.recordPayment({
      invoiceExternalId: String(inv.id),
      amount: money(2500n, 'USD'),
      paidOn: '2024-05-06',
      reference: 'pi_8',
      idempotencyKey: 'payment:8:cw:payment',
    });
    expect(r.alreadyRecorded).toBe(false);
    expect(cw.sim.paymentsFor(inv.id)).toHaveLength(1);
  });

  it('surfaces an over-balance payment as an invalid request', async () => {
    const inv = cw.sim.createInvoice({ lines: [{ kind: 'product', description: 'Server', quantity: 1, price: '10.00' }] });
    const err = await connectorFor(cw)
      .recordPayment({ invoiceExternalId: String(inv.id), amount: money(1001n, 'USD'), paidOn: '2024-05-05', reference: 'x', idempotencyKey: 'k' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'invalid', status: 400, vendorCode: 'InvalidObject' });
  });

  it('registers the invoice callback once', async () => {
    const connector = connectorFor(cw);
    expect(await connector.subscribe('https://settle.example/hooks/cw/t1')).toBe(true);
    expect(await connector.subscribe('https://settle.example/hooks/cw/t1')).toBe(true);
    const entries = cw.state.callbacks.all().filter((c) => c.url === 'https://settle.example/hooks/cw/t1');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ type: 'invoice', level: 'owner', inactiveFlag: false });
  });
});

describe('ConnectWise connector: retries', () => {
  let cw: RunningConnectWiseSimulator;
  beforeAll(async () => {
    cw = await startConnectWiseSimulator({ seed: { companies: 3, invoices: 20, seed: 4 } });
  });
  afterAll(async () => cw.close());

  it('waits Retry-After on 429, then succeeds', async () => {
    cw.sim.faults.add({
      method: 'GET',
      pathPattern: '/finance/invoices$',
      fault: { kind: 'status', status: 429, headers: { 'retry-after': '2' }, body: { code: 'TooManyRequests', message: 'slow down' } },
      times: 1,
    });
    const seen: { delayMs: number; reason: string }[] = [];
    const slept: number[] = [];
    const connector = connectorFor(cw, { api: { sleep: async (ms) => void slept.push(ms), onRetry: (e) => seen.push(e.decision) } });
    const invoices = (await collect(connector.listInvoices(null))).flat();
    expect(invoices).toHaveLength(20);
    expect(seen).toEqual([{ retry: true, delayMs: 2000, reason: 'rate limited (429)' }]);
    expect(slept).toEqual([2000]);
  });

  it('backs off on 500, then succeeds', async () => {
    cw.sim.faults.add({
      method: 'GET',
      pathPattern: '/procurement/products$',
      fault: { kind: 'status', status: 500, body: { code: 'UnexpectedServerError', message: 'boom' } },
      times: 2,
    });
    const seen: string[] = [];
    const connector = connectorFor(cw, { api: { sleep: async () => undefined, onRetry: (e) => seen.push(e.decision.reason) } });
    const invoices = (await collect(connector.listInvoices(null))).flat();
    expect(invoices).toHaveLength(20);
    expect(seen).toEqual(['vendor error 500', 'vendor error 500']);
  });

  it('honours a configured simulator rate limit across a whole sync', async () => {
    cw.sim.setRateLimit({ limit: 3, windowMs: 200 });
    try {
      const connector = connectorFor(cw);
      expect((await collect(connector.listInvoices(null))).flat()).toHaveLength(20);
    } finally {
      cw.sim.setRateLimit(null);
    }
  });
});

describe('ConnectWise connector: initial import at scale', () => {
  it('imports 20,000 invoices with their lines well under 60 s, in few requests', async () => {
    const cw = await startConnectWiseSimulator({ seed: { companies: 300, invoices: 20_000, seed: 20, from: '2023-01-01', to: '2023-12-31' } });
    try {
      const t0 = Date.now();
      let invoices = 0;
      let lines = 0;
      for await (const page of connectorFor(cw).listInvoices(null)) {
        invoices += page.length;
        for (const inv of page) lines += inv.lines.length;
      }
      const ms = Date.now() - t0;
      expect(invoices).toBe(20_000);
      expect(lines).toBe(cw.state.products.size + cw.state.timeEntries.size + cw.state.expenses.size);
      expect(ms).toBeLessThan(30_000);
      // 21 invoice pages + a few bulk line requests per page, not one request per invoice.
      expect(cw.sim.calls.total('GET')).toBeLessThan(500);
    } finally {
      await cw.close();
    }
  }, 60_000);
});
