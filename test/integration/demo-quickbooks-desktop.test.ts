// `settle start` with SETTLE_DEMO_BOOKS=quickbooks-desktop: the demo workspace's books are the QuickBooks
// Desktop simulator, connected through saveConnection (as `settle connect accounting quickbooks-desktop`): the
// banner names it, the PSA's exported invoices are in its company file, and its Web Connector, polling this
// Settle on its schedule, brings the demo history's payments into the company file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startSettleCommand, stopSettleProcess, type SettleProcess } from '../helpers/settle-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort } from '../helpers/ports.ts';
import { eventually } from '../helpers/stack.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { DEMO } from '../../src/cli/demo/start-demo.ts';

let settle: SettleProcess | null = null;
let database: TestDatabase | null = null;
let dataDir: string | null = null;
afterEach(async () => {
  await stopSettleProcess(settle);
  settle = null;
  await database?.drop();
  database = null;
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = null;
});

describe('the demo on QuickBooks Desktop books', () => {
  it('connects QuickBooks Desktop, mirrors the invoices, and the Web Connector brings the history’s payments in', async () => {
    database = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-demo-qbd-'));
    const port = await freePort();
    settle = await startSettleCommand(
      port,
      {
        DATABASE_URL: database.url,
        SETTLE_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
        SETTLE_DATA_DIR: dataDir,
        SETTLE_DEMO: 'on',
        SETTLE_DEMO_BOOKS: 'quickbooks-desktop',
        SETTLE_DEMO_INVOICE_EVERY_MS: '0',
      },
      { readyTimeoutMs: 120_000 },
    );
    await eventually(async () => settle!.output().includes('Client portal'), 120_000, 'the demo banner');
    const m = /QuickBooks Desktop +(http:\/\/[\d.:]+)/.exec(settle.output());
    expect(m, settle.output()).not.toBeNull();
    const qbdUrl = m![1]!;
    const tenant = await database.db.selectFrom('tenants').select('id').where('slug', '=', DEMO.slug).executeTakeFirstOrThrow();
    const books = await withTenant(database.db, tenant.id, (tx) =>
      tx.selectFrom('connections').select(['vendor', 'status']).where('role', '=', 'accounting').executeTakeFirstOrThrow(),
    );
    expect(books).toEqual({ vendor: 'quickbooks-desktop', status: 'active' });
    const state = async (): Promise<{ invoices: unknown[]; payments: unknown[] }> => (await (await fetch(`${qbdUrl}/_sim/state`)).json()) as never;
    expect((await state()).invoices.length).toBeGreaterThanOrEqual(100);
    await eventually(
      async () => {
        await fetch(`${qbdUrl}/_sim/poll-now`, { method: 'POST' });
        return (await state()).payments.length > 0;
      },
      240_000,
      'payments of the demo history posted into the company file',
    );
  }, 420_000);
});
