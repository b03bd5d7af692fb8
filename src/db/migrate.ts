// Applies migrations/*.sql in name order, each once, in its own transaction, under an advisory lock so
// that several processes starting together do not race. graphile-worker's own schema is migrated by
// graphile-worker itself (jobs/runner.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const LOCK_ID = 7_340_001;

export async function migrate(pool: pg.Pool, log: (m: string) => void = () => {}): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
    await client.query('CREATE TABLE IF NOT EXISTS settle_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM settle_migrations')).rows.map((r) => r.name));
    const files = fs
      .readdirSync(DIR)
      .filter((f) => f.endsWith('.sql'))
      .sort();
    for (const file of files) {
      if (done.has(file)) continue;
      const text = fs.readFileSync(path.join(DIR, file), 'utf8');
      try {
        await client.query('BEGIN');
        await client.query(text);
        await client.query('INSERT INTO settle_migrations (name) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(e as Error).message}`);
      }
      applied.push(file);
      log(`applied migration ${file}`);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]).catch(() => {});
    client.release();
  }
  return applied;
}

/** Refuse a database role that would bypass row-level security (a superuser or BYPASSRLS role). */
export async function assertRlsEnforced(pool: pg.Pool): Promise<void> {
  const r = await pool.query<{ rolsuper: boolean; rolbypassrls: boolean; rolname: string }>(
    'SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
  );
  const role = r.rows[0];
  if (role && (role.rolsuper || role.rolbypassrls)) {
    throw new Error(
      `database role "${role.rolname}" is a superuser or has BYPASSRLS, so tenant isolation would not be enforced. ` +
        'Connect Settle with an ordinary role that owns its database, e.g. ' +
        "CREATE ROLE settle LOGIN PASSWORD '…'; CREATE DATABASE settle OWNER settle; and set DATABASE_URL to it.",
    );
  }
}
