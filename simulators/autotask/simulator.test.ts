// The simulator over raw HTTP: as strict as the vendor (auth, zone, filters, MaxRecords, paging, limits).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from './index.ts';

let at: RunningAutotaskSimulator;
const headers = (): Record<string, string> => ({
  ApiIntegrationCode: at.credentials.integrationCode,
  UserName: at.credentials.username,
  Secret: at.credentials.secret,
  'content-type': 'application/json',
});
const post = (path: string, body: unknown, h = headers()) => fetch(`${at.zoneUrl}V1.0/${path}`, { method: 'POST', headers: h, body: JSON.stringify(body) });

beforeAll(async () => {
  at = await startAutotaskSimulator({
    seed: { companies: 3, invoices: 1200, linesPerInvoice: 2 },
    limits: { latencyAtHalfMs: 0, latencyAtThreeQuartersMs: 0 },
  });
});
afterAll(async () => at.close());

describe('Autotask simulator', () => {
  it('names the zone for a known user and refuses data on the global host', async () => {
    const z = await fetch(`${at.baseUrl}/V1.0/ZoneInformation?user=${encodeURIComponent(at.credentials.username)}`);
    expect(z.status).toBe(200);
    expect(((await z.json()) as { url: string }).url).toBe(at.zoneUrl);
    expect((await fetch(`${at.baseUrl}/V1.0/ZoneInformation?user=nobody@x.example`)).status).toBe(404);
    const wrong = await fetch(`${at.baseUrl}/V1.0/Invoices/query`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ Filter: [{ op: 'exist', field: 'id' }] }),
    });
    expect(wrong.status).toBe(404);
  });

  it('answers 401 with the errors body without the three headers', async () => {
    const h = headers();
    delete h['Secret'];
    const r = await post('Invoices/query', { Filter: [{ op: 'exist', field: 'id' }] }, h);
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ errors: [expect.stringContaining('Secret')] });
  });

  it('refuses unknown fields, unknown operators, empty filters and MaxRecords over 500', async () => {
    const cases: [unknown, RegExp][] = [
      [{ Filter: [{ op: 'eq', field: 'Balance', value: 1 }] }, /Unable to find Balance in the Invoice entity/],
      [{ Filter: [{ op: 'like', field: 'InvoiceNumber', value: '1' }] }, /Invalid filter operator: 'like'/],
      [{ Filter: [] }, /at least one filter/],
      [{ Filter: [{ op: 'exist', field: 'id' }], MaxRecords: 501 }, /MaxRecords must be a whole number from 1 to 500/],
      [{ Filter: [{ op: 'exist', field: 'id' }], IncludeFields: ['Nope'] }, /Unable to find Nope/],
      [{ Filter: [{ op: 'gt', field: 'CreateDateTime', value: 'yesterday' }] }, /not valid for field CreateDateTime/],
    ];
    for (const [body, message] of cases) {
      const r = await post('Invoices/query', body);
      expect(r.status).toBe(500);
      const b = (await r.json()) as { errors: string[] };
      expect(b.errors[0]).toMatch(message);
    }
    expect((await post('Payments/query', { Filter: [{ op: 'exist', field: 'id' }] })).status).toBe(500);
  });

  it('pages by nextPageUrl, 500 at most, with nested and/or filters and counts', async () => {
    const filter = [
      {
        op: 'or',
        items: [
          { op: 'gte', field: 'Id', value: 0 },
          { op: 'eq', field: 'InvoiceNumber', value: 'x' },
        ],
      },
    ];
    let r = (await (await post('Invoices/query', { Filter: filter, IncludeFields: ['InvoiceNumber'] })).json()) as {
      items: Record<string, unknown>[];
      pageDetails: { count: number; nextPageUrl: string | null };
    };
    const ids: number[] = [];
    for (;;) {
      ids.push(...r.items.map((i) => i['id'] as number));
      expect(Object.keys(r.items[0]!).sort()).toEqual(['id', 'invoiceNumber', 'userDefinedFields']);
      if (!r.pageDetails.nextPageUrl) break;
      r = (await (await fetch(r.pageDetails.nextPageUrl, { headers: headers() })).json()) as typeof r;
    }
    expect(ids.length).toBe(1200);
    expect(new Set(ids).size).toBe(1200);
    const c = (await (await post('Invoices/query/count', { Filter: filter })).json()) as { queryCount: number };
    expect(c.queryCount).toBe(1200);
    const some = (await (await post('BillingItems/query', { Filter: [{ op: 'in', field: 'InvoiceID', value: ids.slice(0, 3) }] })).json()) as {
      items: unknown[];
    };
    expect(some.items).toHaveLength(6);
  });

  it('reads fields and refuses writing a read-only one', async () => {
    const f = (await (await fetch(`${at.zoneUrl}V1.0/Invoices/entityInformation/fields`, { headers: headers() })).json()) as {
      fields: { name: string; isReadOnly: boolean }[];
    };
    expect(f.fields.find((x) => x.name === 'paidDate')?.isReadOnly).toBe(false);
    expect(f.fields.find((x) => x.name === 'invoiceTotal')?.isReadOnly).toBe(true);
    const r = await fetch(`${at.zoneUrl}V1.0/Invoices`, { method: 'PATCH', headers: headers(), body: JSON.stringify({ id: 501, invoiceTotal: 1 }) });
    expect(r.status).toBe(500);
    expect(((await r.json()) as { errors: string[] }).errors[0]).toMatch(/read only/);
    const put = await fetch(`${at.zoneUrl}V1.0/Companies`, { method: 'PUT', headers: headers(), body: JSON.stringify({ id: 1, companyName: 'Only a name' }) });
    expect(put.status).toBe(500);
    expect(((await put.json()) as { errors: string[] }).errors[0]).toMatch(/Field CompanyType of the Company entity is required/);
    const patch = await fetch(`${at.zoneUrl}V1.0/Companies`, {
      method: 'PATCH',
      headers: headers(),
      body: JSON.stringify({ id: 1, companyName: 'Only a name' }),
    });
    expect(await patch.json()).toEqual({ itemId: 1 });
  });

  it('reports the threshold and refuses over it and over 3 concurrent requests per endpoint', async () => {
    await fetch(`${at.origin}/_sim/limits`, { method: 'DELETE' });
    at.sim.limits.limit = 10;
    at.sim.limits.addOthers(8);
    const t = (await (await fetch(`${at.zoneUrl}V1.0/ThresholdInformation`, { headers: headers() })).json()) as Record<string, number>;
    expect(t).toEqual({ externalRequestThreshold: 10, requestThresholdTimeframe: 60, currentTimeframeRequestCount: 9 });
    await fetch(`${at.zoneUrl}V1.0/ThresholdInformation`, { headers: headers() });
    const over = await fetch(`${at.zoneUrl}V1.0/ThresholdInformation`, { headers: headers() });
    expect(over.status).toBe(429);
    expect(at.sim.limits.refused.hourly).toBe(1);
    at.sim.limits.reset();
    at.sim.limits.limit = 10_000;
    await fetch(`${at.origin}/_sim/limits`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 150 }) });
    const five = await Promise.all(Array.from({ length: 5 }, () => post('Companies/query', { Filter: [{ op: 'exist', field: 'id' }] })));
    expect(five.map((r) => r.status).sort()).toEqual([200, 200, 200, 429, 429]);
    await fetch(`${at.origin}/_sim/limits`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 0 }) });
  });
});
