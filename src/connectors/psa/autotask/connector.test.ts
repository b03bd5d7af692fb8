// The Autotask connector against the Autotask simulator over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../../../simulators/autotask/index.ts';
import { VendorError } from '../../http.ts';
import { money } from '../../../domain/money.ts';
import type { PsaInvoice } from '../types.ts';
import { createAutotaskConnector, type AutotaskConnectorOptions } from './connector.ts';

async function collect<T>(it: AsyncIterable<readonly T[]>): Promise<T[][]> {
  const pages: T[][] = [];
  for await (const page of it) pages.push([...page]);
  return pages;
}

const noLatency = { latencyAtHalfMs: 0, latencyAtThreeQuartersMs: 0 };
const fast = { sleep: async () => {}, timeoutMs: 2_000 };

function connectorFor(at: RunningAutotaskSimulator, over: Partial<AutotaskConnectorOptions> = {}) {
  return createAutotaskConnector({ globalUrl: at.baseUrl, ...at.credentials, api: fast, ...over });
}

const calls = (at: RunningAutotaskSimulator, route: string): number => at.sim.calls.counts.get(route) ?? 0;

describe('Autotask connector: auth and zone', () => {
  let at: RunningAutotaskSimulator;
  beforeAll(async () => {
    at = await startAutotaskSimulator({ seed: { companies: 2, invoices: 3 }, limits: noLatency });
  });
  afterAll(async () => at.close());

  it('fails with a typed auth error, without retrying, when the secret is wrong', async () => {
    at.sim.calls.reset();
    const err = await collect(connectorFor(at, { secret: 'wrong' }).listInvoices(null)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect(err).toMatchObject({ kind: 'auth', status: 401 });
    expect(calls(at, 'GET /zone15/ATServicesRest/V1.0/ThresholdInformation')).toBe(1);
    expect(calls(at, 'POST /zone15/ATServicesRest/V1.0/:entity/query')).toBe(0);
    expect(calls(at, 'GET /ATServicesRest/V1.0/ZoneInformation')).toBe(1);
  });

  it('fetches an invoice PDF Autotask renders (InvoicePDF, base64 in the model); an unknown invoice is an error, not a PDF', async () => {
    const c = connectorFor(at);
    const [invoice] = (await collect(c.listInvoices(null))).flat();
    const pdf = await c.invoicePdf!(invoice!.externalId);
    expect(pdf!.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf!.toString('latin1')).toContain(`Invoice ${invoice!.number}`);
    expect(await c.invoicePdf!('not-a-number')).toBeNull();
    await expect(c.invoicePdf!('99999999')).rejects.toBeInstanceOf(VendorError);
  });

  it('discovers the zone once and sends every call there', async () => {
    at.sim.calls.reset();
    const user = { ...at.credentials, username: at.credentials.username.toUpperCase() };
    await collect(connectorFor(at, user).listInvoices(null));
    await collect(connectorFor(at, user).listClients(null));
    // Discovered once per API user and process: by the first test's connector, whatever the user's case.
    expect(calls(at, 'GET /ATServicesRest/V1.0/ZoneInformation')).toBe(0);
    expect(calls(at, 'POST /zone15/ATServicesRest/V1.0/:entity/query')).toBeGreaterThan(2);
    expect([...at.sim.calls.counts.keys()].filter((k) => !k.includes('/zone15/') && !k.includes('ZoneInformation'))).toEqual([]);
  });
});

describe('Autotask connector: import', () => {
  let at: RunningAutotaskSimulator;
  beforeAll(async () => {
    at = await startAutotaskSimulator({ seed: { companies: 40, invoices: 1_200, linesPerInvoice: 3 }, limits: noLatency });
  });
  afterAll(async () => at.close());

  it('imports companies with their billing contact, then picks up a changed contact', async () => {
    const c = connectorFor(at);
    const clients = (await collect(c.listClients(null))).flat();
    expect(clients).toHaveLength(40);
    expect(clients[0]).toMatchObject({
      name: 'Client 001 Ltd',
      identifier: 'C0001',
      billingEmail: 'billing1@client1.example',
      billingContactName: 'Billing Person 1',
    });
    const since = new Date(Date.now() + 20 * 60_000).toISOString(); // beyond the poll's overlap
    expect((await collect(c.listClients(since))).flat()).toEqual([]);
    const contact = [...at.sim.state.table('Contacts').values()].find((k) => k.CompanyID === 7)!;
    contact.LastModifiedDate = new Date(Date.now() + 25 * 60_000).toISOString();
    contact.EmailAddress = 'accounts@client7.example';
    const changed = (await collect(c.listClients(since))).flat();
    expect(changed.map((x) => [x.externalId, x.billingEmail])).toEqual([['7', 'accounts@client7.example']]);
  });

  it('imports 1,200 invoices with lines in pages of 500, lines batched with `in` (≤ 0.05 calls per invoice)', async () => {
    at.sim.calls.reset();
    const pages = await collect(connectorFor(at).listInvoices(null));
    expect(pages.map((p) => p.length)).toEqual([500, 500, 200]);
    const all = pages.flat();
    expect(new Set(all.map((i) => i.externalId)).size).toBe(1_200);
    expect(all.every((i) => i.lines.length === 3)).toBe(true);
    const first = all[0]!;
    const lineSum = first.lines.reduce((n, l) => n + l.amount.amountMinor, 0n);
    expect(first.total.amountMinor).toBe(lineSum);
    expect(first).toMatchObject({ status: 'Open', type: 'standard', currency: 'USD', balance: first.total });
    const vendorCalls = at.sim.calls.total('POST /zone15') + at.sim.calls.total('GET /zone15');
    expect(vendorCalls / 1_200).toBeLessThanOrEqual(0.05);
  });
});

describe('Autotask connector: changes and write-back', () => {
  let at: RunningAutotaskSimulator;
  beforeAll(async () => {
    at = await startAutotaskSimulator({ seed: { companies: 3, invoices: 20 }, limits: noLatency });
  });
  afterAll(async () => at.close());

  it('notices a voided invoice, a paid one and a new one after the import, and a stampless change on the sweep', async () => {
    const c = connectorFor(at, { sweepEveryMs: 60 * 60_000 });
    const imported = (await collect(c.listInvoices(null))).flat();
    const cursor = imported
      .map((i) => i.updatedAt)
      .sort()
      .at(-1)!;
    const later = new Date(Date.now() + 20 * 60_000); // past the overlap: only what changes from here on
    at.sim.state.clock = () => later;
    at.sim.changeInvoice(501, { void: true });
    at.sim.changeInvoice(502, { paidDate: later.toISOString() });
    const fresh = at.sim.createInvoice({ companyId: 2 }).invoice;
    at.sim.changeInvoice(503, { dueDate: '2027-03-01' }); // leaves no stamp
    at.sim.changeInvoice(504, { paidDate: new Date(Date.now() - 30 * 86_400_000).toISOString() }); // paid, backdated
    const since = new Date(later.getTime() - 60_000).toISOString();
    expect(since > cursor).toBe(true);
    const seen = (await collect(c.listInvoices(since))).flat();
    const byId = new Map(seen.map((i) => [i.externalId, i]));
    expect([...byId.keys()].sort()).toEqual(['501', '502', String(fresh.Id)].sort());
    expect(byId.get('501')).toMatchObject({ status: 'Voided', balance: money(0n, 'USD') });
    expect(byId.get('502')).toMatchObject({ status: 'Paid', balance: money(0n, 'USD') });
    expect(byId.get('501')!.updatedAt > cursor).toBe(true);
    // The sweep of open invoices is what finds a change no stamp shows.
    const sweeping = connectorFor(at, { sweepEveryMs: 0 });
    const swept = (await collect(sweeping.listInvoices(since))).flat();
    expect(swept.find((i) => i.externalId === '503')?.dueOn).toBe('2027-03-01');
    expect(seen.some((i) => i.externalId === '504')).toBe(false); // its PaidDate is older than the cursor…
    expect(swept.find((i) => i.externalId === '504')?.status).toBe('Paid'); // …the sweep finds it
    expect(swept.some((i) => i.externalId === '501')).toBe(true); // from the changes query, not the sweep
  });

  it('notes a payment exactly once when the answer is lost and retried, then marks the invoice paid once covered', async () => {
    const c = connectorFor(at);
    const inv = (await c.getInvoice('505')) as PsaInvoice;
    const half = money(inv.total.amountMinor / 2n, 'USD');
    const rest = money(inv.total.amountMinor - half.amountMinor, 'USD');
    at.sim.lostAnswers.add({ method: 'POST', pathPattern: '/V1\\.0/CompanyNotes$', fault: { kind: 'drop' }, times: 1 });
    const first = await c.recordPayment({ invoiceExternalId: '505', amount: half, paidOn: '2026-12-06', reference: 'pay_1', idempotencyKey: 'k1' });
    expect(first.alreadyRecorded).toBe(true); // the lost answer's note was found on the retry
    const again = await c.recordPayment({ invoiceExternalId: '505', amount: half, paidOn: '2026-12-06', reference: 'pay_1', idempotencyKey: 'k1' });
    expect(again).toEqual(first);
    expect(at.sim.notes().filter((n) => String(n.Note).includes('ref=pay_1'))).toHaveLength(1);
    expect((await c.getInvoice('505'))?.balance).toEqual(rest);
    expect(at.sim.state.table('Invoices').get(505)?.PaidDate).toBeNull();
    await c.recordPayment({ invoiceExternalId: '505', amount: rest, paidOn: '2026-12-07', reference: 'pay_2', idempotencyKey: 'k2' });
    expect(at.sim.state.table('Invoices').get(505)?.PaidDate).toBe('2026-12-07T00:00:00.000Z');
    expect(await c.getInvoice('505')).toMatchObject({ status: 'Paid', balance: money(0n, 'USD') });
    // A refund of the second payment: its note reduced, Settle's PaidDate cleared, the balance owed again.
    const r = await c.reversePayment({
      invoiceExternalId: '505',
      paymentRemoteId: String(at.sim.notes().find((n) => String(n.Note).includes('ref=pay_2'))!.Id),
      remaining: money(0n, 'USD'),
      idempotencyKey: 'r1',
    });
    expect(r.outcome).toBe('removed');
    expect(at.sim.state.table('Invoices').get(505)?.PaidDate).toBeNull();
    expect((await c.getInvoice('505'))?.balance).toEqual(rest);
    expect(
      (
        await c.reversePayment({
          invoiceExternalId: '505',
          paymentRemoteId: String(at.sim.notes().find((n) => String(n.Note).includes('ref=pay_2'))!.Id),
          remaining: money(0n, 'USD'),
          idempotencyKey: 'r1',
        })
      ).outcome,
    ).toBe('already');
  });

  it('notes a failed payment on the company once', async () => {
    const c = connectorFor(at);
    const input = {
      clientExternalId: '2',
      text: 'Card declined for $120.00 on invoice 1004; Settle retries on Friday.',
      reference: 'fail_9',
      idempotencyKey: 'f9',
    };
    const a = await c.recordFailure(input);
    const b = await c.recordFailure(input);
    expect(a.alreadyRecorded).toBe(false);
    expect(b).toEqual({ remoteId: a.remoteId, alreadyRecorded: true });
  });

  it('retries 429, 5xx and timeouts on reads', async () => {
    const c = connectorFor(at);
    at.sim.faults.add({ method: 'POST', pathPattern: '/Invoices/query$', fault: { kind: 'status', status: 429, body: { errors: ['slow down'] } }, times: 1 });
    at.sim.faults.add({ method: 'POST', pathPattern: '/BillingItems/query$', fault: { kind: 'status', status: 503 }, times: 1 });
    at.sim.faults.add({ method: 'POST', pathPattern: '/CompanyNotes/query$', fault: { kind: 'timeout' }, times: 1 });
    const all = (await collect(c.listInvoices(null))).flat();
    expect(all.length).toBe(21);
  });
});
