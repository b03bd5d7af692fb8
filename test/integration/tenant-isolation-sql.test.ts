import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { withTenant } from '../../src/db/tenant.ts';

let t: TestDatabase;
let tenantA: string;
let tenantB: string;

beforeAll(async () => {
  t = await createTestDatabase();
  const rows = await t.db
    .insertInto('tenants')
    .values([
      { slug: 'msp-a', name: 'MSP A' },
      { slug: 'msp-b', name: 'MSP B' },
    ])
    .returning('id')
    .execute();
  tenantA = rows[0]!.id;
  tenantB = rows[1]!.id;
  for (const [tenant, name] of [
    [tenantA, 'Acme (A)'],
    [tenantB, 'Bolt (B)'],
  ] as const) {
    await withTenant(t.db, tenant, (tx) =>
      tx
        .insertInto('clients')
        .values({ tenant_id: tenant, name, identifier: name.slice(0, 4) })
        .execute(),
    );
  }
});
afterAll(async () => t.drop());

describe('row-level security by tenant, in SQL', () => {
  it('a query without tenant context sees no tenant rows', async () => {
    const r = await t.db.selectFrom('clients').selectAll().execute();
    expect(r).toEqual([]);
  });

  it('tenant A sees only its own clients', async () => {
    const r = await withTenant(t.db, tenantA, (tx) => tx.selectFrom('clients').select('name').execute());
    expect(r.map((x) => x.name)).toEqual(['Acme (A)']);
  });

  it("tenant A cannot change tenant B's rows", async () => {
    const updated = await withTenant(t.db, tenantA, (tx) =>
      tx.updateTable('clients').set({ name: 'hijacked' }).where('name', '=', 'Bolt (B)').executeTakeFirst(),
    );
    expect(updated.numUpdatedRows).toBe(0n);
    const deleted = await withTenant(t.db, tenantA, (tx) => tx.deleteFrom('clients').where('name', '=', 'Bolt (B)').executeTakeFirst());
    expect(deleted.numDeletedRows).toBe(0n);
    const b = await withTenant(t.db, tenantB, (tx) => tx.selectFrom('clients').select('name').execute());
    expect(b.map((x) => x.name)).toEqual(['Bolt (B)']);
  });

  it('tenant A cannot insert rows into tenant B', async () => {
    await expect(
      withTenant(t.db, tenantA, (tx) => tx.insertInto('clients').values({ tenant_id: tenantB, name: 'planted', identifier: 'x' }).execute()),
    ).rejects.toThrow(/row-level security/);
  });

  it('raw SQL without the setting sees nothing either', async () => {
    const r = await sql<{ n: bigint }>`SELECT count(*) AS n FROM clients`.execute(t.db);
    expect(r.rows[0]!.n).toBe(0n);
  });

  it('an unbalanced ledger journal is rejected at commit', async () => {
    await expect(
      withTenant(t.db, tenantA, (tx) =>
        tx
          .insertInto('ledger_entries')
          .values({
            tenant_id: tenantA,
            journal_id: crypto.randomUUID(),
            journal_kind: 'test',
            account: 'bank',
            direction: 'debit',
            amount_minor: 100n,
            currency: 'USD',
          })
          .execute(),
      ),
    ).rejects.toThrow(/does not balance/);
  });
});
