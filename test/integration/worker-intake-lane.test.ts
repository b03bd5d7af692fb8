// Inbound events have workers of their own (jobs/runner.ts INTAKE_TASKS): with every general worker held
// by slow outbound work — here a books flush whose vendor never answers — a stored webhook is still acted
// on at once. Before, a new invoice waited for a general worker to come free before it became payable.
// Real PostgreSQL and graphile-worker; the hanging job is a flush whose accounting connector never answers.
import { afterAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { eventually } from '../helpers/stack.ts';
import { createPool } from '../../src/db/pool.ts';
import { startWorker, type WorkerHandle } from '../../src/jobs/runner.ts';
import { ConnectorCache } from '../../src/engine/connections.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { createMailer } from '../../src/notify/mailer.ts';
import type { EngineContext, TenantConnectors } from '../../src/engine/context.ts';
import type { AccountingConnector } from '../../src/connectors/accounting/types.ts';

let database: TestDatabase | null = null;
let handle: WorkerHandle | null = null;
let pool: pg.Pool | null = null;
const clients: pg.Client[] = [];

afterAll(async () => {
  // The hanging flush never ends: stopping waits for it, so the stop is not awaited past a few seconds.
  await Promise.race([handle?.stop(), new Promise((r) => setTimeout(r, 5_000))]);
  for (const c of clients) await c.end().catch(() => {});
  await database?.drop();
});

it('acts on a stored inbound event while every general worker is busy with slow outbound work', { timeout: 180_000 }, async () => {
  database = await createTestDatabase();
  const real = new ConnectorCache(database.db, SecretBox.fromHex('11'.repeat(32)));
  const hangingTenant = randomUUID();
  const connectors: TenantConnectors = {
    psa: (t) => real.psa(t),
    payments: (t) => real.payments(t),
    bankAch: (t) => real.bankAch(t),
    forget: (t) => real.forget(t),
    accounting: (t) => (t === hangingTenant ? new Promise<AccountingConnector | null>(() => {}) : real.accounting(t)),
  };
  const ctx: EngineContext = {
    db: database.db,
    connectors,
    log: pino({ level: 'silent' }),
    publicUrl: 'http://127.0.0.1:1',
    now: () => new Date(),
    mailer: createMailer(undefined),
    mailFrom: 'settle@example.test',
  };
  pool = createPool(database.url, 8);
  handle = await startWorker(ctx, pool, { concurrency: 1, pollIntervalMs: 200 });

  const q = new pg.Client({ connectionString: database.url });
  clients.push(q);
  await q.connect();
  const add = async (task: string, payload: object): Promise<string> =>
    (await q.query<{ id: string }>(`SELECT id::text FROM graphile_worker.add_job($1, $2::json, max_attempts => 3)`, [task, JSON.stringify(payload)])).rows[0]!
      .id;
  const state = async (id: string): Promise<'done' | 'locked' | 'waiting'> => {
    const r = await q.query<{ locked: boolean }>('SELECT locked_by IS NOT NULL AS locked FROM graphile_worker._private_jobs WHERE id = $1', [id]);
    return r.rowCount === 0 ? 'done' : r.rows[0]!.locked ? 'locked' : 'waiting';
  };

  // The one general worker: a flush that never ends.
  const hung = await add('flush-accounting', { tenantId: hangingTenant });
  await eventually(async () => (await state(hung)) === 'locked', 60_000, 'the hanging flush to start');
  // A general job behind it waits, as it should ...
  const general = await add('sweep', { probe: 'behind the flush' });
  // ... but an inbound event is acted on (this one was never stored, so it ends at once as "gone").
  const inbound = await add('process-inbox-event', { tenantId: randomUUID(), inboxEventId: '1' });
  await eventually(async () => (await state(inbound)) === 'done', 60_000, 'the inbound event to be processed beside the busy worker');
  expect(await state(hung)).toBe('locked');
  expect(await state(general)).toBe('waiting');
});
