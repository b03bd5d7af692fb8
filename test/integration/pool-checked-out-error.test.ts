// A connection checked out of Settle's pool, idle between two statements of a transaction (as while a
// transaction waits for a vendor), is closed by the server: a PostgreSQL restart or failover. The process
// must not die of an unhandled 'error' event (the soak saw `settle start` exit during a PostgreSQL outage);
// the error surfaces on that connection's next query instead, and the pool serves new queries.
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { createPool } from '../../src/db/pool.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

it('survives the server closing a checked-out connection, and the next query fails on that connection only', async () => {
  const pool = createPool(database.url, 2);
  const unhandled: unknown[] = [];
  const onUncaught = (e: unknown) => unhandled.push(e);
  process.on('uncaughtException', onUncaught);
  try {
    const client = await pool.connect();
    await client.query('BEGIN');
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    // No listener of the test's own: the pool's must be the one that takes the event.
    expect(client.listenerCount('error')).toBeGreaterThan(0);
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    await admin.end();
    // The client learns of it while no query runs (the event that used to be unhandled): wait for its socket to close.
    const socket = (client as unknown as { connection: { stream: { destroyed: boolean } } }).connection.stream;
    for (let i = 0; i < 200 && !socket.destroyed; i++) await new Promise((r) => setTimeout(r, 50));
    expect(socket.destroyed).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    await expect(client.query('SELECT 1')).rejects.toThrow();
    client.release(true);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    expect(unhandled).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
    await pool.end();
  }
});
