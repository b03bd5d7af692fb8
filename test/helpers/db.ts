// A fresh, migrated PostgreSQL database per test file, cloned from the template made in global-setup.
import { inject } from 'vitest';
import pg from 'pg';
import crypto from 'node:crypto';
import { createDb, createPool, type Db } from '../../src/db/pool.ts';

export interface TestDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  readonly db: Db;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const { baseUrl, template } = inject('pg');
  const name = `settle_test_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  await admin.end();
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pool = createPool(url, 10);
  const db = createDb(pool);
  return {
    url,
    pool,
    db,
    drop: async () => {
      await db.destroy().catch(() => {});
      const a = new pg.Client({ connectionString: baseUrl });
      await a.connect();
      try {
        // A connection still starting up (a restarted Settle child's pool) has no role yet, and PostgreSQL
        // refuses to terminate it ("permission denied to terminate process") until it has one: try again.
        for (let attempt = 1; ; attempt++) {
          try {
            await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
            break;
          } catch (e) {
            if (attempt >= 20 || (e as { code?: string }).code !== '42501') throw e;
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      } finally {
        await a.end();
      }
    },
  };
}
