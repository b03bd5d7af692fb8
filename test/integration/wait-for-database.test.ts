// Settle started while PostgreSQL is not reachable (a restart during an outage, a database container still
// booting) waits for it and then starts, instead of exiting with ECONNREFUSED as the soak saw; a database
// that answers with a real refusal (here: no such database) ends the start at once with that message.
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pino from 'pino';
import { createPool } from '../../src/db/pool.ts';
import { waitForDatabase } from '../../src/db/wait-for-database.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

/** A port with nothing on it yet; `open()` starts forwarding it to the real PostgreSQL. */
async function lateProxy(target: URL): Promise<{ port: number; open(): Promise<void>; close(): void }> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const sockets: net.Socket[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.push(client, upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return {
    port,
    open: () => new Promise<void>((r) => server.listen(port, '127.0.0.1', r)),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

it('waits while PostgreSQL refuses connections, and goes on once it answers', async () => {
  const target = new URL(database.url);
  const proxy = await lateProxy(target);
  const url = new URL(database.url);
  url.port = String(proxy.port);
  const pool = createPool(url.toString(), 2);
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
  try {
    let slept = 0;
    const waited = waitForDatabase(pool, log, {
      sleep: async (ms) => {
        slept++;
        // PostgreSQL comes back after the third wait.
        if (slept === 3) await proxy.open();
        await new Promise((r) => setTimeout(r, Math.min(ms, 50)));
      },
    });
    await expect(waited).resolves.toBeUndefined();
    expect(slept).toBeGreaterThanOrEqual(3);
    expect(lines.filter((l) => l.includes('waiting for the database')).length).toBeGreaterThanOrEqual(3);
    expect(lines.some((l) => l.includes('reachable again'))).toBe(true);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
  } finally {
    await pool.end();
    proxy.close();
  }
});

it('does not wait on a refusal that waiting cannot fix: a database that does not exist', async () => {
  const url = new URL(database.url);
  url.pathname = '/settle_no_such_database';
  const pool = createPool(url.toString(), 1);
  try {
    await expect(waitForDatabase(pool, pino({ level: 'silent' }), { sleep: async () => {} })).rejects.toThrow(/does not exist/);
  } finally {
    await pool.end();
  }
});
