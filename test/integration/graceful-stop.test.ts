// SIGTERM is how process managers (systemd, Docker, Kubernetes) stop Settle. At any moment — even during
// start-up — it must stop in order and exit 0: no stack trace, no PostgreSQL left running; a request in
// flight gets its answer, while new connections are refused.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startSettleCommand, type SettleProcess } from '../helpers/settle-process.ts';
import { freePort } from '../helpers/ports.ts';
import { eventually } from '../helpers/stack.ts';

const root = path.resolve(import.meta.dirname, '../..');
let database: TestDatabase | null = null;
let settle: SettleProcess | null = null;
const dirs: string[] = [];

afterAll(async () => {
  settle?.child.kill('SIGKILL');
  await database?.drop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Processes whose command line names `dir` (a postmaster of that cluster). */
function processesUsing(dir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

it('SIGTERM during start-up: exits 0 without a stack trace and leaves no PostgreSQL running', { timeout: 240_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-sigterm-'));
  dirs.push(dataDir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: os.tmpdir(),
      SETTLE_DATA_DIR: dataDir,
      SETTLE_PG_PORT: String(await freePort()),
      PORT: String(await freePort()),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((r) => child.on('exit', (code, signal) => r(signal ?? code)));
  // The moment start-up begins its embedded PostgreSQL (initdb and the server are being started).
  await eventually(async () => out.includes('starting the embedded PostgreSQL'), 60_000, 'start-up to begin');
  child.kill('SIGTERM');
  const how = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running after 120 s'), 120_000))]);
  child.kill('SIGKILL');
  expect(how, out).toBe(0);
  expect(out).toContain('stopping as soon as start-up can be undone'); // the signal did come during start-up
  expect(out).not.toMatch(/\n\s+at /);
  const cluster = path.join(dataDir, 'pg');
  expect(fs.existsSync(path.join(cluster, 'postmaster.pid')), out).toBe(false);
  expect(processesUsing(cluster)).toEqual([]);
});

it('SIGTERM with a slow request in flight: that request is answered, new connections are refused, exit 0', { timeout: 180_000 }, async () => {
  database = await createTestDatabase();
  const inflightDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-inflight-'));
  dirs.push(inflightDir);
  const port = await freePort();
  settle = await startSettleCommand(port, {
    DATABASE_URL: database.url,
    SETTLE_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    SETTLE_DATA_DIR: inflightDir,
  });
  // A vendor's webhook whose body arrives slowly: the request is in flight when the signal comes.
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString()));
  socket.on('error', (e) => (answer += `socket error: ${e.message}`));
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const body = '{"id":"evt_slow"}';
  socket.write(
    `POST /webhooks/no-such-workspace/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  socket.write(body.slice(0, 5));
  await new Promise((r) => setTimeout(r, 500));

  settle.child.kill('SIGTERM');
  await eventually(
    async () => {
      try {
        await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) });
        return false;
      } catch (e) {
        return /ECONNREFUSED/.test(String((e as { cause?: unknown }).cause ?? e));
      }
    },
    60_000,
    'new connections to be refused',
  );
  expect(answer).toBe('');

  socket.write(body.slice(5));
  await eventually(async () => answer.includes('no webhook endpoint') || answer.includes('socket error'), 60_000, 'the answer to the request in flight');
  socket.end();
  await closed;
  expect(answer).toMatch(/^HTTP\/1\.1 404 /);
  expect(answer).toContain('no webhook endpoint at this URL');
  expect(await settle.exited).toBe(0);
  expect(settle.output()).not.toMatch(/\n\s+at /);
});
