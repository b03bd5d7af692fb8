// `settle start` with SETTLE_DEMO_BOOKS=xero: the demo workspace's books are the Xero simulator, connected
// through saveConnection (as `settle connect accounting xero`): the banner names Xero, the PSA's exported
// invoices are in Xero, the demo's history posts payments into Xero's clearing account, and Xero's webhook
// intent-to-receive check against this Settle passes. Without the variable the demo stays on QuickBooks Online.
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

describe('the demo on Xero books', () => {
  it('connects Xero, mirrors the invoices, posts the history’s payments there, passes the webhook check', async () => {
    database = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'settle-demo-xero-'));
    const port = await freePort();
    settle = await startSettleCommand(
      port,
      {
        DATABASE_URL: database.url,
        SETTLE_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
        SETTLE_DATA_DIR: dataDir,
        SETTLE_DEMO: 'on',
        SETTLE_DEMO_BOOKS: 'xero',
        SETTLE_DEMO_INVOICE_EVERY_MS: '0',
      },
      { readyTimeoutMs: 120_000 },
    );
    await eventually(async () => settle!.output().includes('Client portal'), 120_000, 'the demo banner');
    const m = /Xero +(http:\/\/[\d.:]+)/.exec(settle.output());
    expect(m, settle.output()).not.toBeNull();
    const xeroUrl = m![1]!;
    const tenant = await database.db.selectFrom('tenants').select('id').where('slug', '=', DEMO.slug).executeTakeFirstOrThrow();
    const books = await withTenant(database.db, tenant.id, (tx) =>
      tx.selectFrom('connections').select(['vendor', 'status']).where('role', '=', 'accounting').executeTakeFirstOrThrow(),
    );
    expect(books).toEqual({ vendor: 'xero', status: 'active' });
    const state = async (): Promise<{ invoices: unknown[]; payments: { Status: string }[]; webhooks: { status: string } }> =>
      (await (await fetch(`${xeroUrl}/_sim/state`)).json()) as never;
    expect((await state()).invoices.length).toBeGreaterThanOrEqual(100);
    await eventually(async () => (await state()).webhooks.status === 'OK', 30_000, 'Xero’s intent-to-receive check passed');
    await eventually(async () => (await state()).payments.length > 0, 180_000, 'payments of the demo history posted into Xero');
  }, 400_000);
});
