// Autotask company webhooks acted on, through HTTP: a company created or changed in Autotask reaches Settle as
// a signed company webhook, is stored in the inbox (deduplicated by the vendor's Guid:SequenceNumber) before it
// is acted on, and the client in Settle is created or updated from the company as Autotask has it now — so a
// duplicate is stored once and deliveries out of order leave the latest name. A bad signature changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack<'autotask'>;
beforeAll(async () => {
  stack = await startStack({ psa: 'autotask', companies: 2, invoices: 2 });
}, 300_000);
afterAll(async () => stack?.close());

const at = () => stack.sims.autotask;
const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);

async function client(name: string) {
  return q((tx) =>
    tx
      .selectFrom('clients as c')
      .innerJoin('external_refs as r', (j) => j.onRef('r.entity_id', '=', 'c.id').on('r.entity', '=', 'client').on('r.system', '=', 'autotask'))
      .select(['c.id', 'c.name', 'c.billing_email', 'r.remote_id'])
      .where('c.name', '=', name)
      .executeTakeFirst(),
  );
}

async function inboxFor(companyId: number) {
  return q((tx) =>
    tx
      .selectFrom('inbox_events')
      .select(['vendor_event_id', 'event_type', 'processed_at'])
      .where('source', '=', 'autotask')
      .where(sql<boolean>`payload ->> 'externalId' = ${String(companyId)}`)
      .orderBy('id')
      .execute(),
  );
}

async function post(body: string, signature: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${stack.settleUrl}/webhooks/${stack.slug}/autotask`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hook-signature': signature },
    body,
  });
  return { status: res.status, json: await res.json() };
}

describe('Autotask company webhooks', () => {
  it('a company created in Autotask becomes a client in Settle through the inbox; a duplicate is stored once', async () => {
    const res = await fetch(`${at().origin}/_sim/companies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Harbor Dental Group', email: 'ap@harbordental.example' }),
    });
    const company = (await res.json()) as { Id: number };
    const created = await eventually(() => client('Harbor Dental Group'), 30_000, 'the client created from the webhook');
    expect(created).toMatchObject({ remote_id: String(company.Id) });
    const events = await eventually(
      async () => {
        const rows = await inboxFor(company.Id);
        return rows.length === 1 && rows[0]!.processed_at ? rows : null;
      },
      30_000,
      'the processed inbox event',
    );
    expect(events[0]!.event_type).toBe('company.added');
    // The same delivery again (Autotask retries): stored once.
    const d = at().sim.webhooks.deliveries.find((x) => JSON.parse(x.body).Id === company.Id)!;
    expect(d.status).toBe(200);
    expect(await post(d.body, d.signature)).toEqual({ status: 200, json: { received: true, duplicate: true } });
    expect(await inboxFor(company.Id)).toHaveLength(1);
  });

  it('changes delivered out of order leave the client as Autotask has it now', async () => {
    const companyId = Number([...at().sim.state.table('Companies').values()][0]!['Id']);
    at().sim.webhooks.drop = true;
    const before = at().sim.webhooks.deliveries.length;
    try {
      for (const name of ['Northwind Traders (old name)', 'Northwind Traders LLC']) {
        const r = await fetch(`${at().origin}/_sim/companies/${companyId}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ CompanyName: name }),
        });
        expect(r.status).toBe(200);
      }
    } finally {
      at().sim.webhooks.drop = false;
    }
    const [first, second] = at().sim.webhooks.deliveries.slice(before);
    expect(await post(second!.body, second!.signature)).toMatchObject({ status: 200, json: { duplicate: false } });
    expect(await post(first!.body, first!.signature)).toMatchObject({ status: 200, json: { duplicate: false } });
    await eventually(async () => (await inboxFor(companyId)).filter((e) => e.processed_at).length === 2, 30_000, 'both notices processed');
    expect(await client('Northwind Traders LLC')).toMatchObject({ remote_id: String(companyId) });
    expect(await client('Northwind Traders (old name)')).toBeUndefined();
  });

  it('a delivery with a bad signature is refused and stores nothing', async () => {
    const companyId = Number([...at().sim.state.table('Companies').values()][1]!['Id']);
    const body = JSON.stringify({ Action: 'Update', Guid: 'forged', EntityType: 'Company', Id: companyId, Fields: {}, SequenceNumber: 999 });
    const r = await post(body, 'sha1=AAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    expect(r.status).toBe(401);
    expect(await inboxFor(companyId)).toHaveLength(0);
  });
});
