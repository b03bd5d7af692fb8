// Kysely's statements go to PostgreSQL as named prepared statements (src/db/prepared-statements.ts): parsed
// once per connection, planned once. What must still hold: row-level security answers per tenant even when
// one connection runs the same prepared statement for two tenants one after the other, and a migration that
// changes a table under a prepared `select *` costs one failed statement, not a broken connection for good.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createDb, createPool, type Db } from '../../src/db/pool.ts';
import { withTenant } from '../../src/db/tenant.ts';

let t: TestDatabase;
let one: Db; // a pool of one connection, so every statement below runs on the same backend
let tenantA: string;
let tenantB: string;

beforeAll(async () => {
  t = await createTestDatabase();
  one = createDb(createPool(t.url, 1));
  const rows = await t.db
    .insertInto('tenants')
    .values([
      { slug: 'prep-a', name: 'MSP A' },
      { slug: 'prep-b', name: 'MSP B' },
    ])
    .returning('id')
    .execute();
  tenantA = rows[0]!.id;
  tenantB = rows[1]!.id;
  for (const [tenant, name] of [
    [tenantA, 'Acme (A)'],
    [tenantB, 'Bolt (B)'],
  ] as const)
    await withTenant(t.db, tenant, (tx) =>
      tx
        .insertInto('clients')
        .values({ tenant_id: tenant, name, identifier: name.slice(0, 4) })
        .execute(),
    );
});
afterAll(async () => {
  await one.destroy();
  await t.drop();
});

const clientNames = (tenant: string): Promise<string[]> =>
  withTenant(one, tenant, async (tx) => (await tx.selectFrom('clients').select('name').orderBy('name').execute()).map((r) => r.name));

describe('named prepared statements', () => {
  it('prepares a statement once on the connection and runs it again by name', async () => {
    await clientNames(tenantA);
    await clientNames(tenantA);
    const prepared = await withTenant(one, tenantA, (tx) =>
      sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements WHERE name LIKE 'settle_%'`.execute(tx),
    );
    const texts = prepared.rows.map((r) => r.statement);
    expect(texts.filter((s) => s.includes('from "clients"'))).toHaveLength(1);
  });

  it('row-level security still answers per tenant through one prepared statement on one connection', async () => {
    for (let i = 0; i < 8; i++) {
      // More than five runs: PostgreSQL may switch to a generic plan, which must still read the tenant at run time.
      expect(await clientNames(tenantA)).toEqual(['Acme (A)']);
      expect(await clientNames(tenantB)).toEqual(['Bolt (B)']);
    }
    expect(await one.selectFrom('clients').select('name').execute()).toEqual([]); // no tenant, no rows
  });

  it('a table changed under a prepared select * fails that statement once, then works unnamed', async () => {
    const read = (): Promise<unknown[]> => withTenant(one, tenantA, (tx) => tx.selectFrom('clients').selectAll().execute());
    await read();
    await sql`ALTER TABLE clients ADD COLUMN prepared_statement_probe text`.execute(t.db);
    try {
      const first = await read().then(
        () => 'ok',
        (e: { code?: string }) => e.code,
      );
      // PostgreSQL refuses a cached plan whose result type changed (0A000); the text is then sent unnamed.
      expect(first).toBe('0A000');
      expect(await read()).toHaveLength(1);
    } finally {
      await sql`ALTER TABLE clients DROP COLUMN prepared_statement_probe`.execute(t.db);
    }
  });
});
