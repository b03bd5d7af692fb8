// One PostgreSQL for the whole test run: DATABASE_URL when set (a role with CREATEDB and without
// superuser/BYPASSRLS), otherwise an embedded PostgreSQL in .settle/test-pg. A template database is
// migrated once; each test file clones its own database from it (test/helpers/db.ts), as
// graphile-worker's own test suite does.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { Logger, runMigrations } from 'graphile-worker';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { createPool } from '../src/db/pool.ts';

export const TEMPLATE = 'settle_test_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pg: { baseUrl: string; template: string };
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    return await prepare(project);
  } catch (e) {
    // Vitest can end a run whose global setup failed without printing why: say it here, always.
    const err = e as Error;
    await undoOnFailure().catch(() => {});
    console.error(
      `\nTest setup failed: ${err.message}\n${process.env.DATABASE_URL ? '(DATABASE_URL is set: check that server)' : '(embedded PostgreSQL; set DATABASE_URL to use another server)'}\n`,
    );
    throw e;
  }
}

/** Stops the embedded cluster if setup fails after starting it (no PostgreSQL left running by a failed run). */
let undoOnFailure = async (): Promise<void> => {};

async function prepare(project: TestProject): Promise<() => Promise<void>> {
  let embedded: EmbeddedDatabase | null = null;
  let cleanup = (): void => {};
  let baseUrl: string;
  if (process.env.DATABASE_URL) {
    baseUrl = process.env.DATABASE_URL;
  } else {
    // A folder per run, so that parallel runs (several developers, or a watch session) do not share a cluster.
    removeFoldersOfDeadRuns();
    const dataDir = path.resolve(`.settle/test-pg-${process.pid}`);
    fs.mkdirSync(dataDir, { recursive: true });
    cleanup = () => fs.rmSync(dataDir, { recursive: true, force: true });
    embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'settle_test_admin' });
    const clusterDir = embedded.clusterDir; // outside dataDir when the postgres OS user cannot reach the clone
    cleanup = () => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(clusterDir, { recursive: true, force: true });
    };
    baseUrl = embedded.appUrl;
    const started = embedded;
    undoOnFailure = async () => {
      await started.stop();
      cleanup();
    };
  }
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  // Old per-file databases from an interrupted run, and the previous template.
  const old = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'settle_test_%' AND datname <> 'settle_test_admin'");
  for (const { datname } of old.rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${TEMPLATE}"`);
  await admin.end();

  const templateUrl = withDatabase(baseUrl, TEMPLATE);
  const pool = createPool(templateUrl, 2);
  await migrate(pool);
  await pool.end();
  await runMigrations({ connectionString: templateUrl, logger: quietLogger() });

  project.provide('pg', { baseUrl, template: TEMPLATE });
  return async () => {
    await embedded?.stop();
    cleanup();
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function quietLogger(): Logger {
  return new Logger(() => () => {});
}

function removeFoldersOfDeadRuns(): void {
  const root = path.resolve('.settle');
  if (!fs.existsSync(root)) return;
  for (const name of fs.readdirSync(root)) {
    const m = /^test-pg-(\d+)$/.exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      stopLeftoverServer(path.join(root, name, 'pg'));
      fs.rmSync(path.join(root, name), { recursive: true, force: true });
    }
  }
}

/** An interrupted run can leave its server running (it runs in its own process group): stop it first. */
function stopLeftoverServer(clusterDir: string): void {
  try {
    const pid = Number(fs.readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmd.includes('postgres') && cmd.includes(clusterDir)) process.kill(pid, 'SIGQUIT'); // immediate shutdown: a throw-away cluster
  } catch {
    /* no server left, or not ours */
  }
}
