// Setup that must work anywhere: a root user who cloned Settle into a home directory of mode 0700 (as in
// most containers), where the `postgres` OS user that runs the embedded PostgreSQL cannot enter. `npm start`
// must come up (the cluster then lives under /var/lib/settle, and the banner says so) and a person can sign
// in; `npm test` must run there; a database that cannot start must say why, in one line, with no stack trace.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';
import { eventually } from '../helpers/stack.ts';

const root = path.resolve(import.meta.dirname, '../..');
const asRoot = process.getuid?.() === 0;
let home = '';
let clone = '';
let cluster = '';
const started: ChildProcess[] = [];

function postgresCanEnter(dir: string): boolean {
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const r = spawnSync('/bin/sh', ['-c', 'cd "$1"', 'sh', dir], { uid: id('-u'), gid: id('-g'), stdio: 'ignore' });
  return r.status === 0;
}

/** A clone without symlinks out of the 0700 home: sources copied, node_modules hard-linked (same bytes, paths inside). */
function cloneInto(dir: string): void {
  fs.mkdirSync(dir);
  for (const f of ['package.json', 'tsconfig.json', 'vitest.config.ts']) fs.copyFileSync(path.join(root, f), path.join(dir, f));
  for (const d of ['src', 'simulators', 'bin', 'test']) fs.cpSync(path.join(root, d), path.join(dir, d), { recursive: true, verbatimSymlinks: true });
  const r = spawnSync('cp', ['-al', path.join(root, 'node_modules'), path.join(dir, 'node_modules')]);
  if (r.status !== 0) fs.cpSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true });
}

function run(cmd: string, args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | string | null> } {
  const child = spawn(cmd, args, {
    cwd: clone,
    env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so the test can stop npm and everything under it
  });
  started.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return { child, output: () => out, exited };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
}

describe.runIf(asRoot)('as root in a 0700 home directory', () => {
  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-home-'));
    fs.chmodSync(home, 0o700);
    clone = path.join(home, 'settle');
    cloneInto(clone);
  }, 120_000);

  afterAll(async () => {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) killGroup(c, 'SIGKILL');
    // The cluster `npm start` made outside the home (the test clusters remove themselves).
    if (cluster) fs.rmSync(cluster, { recursive: true, force: true });
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('the postgres OS user really cannot enter the clone', () => {
    expect(postgresCanEnter(home)).toBe(false);
    expect(postgresCanEnter(os.tmpdir())).toBe(true);
  });

  it('`npm start` comes up (cluster outside the home, said in the banner), /readyz is 200 and staff can sign in', { timeout: 420_000 }, async () => {
    const port = await freePort();
    const settle = run('npm', ['start'], { PORT: String(port), SETTLE_PG_PORT: String(await freePort()), LOG_LEVEL: 'info' });
    const base = `http://127.0.0.1:${port}`;
    await eventually(
      async () => {
        if (settle.child.exitCode !== null) throw new Error(`npm start exited (${settle.child.exitCode}):\n${settle.output()}`);
        return (await fetch(`${base}/readyz`).catch(() => null))?.status === 200;
      },
      300_000,
      '/readyz 200',
    );
    // The demo workspace is made just after readiness; sign in as the banner says.
    const cookie = await eventually(
      async () => {
        if (settle.child.exitCode !== null) throw new Error(`npm start exited:\n${settle.output()}`);
        // As a browser does: the sign-in page first, for its pre-session cookie and CSRF token (login CSRF).
        const form = await fetch(`${base}/login`).catch(() => null);
        const presession = form?.headers
          .getSetCookie()
          .find((c) => c.startsWith('settle_presession='))
          ?.split(';')[0];
        const token = /name="_csrf" value="([^"]+)"/.exec((await form?.text()) ?? '')?.[1];
        if (!presession || !token) return null;
        const r = await fetch(`${base}/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: presession },
          body: new URLSearchParams({ workspace: 'demo', email: 'admin@demo.test', password: 'settle-demo', _csrf: token }).toString(),
        }).catch(() => null);
        return r?.status === 302 && r.headers.get('location') === '/app' ? (r.headers.get('set-cookie') ?? '').split(';')[0] : null;
      },
      120_000,
      'staff sign-in',
    );
    const dashboard = await fetch(`${base}/app`, { headers: { cookie }, redirect: 'manual' });
    expect(dashboard.status).toBe(200);
    await eventually(async () => settle.output().includes('Database       embedded PostgreSQL, cluster in /var/lib/settle/cluster-'), 30_000, 'the banner');
    expect(settle.output()).not.toContain('EACCES');
    cluster = /cluster in (\S+)/.exec(settle.output())![1]!;

    // Ctrl-C in a terminal: the whole process group (npm, tsx, Settle) gets the signal; npm itself ends by it.
    killGroup(settle.child, 'SIGINT');
    expect([0, 'SIGINT']).toContain(await settle.exited);
    // Settle stopped in order: no PostgreSQL left behind (its pid file goes when the server stops).
    await eventually(async () => !fs.existsSync(path.join(cluster, 'postmaster.pid')), 60_000, 'the embedded PostgreSQL to stop');
    expect(settle.output()).not.toMatch(/\n\s+at /);
  });

  it('`npm test` runs there too (the embedded test cluster also moves out of the home)', { timeout: 420_000 }, async () => {
    const t = run('npm', ['test', '--', 'src/cli/logger.test.ts', '--reporter=default'], {});
    const code = await t.exited;
    expect(code, t.output()).toBe(0);
    expect(t.output()).toMatch(/Tests\s+\d+ passed/);
  });

  it('a test setup that fails prints its cause', { timeout: 180_000 }, async () => {
    const t = run('npm', ['test', '--', 'src/cli/logger.test.ts'], { DATABASE_URL: `postgres://settle:x@127.0.0.1:${await freePort()}/nowhere` });
    const code = await t.exited;
    expect(code).not.toBe(0);
    expect(t.output()).toMatch(/Test setup failed: .*ECONNREFUSED/);
  });
});

describe('an embedded PostgreSQL that cannot start', () => {
  it('says why in one line (the port is taken), exits 1, no stack trace, no server left behind', { timeout: 180_000 }, async () => {
    const blocker = net.createServer();
    const pgPort = await freePort();
    await new Promise<void>((r) => blocker.listen(pgPort, '127.0.0.1', r));
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-pgfail-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: os.tmpdir(),
          SETTLE_DATA_DIR: dataDir,
          SETTLE_PG_PORT: String(pgPort),
          PORT: String(await freePort()),
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await Promise.race([
        new Promise<number | null>((r) => child.on('exit', (c) => r(c))),
        new Promise<string>((r) => setTimeout(() => r('still running after 120 s'), 120_000)),
      ]);
      child.kill('SIGKILL');
      expect(code, out).toBe(1);
      expect(out).toMatch(/settle: PostgreSQL did not start .*Address already in use/);
      expect(out).not.toMatch(/\n\s+at /);
      expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    } finally {
      blocker.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
