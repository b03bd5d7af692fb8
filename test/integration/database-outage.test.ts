// A PostgreSQL outage that spans a minute boundary: graphile-worker's cron fails its tick and stops the
// runner. Settle (a real `settle start` child process) must stay up, answer 503 on readiness and 5xx to a
// vendor's webhook while the database is gone, and come back by itself when it returns: ready again, and a
// job enqueued afterwards runs. The test owns its PostgreSQL cluster so it can stop and start it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { startSettleCommand, type SettleProcess } from '../helpers/settle-process.ts';
import { freePort } from '../helpers/ports.ts';
import { eventually } from '../helpers/stack.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-outage-'));
let database: EmbeddedDatabase | null = null;
let settle: SettleProcess | null = null;

afterAll(async () => {
  settle?.child.kill('SIGKILL');
  await settle?.exited;
  await database?.stop().catch(() => {});
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function status(url: string, init?: RequestInit): Promise<number | string> {
  try {
    return (await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) })).status;
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

it('rides out a database outage of more than a minute across a cron tick: 503 meanwhile, back by itself, jobs run again', { timeout: 240_000 }, async () => {
  const pgPort = await freePort();
  database = await startEmbeddedPostgres({ dataDir, port: pgPort, database: 'settle_outage' });
  const port = await freePort();
  settle = await startSettleCommand(port, {
    DATABASE_URL: database.appUrl,
    SETTLE_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    SETTLE_DATA_DIR: path.join(dataDir, 'settle'),
  });
  const base = `http://127.0.0.1:${port}`;

  await database.stop();
  const stoppedAt = Date.now();
  // Wait until the minute tick has fallen in the outage: the cron fails and the runner stops.
  await eventually(async () => settle!.output().includes('the job runner stopped'), 90_000, 'the cron tick to fail during the outage');
  expect(settle.child.exitCode, settle.output()).toBeNull();
  expect(await status(`${base}/readyz`), settle.output()).toBe(503);
  const webhook = await status(`${base}/webhooks/acme-it/stripe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  // 503 (with Retry-After): the vendor retries the delivery later; nothing is lost.
  expect(webhook, settle.output()).toBe(503);
  // The supervisor keeps trying, and says so.
  await eventually(async () => settle!.output().includes('restarting the job runner'), 60_000, 'a logged restart attempt');
  // An outage longer than a minute: Settle keeps running, and keeps answering 503, all along.
  await eventually(
    async () => {
      if (settle!.child.exitCode !== null) throw new Error(`settle exited during the outage:\n${settle!.output()}`);
      return Date.now() - stoppedAt > 61_000;
    },
    90_000,
    'an outage of more than 60 s',
  );
  expect(await status(`${base}/readyz`), settle.output()).toBe(503);

  database = await startEmbeddedPostgres({ dataDir, port: pgPort, database: 'settle_outage' });
  await eventually(async () => (await status(`${base}/readyz`)) === 200, 60_000, '/readyz 200 after the database returned');
  expect(settle.child.exitCode, settle.output()).toBeNull();

  // A job enqueued after the outage runs: the worker came back without a restart of Settle.
  const client = new pg.Client({ connectionString: database.appUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM graphile_worker.add_job('sweep', '{}'::json, max_attempts => 1) AS id`);
    const id = rows[0]!.id;
    await eventually(
      async () => (await client.query('SELECT 1 FROM graphile_worker.jobs WHERE id = $1', [id])).rowCount === 0,
      90_000,
      'the job enqueued after the outage to run',
    );
  } finally {
    await client.end();
  }
  await eventually(async () => settle!.output().includes('the job runner is running again'), 30_000, 'the restart to be logged');
  expect(settle.child.exitCode, settle.output()).toBeNull();
});
