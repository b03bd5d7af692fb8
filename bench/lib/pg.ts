// The PostgreSQL the benchmarks run against: DATABASE_URL when set (a role with CREATEDB, without
// superuser/BYPASSRLS, as for the tests), otherwise the embedded PostgreSQL Settle itself uses, in a
// temporary data folder that is removed afterwards. Each benchmark gets its own fresh database.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';

export interface PgServer {
  /** A URL on the server whose role may CREATE DATABASE. */
  readonly url: string;
  readonly embedded: boolean;
  stop(): Promise<void>;
}

export async function startPgServer(): Promise<PgServer> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, embedded: false, stop: async () => {} };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-bench-pg-'));
  const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'settle_bench_admin' });
  return {
    url: embedded.appUrl,
    embedded: true,
    stop: async () => {
      await embedded.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface BenchDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** An empty database on the server (Settle's own start-up migrates it, as `settle start` does). */
export async function createBenchDatabase(serverUrl: string, label: string): Promise<BenchDatabase> {
  const name = `settle_bench_${label.replace(/\W+/g, '_')}_${crypto.randomBytes(4).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE "${name}"`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    // Clean-up must not cost a measured result: a backend the role may not terminate (seen under load:
    // "permission denied to terminate process") is retried for a while, then left with a warning.
    drop: async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        } catch (e) {
          if (attempt >= 10) {
            process.stderr.write(`warning: database ${name} was not dropped: ${(e as Error).message}\n`);
            return;
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    },
  };
}

async function adminQuery(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
